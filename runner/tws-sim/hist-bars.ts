/**
 * Stored bars -> IB bars of the requested size: wall-clock buckets aligned from local midnight
 * for intraday sizes (cut at the CME trading-day start for futures), trading dates for 1 day, Monday weeks and calendar months (labelled by
 * their last trading date, as IB does) above that. Pure: the caller loads the source bars.
 */
import type { BarColumns } from '../../lib/data/bar-series.js';
import { intervalMs, isIntraday, type Interval } from '../../lib/data/interval.js';
import { DAY_MS, isoDate, parseIsoDate, utcToZonedWall, zonedWallToUtc } from '../../lib/core/time-zone.js';
import { exchangeZone, sessionOn, tradingDate, tradingDateSpan, type HoursSubject, type HoursWindow } from './trading-hours.js';

export interface OutBar {
  /** The bucket [start, end) */
  start: number;
  end: number;
  /** Label instant for intraday bars: the bucket start, moved to a session open inside it */
  time: number;
  /** Label for 1 day and longer: the (last) trading date, YYYY-MM-DD */
  date?: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** Volume-weighted typical price of the source bars (the store keeps no trade-level VWAP) */
  wap: number;
  /** Mean of the source closes: BID_ASK's time-averaged bid/ask */
  meanClose: number;
  /** Source bars aggregated */
  sourceBars: number;
}

export interface AggregateOptions {
  inst: HoursSubject;
  source: Interval;
  target: Interval;
  /** Buckets must end after this instant */
  from: number;
  /** Only source bars complete by this instant (the request's end, never after the sim clock) */
  visibleTo: number;
  /** useRTH: keep only intraday source bars starting inside these windows (sorted) */
  rth?: readonly HoursWindow[];
  /** Session or RTH windows (sorted) whose start moves an intraday bucket's label, e.g. 09:30 for 1 hour bars */
  clip?: readonly HoursWindow[];
}

interface Bucket {
  key: number | string;
  start: number;
  end: number;
  date?: string;
}

/** Picks the stored interval to build `target` from: itself, else the coarsest finer one that divides it. */
export function chooseSource(target: Interval, available: ReadonlySet<Interval>): Interval | undefined {
  if (available.has(target)) return target;
  const finer = [...available].filter((s) => isIntraday(s) && intervalMs(s) < intervalMs(target));
  const fits = isIntraday(target) ? finer.filter((s) => intervalMs(target) % intervalMs(s) === 0) : finer;
  const daily = !isIntraday(target) && target !== '1d' && available.has('1d') ? ['1d' as Interval] : [];
  return [...daily, ...fits.sort((a, b) => intervalMs(b) - intervalMs(a))][0];
}

/** When a source bar is final: a stored daily bar at its session's close, any other at its end. */
function completeAt(o: AggregateOptions, ts: number): number {
  if (o.source !== '1d') return ts + intervalMs(o.source);
  const date = isoDate(ts);
  return sessionOn(o.inst, date)?.close ?? tradingDateSpan(o.inst, date).end;
}

function bucketer(o: AggregateOptions): (ts: number) => Bucket {
  const zone = exchangeZone(o.inst);
  if (isIntraday(o.target)) {
    const size = intervalMs(o.target);
    const spans = new Map<string, HoursWindow>();
    return (ts) => {
      const aligned = zonedWallToUtc(zone, Math.floor(utcToZonedWall(zone, ts) / size) * size);
      if (o.inst.secType === 'STK') return { key: aligned, start: aligned, end: aligned + size };
      // a bar never spans two CME trading days: 4-hour buckets split at the 17:00 day start
      const date = tradingDate(o.inst, ts);
      let span = spans.get(date);
      if (!span) spans.set(date, (span = tradingDateSpan(o.inst, date)));
      const start = Math.max(aligned, span.start);
      return { key: start, start, end: Math.min(aligned + size, span.end) };
    };
  }
  // stored daily bars are stamped 00:00 UTC of their date; intraday bars belong to their trading date
  const dateOf = isIntraday(o.source) ? (ts: number) => tradingDate(o.inst, ts) : isoDate;
  const span = (fromDate: string, toDate: string): { start: number; end: number } => ({
    start: tradingDateSpan(o.inst, fromDate).start,
    end: tradingDateSpan(o.inst, toDate).start,
  });
  if (o.target === '1d') {
    return (ts) => {
      const date = dateOf(ts);
      return { key: date, date, ...tradingDateSpan(o.inst, date) };
    };
  }
  if (o.target === '1w') {
    return (ts) => {
      const date = dateOf(ts);
      const day = parseIsoDate(date);
      const monday = day - ((new Date(day).getUTCDay() + 6) % 7) * DAY_MS;
      return { key: monday, date, ...span(isoDate(monday), isoDate(monday + 7 * DAY_MS)) };
    };
  }
  return (ts) => {
    const date = dateOf(ts);
    const first = `${date.slice(0, 7)}-01`;
    const next = new Date(parseIsoDate(first));
    next.setUTCMonth(next.getUTCMonth() + 1);
    return { key: first, date, ...span(first, isoDate(next.getTime())) };
  };
}

/** Index of the first window ending after `ts` (windows sorted and disjoint). */
function windowAt(windows: readonly HoursWindow[], ts: number, from: number): number {
  let i = from;
  while (i < windows.length && windows[i]!.end <= ts) i++;
  return i;
}

/** Largest window start in (lo, hi], if any. */
function lastStartIn(windows: readonly HoursWindow[], lo: number, hi: number): number | undefined {
  let found: number | undefined;
  for (const w of windows) {
    if (w.start > hi) break;
    if (w.start > lo) found = w.start;
  }
  return found;
}

/** Aggregates sorted source bars into the target size (see AggregateOptions). */
export function aggregate(src: BarColumns, o: AggregateOptions): OutBar[] {
  const bucketOf = bucketer(o);
  const intraday = isIntraday(o.source);
  const out: OutBar[] = [];
  let cur: (OutBar & { key: number | string; typ: number; closes: number }) | undefined;
  let w = 0;
  const flush = () => {
    if (!cur) return;
    const { key: _key, typ, closes, ...bar } = cur;
    bar.wap = bar.volume > 0 ? typ / bar.volume : bar.close;
    bar.meanClose = closes / bar.sourceBars;
    // labelled by the bucket start, moved to a session or RTH open inside it (IB's 09:30 hourly bar);
    // `time` still holds the first source bar's start here
    bar.time = (o.clip ? lastStartIn(o.clip, bar.start, bar.time) : undefined) ?? bar.start;
    out.push(bar);
  };
  for (let i = 0; i < src.length; i++) {
    const ts = src.ts[i]!;
    if (completeAt(o, ts) > o.visibleTo) continue;
    if (intraday && o.rth) {
      w = windowAt(o.rth, ts, w);
      const win = o.rth[w];
      if (!win || ts < win.start) continue;
    }
    const b = bucketOf(ts);
    if (b.end <= o.from) continue;
    const [open, high, low, close, volume] = [src.open[i]!, src.high[i]!, src.low[i]!, src.close[i]!, src.volume[i]!];
    if (!cur || cur.key !== b.key) {
      flush();
      cur = { key: b.key, start: b.start, end: b.end, time: ts, date: b.date, open, high, low, close, volume: 0, wap: 0, meanClose: 0, sourceBars: 0, typ: 0, closes: 0 };
    }
    cur.high = Math.max(cur.high, high);
    cur.low = Math.min(cur.low, low);
    cur.close = close;
    cur.volume += volume;
    cur.typ += ((high + low + close) / 3) * volume;
    cur.closes += close;
    cur.sourceBars++;
    if (b.date !== undefined) cur.date = b.date;
  }
  flush();
  return out;
}
