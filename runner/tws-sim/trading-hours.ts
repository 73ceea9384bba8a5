/**
 * Calendar facts the contract and historical features share: IB's tradingHours/liquidHours
 * strings, regular-hours windows for useRTH, and which trading day an instant belongs to.
 * Built on lib/calendar; an instrument without a known calendar gets none (empty hours, no RTH
 * filtering) rather than an error.
 */
import { calendarForInstrument, type CalendarName, type ExchangeCalendar, type Session } from '../../lib/calendar/index.js';
import { CHICAGO, DAY_MS, NEW_YORK, isoDate, parseIsoDate, utcToZonedWall, zonedWallToUtc } from '../../lib/core/time-zone.js';

/** What these helpers need to know about an instrument. */
export interface HoursSubject {
  secType: string;
  symbol: string;
}

/** A half-open span [start, end) of epoch ms. */
export interface HoursWindow {
  start: number;
  end: number;
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
/** CME's trading day starts at 17:00 Chicago: an instant belongs to the next date after 17:00. */
const CME_DAY_SHIFT_MS = 7 * HOUR_MS;

/** Pit-era regular hours IB reports as liquidHours for futures, local minutes of the session date. */
const FUTURES_LIQUID: Record<Exclude<CalendarName, 'XNYS'>, [number, number]> = {
  CME_EQUITY: [8 * 60 + 30, 15 * 60],
  CME_FX: [7 * 60 + 20, 14 * 60],
  CME_ENERGY_METALS: [8 * 60, 13 * 60 + 30],
};

/** IB's names for the zones our calendars use. */
const IB_ZONE_IDS: Record<string, string> = { [NEW_YORK]: 'US/Eastern', [CHICAGO]: 'US/Central' };

export function instrumentCalendar(inst: HoursSubject): ExchangeCalendar | undefined {
  if (inst.secType !== 'STK' && inst.secType !== 'FUT' && inst.secType !== 'CASH') return undefined;
  try {
    return calendarForInstrument(inst.secType, inst.symbol);
  } catch {
    return undefined;
  }
}

/** IANA zone of the instrument's exchange. */
export function exchangeZone(inst: HoursSubject): string {
  return instrumentCalendar(inst)?.timeZone ?? (inst.secType === 'STK' ? NEW_YORK : CHICAGO);
}

export function ibTimeZoneId(zone: string): string {
  return IB_ZONE_IDS[zone] ?? zone;
}

/** `YYYY-MM-DD` trading date of an instant: the local date for stocks, CME's 17:00-to-17:00 day otherwise. */
export function tradingDate(inst: HoursSubject, ts: number): string {
  const zone = exchangeZone(inst);
  const shift = inst.secType === 'STK' ? 0 : CME_DAY_SHIFT_MS;
  return isoDate(utcToZonedWall(zone, ts + shift));
}

/** The span of one trading date (see `tradingDate`): [local midnight, next midnight) or [17:00 the day before, 17:00). */
export function tradingDateSpan(inst: HoursSubject, date: string): HoursWindow {
  const zone = exchangeZone(inst);
  const day = parseIsoDate(date);
  const shift = inst.secType === 'STK' ? 0 : CME_DAY_SHIFT_MS;
  return { start: zonedWallToUtc(zone, day - shift), end: zonedWallToUtc(zone, day + DAY_MS - shift) };
}

/** Sessions in [fromDate, toDate], clipped to the years the calendar covers. */
export function sessionsBetween(cal: ExchangeCalendar, fromDate: string, toDate: string): Session[] {
  const from = fromDate < `${cal.firstYear}-01-01` ? `${cal.firstYear}-01-01` : fromDate;
  const to = toDate > `${cal.lastYear}-12-31` ? `${cal.lastYear}-12-31` : toDate;
  return from <= to ? cal.sessions(from, to) : [];
}

/** Regular hours of one session: the exchange session for stocks, the liquid day window for futures. */
function liquidWindows(cal: ExchangeCalendar, s: Session): HoursWindow[] {
  if (cal.name === 'XNYS') return [{ start: s.open, end: s.close }];
  const [from, to] = FUTURES_LIQUID[cal.name];
  const day = parseIsoDate(s.date);
  const start = Math.max(s.open, zonedWallToUtc(cal.timeZone, day + from * MINUTE_MS));
  const end = Math.min(s.close, zonedWallToUtc(cal.timeZone, day + to * MINUTE_MS));
  return start < end ? [{ start, end }] : [];
}

/** Full trading hours of one session: stocks' 04:00-20:00 extended day, futures' Globex session minus its break. */
function tradingWindows(cal: ExchangeCalendar, s: Session): HoursWindow[] {
  if (cal.name === 'XNYS') {
    const midnight = zonedWallToUtc(cal.timeZone, parseIsoDate(s.date));
    return [{ start: midnight + 4 * HOUR_MS, end: s.close + 4 * HOUR_MS }];
  }
  if (s.breakStart !== undefined && s.breakEnd !== undefined) {
    return [
      { start: s.open, end: s.breakStart },
      { start: s.breakEnd, end: s.close },
    ];
  }
  return [{ start: s.open, end: s.close }];
}

/** Regular-hours windows overlapping [from, to), for useRTH; undefined when the calendar is unknown. */
export function regularHours(inst: HoursSubject, from: number, to: number): HoursWindow[] | undefined {
  const cal = instrumentCalendar(inst);
  if (!cal) return undefined;
  const sessions = sessionsBetween(cal, isoDate(from - 2 * DAY_MS), isoDate(to + 2 * DAY_MS));
  return sessions.flatMap((s) => liquidWindows(cal, s)).filter((w) => w.end > from && w.start < to);
}

/** Session (trading) windows overlapping [from, to); undefined when the calendar is unknown. */
export function sessionHours(inst: HoursSubject, from: number, to: number): HoursWindow[] | undefined {
  const cal = instrumentCalendar(inst);
  if (!cal) return undefined;
  const sessions = sessionsBetween(cal, isoDate(from - 2 * DAY_MS), isoDate(to + 2 * DAY_MS));
  return sessions.flatMap((s) => tradingWindows(cal, s)).filter((w) => w.end > from && w.start < to);
}

/** The calendar's session of a date, or undefined (closed, unknown calendar or out of its years). */
export function sessionOn(inst: HoursSubject, date: string): Session | undefined {
  const cal = instrumentCalendar(inst);
  if (!cal) return undefined;
  const year = Number(date.slice(0, 4));
  return year < cal.firstYear || year > cal.lastYear ? undefined : cal.session(date);
}

export interface ContractHours {
  timeZoneId: string;
  tradingHours: string;
  liquidHours: string;
}

/**
 * IB's hours strings for the dates from `daysBefore` before to `daysAfter` after `now`'s trading
 * date, e.g. `20240102:0930-20240102:1600;20240103:CLOSED`, in the exchange's zone.
 */
export function contractHours(inst: HoursSubject, now: number, daysBefore = 1, daysAfter = 6): ContractHours {
  const zone = exchangeZone(inst);
  const cal = instrumentCalendar(inst);
  if (!cal) return { timeZoneId: ibTimeZoneId(zone), tradingHours: '', liquidHours: '' };
  const today = parseIsoDate(tradingDate(inst, now));
  const dates: string[] = [];
  for (let d = -daysBefore; d <= daysAfter; d++) dates.push(isoDate(today + d * DAY_MS));
  // one session past the range: a CME session opens the evening before its date
  const sessions = sessionsBetween(cal, dates[0]!, isoDate(today + (daysAfter + 1) * DAY_MS));
  const byDate = new Map(sessions.map((s) => [s.date, s]));
  const render = (windows: (s: Session) => HoursWindow[]): string => {
    const opensOn = new Set(sessions.flatMap(windows).map((w) => localStamp(zone, w.start).slice(0, 8)));
    return dates
      .flatMap((date) => {
        const spans = byDate.has(date) ? windows(byDate.get(date)!) : [];
        if (spans.length > 0) return spans.map((w) => `${localStamp(zone, w.start)}-${localStamp(zone, w.end)}`);
        // no session of this date; a Sunday whose evening opens Monday's session is not closed
        return opensOn.has(compactDate(date)) ? [] : [`${compactDate(date)}:CLOSED`];
      })
      .join(';');
  };
  return {
    timeZoneId: ibTimeZoneId(zone),
    tradingHours: render((s) => tradingWindows(cal, s)),
    liquidHours: render((s) => liquidWindows(cal, s)),
  };
}

/** `YYYY-MM-DD` -> `YYYYMMDD` */
export function compactDate(date: string): string {
  return date.replaceAll('-', '');
}

/** `YYYYMMDD:HHMM` local time */
function localStamp(zone: string, ms: number): string {
  const iso = new Date(utcToZonedWall(zone, ms)).toISOString();
  return `${compactDate(iso.slice(0, 10))}:${iso.slice(11, 13)}${iso.slice(14, 16)}`;
}
