import { NEW_YORK, utcOffsetMs } from '../core/time-zone.js';
import type { BarKind, Interval } from '../data/interval.js';
import type { Bar } from '../model/market.js';

/**
 * Live bars of one instrument: IB's 5-second realtime bars (or trade ticks) -> 1-minute bars ->
 * derived 2/3/5/10/15/30-minute bars, the same bars the store holds and the backtest replays.
 *
 * Conventions (those of the store, `lib/ingest/lean/lean-bars.ts`, and of the simulator's
 * historical bars, `runner/tws-sim/hist-bars.ts`):
 * - a bar is stamped by its START (epoch ms UTC) and closes at start + interval (`closeTime`);
 * - a minute bar covers [m, m + 60 s) on the UTC minute grid (every zone offset is whole minutes);
 * - a minute without trades has no bar (the store has none either), so for trade bars a 5-second
 *   bar with no volume (IB sends those in quiet periods) only moves the clock; quote kinds (bid,
 *   ask, mid; IB reports volume -1) count volume as 0 and always make a bar;
 * - derived N-minute bars are buckets aligned from LOCAL MIDNIGHT in the exchange's time zone
 *   (`timeZone`, New York by default), exactly as the simulator builds IB's intraday bar sizes
 *   from stored minutes: start = the zoned wall time floored to N minutes, open of the first
 *   minute bar in it, high/low extremes, close of the last, volume summed, stamped with the bucket
 *   start even when its first minute had no trades. Only sizes dividing 30 minutes are derived:
 *   their buckets never straddle an offset change (those happen on the hour) and always start on
 *   a session open (09:30), so the labels equal IB's without its move-the-label-to-the-open rule.
 *
 * Completion. A minute is emitted as soon as it is known to be complete: when its last 5-second
 * slot (:55) arrives, when any input of a later minute arrives, or when `flush(now)` is called with
 * now >= minute end + `graceMs` (the runner's timer, for the last minute before a pause). A derived
 * bar is emitted right after the minute bar that completes it, or by the same rules when its last
 * minute had no trades. Bars are emitted in time order, finest interval first.
 *
 * Time only moves forward: every input and flush advances the aggregator's horizon, and minutes
 * that ended at or before it are closed. Inputs for a closed minute are ignored and counted as
 * `late`; inputs inside the open minute that are not newer than the last one (a 5-second bar with
 * the same or an earlier start, a tick with an earlier time) are ignored and counted as
 * `outOfOrder`; non-finite or inconsistent values (high < low) are counted as `invalid`.
 *
 * Allocation-free per update: state lives in numeric fields and preallocated level records, and
 * every interval has one flyweight `Bar` that is overwritten for each emission. A listener that
 * keeps a bar beyond its call must copy it (`{ ...bar }`), as with the engine's bars.
 */

export const REALTIME_BAR_MS = 5_000;
export const MINUTE_MS = 60_000;
/** Intervals derived from the 1-minute bars */
export const DERIVED_INTERVALS = ['2m', '3m', '5m', '10m', '15m', '30m'] as const;
export type DerivedInterval = (typeof DERIVED_INTERVALS)[number];

export interface BarAggregatorOptions {
  instrument: string;
  /** The engine's dense index, copied into every bar (default 0) */
  instrumentIndex?: number;
  /** Kind of the bars made (default trade) */
  kind?: BarKind;
  /** Intervals derived from the minute bars, e.g. ['5m', '15m'] */
  derived?: readonly DerivedInterval[];
  /** Exchange time zone whose local midnight aligns derived buckets (default America/New_York) */
  timeZone?: string;
  /** How long after a minute's end `flush(now)` waits for its last inputs (default 2000 ms) */
  graceMs?: number;
  /** Receives every completed bar (a flyweight per interval) */
  onBar: (bar: Readonly<Bar>) => void;
}

/** What the aggregator took in and left out; plain counters, never reset. */
export interface BarAggregatorStats {
  realtimeBars: number;
  trades: number;
  /** Trade inputs without volume: moved the clock, made no bar */
  empty: number;
  late: number;
  outOfOrder: number;
  invalid: number;
  /** Bars emitted, all intervals */
  emitted: number;
}

/** One interval's bucket under construction and its flyweight output. */
interface Level {
  readonly sizeMs: number;
  readonly bar: Bar;
  has: boolean;
  start: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

function level(sizeMs: number, interval: Interval, o: BarAggregatorOptions): Level {
  const bar: Bar = {
    instrument: o.instrument,
    instrumentIndex: o.instrumentIndex ?? 0,
    interval,
    kind: o.kind ?? 'trade',
    ts: 0,
    closeTime: 0,
    open: 0,
    high: 0,
    low: 0,
    close: 0,
    volume: 0,
  };
  return { sizeMs, bar, has: false, start: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 };
}

export class BarAggregator {
  readonly stats: BarAggregatorStats = { realtimeBars: 0, trades: 0, empty: 0, late: 0, outOfOrder: 0, invalid: 0, emitted: 0 };
  private readonly minute: Level;
  private readonly derived: Level[];
  private readonly trades: boolean;
  private readonly timeZone: string;
  private readonly graceMs: number;
  private readonly onBar: (bar: Readonly<Bar>) => void;
  /** Everything before this instant is known: minutes ending at or before it are closed */
  private horizon = -Infinity;
  /** Start (5-second bar) or time (tick) of the last input taken into the open minute */
  private lastInput = -Infinity;

  constructor(options: BarAggregatorOptions) {
    this.trades = (options.kind ?? 'trade') === 'trade';
    this.timeZone = options.timeZone ?? NEW_YORK;
    this.graceMs = options.graceMs ?? 2_000;
    this.onBar = options.onBar;
    this.minute = level(MINUTE_MS, '1m', options);
    const derived = [...new Set(options.derived ?? [])];
    for (const d of derived) {
      if (!(DERIVED_INTERVALS as readonly string[]).includes(d)) throw new RangeError(`cannot derive ${d} bars from minutes; expected one of ${DERIVED_INTERVALS.join(', ')}`);
    }
    this.derived = derived.map((d) => level(Number(d.slice(0, -1)) * MINUTE_MS, d, options)).sort((a, b) => a.sizeMs - b.sizeMs);
  }

  /** One IB realtime bar: `timeSec` is its start in epoch seconds (as IB sends it). */
  addRealtimeBar(timeSec: number, open: number, high: number, low: number, close: number, volume: number): void {
    this.stats.realtimeBars++;
    const ts = timeSec * 1000;
    const consistent = high >= open && high >= close && low <= open && low <= close;
    if (!(Number.isFinite(ts) && Number.isFinite(high) && Number.isFinite(low) && consistent)) {
      this.stats.invalid++;
      return;
    }
    if (!this.accepts(ts, true)) return;
    this.advance(ts);
    this.take(ts, open, high, low, close, volume);
    // the bar covers [ts, ts + 5 s): after its minute's :55 slot the minute is complete
    this.advance(ts + REALTIME_BAR_MS);
  }

  /** One trade print at `timeMs` (epoch ms). */
  addTrade(price: number, size: number, timeMs: number): void {
    this.stats.trades++;
    if (!(Number.isFinite(price) && Number.isFinite(timeMs) && size >= 0)) {
      this.stats.invalid++;
      return;
    }
    if (!this.accepts(timeMs, false)) return;
    this.advance(timeMs);
    this.take(timeMs, price, price, price, price, size);
  }

  /**
   * Wall time `now`: closes (emits) every bar that ended at least `graceMs` before it. Inputs of
   * those bars arriving afterwards are late. `flush(Infinity)` emits everything pending (end of
   * the session or shutdown).
   */
  flush(now: number): void {
    if (!Number.isNaN(now)) this.advance(now - this.graceMs);
  }

  private accepts(ts: number, strictlyNewer: boolean): boolean {
    const minuteStart = ts - mod(ts, MINUTE_MS);
    if (minuteStart + MINUTE_MS <= this.horizon) {
      this.stats.late++;
      return false;
    }
    if (this.minute.has && minuteStart === this.minute.start && (strictlyNewer ? ts <= this.lastInput : ts < this.lastInput)) {
      this.stats.outOfOrder++;
      return false;
    }
    return true;
  }

  /** Adds an accepted input to the open minute (opening it when needed). */
  private take(ts: number, open: number, high: number, low: number, close: number, volume: number): void {
    const v = volume > 0 ? volume : 0;
    if (this.trades && v === 0) {
      // no trades: the store has no bar for such a minute, and the prices are stale
      this.stats.empty++;
      return;
    }
    const m = this.minute;
    if (!m.has) {
      m.has = true;
      m.start = ts - mod(ts, MINUTE_MS);
      m.open = open;
      m.high = high;
      m.low = low;
      m.volume = 0;
    } else {
      if (high > m.high) m.high = high;
      if (low < m.low) m.low = low;
    }
    m.close = close;
    m.volume += v;
    this.lastInput = ts;
  }

  /** Everything before `t` is known: emit the bars that ended by then. */
  private advance(t: number): void {
    if (t <= this.horizon) return;
    this.horizon = t;
    const m = this.minute;
    if (m.has && m.start + MINUTE_MS <= t) {
      m.has = false;
      this.emit(m);
      for (let i = 0; i < this.derived.length; i++) this.addMinute(this.derived[i]!, m);
    }
    for (let i = 0; i < this.derived.length; i++) {
      const d = this.derived[i]!;
      if (d.has && d.start + d.sizeMs <= t) this.close(d);
    }
  }

  private addMinute(d: Level, m: Level): void {
    // buckets aligned from local midnight; the offset is constant within an hour and thus a bucket
    const start = m.start - mod(m.start + utcOffsetMs(this.timeZone, m.start), d.sizeMs);
    if (d.has && d.start !== start) this.close(d);
    if (!d.has) {
      d.has = true;
      d.start = start;
      d.open = m.open;
      d.high = m.high;
      d.low = m.low;
      d.volume = 0;
    } else {
      if (m.high > d.high) d.high = m.high;
      if (m.low < d.low) d.low = m.low;
    }
    d.close = m.close;
    d.volume += m.volume;
  }

  private close(d: Level): void {
    d.has = false;
    this.emit(d);
  }

  private emit(l: Level): void {
    const b = l.bar;
    b.ts = l.start;
    b.closeTime = l.start + l.sizeMs;
    b.open = l.open;
    b.high = l.high;
    b.low = l.low;
    b.close = l.close;
    b.volume = l.volume;
    this.stats.emitted++;
    this.onBar(b);
  }
}

function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}
