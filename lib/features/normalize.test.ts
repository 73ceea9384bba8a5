import { getZScore } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import { leanDailyInputs } from './feature-fixtures.js';
import { ema } from './kernels/moving-averages.js';
import { roc } from './kernels/returns.js';
import { normalizedLookback, normalizeZScore, ZScoreNormalizer } from './normalize.js';

const spy = leanDailyInputs('spy');
const ibm = leanDailyInputs('ibm');

function sameNumbers(a: Float64Array, b: Float64Array): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]!));
}

describe('normalizeZScore: hand-computed example', () => {
  it('masks the feature warm-up plus window-1, resets on NaN, maps a constant window to 0', () => {
    const col = Float64Array.from([NaN, NaN, 1, 2, 3, 5, NaN, 4, 4, 4]);
    const out = normalizeZScore(col, 3);
    // feature lookback 2 (two leading NaNs) -> first normalized value at 2 + 3 - 1 = 4
    expect(normalizedLookback(2, 3)).toBe(4);
    for (const i of [0, 1, 2, 3, 6, 7, 8]) expect(out[i]).toBeNaN();
    expect(out[4]).toBeCloseTo(1 / Math.sqrt(2 / 3), 12); // [1,2,3]: mean 2, std sqrt(2/3)
    expect(out[5]).toBeCloseTo(5 / 3 / Math.sqrt(42 / 27), 12); // [2,3,5]: mean 10/3, var 42/27
    expect(out[9]).toBe(0); // [4,4,4]
    const s = new ZScoreNormalizer(3);
    expect(sameNumbers(Float64Array.from(col, (x) => s.update(x)), out)).toBe(true);
  });

  it('rejects a window below 2', () => {
    expect(() => new ZScoreNormalizer(1)).toThrow(RangeError);
  });
});

describe('normalizeZScore on real features', () => {
  const features: [string, Float64Array, number][] = [
    ['ema20(spy)', ema(spy.close, 20), 19],
    ['roc10(spy)', roc(spy.close, 10), 10],
    ['ema50(ibm)', ema(ibm.close, 50), 49],
    ['spy volume', spy.volume, 0],
  ];

  it.each(features)('%s: batch equals stream bit for bit', (_name, col) => {
    for (const w of [2, 20, 252]) {
      const s = new ZScoreNormalizer(w);
      expect(sameNumbers(normalizeZScore(col, w), Float64Array.from(col, (x) => s.update(x)))).toBe(true);
    }
  });

  it.each(features)('%s: first defined value at normalizedLookback(featureLookback, window)', (_name, col, lb) => {
    for (const w of [2, 20, 252]) {
      const out = normalizeZScore(col, w);
      const first = normalizedLookback(lb, w);
      for (let i = 0; i < first; i++) expect(out[i]).toBeNaN();
      expect(out.subarray(first).every(Number.isFinite)).toBe(true);
    }
  });

  it.each(features)('%s: no lookahead (a prefix normalizes to the same values)', (_name, col) => {
    const full = normalizeZScore(col, 20);
    for (const n of [10, 40, 2000, 5000]) expect(sameNumbers(normalizeZScore(col.slice(0, n), 20), full.subarray(0, n))).toBe(true);
  });

  it.each(features)('%s: matches trading-signals getZScore on every window (1e-9, scale floor 1)', (_name, col, lb) => {
    const w = 20;
    const out = normalizeZScore(col, w);
    for (let i = normalizedLookback(lb, w); i < col.length; i++) {
      const ref = getZScore(Array.from(col.subarray(i - w + 1, i + 1)));
      expect(Math.abs(out[i]! - ref)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(ref)));
    }
  });
});
