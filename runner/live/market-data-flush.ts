/**
 * Closing minutes whose last input is overdue (IbMarketData.flush and its timer, ib-market-data.ts):
 * `graceMs` after their end plus the stream's observed delivery lag.
 */
import type { Entry, MarketDataContext } from './instrument-stream.js';
import { lagOf } from './minute-pipeline.js';

export function flushEntry(e: Entry, now: number): void {
  // a stream without input yet: flushing would move its horizon past the first (lagging) bars
  if (!e.minuteAgg || e.sync?.phase === 'first-input') return;
  const t = now - lagOf(e);
  e.minuteAgg.flush(t);
  // while a backfill is pending the derived buckets wait for its minutes
  if (e.sync === undefined) e.derivedAgg?.flush(t);
}

/**
 * The timer's flush: only streams that took no input for a whole tick, checked again on the next
 * turn (after the socket input pending now is read: a stalled loop runs the simulator's timer and
 * this one back to back). A stream still delivering completes its minutes itself (their :55 slot,
 * or any input of a later minute). Judged by the clock alone, a bursty stream loses minutes: the
 * accelerated replay's simulator sends every 250 real ms, i.e. speed / 20 bars per burst (150 at
 * 3000x), more than the lag window holds, while the clock runs on between bursts; a flush there
 * closed the open minute and the next ones before their bars came (cut short, or dropped as late).
 */
export function flushQuiet(c: MarketDataContext, entries: ReadonlyMap<string, Entry>): void {
  const quiet: [Entry, number][] = [];
  for (const e of entries.values()) {
    if (e.inputs === e.inputsAtTick) quiet.push([e, e.inputs]);
    e.inputsAtTick = e.inputs;
  }
  if (quiet.length === 0) return;
  c.scheduler.setTimeout(() => {
    if (c.stopped()) return;
    const now = c.now();
    for (const [e, inputs] of quiet) if (e.inputs === inputs && entries.get(e.key) === e) flushEntry(e, now);
  }, 0);
}
