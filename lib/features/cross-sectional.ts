/**
 * Cross-sectional features: per timestamp, across a universe of symbols.
 *
 * Input is an aligned panel: `closes[s]` is symbol s's close column, all of the same length T,
 * NaN where the symbol has no bar. The period-bar return of s at t is closes[s][t] /
 * closes[s][t-period] - 1 (panel rows, i.e. timestamps, not the symbol's own bars), NaN when
 * either close is missing; so every output has lookback `period` and reads no row after t.
 *
 * The batch functions and `CrossSectionalStream` run the same per-timestamp routine on the same
 * returns, so they agree bit for bit.
 */
import { nanColumn } from './feature-definition.js';
import { checkPeriod } from './kernels/moving-averages.js';
import { simpleReturn, simpleReturns } from './kernels/returns.js';

/**
 * One timestamp: from the returns `ret` (one per symbol) write, per symbol, the return minus the
 * benchmark's, minus the median of the finite returns, and the percentile rank among them.
 * `sorted` is scratch of the same length. Any output may be null (not computed).
 */
function crossSection(
  ret: Float64Array, sorted: Float64Array, benchmarkIndex: number,
  vsBenchmark: Float64Array | null, vsMedian: Float64Array | null, rank: Float64Array | null,
): void {
  const n = ret.length;
  let k = 0;
  for (let s = 0; s < n; s++) {
    const r = ret[s]!;
    if (Number.isFinite(r)) k++;
    sorted[s] = Number.isFinite(r) ? r : NaN;
  }
  // In-place numeric sort of the whole scratch: NaNs sort last, the k finite returns lead
  if (vsMedian !== null || rank !== null) sorted.sort();
  if (vsBenchmark !== null) {
    const b = benchmarkIndex >= 0 ? ret[benchmarkIndex]! : NaN;
    for (let s = 0; s < n; s++) vsBenchmark[s] = Number.isFinite(ret[s]!) && Number.isFinite(b) ? ret[s]! - b : NaN;
  }
  if (vsMedian !== null) {
    const h = k >> 1;
    const median = k === 0 ? NaN : k % 2 === 1 ? sorted[h]! : (sorted[h - 1]! + sorted[h]!) / 2;
    for (let s = 0; s < n; s++) vsMedian[s] = Number.isFinite(ret[s]!) ? ret[s]! - median : NaN;
  }
  if (rank !== null) {
    for (let s = 0; s < n; s++) {
      const r = ret[s]!;
      if (!Number.isFinite(r)) {
        rank[s] = NaN;
        continue;
      }
      if (k === 1) {
        rank[s] = 0.5;
        continue;
      }
      const below = firstIndex(sorted, k, r, false);
      const atOrBelow = firstIndex(sorted, k, r, true);
      // Ties share the average of their 0-based ranks; scaled so min -> 0 and max -> 1
      rank[s] = (below + (atOrBelow - below - 1) / 2) / (k - 1);
    }
  }
}

/** Binary search in sorted[0..k): count of values < v (or <= v when `inclusive`). */
function firstIndex(sorted: Float64Array, k: number, v: number, inclusive: boolean): number {
  let lo = 0;
  let hi = k;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const x = sorted[mid]!;
    if (x < v || (inclusive && x === v)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function panelLength(closes: readonly Float64Array[]): number {
  const T = closes[0]?.length ?? 0;
  for (const c of closes) if (c.length !== T) throw new RangeError('cross-sectional panel columns must share one length');
  return T;
}

type Which = 'benchmark' | 'median' | 'rank';

function batch(closes: readonly Float64Array[], period: number, benchmarkIndex: number, which: Which): Float64Array[] {
  checkPeriod(period);
  const T = panelLength(closes);
  const n = closes.length;
  const rets = closes.map((c) => simpleReturns(c, period));
  const outs = closes.map(() => nanColumn(T));
  const row = new Float64Array(n);
  const sorted = new Float64Array(n);
  const res = new Float64Array(n);
  for (let t = period; t < T; t++) {
    for (let s = 0; s < n; s++) row[s] = rets[s]![t]!;
    crossSection(row, sorted, benchmarkIndex, which === 'benchmark' ? res : null, which === 'median' ? res : null, which === 'rank' ? res : null);
    for (let s = 0; s < n; s++) outs[s]![t] = res[s]!;
  }
  return outs;
}

/**
 * Relative strength vs a benchmark: per symbol, its period-bar return minus the benchmark's
 * (NaN where either is undefined; 0 for the benchmark itself). Lookback: period.
 */
export function relativeStrengthVsBenchmark(closes: readonly Float64Array[], benchmarkIndex: number, period: number): Float64Array[] {
  if (!Number.isInteger(benchmarkIndex) || benchmarkIndex < 0 || benchmarkIndex >= closes.length) {
    throw new RangeError(`benchmarkIndex ${benchmarkIndex} is not a symbol of the panel`);
  }
  return batch(closes, period, benchmarkIndex, 'benchmark');
}

/**
 * Relative strength vs the universe: per symbol, its period-bar return minus the median of the
 * finite period-bar returns at that timestamp (itself included). Lookback: period.
 */
export function relativeStrengthVsMedian(closes: readonly Float64Array[], period: number): Float64Array[] {
  return batch(closes, period, -1, 'median');
}

/**
 * Momentum rank: percentile rank in [0, 1] of each symbol's period-bar return among the finite
 * ones at that timestamp, (average 0-based rank)/(count - 1): the lowest gets 0, the highest 1,
 * ties share their average rank, a lone finite symbol gets 0.5; NaN where undefined. Lookback: period.
 */
export function momentumRanks(closes: readonly Float64Array[], period: number): Float64Array[] {
  return batch(closes, period, -1, 'rank');
}

/**
 * Streaming cross-section, one timestamp at a time: keeps a ring of the last `period` rows of
 * closes and writes into caller-provided arrays (one slot per symbol); no allocation per update.
 */
export class CrossSectionalStream {
  private readonly ring: Float64Array;
  private readonly ret: Float64Array;
  private readonly sorted: Float64Array;
  private head = 0;
  private count = 0;

  /** `benchmarkIndex` -1 (default) means no benchmark: `vsBenchmark` is then filled with NaN. */
  constructor(readonly symbols: number, readonly period: number, readonly benchmarkIndex = -1) {
    checkPeriod(period);
    if (!Number.isInteger(benchmarkIndex) || benchmarkIndex < -1 || benchmarkIndex >= symbols) throw new RangeError(`bad benchmarkIndex ${benchmarkIndex}`);
    this.ring = new Float64Array(period * symbols);
    this.ret = new Float64Array(symbols);
    this.sorted = new Float64Array(symbols);
  }

  /** Consumes one row of closes (NaN = no bar); outputs are NaN during the first `period` rows. */
  update(closesAtT: Float64Array, vsBenchmark: Float64Array | null, vsMedian: Float64Array | null, rank: Float64Array | null): void {
    const n = this.symbols;
    const warm = this.count < this.period;
    const base = this.head * n;
    for (let s = 0; s < n; s++) {
      const c = closesAtT[s]!;
      this.ret[s] = warm ? NaN : simpleReturn(c, this.ring[base + s]!);
      this.ring[base + s] = c;
    }
    this.head = this.head + 1 === this.period ? 0 : this.head + 1;
    if (warm) {
      this.count++;
      vsBenchmark?.fill(NaN);
      vsMedian?.fill(NaN);
      rank?.fill(NaN);
      return;
    }
    crossSection(this.ret, this.sorted, this.benchmarkIndex, vsBenchmark, vsMedian, rank);
  }
}
