import { ATR, BollingerBands, NATR, TR } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import type { FeatureDefinition, FeatureParams } from '../feature-definition.js';
import { leanDailyInputs } from '../feature-fixtures.js';
import { barsOf, contractProblems, firstMismatch, nanCount, paramsOf } from './contract-fixtures.js';
import { atr, AtrStream, bbands, natr, rangeCompression, trueRange, trueRangePct, VOLATILITY_FEATURES } from './volatility.js';

const spy = leanDailyInputs('spy');
const aapl = leanDailyInputs('aapl');
const def = (name: string): FeatureDefinition => VOLATILITY_FEATURES.find((f) => f.name === name)!;

describe('volatility features honour the feature contract', () => {
  const cases: [string, FeatureParams][] = [
    ['tr', {}],
    ['atr', {}],
    ['atr', { period: 1 }],
    ['atr', { period: 5 }],
    ['natr', {}],
    ['natr', { period: 7 }],
    ['trpct', {}],
    ['rangecomp', {}],
    ['rangecomp', { period: 5 }],
    ['bbands', {}],
    ['bbands', { period: 10, k: 1.5 }],
  ];
  it.each(cases)('%s %o on SPY and AAPL', (name, over) => {
    const d = def(name);
    const p = paramsOf(d, over);
    for (const inputs of [spy, aapl]) expect(contractProblems(d, inputs, p)).toEqual([]);
  });

  it('exports each feature once with the documented lookbacks', () => {
    expect(VOLATILITY_FEATURES.map((f) => f.name)).toEqual(['tr', 'atr', 'natr', 'trpct', 'rangecomp', 'bbands']);
    expect(VOLATILITY_FEATURES.map((f) => f.lookback(paramsOf(f)))).toEqual([1, 14, 14, 1, 19, 19]);
    expect(def('bbands').outputs({})).toEqual(['upper', 'middle', 'lower', 'pctb', 'width']);
  });
});

describe('hand-computed example', () => {
  // TRs: bar 1 = 3 (range), 2 = 1 (low to prior close), 3 = 3.5 (gap up), 4 = 4 (gap down), 5 = 0.5
  const bars = barsOf([10, 12, 11, 14, 10, 10], [8, 9, 10, 12, 9, 9.5], [9, 11, 10.5, 13, 9.5, 10]);

  it('true range and ATR(3): SMA of TR[1..3] at bar 3, then Wilder', () => {
    expect(Array.from(trueRange(bars.high, bars.low, bars.close))).toEqual([NaN, 3, 1, 3.5, 4, 0.5]);
    const a = atr(bars.high, bars.low, bars.close, 3);
    expect(Array.from(a.subarray(0, 3))).toEqual([NaN, NaN, NaN]);
    expect(a[3]).toBe(7.5 / 3);
    expect(a[4]).toBe((2.5 * 2 + 4) / 3);
    expect(a[5]).toBeCloseTo(6.5 / 3, 15);
    const s = new AtrStream(3);
    expect(Array.from(bars.close, (c, i) => s.update(bars.high[i]!, bars.low[i]!, c))).toEqual(Array.from(a));
  });

  it('NATR and TR % are relative to the bar close', () => {
    const n = natr(bars.high, bars.low, bars.close, 3);
    expect(n[3]).toBeCloseTo((2.5 / 13) * 100, 12);
    expect(n[4]).toBeCloseTo((3 / 9.5) * 100, 12);
    const t = trueRangePct(bars.high, bars.low, bars.close);
    expect(t[0]).toBeNaN();
    expect(t[4]).toBeCloseTo((4 / 9.5) * 100, 12);
  });

  it('range compression(3): today high-low over the window mean', () => {
    // ranges 2, 3, 1, 2, 1, 0.5
    const r = rangeCompression(bars.high, bars.low, 3);
    expect(Array.from(r.subarray(0, 2))).toEqual([NaN, NaN]);
    expect(r[2]).toBe(0.5);
    expect(r[3]).toBe(1);
    expect(r[4]).toBeCloseTo(0.75, 15);
    expect(r[5]).toBeCloseTo(0.5 / (3.5 / 3), 15);
  });

  it('Bollinger(3, 2) on 1, 2, 3: middle 2, population stddev sqrt(2/3)', () => {
    const b = bbands(Float64Array.from([1, 2, 3]), 3, 2);
    const sd = Math.sqrt(2 / 3);
    expect(b.middle[2]).toBe(2);
    expect(b.upper[2]).toBeCloseTo(2 + 2 * sd, 14);
    expect(b.lower[2]).toBeCloseTo(2 - 2 * sd, 14);
    expect(b.pctb[2]).toBeCloseTo((3 - (2 - 2 * sd)) / (4 * sd), 14);
    expect(b.width[2]).toBeCloseTo((4 * sd) / 2, 14);
  });
});

describe('degenerate denominators', () => {
  it('flat bars: rangecomp 1, %B 0.5, width 0, ATR/TR 0', () => {
    const flat = barsOf(Array(30).fill(5), Array(30).fill(5), Array(30).fill(5));
    expect(rangeCompression(flat.high, flat.low, 20)[29]).toBe(1);
    const b = bbands(flat.close, 20, 2);
    expect([b.upper[29], b.lower[29], b.pctb[29], b.width[29]]).toEqual([5, 5, 0.5, 0]);
    expect(atr(flat.high, flat.low, flat.close, 14)[29]).toBe(0);
  });

  it('a zero close gives NATR and TR% of 0 (TA-Lib NATR), a NaN bar stays NaN', () => {
    const bars = barsOf([1, 1, 1, NaN, 1], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0]);
    expect(trueRangePct(bars.high, bars.low, bars.close)[1]).toBe(0);
    expect(natr(bars.high, bars.low, bars.close, 1)[2]).toBe(0);
    expect(natr(bars.high, bars.low, bars.close, 1)[3]).toBeNaN();
  });

  it('a NaN bar masks only the windows that hold it in the windowed features', () => {
    const close = spy.close.slice(0, 200);
    close[100] = NaN;
    const b = bbands(close, 20, 2);
    expect(nanCount(b.middle)).toBe(19 + 20);
    expect(b.middle[120]).toBe(bbands(spy.close.slice(101, 200), 20, 2).middle[19]);
    const high = spy.high.slice(0, 200);
    high[100] = NaN;
    expect(nanCount(rangeCompression(high, spy.low.slice(0, 200), 20))).toBe(19 + 20);
  });
});

describe('against trading-signals and direct formulas on SPY', () => {
  const { high, low, close } = spy;
  const candles = Array.from(close, (c, i) => ({ high: high[i]!, low: low[i]!, close: c }));

  it('TR equals trading-signals TR from bar 1 (bar 0: theirs is high-low, ours NaN)', () => {
    const tr = new TR();
    const theirs = candles.map((c) => tr.add(c)!);
    expect(theirs[0]).toBe(high[0]! - low[0]!);
    expect(firstMismatch(trueRange(high, low, close), theirs, 0, 0, 1)).toBe(-1);
  });

  it('ATR and NATR converge to trading-signals once its earlier seed has decayed', () => {
    // trading-signals seeds with TR[0..13] (TR[0] = high-low) and starts at bar 13, TA-Lib with
    // TR[1..14] at bar 14. The seed difference shrinks by 13/14 a bar: after 400 bars < 1e-12.
    const a = new ATR(14);
    const n = new NATR(14);
    const atrTs = candles.map((c) => a.add(c) ?? NaN);
    const natrTs = candles.map((c) => n.add(c) ?? NaN);
    expect(atrTs[13]).toBeGreaterThan(0);
    const ours = atr(high, low, close, 14);
    expect(ours[13]).toBeNaN();
    expect(ours[14]).not.toBe(atrTs[14]);
    expect(firstMismatch(ours, atrTs, 1e-9, 0, 414)).toBe(-1);
    expect(firstMismatch(natr(high, low, close, 14), natrTs, 1e-9, 0, 414)).toBe(-1);
  });

  it('TR % of close and range compression match direct formulas', () => {
    const trpct = trueRangePct(high, low, close);
    const rc = rangeCompression(high, low, 20);
    const trRef = new Float64Array(close.length).fill(NaN);
    const rcRef = new Float64Array(close.length).fill(NaN);
    for (let i = 1; i < close.length; i++) {
      const tr = Math.max(high[i]! - low[i]!, Math.abs(high[i]! - close[i - 1]!), Math.abs(low[i]! - close[i - 1]!));
      trRef[i] = (100 * tr) / close[i]!;
    }
    for (let i = 19; i < close.length; i++) {
      const ranges = Array.from(high.subarray(i - 19, i + 1), (h, j) => h - low[i - 19 + j]!);
      rcRef[i] = (high[i]! - low[i]!) / (ranges.reduce((a, r) => a + r, 0) / 20);
    }
    expect(firstMismatch(trpct, trRef, 1e-12)).toBe(-1);
    expect(firstMismatch(rc, rcRef, 1e-12)).toBe(-1);
  });

  it('Bollinger bands match trading-signals (same SMA and population stddev)', () => {
    const bb = new BollingerBands(20, 2);
    const ts = Array.from(close, (c) => bb.add(c));
    const ours = bbands(close, 20, 2);
    const col = (f: (r: { upper: number; middle: number; lower: number }, c: number) => number) => ts.map((r, i) => (r ? f(r, close[i]!) : NaN));
    expect(firstMismatch(ours.upper, col((r) => r.upper), 1e-12)).toBe(-1);
    expect(firstMismatch(ours.middle, col((r) => r.middle), 1e-12)).toBe(-1);
    expect(firstMismatch(ours.lower, col((r) => r.lower), 1e-12)).toBe(-1);
    // %B is O(1) but (close-lower) cancels; compare on the scale of 1
    expect(firstMismatch(ours.pctb, col((r, c) => (c - r.lower) / (r.upper - r.lower)), 1e-9, 1)).toBe(-1);
    expect(firstMismatch(ours.width, col((r) => (r.upper - r.lower) / r.middle), 1e-9)).toBe(-1);
  });
});
