import { CCI, EMA, MACD, RSI, StochasticOscillator, WilliamsR } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import type { FeatureDefinition, FeatureParams } from '../feature-definition.js';
import { leanDailyInputs } from '../feature-fixtures.js';
import { barsOf, contractProblems, firstMismatch, nanCount, paramsOf } from './contract-fixtures.js';
import { cci, macd, OSCILLATOR_FEATURES, rsi, RsiStream, stoch, willr, WillrStream } from './oscillators.js';

const spy = leanDailyInputs('spy');
const aapl = leanDailyInputs('aapl');
const def = (name: string): FeatureDefinition => OSCILLATOR_FEATURES.find((f) => f.name === name)!;

describe('oscillators honour the feature contract', () => {
  const cases: [string, FeatureParams][] = [
    ['rsi', {}],
    ['rsi', { period: 2 }],
    ['macd', {}],
    ['macd', { fast: 5, slow: 35, signal: 5 }],
    ['macd', { fast: 26, slow: 12, signal: 1 }],
    ['stoch', {}],
    ['stoch', { fastK: 5, slowK: 1, slowD: 4 }],
    ['willr', {}],
    ['cci', {}],
    ['cci', { period: 5 }],
  ];
  it.each(cases)('%s %o on SPY and AAPL', (name, over) => {
    const d = def(name);
    const p = paramsOf(d, over);
    for (const inputs of [spy, aapl]) expect(contractProblems(d, inputs, p)).toEqual([]);
  });

  it('exports each feature once with the documented lookbacks', () => {
    expect(OSCILLATOR_FEATURES.map((f) => f.name)).toEqual(['rsi', 'macd', 'stoch', 'willr', 'cci']);
    expect(OSCILLATOR_FEATURES.map((f) => f.lookback(paramsOf(f)))).toEqual([14, 33, 17, 13, 19]);
    expect(def('macd').lookback({ fast: 26, slow: 12, signal: 1 })).toBe(25); // swapped, as TA-Lib does
    expect(def('macd').outputs({})).toEqual(['line', 'signal', 'hist']);
    expect(def('stoch').outputs({})).toEqual(['k', 'd']);
  });
});

describe('hand-computed examples', () => {
  it('RSI(3): averages of the first 3 changes, then Wilder', () => {
    // changes +1, -0.5, +1, -0.5, +1
    const close = Float64Array.from([10, 11, 10.5, 11.5, 11, 12]);
    const r = rsi(close, 3);
    expect(Array.from(r.subarray(0, 3))).toEqual([NaN, NaN, NaN]);
    expect(r[3]).toBeCloseTo(80, 12); // gain 2/3, loss 1/6
    expect(r[4]).toBeCloseTo(800 / 13, 12); // gain 4/9, loss 5/18
    expect(r[5]).toBeCloseTo((100 * 17) / 22, 12); // gain 17/27, loss 5/27
    const s = new RsiStream(3);
    expect(Array.from(close, (c) => s.update(c))).toEqual(Array.from(r));
  });

  it('WILLR(3): -100 * (highest - close) / (highest - lowest)', () => {
    const bars = barsOf([10, 12, 11, 13], [8, 9, 9.5, 10], [9, 11, 10, 12]);
    const w = willr(bars.high, bars.low, bars.close, 3);
    expect(Array.from(w)).toEqual([NaN, NaN, -50, -25]);
    const s = new WillrStream(3);
    expect(Array.from(bars.close, (c, i) => s.update(bars.high[i]!, bars.low[i]!, c))).toEqual([NaN, NaN, -50, -25]);
  });

  it('STOCH(3,2,2): fast %K, then two SMAs', () => {
    const bars = barsOf([10, 12, 11, 13, 12], [8, 9, 9.5, 10, 11], [9, 11, 10, 12, 11.5]);
    // fast %K at bars 2..4: 50, 75, (11.5-9.5)/(13-9.5) = 4/7 -> slow %K at 3, 4: 62.5, (75+400/7)/2
    const s = stoch(bars.high, bars.low, bars.close, 3, 2, 2);
    expect(Array.from(s.k.subarray(0, 4))).toEqual([NaN, NaN, NaN, NaN]);
    expect(s.k[4]).toBeCloseTo((75 + 400 / 7) / 2, 12);
    expect(s.d[4]).toBeCloseTo((62.5 + (75 + 400 / 7) / 2) / 2, 12);
  });
});

describe('degenerate denominators give TA-Lib 0', () => {
  const flat = barsOf(Array(40).fill(7), Array(40).fill(7), Array(40).fill(7));
  it('flat prices: RSI, WILLR, STOCH, CCI are 0 and MACD is 0', () => {
    expect(rsi(flat.close, 14)[39]).toBe(0);
    expect(willr(flat.high, flat.low, flat.close, 14)[39]).toBe(0);
    expect(stoch(flat.high, flat.low, flat.close, 14, 3, 3).k[39]).toBe(0);
    expect(cci(flat.high, flat.low, flat.close, 20)[39]).toBe(0);
    expect(macd(flat.close, 12, 26, 9).hist[39]).toBe(0);
  });
  it('a rising series has RSI 100, a close at the lowest low WILLR -100', () => {
    expect(rsi(Float64Array.from({ length: 20 }, (_, i) => i), 14)[19]).toBe(100);
    const down = barsOf([5, 4, 3], [4, 3, 2], [4.5, 3.5, 2]);
    expect(willr(down.high, down.low, down.close, 3)[2]).toBe(-100);
  });
  it('a NaN bar masks only the windows that hold it in STOCH, WILLR and CCI', () => {
    const high = spy.high.slice(0, 300);
    high[150] = NaN;
    const { low, close } = spy;
    expect(nanCount(willr(high, low.slice(0, 300), close.slice(0, 300), 14))).toBe(13 + 14);
    expect(nanCount(cci(high, low.slice(0, 300), close.slice(0, 300), 20))).toBe(19 + 20);
    expect(nanCount(stoch(high, low.slice(0, 300), close.slice(0, 300), 14, 3, 3).d)).toBe(17 + 14 + 2 + 2);
  });
});

describe('against trading-signals and direct formulas on SPY', () => {
  const { high, low, close } = spy;
  const candles = Array.from(close, (c, i) => ({ high: high[i]!, low: low[i]!, close: c }));

  it('RSI matches trading-signals from its first value (same seeding; Wilder written differently)', () => {
    const ts = new RSI(14);
    const theirs = Array.from(close, (c) => ts.add(c) ?? NaN);
    expect(firstMismatch(rsi(close, 14), theirs, 1e-9, 1)).toBe(-1);
  });

  it('MACD follows the TA-Lib alignment exactly and converges to trading-signals', () => {
    const m = macd(close, 12, 26, 9);
    // Direct: both EMAs start at bar 25, the fast one seeded from closes 14..25
    const xs = Array.from(close);
    const mean = (a: number[]): number => a.reduce((s, x) => s + x, 0) / a.length;
    let f = mean(xs.slice(14, 26));
    let s = mean(xs.slice(0, 26));
    const line = [f - s];
    for (let i = 26; i <= 40; i++) {
      f = (xs[i]! - f) * (2 / 13) + f;
      s = (xs[i]! - s) * (2 / 27) + s;
      line.push(f - s);
    }
    let sig = mean(line.slice(0, 9));
    expect(m.line[33]).toBeCloseTo(line[8]!, 12);
    expect(m.signal[33]).toBeCloseTo(sig, 12);
    for (let i = 34; i <= 40; i++) sig = (line[i - 25]! - sig) * 0.2 + sig;
    expect(m.signal[40]).toBeCloseTo(sig, 12);
    expect(m.hist[40]).toBeCloseTo(line[15]! - sig, 12);
    expect(m.line[32]).toBeNaN();
    // trading-signals seeds each EMA with its first input; after 600 bars (25/27)^600 ~ 1e-20
    const ts = new MACD(new EMA(12), new EMA(26), new EMA(9));
    const theirs = Array.from(close, (c) => ts.add(c));
    const col = (k: 'macd' | 'signal' | 'histogram') => theirs.map((r) => r?.[k] ?? NaN);
    expect(firstMismatch(m.line, col('macd'), 1e-9, 1, 633)).toBe(-1);
    expect(firstMismatch(m.signal, col('signal'), 1e-9, 1, 633)).toBe(-1);
    expect(firstMismatch(m.hist, col('histogram'), 1e-9, 1, 633)).toBe(-1);
  });

  it('STOCH matches trading-signals (same SMA smoothing)', () => {
    const ts = new StochasticOscillator({ kPeriod: 14, kSlowingPeriod: 3, dPeriod: 3 });
    const theirs = candles.map((c) => ts.add(c));
    const s = stoch(high, low, close, 14, 3, 3);
    expect(theirs[16]).toBeNull();
    expect(theirs[17]).not.toBeNull();
    expect(firstMismatch(s.k, theirs.map((r) => r?.stochK ?? NaN), 1e-9, 1)).toBe(-1);
    expect(firstMismatch(s.d, theirs.map((r) => r?.stochD ?? NaN), 1e-9, 1)).toBe(-1);
  });

  it('WILLR and CCI match trading-signals (no flat windows in SPY)', () => {
    const w = new WilliamsR(14);
    const c = new CCI(20);
    expect(firstMismatch(willr(high, low, close, 14), candles.map((x) => w.add(x) ?? NaN), 1e-9, 1)).toBe(-1);
    expect(firstMismatch(cci(high, low, close, 20), candles.map((x) => c.add(x) ?? NaN), 1e-9, 1)).toBe(-1);
  });
});
