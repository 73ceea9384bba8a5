/**
 * CME Globex calendars (America/Chicago). A session is labelled by its trading date, opens at
 * 17:00 CT the previous calendar day (Sunday evening for Monday) and closes at 16:00 CT; the
 * 16:00–17:00 gap is the daily maintenance window between sessions. On a US holiday with an
 * early halt the session of that date closes early and the next session still opens at 17:00.
 *
 * Holiday and early-halt rules mirror pandas_market_calendars (MIT), files
 * `calendars/cme_globex_base.py`, `cme_globex_equities.py`, `cme_globex_fx.py`,
 * `cme_globex_energy_and_metals.py`, `holidays/cme.py`, `holidays/cme_globex.py` and
 * `holidays/us.py`, including their quirks (e.g. equities' 10:30 CT holiday halts before 2014,
 * FX holiday halts only through 2021, energy's Christmas holiday only from 1999).
 *
 * Not from pmc: CME equity index futures had a 15:15–15:30 CT trading halt inside the session
 * until CME removed it for trade date 2021-06-28 (CME Globex notice 20210621, cited in
 * pandas_market_calendars issue #477); it is modelled as the session break before that date.
 * Known simplification: 2012-11-19..2015-09-18 equity sessions really closed at 16:15 CT and
 * before 2012-11-19 the equity trading day ended at 15:15 CT; both are modelled as 16:00 like pmc.
 */
import { CHICAGO } from '../core/time-zone.js';
import { hm, type CalendarSpec, type DayHours } from './spec.js';
import {
  christmas,
  christmasEve,
  dayAfterThanksgiving,
  dayBeforeIndependenceDay,
  during,
  exceptYears,
  goodFriday,
  inYears,
  independenceDay,
  juneteenth,
  laborDay,
  martinLutherKingDay,
  memorialDay,
  newYearsDay,
  presidentsDay,
  thanksgiving,
} from './us-holidays.js';

const OPEN_PREVIOUS_EVENING = hm(17) - hm(24); // 17:00 CT the calendar day before the session date
const GLOBEX_HOURS: DayHours = { open: OPEN_PREVIOUS_EVENING, close: hm(16) };
/** First session date without the 15:15–15:30 CT equity halt. */
export const CME_EQUITY_HALT_REMOVED = '2021-06-28';

// Good Friday years on which CME opened equities/FX briefly (payrolls released that day)
const GOOD_FRIDAY_EQUITY_HALT_YEARS = [2010, 2012, 2015];

const base = { timeZone: CHICAGO, firstYear: 2000, lastYear: 2099, adhocClosures: [], adhocEarlyCloses: [] } as const;

/** E-mini equity index futures (ES, NQ, YM, RTY …): pmc `CMEGlobexEquitiesExchangeCalendar`. */
export const CME_EQUITY_SPEC: CalendarSpec = {
  ...base,
  name: 'CME_EQUITY',
  hours: (date) =>
    date < CME_EQUITY_HALT_REMOVED ? { ...GLOBEX_HOURS, breakStart: hm(15, 15), breakEnd: hm(15, 30) } : GLOBEX_HOURS,
  holidays: [
    newYearsDay,
    during(exceptYears(goodFriday, GOOD_FRIDAY_EQUITY_HALT_YEARS), undefined, 2020),
    inYears(goodFriday, [2022]),
    christmas,
  ],
  earlyCloses: [
    {
      close: hm(10, 30),
      rules: [
        during(martinLutherKingDay, 1998, 2014),
        during(presidentsDay, 1971, 2014),
        during(memorialDay, 1971, 2013),
        during(independenceDay, undefined, 2013),
        during(laborDay, undefined, 2013),
        during(thanksgiving, undefined, 2013),
      ],
    },
    { close: hm(12, 15), rules: [dayBeforeIndependenceDay, dayAfterThanksgiving, during(christmasEve, 1993)] },
    {
      close: hm(12),
      rules: [
        during(martinLutherKingDay, 2015),
        during(presidentsDay, 2015),
        during(memorialDay, 2014),
        during(independenceDay, 2014),
        during(laborDay, 2014),
        during(thanksgiving, 2014),
        during(juneteenth, 2022),
      ],
    },
    { close: hm(8, 15), rules: [inYears(goodFriday, [...GOOD_FRIDAY_EQUITY_HALT_YEARS, 2021]), during(goodFriday, 2023)] },
  ],
};

/** Currency futures (6E, 6J, 6B …): pmc `CMEGlobexFXExchangeCalendar`. */
export const CME_FX_SPEC: CalendarSpec = {
  ...base,
  name: 'CME_FX',
  hours: () => GLOBEX_HOURS,
  holidays: [newYearsDay, during(goodFriday, undefined, 2020), inYears(goodFriday, [2022]), christmas],
  earlyCloses: [
    { close: hm(10, 15), rules: [inYears(goodFriday, [2021]), during(goodFriday, 2023)] },
    {
      close: hm(12),
      rules: [
        during(martinLutherKingDay, 1998, 2021),
        during(presidentsDay, 1971, 2021),
        during(memorialDay, 1971, 2021),
        during(independenceDay, undefined, 2021),
        during(laborDay, undefined, 2021),
        during(thanksgiving, undefined, 2021),
      ],
    },
    { close: hm(12, 15), rules: [dayAfterThanksgiving, during(christmasEve, 1993)] },
  ],
};

/** Energy and metals futures (CL, NG, GC, SI, HG …): pmc `CMEGlobexEnergyAndMetalsExchangeCalendar`. */
export const CME_ENERGY_METALS_SPEC: CalendarSpec = {
  ...base,
  name: 'CME_ENERGY_METALS',
  hours: () => GLOBEX_HOURS,
  holidays: [newYearsDay, goodFriday, during(christmas, 1999)],
  earlyCloses: [
    {
      close: hm(12),
      rules: [
        during(martinLutherKingDay, 1998, 2021),
        during(presidentsDay, undefined, 2021),
        during(memorialDay, undefined, 2021),
        during(independenceDay, undefined, 2021),
        laborDay,
        during(thanksgiving, undefined, 2021),
      ],
    },
    { close: hm(12, 45), rules: [dayAfterThanksgiving] },
    {
      close: hm(13, 30),
      rules: [
        during(martinLutherKingDay, 2022),
        during(presidentsDay, 2022),
        during(memorialDay, 2022),
        during(juneteenth, 2022),
        during(independenceDay, 2022),
        during(thanksgiving, 2022),
      ],
    },
  ],
};
