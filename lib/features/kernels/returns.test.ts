import { getLogReturns, getReturns, MOM, ROC } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import type { FeatureDefinition, FeatureInputs, FeatureParams } from '../feature-definition.js';
import { leanDailyInputs, prefixInputs } from '../feature-fixtures.js';
import { firstMismatch, streamColumns } from './contract-fixtures.js';
import { gap, GapStream, logReturns, mom, MomStream, RETURN_FEATURES, roc, RocStream, simpleReturns } from './returns.js';

/** The feature's stream run bar by bar (its single output). */
const streamed = (d: FeatureDefinition, inputs: FeatureInputs, p: FeatureParams): Float64Array => streamColumns(d, inputs, p)[0]!;

const spy = leanDailyInputs('spy');
const uso = leanDailyInputs('uso');
const def = (name: string): FeatureDefinition => RETURN_FEATURES.find((f) => f.name === name)!;



describe('returns: hand-computed examples', () => {
  const xs = Float64Array.from([100, 110, 99, 121, 0, 50]);

  it('roc is (x/x[i-n] - 1)*100, TA-Lib 0 on a zero base', () => {
    const out = roc(xs, 2);
    expect(out[0]).toBeNaN();
    expect(out[1]).toBeNaN();
    expect(out[2]).toBeCloseTo(-1, 12);
    expect(out[3]).toBeCloseTo(10, 12);
    expect(out[4]).toBe(-100);
    expect(out[5]).toBeCloseTo((50 / 121 - 1) * 100, 12);
    const s = new RocStream(2);
    expect(Array.from(xs, (x) => s.update(x))).toEqual(Array.from(out));
    expect(new RocStream(1).update(0)).toBeNaN();
    const z = new RocStream(1);
    z.update(0);
    expect(z.update(5)).toBe(0);
  });

  it('mom, ret and logret over n bars; ret/logret are NaN on a zero base', () => {
    expect(Array.from(mom(xs, 1))).toEqual([NaN, 10, -11, 22, -121, 50]);
    const r = simpleReturns(xs, 1);
    expect(r[1]).toBeCloseTo(0.1, 14);
    expect(r[5]).toBeNaN();
    const l = logReturns(xs, 3);
    expect(l[3]).toBeCloseTo(Math.log(1.21), 14);
    expect(l[4]).toBe(-Infinity);
    const m = new MomStream(3);
    expect(Array.from(xs, (x) => m.update(x))).toEqual(Array.from(mom(xs, 3)));
  });

  it('gap is the open over the previous close in percent', () => {
    const open = Float64Array.from([10, 10.5, 9.9]);
    const close = Float64Array.from([10, 11, 9]);
    const out = gap(open, close);
    expect(out[0]).toBeNaN();
    expect(out[1]).toBeCloseTo(5, 12);
    expect(out[2]).toBeCloseTo(-10, 12);
    const g = new GapStream();
    expect([0, 1, 2].map((i) => g.update(open[i]!, close[i]!))).toEqual(Array.from(out));
  });
});

describe.each([
  ['ret', [{}, { period: 5 }, { period: 21 }]],
  ['logret', [{}, { period: 5 }, { period: 21 }]],
  ['roc', [{}, { period: 1 }, { period: 63 }]],
  ['mom', [{}, { period: 1 }, { period: 63 }]],
  ['gap', [{}]],
] as const)('%s feature contract on real daily bars', (name, cases) => {
  const d = def(name);

  it.each([['spy', spy], ['uso', uso]] as const)('batch equals stream bit for bit on %s', (_sym, inputs) => {
    for (const p of cases) expect(firstMismatch(d.batch(inputs, p)[0]!, streamed(d, inputs, p))).toBe(-1);
  });

  it('is NaN before lookback = period (gap: 1) and finite from it', () => {
    for (const p of cases) {
      const lb = d.lookback(p);
      expect(lb).toBe(name === 'gap' ? 1 : ((p as FeatureParams)['period'] ?? d.params[0]!.default));
      const out = d.batch(spy, p)[0]!;
      for (let i = 0; i < lb; i++) expect(out[i]).toBeNaN();
      expect(out.subarray(lb).every(Number.isFinite)).toBe(true);
    }
  });

  it('has no lookahead: a prefix computes the same values as the full run', () => {
    const full = d.batch(spy, cases[0])[0]!;
    const lb = d.lookback(cases[0]);
    for (const n of [lb, lb + 1, 999, 5000]) expect(firstMismatch(d.batch(prefixInputs(spy, n), cases[0])[0]!, full.subarray(0, n))).toBe(-1);
  });
});

describe('returns vs trading-signals', () => {
  const close = spy.close;
  const oracle = (make: () => { add(x: number): number | null }): Float64Array => {
    const ind = make();
    return Float64Array.from(close, (x) => ind.add(x) ?? NaN);
  };

  // trading-signals computes (x - base)/base where we compute x/base - 1: equal up to a few ulps
  // of the ratio, so the tolerance is absolute against the ratio's scale (1), 1e-12.
  it('roc (x100) and ret (a fraction) match ROC; mom matches MOM exactly', () => {
    for (const n of [1, 10, 63]) {
      const r = oracle(() => new ROC(n));
      expect(firstMismatch(simpleReturns(close, n), r, 1e-12, 1)).toBe(-1);
      expect(firstMismatch(roc(close, n), r.map((v) => v * 100), 1e-12, 100)).toBe(-1);
      expect(firstMismatch(mom(close, n), oracle(() => new MOM(n)))).toBe(-1);
    }
  });

  it('gap matches the direct (open - prevClose)/prevClose*100 on real bars (no trading-signals counterpart)', () => {
    for (const inputs of [spy, uso]) {
      const ref = Float64Array.from(inputs.open, (o, i) => (i === 0 ? NaN : ((o - inputs.close[i - 1]!) / inputs.close[i - 1]!) * 100));
      // Same ratio computed two ways: a few ulps of the ratio, i.e. ~1e-12 of the 100 scale
      expect(firstMismatch(gap(inputs.open, inputs.close), ref, 1e-12, 100)).toBe(-1);
    }
  });

  it('1-bar ret and logret match getReturns / getLogReturns', () => {
    const pct = getReturns(Array.from(close));
    const logs = getLogReturns(Array.from(close));
    const r = simpleReturns(close, 1);
    const l = logReturns(close, 1);
    for (let i = 1; i < close.length; i++) {
      expect(Math.abs(r[i]! * 100 - pct[i - 1]!)).toBeLessThanOrEqual(1e-10);
      expect(l[i]).toBe(logs[i - 1]);
    }
  });
});
