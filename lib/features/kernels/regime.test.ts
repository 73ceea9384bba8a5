import { describe, expect, it } from 'vitest';
import type { FeatureDefinition, FeatureParams } from '../feature-definition.js';
import { leanDailyInputs } from '../feature-fixtures.js';
import { barsOf, contractProblems, firstMismatch, paramsOf, streamColumns } from './contract-fixtures.js';
import { adx } from './directional.js';
import { ema } from './moving-averages.js';
import { REGIME_FEATURES } from './regime.js';

const spy = leanDailyInputs('spy');
const qqq = leanDailyInputs('qqq');
const def = (name: string): FeatureDefinition => REGIME_FEATURES.find((f) => f.name === name)!;

/**
 * Naive volatility regime, straight from the definition: population std of the last `period`
 * 1-bar log returns, then the share of the last `window` vols below today's plus half the ties.
 */
function naiveVolRegime(close: Float64Array, period: number, window: number): { vol: Float64Array; pct: Float64Array } {
  const n = close.length;
  const r = new Float64Array(n).fill(NaN);
  for (let i = 1; i < n; i++) r[i] = Math.log(close[i]! / close[i - 1]!);
  const vol = new Float64Array(n).fill(NaN);
  for (let i = period; i < n; i++) {
    let sum = 0;
    for (let j = i - period + 1; j <= i; j++) sum += r[j]!;
    const mean = sum / period;
    let sq = 0;
    for (let j = i - period + 1; j <= i; j++) sq += (r[j]! - mean) ** 2;
    vol[i] = Math.sqrt(sq / period);
  }
  const pct = new Float64Array(n).fill(NaN);
  for (let i = period + window - 1; i < n; i++) {
    let below = 0;
    let equal = 0;
    for (let j = i - window + 1; j <= i; j++) {
      if (vol[j]! < vol[i]!) below++;
      else if (vol[j] === vol[i]) equal++;
    }
    pct[i] = (below + 0.5 * equal) / window;
  }
  return { vol, pct };
}

const tercile = (p: number): number => (p < 1 / 3 ? 0 : p > 2 / 3 ? 2 : 1);

describe('volregime', () => {
  const cases: [string, FeatureParams][] = [
    ['defaults (20, 252)', {}],
    ['period 10, window 60', { period: 10, window: 60 }],
    ['period 2, window 2', { period: 2, window: 2 }],
  ];

  it.each(cases)('%s: honours the feature contract on SPY and QQQ', (_name, over) => {
    const d = def('volregime');
    for (const inputs of [spy, qqq]) expect(contractProblems(d, inputs, paramsOf(d, over))).toEqual([]);
  });

  it.each(cases)('%s: labels are 0/1/2 terciles of a percentile that matches a naive recomputation on SPY', (_name, over) => {
    const d = def('volregime');
    const p = paramsOf(d, over);
    const [label, pct] = d.batch(spy, p) as [Float64Array, Float64Array];
    const naive = naiveVolRegime(spy.close, p['period']!, p['window']!);
    const lb = d.lookback(p);
    expect(lb).toBe(p['period']! + p['window']! - 1);
    // The naive vol and the kernel's rolling (Welford) vol may differ by rounding, which could only
    // change a rank if two vols of a window were within an ulp or so: none are on SPY, so the
    // percentile must match exactly
    expect(firstMismatch(pct, naive.pct)).toBe(-1);
    const labels = new Set<number>();
    for (let i = lb; i < spy.length; i++) {
      expect(label[i]).toBe(tercile(pct[i]!));
      labels.add(label[i]!);
    }
    // with window 2 the percentile is 1/4, 3/4, or 1/2 only on an exact tie: label 1 needs a tie
    expect([...labels].sort()).toEqual(p['window'] === 2 ? [0, 2] : [0, 1, 2]);
    expect(Array.from(label.subarray(0, lb)).every(Number.isNaN)).toBe(true);
    expect(Array.from(pct.subarray(0, lb)).every(Number.isNaN)).toBe(true);
    // the percentile of a value within its own window is in (0, 1]: it counts at least itself (half)
    for (let i = lb; i < spy.length; i++) expect(pct[i]! >= 0.5 / p['window']! && pct[i]! <= 1 - 0.5 / p['window']!).toBe(true);
  });

  it('counts ties half: flat prices give a zero vol everywhere, percentile 0.5 and the normal label', () => {
    const bars = barsOf(Array(40).fill(101), Array(40).fill(99), Array(40).fill(100));
    const p = { period: 5, window: 10 };
    const [label, pct] = def('volregime').batch(bars, p) as [Float64Array, Float64Array];
    const lb = 5 + 10 - 1;
    expect(Array.from(pct.subarray(lb))).toEqual(Array(40 - lb).fill(0.5));
    expect(Array.from(label.subarray(lb))).toEqual(Array(40 - lb).fill(1));
    expect(Number.isNaN(pct[lb - 1]!)).toBe(true);
  });

  it('a hand-made series: a volatility that grows every bar always ranks top of its window', () => {
    // closes alternate 100 (even i) and 100*e^(0.01 i) (odd i): the log return is +0.01 i at odd i
    // and -0.01(i-1) at even i, so the std of two returns, |a-b|/2, is 0.01(i-1): strictly growing.
    // Each defined percentile therefore counts window-1 values below and itself half: (3-1+0.5)/3.
    const n = 12;
    const close = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 100 : 100 * Math.exp(0.01 * i)));
    const bars = barsOf(close, close, close);
    const [label, pct] = def('volregime').batch(bars, { period: 2, window: 3 }) as [Float64Array, Float64Array];
    const lb = 2 + 3 - 1;
    expect(Array.from(pct.subarray(lb))).toEqual(Array(n - lb).fill(2.5 / 3));
    expect(Array.from(label.subarray(lb))).toEqual(Array(n - lb).fill(2));
    expect(firstMismatch(pct, naiveVolRegime(Float64Array.from(close), 2, 3).pct)).toBe(-1);
  });
});

describe('trend', () => {
  const cases: [string, FeatureParams][] = [
    ['defaults (20, 14, 20)', {}],
    ['period 50, adx 7, threshold 25', { period: 50, adx: 7, threshold: 25 }],
    ['period 5, adx 30, threshold 0', { period: 5, adx: 30, threshold: 0 }],
  ];

  it.each(cases)('%s: honours the feature contract on SPY and QQQ', (_name, over) => {
    const d = def('trend');
    for (const inputs of [spy, qqq]) expect(contractProblems(d, inputs, paramsOf(d, over))).toEqual([]);
  });

  it.each(cases)('%s: slope is the 1-bar % change of ema(), the label sign(slope) gated by adx() >= threshold', (_name, over) => {
    const d = def('trend');
    const p = paramsOf(d, over);
    const period = p['period']!;
    const adxPeriod = p['adx']!;
    const threshold = p['threshold']!;
    for (const inputs of [spy, qqq]) {
      const [slope, label] = d.batch(inputs, p) as [Float64Array, Float64Array];
      const e = ema(inputs.close, period);
      const a = adx(inputs.high, inputs.low, inputs.close, adxPeriod).adx;
      const lb = d.lookback(p);
      // slope needs ema at i and i-1 (first ema at period-1), the ADX is defined from 2n-1
      expect(lb).toBe(Math.max(period, 2 * adxPeriod - 1));
      const want = new Float64Array(inputs.length).fill(NaN);
      const wantLabel = new Float64Array(inputs.length).fill(NaN);
      for (let i = lb; i < inputs.length; i++) {
        want[i] = (e[i]! / e[i - 1]! - 1) * 100;
        wantLabel[i] = a[i]! >= threshold ? Math.sign(want[i]!) : 0;
      }
      expect(firstMismatch(slope, want, 1e-12)).toBe(-1);
      expect(firstMismatch(label, wantLabel)).toBe(-1);
      const counts = [-1, 0, 1].map((v) => label.filter((x) => x === v).length);
      expect(counts.reduce((s, c) => s + c, 0)).toBe(inputs.length - lb);
      // threshold 0 never gates; otherwise each label occurs on real data
      if (threshold === 0) expect(counts[1]).toBe(label.filter((x, i) => i >= lb && x === 0 && slope[i] === 0).length);
      else expect(counts.every((c) => c > 0)).toBe(true);
    }
  });

  it('a flat market has zero slope and label 0, a steady rise label +1 once ADX confirms', () => {
    const n = 60;
    const flat = barsOf(Array(n).fill(101), Array(n).fill(99), Array(n).fill(100));
    const [slope, label] = def('trend').batch(flat, { period: 5, adx: 5, threshold: 20 }) as [Float64Array, Float64Array];
    expect(Array.from(slope.subarray(9))).toEqual(Array(n - 9).fill(0));
    expect(Array.from(label.subarray(9))).toEqual(Array(n - 9).fill(0));
    const up = Array.from({ length: n }, (_, i) => 100 + i);
    const rising = barsOf(up.map((c) => c + 0.5), up.map((c) => c - 0.5), up);
    const [s2, l2] = def('trend').batch(rising, { period: 5, adx: 5, threshold: 20 }) as [Float64Array, Float64Array];
    // +DM every bar, no -DM: DX = 100, so ADX = 100 from its first value at 2*5-1 = 9
    for (let i = 9; i < n; i++) {
      expect(s2[i]).toBeGreaterThan(0);
      expect(l2[i]).toBe(1);
    }
    const streamed = streamColumns(def('trend'), rising, { period: 5, adx: 5, threshold: 20 });
    expect(firstMismatch(streamed[1]!, l2)).toBe(-1);
  });
});
