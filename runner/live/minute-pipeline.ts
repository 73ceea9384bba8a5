import { calendarForInstrument } from '../../lib/calendar/index.js';
import type { InstrumentSpec } from '../../lib/data/instrument.js';
import { volumeFromLots } from '../../lib/ib/history-fetch.js';
import { BarAggregator, MINUTE_MS, REALTIME_BAR_MS } from '../../lib/live/bar-aggregator.js';
import type { Bar } from '../../lib/model/market.js';
import { DERIVED, LAG_WINDOW, zoneOf, type Entry, type MarketDataContext, type Sync } from './instrument-stream.js';
import type { PlainBar } from './market-data-helpers.js';
import { requestHistory } from './market-data-history.js';
import type { MarketDataError } from './market-data-types.js';

// ---- bars -----------------------------------------------------------------------------------

/** A fresh minute aggregator for a (re)started stream; the minutes delivered so far stay. */
export function resetBarPipeline(c: MarketDataContext, e: Entry): void {
  e.minuteAgg = new BarAggregator({ instrument: e.key, graceMs: c.graceMs, onBar: (b) => onMinute(c, e, b) });
  e.derivedAgg ??= newDerivedAgg(c, e);
  e.sync = { phase: 'first-input', from: e.lastMinuteClose, partial: undefined, held: [] };
  e.lastBarStart = NaN;
  e.lags.fill(0);
}

export function newDerivedAgg(c: MarketDataContext, e: Entry): BarAggregator {
  return new BarAggregator({
    instrument: e.key,
    derived: DERIVED,
    timeZone: zoneOf(e),
    graceMs: c.graceMs,
    onBar: (b) => {
      if (b.interval === '1m' || b.ts < e.derivedFrom) return;
      e.handles.get(b.interval)?.push(b.ts, b.open, b.high, b.low, b.close, b.volume);
    },
  });
}

export function calendarTimeZone(spec: InstrumentSpec): string | undefined {
  try {
    return calendarForInstrument(spec.secType, spec.symbol).timeZone;
  } catch {
    return undefined;
  }
}

export function noteFirstInput(e: Entry, ts: number): void {
  const s = e.sync;
  if (s?.phase !== 'first-input') return;
  const minute = ts - (((ts % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
  s.partial = ts === minute ? undefined : minute;
  s.phase = 'first-minute';
}

/** A minute completed by the stream (volume still in IB's units). */
export function onMinute(c: MarketDataContext, e: Entry, b: Readonly<Bar>): void {
  const m: PlainBar = { ts: b.ts, open: b.open, high: b.high, low: b.low, close: b.close, volume: c.realtimeBars ? volumeFromLots(b.volume, e.lot) : b.volume };
  const s = e.sync;
  if (s === undefined) return deliverMinute(e, m);
  if (s.phase === 'backfill') {
    s.held.push(m);
    return;
  }
  // the first minute of a (re)started stream: incomplete when the stream joined it late
  if (s.partial === undefined || m.ts > s.partial) s.held.push(m);
  s.phase = 'backfill';
  backfill(c, e, s);
}

/** Fetches the minutes between the last delivered one and the stream's first complete one. */
export function backfill(c: MarketDataContext, e: Entry, s: Sync): void {
  const end = c.now();
  const from = s.from > -Infinity ? s.from : s.partial;
  const firstHeld = s.held[0]?.ts ?? Infinity;
  if (from === undefined || from >= firstHeld) return release(c, e, s, []);
  const seconds = Math.min(86_400, Math.max(60, Math.ceil((end - from) / 1000) + 60));
  requestHistory(c, e, '', `${seconds} S`).then(
    (bars) => release(c, e, s, bars.filter((b) => b.ts + MINUTE_MS > from && b.ts + MINUTE_MS <= end && b.ts < firstHeld)),
    (err: unknown) => {
      // superseded (a resubscription meanwhile): the new backfill covers these minutes
      if (e.sync !== s) return;
      c.report(e, 'backfill', `minutes since ${new Date(from).toISOString()} not recovered: ${err instanceof Error ? err.message : String(err)}`, (err as MarketDataError).ibCode);
      // a gap: derived buckets containing it are incomplete, start them afresh
      e.derivedAgg = newDerivedAgg(c, e);
      e.derivedFrom = s.held[0]?.ts ?? Infinity;
      release(c, e, s, []);
    },
  );
}

export function release(c: MarketDataContext, e: Entry, s: Sync, backfilled: PlainBar[]): void {
  if (e.sync !== s) return;
  e.sync = undefined;
  for (const b of backfilled) deliverMinute(e, b);
  for (const b of s.held) deliverMinute(e, b);
}

/** One complete minute, in time order: to the 1m subscription and into the derived bars. */
export function deliverMinute(e: Entry, m: PlainBar): void {
  if (!(m.ts + MINUTE_MS > e.lastMinuteClose)) return;
  if (e.lastMinuteClose === -Infinity && e.derivedFrom === -Infinity) e.derivedFrom = m.ts;
  if (e.derivedFrom === Infinity) e.derivedFrom = m.ts;
  e.lastMinuteClose = m.ts + MINUTE_MS;
  e.minutes++;
  e.handles.get('1m')?.push(m.ts, m.open, m.high, m.low, m.close, m.volume);
  // at its :55 slot, so the minute (and a bucket it ends) closes at once
  e.derivedAgg?.addRealtimeBar((m.ts + MINUTE_MS - REALTIME_BAR_MS) / 1000, m.open, m.high, m.low, m.close, m.volume);
}

/** Warm-start minutes: feed the pipeline so live minutes and derived bars continue from them. */
export function prime(c: MarketDataContext, e: Entry, minutes: readonly PlainBar[]): void {
  e.derivedAgg ??= newDerivedAgg(c, e);
  for (const m of minutes) {
    if (!(m.ts + MINUTE_MS > e.lastMinuteClose)) continue;
    if (e.sync !== undefined && e.sync.phase !== 'first-input') {
      // the stream already runs: its backfill covers these
      break;
    }
    deliverMinute(e, m);
    if (e.sync) e.sync.from = e.lastMinuteClose;
  }
}

export function lagOf(e: Entry): number {
  let max = 0;
  for (let i = 0; i < LAG_WINDOW; i++) if (e.lags[i]! > max) max = e.lags[i]!;
  return max;
}
