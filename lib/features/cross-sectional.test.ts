import { describe, expect, it } from 'vitest';
import { CrossSectionalStream, momentumRanks, relativeStrengthVsBenchmark, relativeStrengthVsMedian } from './cross-sectional.js';
import { leanDailyInputs } from './feature-fixtures.js';

/** Aligned panel over the union of the symbols' timestamps, NaN where a symbol has no bar. */
function panel(symbols: string[]): Float64Array[] {
  const series = symbols.map((s) => leanDailyInputs(s));
  const ts = [...new Set(series.flatMap((s) => Array.from(s.ts)))].sort((a, b) => a - b);
  const row = new Map(ts.map((t, i) => [t, i]));
  return series.map((s) => {
    const col = new Float64Array(ts.length).fill(NaN);
    for (let i = 0; i < s.length; i++) col[row.get(s.ts[i]!)!] = s.close[i]!;
    return col;
  });
}

const SYMBOLS = ['spy', 'qqq', 'iwm', 'eem', 'aapl', 'googl', 'bno', 'wm'];
const closes = panel(SYMBOLS);
const T = closes[0]!.length;

it('the aligned panel really has gaps (late listings, missing days)', () => {
  expect(T).toBe(5849); // spy trades every day of the union
  expect(closes.filter((c) => c.some(Number.isNaN)).length).toBeGreaterThanOrEqual(4);
});

type Outputs = { bench: Float64Array[]; median: Float64Array[]; rank: Float64Array[] };

function streamed(cols: Float64Array[], period: number, benchmark: number): Outputs {
  const n = cols.length;
  const len = cols[0]!.length;
  const s = new CrossSectionalStream(n, period, benchmark);
  const out: Outputs = { bench: cols.map(() => new Float64Array(len)), median: cols.map(() => new Float64Array(len)), rank: cols.map(() => new Float64Array(len)) };
  const row = new Float64Array(n);
  const [b, m, r] = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  for (let t = 0; t < len; t++) {
    for (let k = 0; k < n; k++) row[k] = cols[k]![t]!;
    s.update(row, b, m, r);
    for (let k = 0; k < n; k++) [out.bench[k]![t], out.median[k]![t], out.rank[k]![t]] = [b[k]!, m[k]!, r[k]!];
  }
  return out;
}

const same = (a: Float64Array[], b: Float64Array[]): boolean => a.length === b.length && a.every((col, k) => col.every((x, t) => Object.is(x, b[k]![t]!)));

/** Direct per-timestamp reference: plain arrays, a comparator sort and counting ranks. */
function reference(cols: Float64Array[], period: number, benchmark: number): Outputs {
  const len = cols[0]!.length;
  const out: Outputs = { bench: cols.map(() => new Float64Array(len).fill(NaN)), median: cols.map(() => new Float64Array(len).fill(NaN)), rank: cols.map(() => new Float64Array(len).fill(NaN)) };
  for (let t = period; t < len; t++) {
    const rets = cols.map((c) => c[t]! / c[t - period]! - 1);
    const finite = rets.filter(Number.isFinite).sort((a, b) => a - b);
    const k = finite.length;
    const median = k === 0 ? NaN : k % 2 ? finite[(k - 1) / 2]! : (finite[k / 2 - 1]! + finite[k / 2]!) / 2;
    rets.forEach((r, s) => {
      if (!Number.isFinite(r)) return;
      out.bench[s]![t] = r - rets[benchmark]!;
      out.median[s]![t] = r - median;
      const less = finite.filter((x) => x < r).length;
      const equal = finite.filter((x) => x === r).length;
      out.rank[s]![t] = k === 1 ? 0.5 : (less + (equal - 1) / 2) / (k - 1);
    });
  }
  return out;
}

describe('cross-sectional features: hand-computed example', () => {
  // 5 symbols, period 1; symbol 4 has no bar at t=0, symbol 3 none at t=1
  const cols = [[100, 110], [50, 55], [10, 9], [20, NaN], [NaN, 30]].map((c) => Float64Array.from(c));

  it('ranks with averaged ties, subtracts the median and the benchmark', () => {
    // returns at t=1: [0.1, 0.1, -0.1, NaN, NaN] -> sorted [-0.1, 0.1, 0.1], median 0.1
    const rank = momentumRanks(cols, 1);
    expect(rank.map((c) => c[0])).toEqual([NaN, NaN, NaN, NaN, NaN]);
    expect(rank[0]![1]).toBeCloseTo(0.75, 14); // tied at 0-based ranks 1 and 2 -> 1.5 / 2
    expect(rank[1]![1]).toBeCloseTo(0.75, 14);
    expect(rank[2]![1]).toBe(0);
    expect(rank[3]![1]).toBeNaN();
    expect(rank[4]![1]).toBeNaN();
    const med = relativeStrengthVsMedian(cols, 1);
    expect(med[0]![1]).toBeCloseTo(0, 14);
    expect(med[2]![1]).toBeCloseTo(-0.2, 14);
    expect(med[3]![1]).toBeNaN();
    const rs = relativeStrengthVsBenchmark(cols, 2, 1);
    expect(rs[0]![1]).toBeCloseTo(0.2, 14);
    expect(rs[2]![1]).toBe(0);
    expect(rs[4]![1]).toBeNaN();
  });

  it('gives a lone finite symbol rank 0.5 and validates its inputs', () => {
    const lone = [Float64Array.from([1, 2]), Float64Array.from([NaN, 3])];
    expect(momentumRanks(lone, 1).map((c) => c[1])).toEqual([0.5, NaN]);
    expect(() => relativeStrengthVsBenchmark(lone, 2, 1)).toThrow(RangeError);
    expect(() => momentumRanks([Float64Array.from([1]), Float64Array.from([1, 2])], 1)).toThrow(RangeError);
  });
});

describe.each([1, 20, 63])('cross-sectional features on a real aligned panel, period %i', (period) => {
  const bench = 0;
  const batch: Outputs = { bench: relativeStrengthVsBenchmark(closes, bench, period), median: relativeStrengthVsMedian(closes, period), rank: momentumRanks(closes, period) };

  it('batch equals the stream bit for bit', () => {
    const s = streamed(closes, period, bench);
    expect(same(batch.bench, s.bench)).toBe(true);
    expect(same(batch.median, s.median)).toBe(true);
    expect(same(batch.rank, s.rank)).toBe(true);
  });

  it('matches a direct per-timestamp computation (1e-12 absolute on returns and ranks)', () => {
    const ref = reference(closes, period, bench);
    for (const key of ['bench', 'median', 'rank'] as const) {
      for (let k = 0; k < closes.length; k++) {
        for (let t = 0; t < T; t++) {
          const a = batch[key][k]![t]!;
          const b = ref[key][k]![t]!;
          if (Number.isNaN(a) || Number.isNaN(b)) expect([key, k, t, Number.isNaN(a)]).toEqual([key, k, t, Number.isNaN(b)]);
          else if (Math.abs(a - b) > 1e-12) expect([key, k, t, a]).toEqual([key, k, t, b]);
        }
      }
    }
  });

  it('is NaN for the first period rows, then defined exactly where both closes (and the benchmark\'s) exist', () => {
    const has = (k: number, t: number) => t >= period && Number.isFinite(closes[k]![t]!) && Number.isFinite(closes[k]![t - period]!);
    for (let k = 0; k < closes.length; k++) {
      for (let t = 0; t < T; t++) {
        const want = has(k, t);
        if (Number.isFinite(batch.rank[k]![t]!) !== want || Number.isFinite(batch.median[k]![t]!) !== want) throw new Error(`symbol ${k} row ${t}`);
        if (Number.isFinite(batch.bench[k]![t]!) !== (want && has(bench, t))) throw new Error(`bench: symbol ${k} row ${t}`);
      }
    }
    expect(Number.isFinite(batch.rank[bench]![period]!)).toBe(true);
  });

  it('has no lookahead: a prefix of the panel gives the same values', () => {
    for (const n of [period, period + 1, 3000]) {
      const pre = closes.map((c) => c.slice(0, n));
      expect(same(momentumRanks(pre, period), batch.rank.map((c) => c.slice(0, n)))).toBe(true);
      expect(same(relativeStrengthVsMedian(pre, period), batch.median.map((c) => c.slice(0, n)))).toBe(true);
      expect(same(relativeStrengthVsBenchmark(pre, bench, period), batch.bench.map((c) => c.slice(0, n)))).toBe(true);
    }
  });
});
