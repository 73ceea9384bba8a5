/**
 * Rolling mean, population standard deviation and z-score over the last `period` values.
 *
 * Numerics: a sliding Welford update (mean and M2 = sum of squared deviations) that is resynced
 * with an exact two-pass recomputation every `period` bars, so rounding drift never accumulates
 * beyond one window (amortised O(1)), and also whenever M2 collapses relative to its recent peak
 * (a calm window after a volatile one), where the slide's cancellation would cost precision.
 *
 * Constant window (detected exactly by counting repeats): mean = that value and std = 0 exactly;
 * the z-score is then defined as 0, not NaN or ±Infinity. Lookback of every statistic: period-1.
 * A non-finite input masks only the windows that hold it (the state is rebuilt once it leaves).
 *
 * The batch kernels run the same `RollingMoments` core as the streams, value by value, so batch
 * and stream agree bit for bit.
 */
import { nanColumn, type FeatureDefinition } from '../feature-definition.js';
import { checkPeriod, seriesFeature, type ScalarStream } from './moving-averages.js';

/** Windowed mean/variance state shared by every rolling statistic (no allocation per update). */
export class RollingMoments {
  private readonly ring: Float64Array;
  private head = 0;
  private seen = 0;
  /** Non-finite values currently in the window */
  private bad = 0;
  /** The Welford state is stale (warm-up or a masked window) and must be recomputed */
  private dirty = true;
  /** How many consecutive values equalled their predecessor */
  private repeats = 0;
  private last = NaN;
  private m2 = 0;
  /** Largest M2 since the last exact recomputation: the scale of the accumulated rounding */
  private peak = 0;
  /** Window mean, NaN while undefined */
  mean = NaN;
  /** Population variance (divides by period), NaN while undefined */
  variance = NaN;

  constructor(readonly period: number) {
    checkPeriod(period);
    this.ring = new Float64Array(period);
  }

  /** Consumes x; returns whether the window (and so `mean`/`variance`) is defined. */
  push(x: number): boolean {
    const n = this.period;
    const full = this.seen >= n;
    const old = this.ring[this.head]!;
    this.ring[this.head] = x;
    this.head = this.head + 1 === n ? 0 : this.head + 1;
    if (!full) this.seen++;
    // x - x is 0 exactly for finite x and NaN for NaN/±Infinity: cheaper than Number.isFinite here
    if (x - x !== 0) this.bad++;
    if (full && old - old !== 0) this.bad--;
    this.repeats = x === this.last ? this.repeats + 1 : 0;
    this.last = x;
    if (this.seen < n || this.bad > 0) {
      this.dirty = true;
      this.mean = NaN;
      this.variance = NaN;
      return false;
    }
    if (this.repeats >= n - 1) {
      // Exact state for a constant window: drift could otherwise leave a tiny spurious variance
      this.mean = x;
      this.m2 = 0;
      this.peak = 0;
    } else if (this.dirty || this.head === 0) {
      this.resync();
    } else {
      const m0 = this.mean;
      const d = x - old;
      this.mean = m0 + d / n;
      this.m2 += d * (x - this.mean + old - m0);
      // Each slide rounds by a few ulps of the largest M2 since the last resync (`peak`); when
      // M2 has shrunk so far that n such errors could exceed ~1e-11 of it, recompute exactly
      if (this.m2 < this.peak * n * 1e-4) this.resync();
      else if (this.m2 > this.peak) this.peak = this.m2;
    }
    this.dirty = false;
    this.variance = this.m2 / n;
    return true;
  }

  /** Population standard deviation of the window (TA-Lib STDDEV, nbdev 1), NaN while undefined. */
  get std(): number {
    return Math.sqrt(this.variance);
  }

  /** (x - mean)/std for the latest x; 0 when std is 0 (constant window); NaN while undefined. */
  zscore(x: number): number {
    const sd = Math.sqrt(this.variance);
    return sd > 0 ? (x - this.mean) / sd : sd === 0 ? 0 : NaN;
  }

  /** Two-pass recomputation in chronological order (the oldest value sits at head). */
  private resync(): void {
    const n = this.period;
    let sum = 0;
    for (let j = 0, k = this.head; j < n; j++, k = k + 1 === n ? 0 : k + 1) sum += this.ring[k]!;
    const mean = sum / n;
    let m2 = 0;
    for (let j = 0, k = this.head; j < n; j++, k = k + 1 === n ? 0 : k + 1) {
      const d = this.ring[k]! - mean;
      m2 += d * d;
    }
    this.mean = mean;
    this.m2 = m2;
    this.peak = m2;
  }
}

/**
 * Streaming rolling mean over the last `period` values, NaN during warm-up. A running sum (the
 * mean needs no variance, so Welford's extra work buys nothing here) recomputed exactly in
 * chronological order every `period` bars, so rounding never builds up beyond one window; a
 * non-finite value masks only the windows holding it.
 */
export class RollingMeanStream implements ScalarStream {
  private readonly ring: Float64Array;
  private head = 0;
  private seen = 0;
  private bad = 0;
  private sum = 0;
  private dirty = true;

  constructor(readonly period: number) {
    checkPeriod(period);
    this.ring = new Float64Array(period);
  }

  update(x: number): number {
    const n = this.period;
    const full = this.seen >= n;
    const old = this.ring[this.head]!;
    this.ring[this.head] = x;
    this.head = this.head + 1 === n ? 0 : this.head + 1;
    if (!full) this.seen++;
    if (x - x !== 0) this.bad++;
    if (full && old - old !== 0) this.bad--;
    if (this.seen < n || this.bad > 0) {
      this.dirty = true;
      return NaN;
    }
    if (this.dirty || this.head === 0) {
      let sum = 0;
      for (let j = 0, k = this.head; j < n; j++, k = k + 1 === n ? 0 : k + 1) sum += this.ring[k]!;
      this.sum = sum;
      this.dirty = false;
    } else {
      this.sum += x - old;
    }
    return this.sum / n;
  }
}

/** Streaming rolling population standard deviation, NaN during warm-up. */
export class RollingStdStream implements ScalarStream {
  private readonly m: RollingMoments;
  constructor(readonly period: number) {
    this.m = new RollingMoments(period);
  }
  update(x: number): number {
    this.m.push(x);
    return this.m.std;
  }
}

/** Streaming rolling z-score of the latest value within its own window, NaN during warm-up. */
export class RollingZScoreStream implements ScalarStream {
  private readonly m: RollingMoments;
  constructor(readonly period: number) {
    this.m = new RollingMoments(period);
  }
  update(x: number): number {
    this.m.push(x);
    return this.m.zscore(x);
  }
}

function runStream(values: Float64Array, s: ScalarStream): Float64Array {
  const out = nanColumn(values.length);
  for (let i = 0; i < values.length; i++) out[i] = s.update(values[i]!);
  return out;
}

/** Rolling mean of the last `period` values (= SMA up to rounding). Lookback: period-1. */
export function rollingMean(values: Float64Array, period: number): Float64Array {
  return runStream(values, new RollingMeanStream(period));
}

/**
 * Rolling population standard deviation, TA-Lib STDDEV with nbdev = 1 (divides by period; TA-Lib
 * computes it as E[x²]-E[x]², here by Welford for accuracy on prices). Lookback: period-1.
 */
export function rollingStd(values: Float64Array, period: number): Float64Array {
  return runStream(values, new RollingStdStream(period));
}

/** Rolling z-score (x[i] - mean)/std over the window ending at i (std 0 gives 0). Lookback: period-1. */
export function rollingZScore(values: Float64Array, period: number): Float64Array {
  return runStream(values, new RollingZScoreStream(period));
}

export const ROLLING_STAT_FEATURES: FeatureDefinition[] = [
  seriesFeature({
    name: 'mean', description: 'Rolling mean of close', input: 'close', defaultPeriod: 20,
    lookback: (n) => n - 1, kernel: rollingMean, makeStream: (n) => new RollingMeanStream(n),
  }),
  seriesFeature({
    name: 'std', description: 'Rolling population standard deviation of close (TA-Lib STDDEV, nbdev 1)', input: 'close', defaultPeriod: 20,
    minPeriod: 2, lookback: (n) => n - 1, kernel: rollingStd, makeStream: (n) => new RollingStdStream(n),
  }),
  seriesFeature({
    name: 'zscore', description: 'Rolling z-score of close within its window (0 for a constant window)', input: 'close', defaultPeriod: 20,
    minPeriod: 2, lookback: (n) => n - 1, kernel: rollingZScore, makeStream: (n) => new RollingZScoreStream(n),
  }),
];
