import { getAverage, getStandardDeviation, getZScore } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import type { FeatureDefinition, FeatureInputs, FeatureParams } from '../feature-definition.js';
import { leanDailyInputs, prefixInputs } from '../feature-fixtures.js';
import { firstMismatch, streamColumns } from './contract-fixtures.js';
import { ROLLING_STAT_FEATURES, rollingMean, RollingMoments, rollingStd, RollingStdStream, rollingZScore, RollingZScoreStream } from './rolling-stats.js';

/** The feature's stream run bar by bar (its single output). */
const streamed = (d: FeatureDefinition, inputs: FeatureInputs, p: FeatureParams): Float64Array => streamColumns(d, inputs, p)[0]!;

const spy = leanDailyInputs('spy');
const bno = leanDailyInputs('bno');
const def = (name: string): FeatureDefinition => ROLLING_STAT_FEATURES.find((f) => f.name === name)!;



/** Direct two-pass mean / population std / z-score of each full window (NaN when it holds a NaN). */
function naive(values: Float64Array, n: number): { mean: Float64Array; std: Float64Array; z: Float64Array } {
  const mean = new Float64Array(values.length).fill(NaN);
  const std = new Float64Array(values.length).fill(NaN);
  const z = new Float64Array(values.length).fill(NaN);
  for (let i = n - 1; i < values.length; i++) {
    const w = values.subarray(i - n + 1, i + 1);
    if (w.some((v) => !Number.isFinite(v))) continue;
    const m = w.reduce((a, v) => a + v, 0) / n;
    const sd = Math.sqrt(w.reduce((a, v) => a + (v - m) ** 2, 0) / n);
    mean[i] = m;
    std[i] = sd;
    z[i] = w.every((v) => v === w[0]) ? 0 : (values[i]! - m) / sd;
  }
  return { mean, std, z };
}

describe('rolling stats vs a naive two-pass recomputation per window', () => {
  // Relative 1e-9 of the statistic; the z-score's scale floor is 1 (it is O(1), and near 0 the
  // relative error of x - mean is meaningless). Volume windows: std scale floor 1 share.
  const series: [string, Float64Array][] = [['spy close', spy.close], ['spy volume', spy.volume], ['bno close', bno.close], ['bno volume (has zeros)', bno.volume]];
  it.each(series)('%s', (_label, xs) => {
    for (const n of [2, 20, 63]) {
      const ref = naive(xs, n);
      expect(firstMismatch(rollingMean(xs, n), ref.mean, 1e-9)).toBe(-1);
      expect(firstMismatch(rollingStd(xs, n), ref.std, 1e-9)).toBe(-1);
      expect(firstMismatch(rollingZScore(xs, n), ref.z, 1e-9, 1)).toBe(-1);
    }
  });

  it('stays accurate with a large offset, where E[x^2]-E[x]^2 would cancel catastrophically', () => {
    const xs = Float64Array.from({ length: 5000 }, (_, i) => 1e8 + Math.sin(i * 0.37) + (i % 7) * 0.01);
    const ref = naive(xs, 20);
    // The two-pass reference itself carries ~eps*1e8 absolute error on a std of ~0.7
    expect(firstMismatch(rollingStd(xs, 20), ref.std, 1e-7)).toBe(-1);
    let e = 0;
    for (let i = 19; i < xs.length; i++) {
      const w = xs.subarray(i - 19, i + 1);
      const m = w.reduce((a, v) => a + v, 0) / 20;
      e = Math.max(e, Math.abs(Math.sqrt(Math.max(0, w.reduce((a, v) => a + v * v, 0) / 20 - m * m)) - ref.std[i]!));
    }
    expect(e).toBeGreaterThan(1e-3); // the textbook shortcut really is wrong here
  });
});

describe('rolling stats vs trading-signals math helpers', () => {
  it('match getAverage / getStandardDeviation / getZScore on every SPY window', () => {
    const n = 20;
    const xs = spy.close;
    const mean = rollingMean(xs, n);
    const std = rollingStd(xs, n);
    const z = rollingZScore(xs, n);
    for (let i = n - 1; i < xs.length; i++) {
      const w = Array.from(xs.subarray(i - n + 1, i + 1));
      expect(Math.abs(mean[i]! - getAverage(w))).toBeLessThanOrEqual(1e-9 * mean[i]!);
      expect(Math.abs(std[i]! - getStandardDeviation(w))).toBeLessThanOrEqual(1e-9 * std[i]!);
      expect(Math.abs(z[i]! - getZScore(w))).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(z[i]!)));
    }
  });
});

describe('constant windows and non-finite inputs', () => {
  it('gives std exactly 0, the exact mean and a z-score of 0 for a constant window', () => {
    const xs = Float64Array.from([...spy.close.subarray(0, 50), ...Array(10).fill(0.1), 0.2]);
    const std = rollingStd(xs, 5);
    const z = rollingZScore(xs, 5);
    const mean = rollingMean(xs, 5);
    for (let i = 54; i < 60; i++) {
      expect(std[i]).toBe(0);
      expect(z[i]).toBe(0);
      expect(mean[i]).toBe(0.1);
    }
    expect(z[60]).toBeCloseTo((0.2 - 0.12) / Math.sqrt((4 * 0.02 ** 2 + 0.08 ** 2) / 5), 9);
  });

  it('a NaN masks exactly the windows holding it; the state is rebuilt after it leaves', () => {
    const xs = spy.close.slice(0, 400);
    xs[200] = NaN;
    xs[201] = Infinity;
    const n = 20;
    const ref = naive(xs, n);
    const z = rollingZScore(xs, n);
    for (let i = 200; i < 201 + n; i++) expect(z[i]).toBeNaN();
    expect(Number.isFinite(z[201 + n]!)).toBe(true);
    expect(firstMismatch(z, ref.z, 1e-9, 1)).toBe(-1);
    expect(firstMismatch(rollingStd(xs, n), ref.std, 1e-9)).toBe(-1);
    const s = new RollingZScoreStream(n);
    expect(firstMismatch(z, Float64Array.from(xs, (x) => s.update(x)))).toBe(-1);
  });

  it('RollingMoments reports whether the window is defined', () => {
    const m = new RollingMoments(3);
    expect([1, 2, 3, 4].map((x) => m.push(x))).toEqual([false, false, true, true]);
    expect(m.mean).toBe(3);
    expect(m.variance).toBeCloseTo(2 / 3, 14);
    expect(new RollingStdStream(2).update(1)).toBeNaN();
  });
});

describe.each(['mean', 'std', 'zscore'])('%s feature contract on real daily bars', (name) => {
  const d = def(name);
  const cases: FeatureParams[] = [{}, { period: 2 }, { period: 100 }];

  it.each([['spy', spy], ['bno', bno]] as const)('batch equals stream bit for bit on %s', (_sym, inputs) => {
    for (const p of cases) expect(firstMismatch(d.batch(inputs, p)[0]!, streamed(d, inputs, p))).toBe(-1);
  });

  it('is NaN before lookback = period-1 and finite from it', () => {
    for (const p of cases) {
      const lb = d.lookback(p);
      expect(lb).toBe((p['period'] ?? 20) - 1);
      const out = d.batch(spy, p)[0]!;
      for (let i = 0; i < lb; i++) expect(out[i]).toBeNaN();
      expect(out.subarray(lb).every(Number.isFinite)).toBe(true);
    }
  });

  it('has no lookahead: a prefix computes the same values as the full run', () => {
    const full = d.batch(spy, {})[0]!;
    for (const n of [19, 20, 1001, 4000]) expect(firstMismatch(d.batch(prefixInputs(spy, n), {})[0]!, full.subarray(0, n))).toBe(-1);
  });
});
