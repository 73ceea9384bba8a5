/**
 * New York Stock Exchange (XNYS) regular sessions, 09:30–16:00 America/New_York.
 *
 * Rules follow the NYSE holiday and early-close conventions as encoded by exchange_calendars /
 * pandas_market_calendars (`holidays/us.py`), checked session-by-session against
 * `data/calendars/xnys.csv` (1990-01-02..2023-01-13). Later years are projected by the rules;
 * unscheduled closures (storms, days of mourning) must be added to the tables when announced.
 */
import { NEW_YORK } from '../core/time-zone.js';
import { MONDAY, THURSDAY, TUESDAY, WEDNESDAY } from './civil-dates.js';
import { hm, type CalendarSpec } from './spec.js';
import {
  christmas,
  christmasEve,
  dayAfterThanksgiving,
  during,
  fridayJuly5,
  goodFriday,
  independenceDay,
  july3On,
  juneteenth,
  laborDay,
  martinLutherKingDay,
  memorialDay,
  newYearsDay,
  presidentsDay,
  thanksgiving,
} from './us-holidays.js';

/** Unscheduled full-day closures since 1990. */
export const NYSE_ADHOC_CLOSURES: readonly string[] = [
  '1994-04-27', // President Nixon, day of mourning
  '2001-09-11', // September 11 attacks
  '2001-09-12',
  '2001-09-13',
  '2001-09-14',
  '2004-06-11', // President Reagan, day of mourning
  '2007-01-02', // President Ford, day of mourning
  '2012-10-29', // Hurricane Sandy
  '2012-10-30',
  '2018-12-05', // President G. H. W. Bush, day of mourning
  '2025-01-09', // President Carter, day of mourning
];

/** Early closes (13:00) that no recurring rule produces. */
export const NYSE_ADHOC_EARLY_CLOSES: readonly { date: string; close: number }[] = [
  { date: '1997-12-26', close: hm(13) }, // Friday after Christmas
  { date: '1999-12-31', close: hm(13) }, // Y2K
  { date: '2003-12-26', close: hm(13) }, // Friday after Christmas
];

/** The XNYS calendar specification (1990..2099; rules verified through 2023 and 2024–2027 published dates). */
export const NYSE_SPEC: CalendarSpec = {
  name: 'XNYS',
  timeZone: NEW_YORK,
  firstYear: 1990,
  lastYear: 2099,
  hours: () => ({ open: hm(9, 30), close: hm(16) }),
  holidays: [
    newYearsDay,
    during(martinLutherKingDay, 1998),
    during(presidentsDay, 1971),
    goodFriday,
    during(memorialDay, 1971),
    during(juneteenth, 2022),
    independenceDay,
    laborDay,
    thanksgiving,
    christmas,
  ],
  adhocClosures: NYSE_ADHOC_CLOSURES,
  earlyCloses: [
    // Until 1993 the half days ended at 14:00
    { close: hm(14), rules: [during(dayAfterThanksgiving, 1992, 1992), during(christmasEve, undefined, 1992)] },
    {
      close: hm(13),
      rules: [
        during(dayAfterThanksgiving, 1993),
        during(christmasEve, 1993),
        // Half day before July 4 on Mon/Tue/Thu since 1995; a Thursday July 4 gave Friday July 5
        // the half day until 2012, and from 2013 Wednesday July 3 instead
        during(july3On([MONDAY, TUESDAY, THURSDAY]), 1995),
        during(fridayJuly5, 1995, 2012),
        during(july3On([WEDNESDAY]), 2013),
      ],
    },
  ],
  adhocEarlyCloses: NYSE_ADHOC_EARLY_CLOSES,
};
