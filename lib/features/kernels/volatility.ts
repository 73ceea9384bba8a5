/**
 * Volatility features with TA-Lib conventions: TRANGE, ATR, NATR, true range % of close, range
 * compression and Bollinger bands. Each batch kernel and its stream perform the same floating-point
 * operations in the same order, so they agree bit for bit.
 *
 * Degenerate denominators follow TA-Lib's rule (output 0) but test for exact zero: TA-Lib's
 * TA_IS_ZERO uses |x| < 1e-8, which is scale-dependent and only differs for tiny prices.
 * NaN inputs: ATR/NATR are recursive (a NaN poisons every later value); TR/trpct poison the bar and
 * the next one; the windowed features re-sum their window each bar, so a NaN masks only the
 * windows holding it.
 */
import { nanColumn, numberParam, periodParam, type FeatureDefinition, type FeatureParams } from '../feature-definition.js';
import { ringPush, ringSum, windowSum } from './window-ring.js';

function checkPeriod(period: number, min: number): void {
  if (!Number.isInteger(period) || period < min) throw new RangeError(`period must be an integer >= ${min}, got ${period}`);
}

/**
 * One true range: max(high-low, |high-prevClose|, |low-prevClose|). Math.max propagates NaN
 * (TA-Lib's `>` comparisons would silently skip a NaN previous close).
 */
export function trueRangeOf(high: number, low: number, prevClose: number): number {
  return Math.max(high - low, Math.abs(high - prevClose), Math.abs(low - prevClose));
}

/**
 * True range, TA-Lib TRANGE. Lookback 1: bar 0 has no previous close and is NaN
 * (trading-signals' TR falls back to high-low there).
 */
export function trueRange(high: Float64Array, low: Float64Array, close: Float64Array): Float64Array {
  const out = nanColumn(close.length);
  for (let i = 1; i < close.length; i++) out[i] = trueRangeOf(high[i]!, low[i]!, close[i - 1]!);
  return out;
}

/** Streaming TRANGE; the NaN initial previous close makes bar 0 NaN without a counter. */
export class TrueRangeStream {
  private prevClose = NaN;
  update(high: number, low: number, close: number): number {
    const tr = trueRangeOf(high, low, this.prevClose);
    this.prevClose = close;
    return tr;
  }
}

/**
 * Average true range, TA-Lib ATR: seeded at bar `period` with the SMA of the first `period` true
 * ranges (bars 1..period), then Wilder's smoothing atr = (atr*(period-1) + tr)/period.
 * Lookback: period. trading-signals seeds with bars 0..period-1 (bar 0's TR = high-low), so its
 * ATR starts one bar earlier and converges to this one as the seed decays by (1-1/period)^t.
 */
export function atr(high: Float64Array, low: Float64Array, close: Float64Array, period: number): Float64Array {
  checkPeriod(period, 1);
  const out = nanColumn(close.length);
  let sum = 0;
  let prev = NaN;
  for (let i = 1; i < close.length; i++) {
    const tr = trueRangeOf(high[i]!, low[i]!, close[i - 1]!);
    if (i < period) {
      sum += tr;
      continue;
    }
    if (i === period) prev = (sum + tr) / period;
    else prev = (prev * (period - 1) + tr) / period;
    out[i] = prev;
  }
  return out;
}

/** Streaming ATR (same seeding and update order as `atr`). */
export class AtrStream {
  private readonly tr = new TrueRangeStream();
  private count = 0;
  private sum = 0;
  private prev = NaN;
  constructor(readonly period: number) {
    checkPeriod(period, 1);
  }
  update(high: number, low: number, close: number): number {
    const tr = this.tr.update(high, low, close);
    const i = this.count++;
    if (i === 0) return NaN;
    if (i < this.period) {
      this.sum += tr;
      return NaN;
    }
    if (i === this.period) this.prev = (this.sum + tr) / this.period;
    else this.prev = (this.prev * (this.period - 1) + tr) / this.period;
    return this.prev;
  }
}

/** (x/close)*100, 0 when close is 0 (TA-Lib NATR's rule) unless x itself is NaN. */
function pctOfClose(x: number, close: number): number {
  return close !== 0 || x !== x ? (x / close) * 100 : 0;
}

/** Normalized ATR, TA-Lib NATR: (atr/close)*100, 0 when close is 0. Lookback: period. */
export function natr(high: Float64Array, low: Float64Array, close: Float64Array, period: number): Float64Array {
  const out = atr(high, low, close, period);
  for (let i = period; i < out.length; i++) out[i] = pctOfClose(out[i]!, close[i]!);
  return out;
}

/** Streaming NATR. */
export class NatrStream {
  private readonly atr: AtrStream;
  constructor(readonly period: number) {
    this.atr = new AtrStream(period);
  }
  update(high: number, low: number, close: number): number {
    return pctOfClose(this.atr.update(high, low, close), close);
  }
}

/** True range as % of close: (tr/close)*100, 0 when close is 0 (NATR's rule). Lookback 1. */
export function trueRangePct(high: Float64Array, low: Float64Array, close: Float64Array): Float64Array {
  const out = nanColumn(close.length);
  for (let i = 1; i < close.length; i++) out[i] = pctOfClose(trueRangeOf(high[i]!, low[i]!, close[i - 1]!), close[i]!);
  return out;
}

/** Streaming true range % of close. */
export class TrueRangePctStream {
  private readonly tr = new TrueRangeStream();
  update(high: number, low: number, close: number): number {
    return pctOfClose(this.tr.update(high, low, close), close);
  }
}

/** hl/avg, 1 when the window's average range is 0 (all bars flat: neither compressed nor wide). */
function compression(hl: number, avg: number): number {
  return avg !== 0 ? hl / avg : 1;
}

/**
 * Range compression (no TA-Lib equivalent): today's high-low divided by the SMA of high-low over
 * the last `period` bars including today; < 1 means today's range is narrower than usual. A
 * fully flat window gives 1 rather than 0, so flat/halted data does not read as a squeeze.
 * The window is re-summed each bar (no running-sum drift). Lookback: period-1.
 */
export function rangeCompression(high: Float64Array, low: Float64Array, period: number): Float64Array {
  checkPeriod(period, 2);
  const len = high.length;
  const out = nanColumn(len);
  const hl = new Float64Array(len);
  for (let i = 0; i < len; i++) hl[i] = high[i]! - low[i]!;
  for (let i = period - 1; i < len; i++) out[i] = compression(hl[i]!, windowSum(hl, i - period + 1, i) / period);
  return out;
}

/** Streaming range compression over a ring of the last `period` ranges. */
export class RangeCompressionStream {
  private readonly ring: Float64Array;
  private head = 0;
  private count = 0;
  constructor(readonly period: number) {
    checkPeriod(period, 2);
    this.ring = new Float64Array(period);
  }
  update(high: number, low: number): number {
    const hl = high - low;
    this.head = ringPush(this.ring, this.head, hl);
    if (++this.count < this.period) return NaN;
    return compression(hl, ringSum(this.ring, this.head) / this.period);
  }
}

export interface BbandsOutput {
  upper: Float64Array;
  middle: Float64Array;
  lower: Float64Array;
  pctb: Float64Array;
  width: Float64Array;
}

/** Writes one bar's bands from the window sums into out[offset..offset+4]. */
function bandsAt(sum: number, sqDev: number, period: number, k: number, close: number, out: Float64Array, o: number): void {
  const middle = sum / period;
  const dev = k * Math.sqrt(sqDev / period);
  const upper = middle + dev;
  const lower = middle - dev;
  const spread = upper - lower;
  out[o] = upper;
  out[o + 1] = middle;
  out[o + 2] = lower;
  // Collapsed bands (flat window, or k = 0): report the middle of the band, 0.5
  out[o + 3] = spread !== 0 ? (close - lower) / spread : 0.5;
  out[o + 4] = middle !== 0 ? spread / middle : 0;
}

/**
 * Bollinger bands, TA-Lib BBANDS with an SMA middle and the population standard deviation
 * (divide by n): upper/lower = middle ± k*stddev; plus %B = (close-lower)/(upper-lower) (0.5 when
 * the bands collapse) and width = (upper-lower)/middle (0 when middle is 0). Lookback: period-1.
 * The deviation is two-pass over the window (TA-Lib uses running sums of x and x², whose
 * cancellation it clamps with an epsilon); on real data the two agree to ~1e-11 relative.
 */
export function bbands(close: Float64Array, period: number, k: number): BbandsOutput {
  checkPeriod(period, 2);
  const len = close.length;
  const out: BbandsOutput = { upper: nanColumn(len), middle: nanColumn(len), lower: nanColumn(len), pctb: nanColumn(len), width: nanColumn(len) };
  const bar = new Float64Array(5);
  for (let i = period - 1; i < len; i++) {
    const sum = windowSum(close, i - period + 1, i);
    const mean = sum / period;
    let sq = 0;
    for (let j = i - period + 1; j <= i; j++) {
      const d = close[j]! - mean;
      sq += d * d;
    }
    bandsAt(sum, sq, period, k, close[i]!, bar, 0);
    out.upper[i] = bar[0]!;
    out.middle[i] = bar[1]!;
    out.lower[i] = bar[2]!;
    out.pctb[i] = bar[3]!;
    out.width[i] = bar[4]!;
  }
  return out;
}

/** Streaming Bollinger bands: `update` writes upper, middle, lower, pctb, width into out[offset..]. */
export class BbandsStream {
  private readonly ring: Float64Array;
  private head = 0;
  private count = 0;
  constructor(readonly period: number, readonly k: number) {
    checkPeriod(period, 2);
    this.ring = new Float64Array(period);
  }
  update(close: number, out: Float64Array, offset: number): void {
    const n = this.period;
    this.head = ringPush(this.ring, this.head, close);
    if (++this.count < n) {
      out.fill(NaN, offset, offset + 5);
      return;
    }
    const sum = ringSum(this.ring, this.head);
    const mean = sum / n;
    let sq = 0;
    for (let j = this.head; j < n; j++) {
      const d = this.ring[j]! - mean;
      sq += d * d;
    }
    for (let j = 0; j < this.head; j++) {
      const d = this.ring[j]! - mean;
      sq += d * d;
    }
    bandsAt(sum, sq, n, this.k, close, out, offset);
  }
}

const period = (p: FeatureParams, dflt: number): number => p['period'] ?? dflt;

/** A feature over (high, low, close) with a scalar stream. */
function hlcFeature(
  name: string,
  description: string,
  params: FeatureDefinition['params'],
  lookback: (p: FeatureParams) => number,
  batch: (h: Float64Array, l: Float64Array, c: Float64Array, p: FeatureParams) => Float64Array,
  makeStream: (p: FeatureParams) => { update(high: number, low: number, close: number): number },
): FeatureDefinition {
  return {
    name,
    description,
    params,
    outputs: () => [''],
    lookback,
    batch: (inputs, p) => [batch(inputs.high, inputs.low, inputs.close, p)],
    stream: (p) => {
      const s = makeStream(p);
      return {
        update: (_o, high, low, close, _v, out, offset) => {
          out[offset] = s.update(high, low, close);
        },
      };
    },
  };
}

const wilderPeriod = [periodParam('period', 14, 'Wilder smoothing period', 1)];

export const VOLATILITY_FEATURES: FeatureDefinition[] = [
  hlcFeature('tr', 'True range (TA-Lib TRANGE)', [], () => 1, (h, l, c) => trueRange(h, l, c), () => new TrueRangeStream()),
  hlcFeature('atr', 'Average true range, Wilder smoothing (TA-Lib ATR)', wilderPeriod, (p) => period(p, 14), (h, l, c, p) => atr(h, l, c, period(p, 14)), (p) => new AtrStream(period(p, 14))),
  hlcFeature('natr', 'ATR as % of close (TA-Lib NATR)', wilderPeriod, (p) => period(p, 14), (h, l, c, p) => natr(h, l, c, period(p, 14)), (p) => new NatrStream(period(p, 14))),
  hlcFeature('trpct', 'True range as % of close', [], () => 1, (h, l, c) => trueRangePct(h, l, c), () => new TrueRangePctStream()),
  hlcFeature(
    'rangecomp',
    "Today's high-low over its SMA across the window (< 1: compressed)",
    [periodParam('period', 20, 'bars in the average range', 2)],
    (p) => period(p, 20) - 1,
    (h, l, _c, p) => rangeCompression(h, l, period(p, 20)),
    (p) => new RangeCompressionStream(period(p, 20)),
  ),
  {
    name: 'bbands',
    description: 'Bollinger bands: SMA middle ± k population stddevs, with %B and width',
    params: [periodParam('period', 20, 'bars in the window', 2), numberParam('k', 2, 'stddev multiplier', 0)],
    outputs: () => ['upper', 'middle', 'lower', 'pctb', 'width'],
    lookback: (p) => period(p, 20) - 1,
    batch: (inputs, p) => {
      const b = bbands(inputs.close, period(p, 20), p['k'] ?? 2);
      return [b.upper, b.middle, b.lower, b.pctb, b.width];
    },
    stream: (p) => {
      const s = new BbandsStream(period(p, 20), p['k'] ?? 2);
      return { update: (_o, _h, _l, close, _v, out, offset) => s.update(close, out, offset) };
    },
  },
];
