/**
 * reqRealTimeBars: one 5-second realtimeBar (50) per 5 simulated seconds, built from the finest
 * stored bars (at most 1 hour) of the kind whatToShow names.
 * - source bars of 5 s or less are aggregated into the 5 s bucket (open, max, min, close, sum);
 * - longer source bars (e.g. minutes) are spread over their 5 s slots as FLAT bars (open = high =
 *   low = close) following the path open -> low -> high -> close (open -> high -> low -> close when
 *   the bar fell), interpolated and rounded to the tick, volume split evenly; the twelve bars of a
 *   minute therefore add up to exactly that minute's OHLCV;
 * - no lookahead: the bar starting at T is sent once its source bar has closed, at T + max(5 s,
 *   source interval). From minute data the stream thus runs one minute behind the clock, still one
 *   bar per 5 s and stamped with its true start time. With delay 'slot' (lock-step parity replays)
 *   each bar is sent at its own end, T + 5 s, as IB does: a minute then completes at its close, as
 *   in a backtest, at the price of showing a minute's spread-out path before the minute closed
 *   (harmless to consumers of completed minutes, which is all the runner builds);
 * - BID/ASK/MIDPOINT use the quote bars (MIDPOINT: (bid + ask) / 2 of the same start); without
 *   quote bars they come from the trade bars -/+ half a tick, like the quote book's synthesis;
 * - a slot inside a gap between two source bars of the same trading date gets a quiet bar (the
 *   last close, volume 0), as IB sends a bar every 5 s while the market trades, quiet or not: a
 *   consumer sees its stream continue (the runner takes a hole in the sequence for lost bars and
 *   resynchronises). Before the first and after the last bar of a trading date (closed market)
 *   nothing is sent; useRTH skips slots outside regular hours. Quote bars report volume, WAP and count as -1 (as in historical data); the
 *   store keeps no trade counts, so count is always -1.
 */
import type { InstrumentRow } from '../../lib/store/instruments.js';
import { roundTo, stepDecimals } from './md-request.js';
import type { ReplayBars, ReplaySeries } from './replay-quotes.js';
import { regularHours, tradingDate, type HoursWindow } from './trading-hours.js';
import { IN, type ClientConnection } from './types.js';

export const REALTIME_BAR_MS = 5_000;
export const WHAT_TO_SHOW_RT = ['TRADES', 'BID', 'ASK', 'MIDPOINT'] as const;
/** Coarser source bars are not spread into 5 s bars. */
const MAX_SOURCE_MS = 3_600_000;
/** Bars sent per update at most; a longer backlog (clock jump) is skipped */
const MAX_CATCH_UP = 720;
const RTH_LOOKAHEAD_MS = 2 * 86_400_000;

/** The bars a subscription reads and how their prices are shifted (synthesized sides). */
export interface RealtimeSource {
  bars: ReplayBars;
  offset: number;
  trades: boolean;
  /** Price grid of the source bars: the tick, half of it for midpoints */
  grid: number;
}

const midCache = new WeakMap<ReplaySeries, ReplayBars>();

/** The source for whatToShow, or undefined when the store has nothing usable. */
export function realtimeSource(series: ReplaySeries, whatToShow: string): RealtimeSource | undefined {
  const { trade, bid, ask, instrument } = series;
  const fits = (b: ReplayBars | undefined): b is ReplayBars => !!b && b.intervalMs <= MAX_SOURCE_MS;
  const tick = instrument.tickSize;
  const half = tick / 2;
  if (whatToShow === 'TRADES') return fits(trade) ? { bars: trade, offset: 0, trades: true, grid: tick } : undefined;
  if (fits(bid) && fits(ask)) {
    if (whatToShow === 'BID') return { bars: bid, offset: 0, trades: false, grid: tick };
    if (whatToShow === 'ASK') return { bars: ask, offset: 0, trades: false, grid: tick };
    return { bars: midBars(series, bid, ask), offset: 0, trades: false, grid: half };
  }
  if (!fits(trade)) return undefined;
  return { bars: trade, offset: whatToShow === 'BID' ? -half : whatToShow === 'ASK' ? half : 0, trades: false, grid: tick };
}

/** (bid + ask) / 2 of bars with the same start, computed once per loaded series. */
function midBars(series: ReplaySeries, bid: ReplayBars, ask: ReplayBars): ReplayBars {
  const cached = midCache.get(series);
  if (cached) return cached;
  const n = Math.min(bid.length, ask.length);
  const cols = ['ts', 'open', 'high', 'low', 'close', 'volume'] as const;
  const out = Object.fromEntries(cols.map((c) => [c, new Float64Array(n)])) as Record<(typeof cols)[number], Float64Array>;
  let len = 0;
  for (let i = 0, j = 0; i < bid.length && j < ask.length; ) {
    if (bid.ts[i]! < ask.ts[j]!) i++;
    else if (bid.ts[i]! > ask.ts[j]!) j++;
    else {
      out.ts[len] = bid.ts[i]!;
      for (const c of ['open', 'high', 'low', 'close'] as const) out[c][len] = (bid[c][i]! + ask[c][j]!) / 2;
      len++;
      i++;
      j++;
    }
  }
  const mid: ReplayBars = { ...out, length: len, interval: bid.interval, intervalMs: bid.intervalMs };
  midCache.set(series, mid);
  return mid;
}

/** When a 5 s bar is sent: once its source bar closed ('source', the default), or at its own end ('slot') */
export type RealtimeDelay = 'source' | 'slot';

export class RealtimeBars {
  active = true;
  /** Start of the next 5 s bar to send */
  private cursor: number;
  /** Source index: first bar that may still cover the cursor */
  private j = 0;
  private readonly delayMs: number;
  private readonly decimals: number;
  private rth: { windows: HoursWindow[]; until: number } | undefined;
  /** Whether source bars `next - 1` and `next` share a trading date (the gap between them is quiet, not closed) */
  private gap: { next: number; quiet: boolean } | undefined;

  constructor(
    readonly reqId: number,
    private readonly inst: InstrumentRow,
    private readonly source: RealtimeSource,
    private readonly useRTH: boolean,
    private readonly volumeDivisor: number,
    now: number,
    delay: RealtimeDelay = 'source',
  ) {
    this.delayMs = delay === 'slot' ? REALTIME_BAR_MS : Math.max(REALTIME_BAR_MS, source.bars.intervalMs);
    // the first bar is the next one to become due
    this.cursor = Math.floor((now - this.delayMs) / REALTIME_BAR_MS) * REALTIME_BAR_MS + REALTIME_BAR_MS;
    this.decimals = stepDecimals(inst.tickSize / 2);
  }

  /** Sends every bar that became due by `now`. */
  update(conn: ClientConnection, _quotes: unknown, now: number): void {
    if (!this.active || !conn.open) return;
    const lastDue = now - this.delayMs;
    if (lastDue - this.cursor >= MAX_CATCH_UP * REALTIME_BAR_MS) {
      this.cursor = Math.floor(lastDue / REALTIME_BAR_MS) * REALTIME_BAR_MS - (MAX_CATCH_UP - 1) * REALTIME_BAR_MS;
    }
    for (; this.cursor <= lastDue; this.cursor += REALTIME_BAR_MS) {
      if (this.useRTH && !this.inRegularHours(this.cursor)) continue;
      this.slot(conn, this.cursor);
    }
  }

  private slot(conn: ClientConnection, t: number): void {
    const b = this.source.bars;
    const iv = b.intervalMs;
    if (iv >= REALTIME_BAR_MS) {
      while (this.j < b.length && b.ts[this.j]! + iv <= t) this.j++;
      const i = this.j;
      if (i >= b.length || b.ts[i]! > t) return this.quiet(conn, t, i);
      const n = Math.round(iv / REALTIME_BAR_MS);
      const k = Math.floor((t - b.ts[i]!) / REALTIME_BAR_MS);
      const volume = b.volume[i]! / n;
      if (n === 1) return this.send(conn, t, b.open[i]!, b.high[i]!, b.low[i]!, b.close[i]!, volume);
      if (n < 4) {
        // too few slots for the path: the first carries the range, the rest stay at the close
        if (k === 0) return this.send(conn, t, b.open[i]!, b.high[i]!, b.low[i]!, b.close[i]!, volume);
        const c = b.close[i]!;
        return this.send(conn, t, c, c, c, c, volume);
      }
      const v = this.pathValue(i, k, n);
      return this.send(conn, t, v, v, v, v, volume);
    }
    // finer source bars: aggregate those starting in [t, t + 5 s)
    while (this.j < b.length && b.ts[this.j]! < t) this.j++;
    const first = this.j;
    let high = -Infinity;
    let low = Infinity;
    let volume = 0;
    while (this.j < b.length && b.ts[this.j]! < t + REALTIME_BAR_MS) {
      high = Math.max(high, b.high[this.j]!);
      low = Math.min(low, b.low[this.j]!);
      volume += b.volume[this.j]!;
      this.j++;
    }
    if (this.j === first) return this.quiet(conn, t, first);
    this.send(conn, t, b.open[first]!, high, low, b.close[this.j - 1]!, volume);
  }

  /** A slot without source data before source bar `next`: a quiet bar inside a trading date's gap, else nothing. */
  private quiet(conn: ClientConnection, t: number, next: number): void {
    const b = this.source.bars;
    if (next <= 0 || next >= b.length) return;
    if (this.gap?.next !== next) this.gap = { next, quiet: tradingDate(this.inst, b.ts[next - 1]!) === tradingDate(this.inst, b.ts[next]!) };
    if (!this.gap.quiet) return;
    const c = b.close[next - 1]!;
    this.send(conn, t, c, c, c, c, 0);
  }

  /** Open -> low -> high -> close (or open -> high -> low -> close) at slots 0, ~n/3, ~2n/3, n-1. */
  private pathValue(i: number, k: number, n: number): number {
    const b = this.source.bars;
    const open = b.open[i]!;
    const close = b.close[i]!;
    const up = close >= open;
    const x = up ? b.low[i]! : b.high[i]!;
    const y = up ? b.high[i]! : b.low[i]!;
    const a = Math.round((n - 1) / 3);
    const c = Math.round((2 * (n - 1)) / 3);
    const last = n - 1;
    // the four waypoints are exact; points between them snap to the source's price grid
    if (k === 0) return open;
    if (k === a) return x;
    if (k === c) return y;
    if (k === last) return close;
    let v: number;
    if (k < a) v = open + ((x - open) * k) / a;
    else if (k < c) v = x + ((y - x) * (k - a)) / (c - a);
    else v = y + ((close - y) * (k - c)) / (last - c);
    const grid = this.source.grid;
    return roundTo(Math.round(v / grid) * grid, this.decimals);
  }

  private send(conn: ClientConnection, t: number, open: number, high: number, low: number, close: number, volume: number): void {
    const o = this.source.offset;
    const d = this.decimals;
    const op = o === 0 ? open : roundTo(open + o, d);
    const hi = o === 0 ? high : roundTo(high + o, d);
    const lo = o === 0 ? low : roundTo(low + o, d);
    const cl = o === 0 ? close : roundTo(close + o, d);
    const trades = this.source.trades;
    const wap = trades ? roundTo((hi + lo + cl) / 3, d + 2) : -1;
    conn.send([IN.REAL_TIME_BARS, 3, this.reqId, t / 1000, op, hi, lo, cl, trades ? volume / this.volumeDivisor : -1, wap, -1]);
  }

  private inRegularHours(t: number): boolean {
    if (!this.rth || t >= this.rth.until) {
      const windows = regularHours(this.inst, t, t + RTH_LOOKAHEAD_MS);
      // unknown calendar: nothing to filter on
      if (!windows) return true;
      this.rth = { windows, until: t + RTH_LOOKAHEAD_MS };
    }
    return this.rth.windows.some((w) => t >= w.start && t < w.end);
  }
}
