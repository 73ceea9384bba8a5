import { DEMA, EMA, SMA, TEMA, WMA } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import type { FeatureDefinition, FeatureInputs, FeatureParams } from '../feature-definition.js';
import { leanDailyInputs, prefixInputs } from '../feature-fixtures.js';
import { firstMismatch, streamColumns } from './contract-fixtures.js';
import { dema, DemaStream, ema, EmaStream, MOVING_AVERAGE_FEATURES, tema, TemaStream, wma, WmaStream } from './moving-averages.js';

/** The feature's stream run bar by bar (its single output). */
const streamed = (d: FeatureDefinition, inputs: FeatureInputs, p: FeatureParams): Float64Array => streamColumns(d, inputs, p)[0]!;

const spy = leanDailyInputs('spy');
const aapl = leanDailyInputs('aapl');
const def = (name: string): FeatureDefinition => MOVING_AVERAGE_FEATURES.find((f) => f.name === name)!;

/** Runs a definition's stream bar by bar through its FeatureStream adapter. */

/** Index of the first element where a and b are not the same number (NaN matches NaN), or -1. */

describe('moving averages: hand-computed examples', () => {
  const xs = Float64Array.from([2, 4, 6, 8, 4]);

  it('ema seeds with the SMA of the first period values, then k = 2/(n+1)', () => {
    // k = 0.5: seed (2+4+6)/3 = 4; (8-4)*0.5+4 = 6; (4-6)*0.5+6 = 5
    expect(Array.from(ema(xs, 3))).toEqual([NaN, NaN, 4, 6, 5]);
    const s = new EmaStream(3);
    expect(Array.from(xs, (x) => s.update(x))).toEqual([NaN, NaN, 4, 6, 5]);
  });

  it('wma weights the window 1..n, newest heaviest', () => {
    const out = wma(xs, 3);
    expect(out[0]).toBeNaN();
    expect(out[1]).toBeNaN();
    expect(out[2]).toBeCloseTo((2 * 1 + 4 * 2 + 6 * 3) / 6, 12);
    expect(out[3]).toBeCloseTo((4 * 1 + 6 * 2 + 8 * 3) / 6, 12);
    expect(out[4]).toBeCloseTo((6 * 1 + 8 * 2 + 4 * 3) / 6, 12);
  });

  it('dema and tema: 2E1-E2 and 3E1-3E2+E3 with each EMA seeded on its input\'s first defined values', () => {
    // period 2 (k = 2/3): E1 = [NaN, 3, 5, 7, 5]; E2 seeds at 2 with (3+5)/2 = 4, then 6, 16/3
    const e1 = [NaN, 3, 5, 7, 5];
    const e2 = [NaN, NaN, 4, 4 + (7 - 4) * (2 / 3), 0];
    e2[4] = e2[3]! + (5 - e2[3]!) * (2 / 3);
    const d = dema(xs, 2);
    expect(d[1]).toBeNaN();
    for (let i = 2; i < 5; i++) expect(d[i]).toBeCloseTo(2 * e1[i]! - e2[i]!, 12);
    // E3 seeds at 3 with (E2[2]+E2[3])/2
    const e3 = (e2[2]! + e2[3]!) / 2;
    const t = tema(xs, 2);
    expect(t[2]).toBeNaN();
    expect(t[3]).toBeCloseTo(3 * e1[3]! - 3 * e2[3]! + e3, 12);
  });

  it('period 1 is the identity', () => {
    for (const f of [ema, wma, dema, tema]) expect(Array.from(f(xs, 1))).toEqual(Array.from(xs));
  });

  it('rejects a non-integer or non-positive period', () => {
    expect(() => ema(xs, 0)).toThrow(RangeError);
    expect(() => new WmaStream(2.5)).toThrow(RangeError);
  });
});

describe.each(['sma', 'ema', 'wma', 'dema', 'tema'])('%s feature contract on real daily bars', (name) => {
  const d = def(name);
  const cases: FeatureParams[] = [{}, { period: 2 }, { period: 50 }];

  it.each([['spy', spy], ['aapl', aapl]] as const)('batch equals stream bit for bit on %s', (_sym, inputs) => {
    for (const p of cases) expect(firstMismatch(d.batch(inputs, p)[0]!, streamed(d, inputs, p))).toBe(-1);
  });

  it('is NaN before lookback and finite from it', () => {
    for (const p of cases) {
      const lb = d.lookback(p);
      const out = d.batch(spy, p)[0]!;
      for (let i = 0; i < lb; i++) expect(out[i]).toBeNaN();
      for (let i = lb; i < out.length; i++) if (!Number.isFinite(out[i]!)) throw new Error(`${name} ${JSON.stringify(p)}: not finite at ${i}`);
    }
    expect(d.lookback({})).toBe({ sma: 19, ema: 19, wma: 19, dema: 38, tema: 57 }[name]);
    expect(d.outputs({})).toEqual(['']);
  });

  it('has no lookahead: a prefix computes the same values as the full run', () => {
    const full = d.batch(spy, { period: 20 })[0]!;
    const lb = d.lookback({ period: 20 });
    for (const n of [lb, lb + 1, 1000, 4321]) {
      expect(firstMismatch(d.batch(prefixInputs(spy, n), { period: 20 })[0]!, full.subarray(0, n))).toBe(-1);
    }
  });
});

describe('moving averages vs trading-signals', () => {
  const close = spy.close;
  const oracle = (make: () => { add(x: number): number | null }): Float64Array => {
    const ind = make();
    return Float64Array.from(close, (x) => ind.add(x) ?? NaN);
  };

  it('sma and wma match from the first defined value (same definition; only summation order differs)', () => {
    for (const n of [5, 20, 50]) {
      expect(firstMismatch(def('sma').batch(spy, { period: n })[0]!, oracle(() => new SMA(n)), 1e-9)).toBe(-1);
      expect(firstMismatch(wma(close, n), oracle(() => new WMA(n)), 1e-9)).toBe(-1);
    }
  });

  it('ema/dema/tema converge once the different seeds have decayed', () => {
    // trading-signals seeds its EMAs with the first value instead of TA-Lib's SMA of the first
    // `period`; the seed error shrinks by (1-k) per bar (times a polynomial in the bar count for the
    // nested EMAs), so skip 3x the bars that take (1-k)^m below 1e-13 and then require 1e-9.
    for (const n of [5, 20, 50]) {
      const skip = 3 * Math.ceil(Math.log(1e-13) / Math.log(1 - 2 / (n + 1)));
      const cmp = (ours: Float64Array, theirs: Float64Array) => firstMismatch(ours.subarray(skip), theirs.subarray(skip), 1e-9);
      expect(cmp(ema(close, n), oracle(() => new EMA(n)))).toBe(-1);
      expect(cmp(dema(close, n), oracle(() => new DEMA(n)))).toBe(-1);
      expect(cmp(tema(close, n), oracle(() => new TEMA(n)))).toBe(-1);
    }
  });

  it('trading-signals becomes stable at the same bar for ema and tema (not dema: its outer EMA starts at bar 0)', () => {
    const n = 20;
    const e = new EMA(n);
    const t = new TEMA(n);
    const ours = [new EmaStream(n), new TemaStream(n)];
    for (let i = 0; i < 100; i++) {
      e.add(close[i]!);
      t.add(close[i]!);
      expect(e.isStable).toBe(!Number.isNaN(ours[0]!.update(close[i]!)));
      expect(t.isStable).toBe(!Number.isNaN(ours[1]!.update(close[i]!)));
    }
    const dm = new DemaStream(n);
    for (let i = 0; i < 2 * (n - 1); i++) expect(dm.update(close[i]!)).toBeNaN();
    expect(dm.update(close[2 * (n - 1)]!)).not.toBeNaN();
  });
});

describe('wma NaN handling', () => {
  it('masks only the windows holding a NaN and matches a direct weighted sum after it leaves', () => {
    const xs = spy.close.slice(0, 300);
    xs[100] = NaN;
    const n = 10;
    const out = wma(xs, n);
    const s = new WmaStream(n);
    expect(firstMismatch(out, Float64Array.from(xs, (x) => s.update(x)))).toBe(-1);
    for (let i = 100; i < 100 + n; i++) expect(out[i]).toBeNaN();
    for (let i = n - 1; i < xs.length; i++) {
      if (i >= 100 && i < 100 + n) continue;
      let w = 0;
      for (let j = 0; j < n; j++) w += xs[i - n + 1 + j]! * (j + 1);
      expect(Math.abs(out[i]! - w / ((n * (n + 1)) / 2))).toBeLessThan(1e-9 * xs[i]!);
    }
  });
});
