/**
 * Splits a historical-data fetch into IB requests (pure). The range is cut into units by the
 * exchange calendar (lib/calendar):
 *
 * - bars of 1 min .. 8 hours: one unit per trading session, grouped into `N D` requests as long as
 *   IB's duration/bar-size table allows (1 min: 1 D, 2 mins: 2 D, 3..20 mins: 7 D, 30 mins and
 *   longer: 30 D; tws-protocol.md §5);
 * - second bars: slices of a session as long as the table allows (1 secs: 1800 S, 5 secs: 3600 S,
 *   10/15 secs: 14400 S, 30 secs: 28800 S), one request each;
 * - daily bars: one unit per session, grouped into `1 W` / `1 M` / `1 Y` requests of at most a year.
 *
 * Units already covered (stored bars, or ranges an earlier run marked empty) are left out, so only
 * missing sessions are requested. A unit still in progress at `now` is "open": requested up to
 * `now`, never counted as covered. Requests carry what the scheduler needs for IB's pacing rules
 * (signature, contract/tick-type key, weight: BID_ASK counts twice).
 */
import { calendarForInstrument, type ExchangeCalendar, type Session } from '../calendar/index.js';
import { ConfigError } from '../core/errors.js';
import { DAY_MS, parseIsoDate, zonedWallToUtc } from '../core/time-zone.js';
import { intervalMs, isIntraday, type Interval } from '../data/interval.js';

export const HISTORY_WHAT_TO_SHOW = ['TRADES', 'BID', 'ASK', 'MIDPOINT', 'BID_ASK'] as const;
export type HistoryWhatToShow = (typeof HISTORY_WHAT_TO_SHOW)[number];

export type HistorySecType = 'STK' | 'FUT' | 'CASH';

/** IB's bar size setting for each interval the planner supports (weeks and months are derived from days). */
const BAR_SIZES: Partial<Record<Interval, string>> = {
  '1s': '1 secs',
  '5s': '5 secs',
  '10s': '10 secs',
  '15s': '15 secs',
  '30s': '30 secs',
  '1m': '1 min',
  '2m': '2 mins',
  '3m': '3 mins',
  '5m': '5 mins',
  '10m': '10 mins',
  '15m': '15 mins',
  '20m': '20 mins',
  '30m': '30 mins',
  '1h': '1 hour',
  '2h': '2 hours',
  '3h': '3 hours',
  '4h': '4 hours',
  '8h': '8 hours',
  '1d': '1 day',
};

/** Bars of 30 s or less: the sizes IB's strict pacing limits are documented for. */
export const SMALL_BAR_MS = 30_000;

/** IB's bar size text for an interval; ConfigError for weekly/monthly bars. */
export function ibBarSize(interval: Interval): string {
  const size = BAR_SIZES[interval];
  if (!size) throw new ConfigError('ib history plan', [`interval ${interval} is not fetched from IB; fetch 1d and aggregate`]);
  return size;
}

/** Longest request span for second bars, in seconds (the duration/bar-size table). */
export function maxSecondsPerRequest(interval: Interval): number {
  const s = intervalMs(interval) / 1000;
  if (s < 5) return 1_800;
  if (s < 10) return 3_600;
  if (s < 30) return 14_400;
  return 28_800;
}

/** Most sessions one `N D` request may span for minute and hour bars (N x 1 day within the table). */
export function maxSessionsPerRequest(interval: Interval): number {
  const m = intervalMs(interval) / 60_000;
  if (m < 2) return 1;
  if (m < 3) return 2;
  if (m < 30) return 7;
  return 30;
}

export interface PlanSpec {
  /** Instrument key, used in request ids and labels */
  symbol: string;
  secType: HistorySecType;
  /** Symbol the calendar is chosen by (a future's root); default `symbol` */
  calendarSymbol?: string;
  interval: Interval;
  /** First and last trading date, YYYY-MM-DD, inclusive */
  fromDate: string;
  toDate: string;
  whatToShow: HistoryWhatToShow;
  useRTH: boolean;
  /** Epoch ms: units starting later are dropped, units ending later are open */
  now: number;
  /** The "same contract, exchange and tick type" of IB's burst rule (default symbol:whatToShow) */
  pacingKey?: string;
}

/** One piece of the range: a session (minute/hour/daily bars) or a slice of one (second bars). */
export interface PlanUnit {
  /** Trading date, YYYY-MM-DD */
  date: string;
  /** [start, end) epoch ms: the bars of this unit start inside it */
  start: number;
  end: number;
  /** Still in progress at `now`: fetched up to now, never recorded as covered */
  open: boolean;
}

export interface PlannedRequest {
  /** Unique within a fetch: symbol, interval, whatToShow, RTH and end */
  id: string;
  symbol: string;
  interval: Interval;
  whatToShow: HistoryWhatToShow;
  useRTH: boolean;
  barSize: string;
  duration: string;
  /** IB's UTC form `yyyyMMdd-HH:mm:ss` */
  endDateTime: string;
  end: number;
  /** The units this request fetches (a bar outside them is not written) */
  units: PlanUnit[];
  /** BID_ASK counts twice for pacing */
  weight: number;
  smallBars: boolean;
  /** Everything that makes two requests identical for IB's 15 s rule */
  signature: string;
  /** Contract + exchange + tick type for IB's burst rule */
  key: string;
}

export interface HistoryPlan {
  units: PlanUnit[];
  missing: PlanUnit[];
  requests: PlannedRequest[];
}

function calendarOf(spec: Pick<PlanSpec, 'secType' | 'symbol' | 'calendarSymbol'>): ExchangeCalendar {
  return calendarForInstrument(spec.secType, spec.calendarSymbol ?? spec.symbol);
}

function checkSpec(spec: PlanSpec): void {
  const problems: string[] = [];
  for (const [name, d] of [
    ['fromDate', spec.fromDate],
    ['toDate', spec.toDate],
  ] as const) {
    try {
      parseIsoDate(d);
    } catch {
      problems.push(`${name} must be a date YYYY-MM-DD, was '${d}'`);
    }
  }
  if (problems.length === 0 && spec.fromDate > spec.toDate) problems.push(`fromDate ${spec.fromDate} is after toDate ${spec.toDate}`);
  if (!(HISTORY_WHAT_TO_SHOW as readonly string[]).includes(spec.whatToShow)) problems.push(`whatToShow must be one of ${HISTORY_WHAT_TO_SHOW.join(', ')}, was '${spec.whatToShow}'`);
  if (!BAR_SIZES[spec.interval]) problems.push(`interval ${spec.interval} is not fetched from IB; fetch 1d and aggregate`);
  if (problems.length) throw new ConfigError('ib history plan', problems);
}

/** Sessions of [fromDate, toDate] clipped to the years the calendar covers. */
function sessionsIn(cal: ExchangeCalendar, fromDate: string, toDate: string): Session[] {
  const from = fromDate < `${cal.firstYear}-01-01` ? `${cal.firstYear}-01-01` : fromDate;
  const to = toDate > `${cal.lastYear}-12-31` ? `${cal.lastYear}-12-31` : toDate;
  return from <= to ? cal.sessions(from, to) : [];
}

/**
 * Where a session's intraday bars start: stocks outside RTH the whole local date (04:00-20:00
 * trading lies inside it), otherwise the calendar session [open, close).
 */
function sessionWindow(cal: ExchangeCalendar, s: Session, secType: HistorySecType, useRTH: boolean): { start: number; end: number } {
  if (secType === 'STK' && !useRTH) {
    const midnight = parseIsoDate(s.date);
    return { start: zonedWallToUtc(cal.timeZone, midnight), end: zonedWallToUtc(cal.timeZone, midnight + DAY_MS) };
  }
  return { start: s.open, end: s.close };
}

/** Where a daily request may end for a session's bar to be complete: stocks at local midnight after it, others at the close. */
function dailyEnd(cal: ExchangeCalendar, s: Session, secType: HistorySecType): number {
  return secType === 'STK' ? zonedWallToUtc(cal.timeZone, parseIsoDate(s.date) + DAY_MS) : s.close;
}

/** Every unit of the range that has started by `now`, in time order. */
export function planUnits(spec: PlanSpec): PlanUnit[] {
  checkSpec(spec);
  const cal = calendarOf(spec);
  const sessions = sessionsIn(cal, spec.fromDate, spec.toDate);
  const units: PlanUnit[] = [];
  const push = (date: string, start: number, end: number) => {
    if (start >= spec.now) return;
    units.push({ date, start, end, open: end > spec.now });
  };
  if (!isIntraday(spec.interval)) {
    // daily bars are stamped 00:00 UTC of the session date
    for (const s of sessions) {
      const day = parseIsoDate(s.date);
      if (s.open >= spec.now) continue;
      units.push({ date: s.date, start: day, end: day + DAY_MS, open: dailyEnd(cal, s, spec.secType) > spec.now });
    }
    return units;
  }
  const slice = intervalMs(spec.interval) <= SMALL_BAR_MS ? maxSecondsPerRequest(spec.interval) * 1000 : Infinity;
  for (const s of sessions) {
    const w = sessionWindow(cal, s, spec.secType, spec.useRTH);
    if (slice === Infinity) push(s.date, w.start, w.end);
    else for (let at = w.start; at < w.end; at += slice) push(s.date, at, Math.min(at + slice, w.end));
  }
  return units;
}

/** IB's UTC end date/time form: `yyyyMMdd-HH:mm:ss`. */
export function ibEndDateTime(ms: number): string {
  const iso = new Date(Math.floor(ms / 1000) * 1000).toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}-${iso.slice(11, 19)}`;
}

/** `end` moved back by calendar months, the day clamped to the month's end (as IB counts M and Y). */
export function monthsBefore(end: number, months: number): number {
  const t = new Date(end);
  const total = t.getUTCFullYear() * 12 + t.getUTCMonth() - months;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  const day = Math.min(t.getUTCDate(), new Date(Date.UTC(year, month + 1, 0)).getUTCDate());
  return Date.UTC(year, month, day) + (end - Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
}

/** The shortest of 1 W, 1 M, 1 Y reaching back from `end` to `start`. */
function calendarDuration(start: number, end: number): string {
  if (end - 7 * DAY_MS <= start) return '1 W';
  if (monthsBefore(end, 1) <= start) return '1 M';
  return '1 Y';
}

/**
 * Groups missing units into requests. `all` is every unit of the range (planUnits), so `N D`
 * spans are counted in sessions of the calendar, stored ones included.
 */
export function planRequests(spec: PlanSpec, all: readonly PlanUnit[], missing: readonly PlanUnit[]): PlannedRequest[] {
  checkSpec(spec);
  const cal = calendarOf(spec);
  const barSize = ibBarSize(spec.interval);
  const weight = spec.whatToShow === 'BID_ASK' ? 2 : 1;
  const smallBars = intervalMs(spec.interval) <= SMALL_BAR_MS;
  const key = spec.pacingKey ?? `${spec.symbol}:${spec.whatToShow}`;
  const index = new Map(all.map((u, i) => [u.start, i]));
  const sorted = [...missing].sort((a, b) => a.start - b.start);
  const make = (units: PlanUnit[], end: number, duration: string): PlannedRequest => {
    const endDateTime = ibEndDateTime(end);
    const signature = JSON.stringify([key, spec.interval, spec.useRTH, endDateTime, duration]);
    return {
      id: `${spec.symbol}:${spec.interval}:${spec.whatToShow}:${spec.useRTH ? 'rth' : 'all'}:${endDateTime}`,
      symbol: spec.symbol,
      interval: spec.interval,
      whatToShow: spec.whatToShow,
      useRTH: spec.useRTH,
      barSize,
      duration,
      endDateTime,
      end,
      units,
      weight,
      smallBars,
      signature,
      key,
    };
  };
  const clampEnd = (end: number) => Math.min(end, Math.floor(spec.now / 1000) * 1000);
  const requests: PlannedRequest[] = [];

  if (!isIntraday(spec.interval)) {
    // daily: up to a year per request, ending where the last session's bar is complete
    const sessions = new Map(sessionsIn(cal, spec.fromDate, spec.toDate).map((s) => [s.date, s]));
    const endOf = (u: PlanUnit) => clampEnd(dailyEnd(cal, sessions.get(u.date)!, spec.secType));
    const startOf = (u: PlanUnit) => {
      const s = sessions.get(u.date)!;
      return spec.secType === 'STK' ? zonedWallToUtc(cal.timeZone, parseIsoDate(s.date)) : s.open;
    };
    for (let i = 0; i < sorted.length; ) {
      let j = i;
      while (j + 1 < sorted.length && monthsBefore(endOf(sorted[j + 1]!), 12) < startOf(sorted[i]!)) j++;
      const end = endOf(sorted[j]!);
      requests.push(make(sorted.slice(i, j + 1), end, calendarDuration(startOf(sorted[i]!), end)));
      i = j + 1;
    }
    return requests;
  }

  if (smallBars) {
    // second bars: one request per slice, exactly its length
    for (const u of sorted) {
      const end = clampEnd(u.end);
      const seconds = Math.max(1, Math.ceil((end - u.start) / 1000));
      requests.push(make([u], end, `${seconds} S`));
    }
    return requests;
  }

  // minute and hour bars: N D back from the last unit's end, N counted in calendar sessions
  const maxSessions = maxSessionsPerRequest(spec.interval);
  for (let i = 0; i < sorted.length; ) {
    const first = index.get(sorted[i]!.start)!;
    let j = i;
    while (j + 1 < sorted.length && index.get(sorted[j + 1]!.start)! - first + 1 <= maxSessions) j++;
    const last = index.get(sorted[j]!.start)!;
    requests.push(make(sorted.slice(i, j + 1), clampEnd(sorted[j]!.end), `${last - first + 1} D`));
    i = j + 1;
  }
  return requests;
}

/** Units, the missing ones (not in `covered`, or open) and their requests. */
export function planHistory(spec: PlanSpec, covered: (unit: PlanUnit) => boolean = () => false): HistoryPlan {
  const units = planUnits(spec);
  const missing = units.filter((u) => u.open || !covered(u));
  return { units, missing, requests: planRequests(spec, units, missing) };
}
