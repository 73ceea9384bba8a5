/**
 * The replayed market of the TWS simulator: top of book, last trade and session statistics of an
 * instrument at a simulated instant, read from the store's bars. The market-data feature streams
 * it and the order feature fills against it, so both see the same market.
 *
 * Rules (no lookahead): a bar is visible once it has CLOSED, i.e. bar start + interval <= now;
 * a bar still forming at `now` is never used. Per bar kind the finest stored interval is used.
 * - bid/ask: close of the last visible bid and ask bars; sizes from those bars' volume (LEAN quote
 *   bars store the last bid/ask size there).
 * - last: close of the last visible trade bar; lastSize is that bar's whole volume (a proxy: bars
 *   carry no trade sizes); volume is the sum of the trading date's visible trade bars.
 * - with no visible quote bars (e.g. futures stored as trade bars only) bid/ask are SYNTHESIZED as
 *   last -/+ half the instrument's tick size, both sizes the last bar's volume.
 * - a side whose newest visible bar closed more than `staleAfterMs` before now is treated as
 *   absent (a ten-year-old SPY quote is no quote), so `quote` answers undefined when nothing is fresh.
 * Columns are loaded lazily once per instrument and searched by time (binary search); a quote is
 * frozen and reused while the bars it comes from stay the same.
 */
import type { BarColumns } from '../../lib/data/bar-series.js';
import { INTERVALS, intervalMs, type BarKind, type Interval } from '../../lib/data/interval.js';
import { loadBars } from '../../lib/store/bar-query.js';
import { findInstruments, type InstrumentRow } from '../../lib/store/instruments.js';
import type { Store } from '../../lib/store/store.js';
import { tradingDate, tradingDateSpan } from './trading-hours.js';
import type { QuoteBook, SimQuote } from './types.js';

/** One bar kind of one instrument at its finest stored interval. */
export interface ReplayBars extends BarColumns {
  interval: Interval;
  intervalMs: number;
}

/** Everything loaded for one instrument; a kind is absent when the store has none. */
export interface ReplaySeries {
  instrument: InstrumentRow;
  trade?: ReplayBars;
  bid?: ReplayBars;
  ask?: ReplayBars;
}

/** The trading date's statistics at an instant (NaN where unknown). */
export interface SessionStats {
  /** Open of the trading date's first visible trade bar */
  open: number;
  high: number;
  low: number;
  /** Close of the last trade bar before the trading date (IB's CLOSE tick) */
  prevClose: number;
  /** Epoch ms at which the last visible trade bar closed (IB's LAST_TIMESTAMP) */
  lastTradeTs: number;
  /** True when bid/ask are synthesized from the last trade */
  syntheticQuote: boolean;
}

/** A quote book that also exposes its bars and session statistics (the market-data feature uses both). */
export interface ReplayQuoteBook extends QuoteBook {
  session(instrumentKey: string, now: number): Promise<SessionStats | undefined>;
  series(instrumentKey: string): Promise<ReplaySeries | undefined>;
}

export function isReplayQuoteBook(q: QuoteBook): q is ReplayQuoteBook {
  const r = q as Partial<ReplayQuoteBook>;
  return typeof r.session === 'function' && typeof r.series === 'function';
}

export interface StoreQuoteBookOptions {
  /** Sides whose newest visible bar closed longer ago are ignored (default 7 days: weekends and holidays pass) */
  staleAfterMs?: number;
}

const DEFAULT_STALE_MS = 7 * 86_400_000;

/** Index of the last bar that has closed by `now` (start + intervalMs <= now), -1 when none. */
export function lastClosedIndex(ts: Float64Array, length: number, barMs: number, now: number): number {
  const limit = now - barMs;
  // first index whose start is > limit, minus one
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! <= limit) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** First index with ts >= t (length when none). */
export function lowerBound(ts: Float64Array, length: number, t: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Per-instrument cache: the columns plus the last answers (reused while the visible bars stay the same). */
interface Entry {
  series: ReplaySeries;
  /** Prefix sums of trade volume: cumVolume[i] = volume of bars [0, i) */
  cumVolume: Float64Array | undefined;
  memo: { it: number; ib: number; ia: number; quote: SimQuote | undefined } | undefined;
  /** Trading date span of the last trade index asked about, and its first bar */
  day: { start: number; end: number; first: number } | undefined;
  /** Running high/low over [day.first, upTo] */
  range: { first: number; upTo: number; high: number; low: number } | undefined;
  stats: { it: number; synthetic: boolean; value: SessionStats } | undefined;
}

export class StoreQuoteBook implements ReplayQuoteBook {
  private readonly entries = new Map<string, Promise<Entry | undefined>>();
  private readonly staleAfterMs: number;

  constructor(
    private readonly store: Store,
    options: StoreQuoteBookOptions = {},
  ) {
    this.staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_MS;
  }

  async quote(instrumentKey: string, now: number): Promise<SimQuote | undefined> {
    const e = await this.entry(instrumentKey);
    return e ? this.quoteAt(e, now) : undefined;
  }

  async session(instrumentKey: string, now: number): Promise<SessionStats | undefined> {
    const e = await this.entry(instrumentKey);
    if (!e) return undefined;
    const trade = e.series.trade;
    const it = this.visible(trade, now);
    const synthetic = this.visible(e.series.bid, now) < 0 || this.visible(e.series.ask, now) < 0;
    if (!trade || it < 0) return synthetic ? undefined : NO_STATS;
    if (e.stats && e.stats.it === it && e.stats.synthetic === synthetic) return e.stats.value;
    const first = this.dayFirst(e, trade, it);
    const [high, low] = this.highLow(e, trade, first, it);
    const value: SessionStats = Object.freeze({
      open: trade.open[first]!,
      high,
      low,
      prevClose: first > 0 ? trade.close[first - 1]! : NaN,
      lastTradeTs: trade.ts[it]! + trade.intervalMs,
      syntheticQuote: synthetic,
    });
    e.stats = { it, synthetic, value };
    return value;
  }

  /** The loaded columns of an instrument (undefined when the store does not know it). */
  async series(instrumentKey: string): Promise<ReplaySeries | undefined> {
    return (await this.entry(instrumentKey))?.series;
  }

  /** Forgets loaded columns (after an import), of one instrument or all. */
  invalidate(instrumentKey?: string): void {
    if (instrumentKey === undefined) this.entries.clear();
    else this.entries.delete(instrumentKey);
  }

  private entry(key: string): Promise<Entry | undefined> {
    let p = this.entries.get(key);
    if (!p) {
      p = this.load(key);
      this.entries.set(key, p);
      // a failed load (store error) is retried on the next call
      p.catch(() => this.entries.delete(key));
    }
    return p;
  }

  private async load(key: string): Promise<Entry | undefined> {
    const instrument = (await findInstruments(this.store, [key])).get(key);
    if (!instrument) return undefined;
    const rows = await this.store.all<{ iv: string; k: string }>(
      'SELECT DISTINCT CAST(interval AS VARCHAR) AS iv, CAST(kind AS VARCHAR) AS k FROM bars WHERE instrument_id = $1',
      [instrument.instrumentId],
    );
    const has = (iv: Interval, k: BarKind) => rows.some((r) => r.iv === iv && r.k === k);
    // INTERVALS runs from the finest to the coarsest
    const tradeIv = INTERVALS.find((iv) => has(iv, 'trade'));
    const quoteIv = INTERVALS.find((iv) => has(iv, 'bid') && has(iv, 'ask'));
    const read = async (interval: Interval, kind: BarKind): Promise<ReplayBars> => {
      const [b] = await loadBars(this.store, { symbols: [key], interval, kind });
      return { length: b!.length, ts: b!.ts, open: b!.open, high: b!.high, low: b!.low, close: b!.close, volume: b!.volume, interval, intervalMs: intervalMs(interval) };
    };
    const series: ReplaySeries = { instrument };
    if (tradeIv) series.trade = await read(tradeIv, 'trade');
    if (quoteIv) {
      series.bid = await read(quoteIv, 'bid');
      series.ask = await read(quoteIv, 'ask');
    }
    let cumVolume: Float64Array | undefined;
    if (series.trade) {
      const t = series.trade;
      cumVolume = new Float64Array(t.length + 1);
      for (let i = 0; i < t.length; i++) cumVolume[i + 1] = cumVolume[i]! + t.volume[i]!;
    }
    return { series, cumVolume, memo: undefined, day: undefined, range: undefined, stats: undefined };
  }

  /** Last closed, fresh bar index of a kind; -1 when none. */
  private visible(bars: ReplayBars | undefined, now: number): number {
    if (!bars) return -1;
    const i = lastClosedIndex(bars.ts, bars.length, bars.intervalMs, now);
    if (i < 0 || bars.ts[i]! + bars.intervalMs < now - this.staleAfterMs) return -1;
    return i;
  }

  private quoteAt(e: Entry, now: number): SimQuote | undefined {
    const { trade, bid, ask, instrument } = e.series;
    const it = this.visible(trade, now);
    let ib = this.visible(bid, now);
    let ia = this.visible(ask, now);
    if (ib < 0 || ia < 0) ib = ia = -1;
    if (e.memo && e.memo.it === it && e.memo.ib === ib && e.memo.ia === ia) return e.memo.quote;
    let quote: SimQuote | undefined;
    if (it >= 0 || ib >= 0) {
      const last = it >= 0 ? trade!.close[it]! : NaN;
      const lastSize = it >= 0 ? trade!.volume[it]! : NaN;
      const volume = it >= 0 ? e.cumVolume![it + 1]! - e.cumVolume![this.dayFirst(e, trade!, it)]! : NaN;
      const half = instrument.tickSize / 2;
      let ts = it >= 0 ? trade!.ts[it]! + trade!.intervalMs : -Infinity;
      if (ib >= 0) ts = Math.max(ts, bid!.ts[ib]! + bid!.intervalMs, ask!.ts[ia]! + ask!.intervalMs);
      quote = Object.freeze({
        ts,
        bid: ib >= 0 ? bid!.close[ib]! : last - half,
        ask: ib >= 0 ? ask!.close[ia]! : last + half,
        bidSize: ib >= 0 ? bid!.volume[ib]! : lastSize,
        askSize: ib >= 0 ? ask!.volume[ia]! : lastSize,
        last,
        lastSize,
        volume,
      });
    }
    e.memo = { it, ib, ia, quote };
    return quote;
  }

  /** Index of the first trade bar of bar `it`'s trading date. */
  private dayFirst(e: Entry, trade: ReplayBars, it: number): number {
    const t = trade.ts[it]!;
    if (!e.day || t < e.day.start || t >= e.day.end) {
      const inst = e.series.instrument;
      const span = tradingDateSpan(inst, tradingDate(inst, t));
      e.day = { ...span, first: lowerBound(trade.ts, trade.length, span.start) };
    }
    return e.day.first;
  }

  /** High and low over bars [first, it], extending the previous answer when it moved forward. */
  private highLow(e: Entry, trade: ReplayBars, first: number, it: number): [number, number] {
    let r = e.range;
    if (!r || r.first !== first || r.upTo > it) r = e.range = { first, upTo: first - 1, high: -Infinity, low: Infinity };
    for (let i = r.upTo + 1; i <= it; i++) {
      if (trade.high[i]! > r.high) r.high = trade.high[i]!;
      if (trade.low[i]! < r.low) r.low = trade.low[i]!;
    }
    r.upTo = it;
    return [r.high, r.low];
  }
}

const NO_STATS: SessionStats = Object.freeze({ open: NaN, high: NaN, low: NaN, prevClose: NaN, lastTradeTs: NaN, syntheticQuote: false });
