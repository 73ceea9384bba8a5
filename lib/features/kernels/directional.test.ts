import { ADX } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import type { FeatureInputs, FeatureParams } from '../feature-definition.js';
import { leanDailyInputs } from '../feature-fixtures.js';
import { barsOf, contractProblems, paramsOf } from './contract-fixtures.js';
import { adx, AdxStream, DIRECTIONAL_FEATURES } from './directional.js';

const spy = leanDailyInputs('spy');
const aapl = leanDailyInputs('aapl');
const def = DIRECTIONAL_FEATURES[0]!;

describe('adx honours the feature contract', () => {
  it.each<FeatureParams>([{}, { period: 2 }, { period: 5 }, { period: 30 }])('%o on SPY and AAPL', (over) => {
    const p = paramsOf(def, over);
    for (const inputs of [spy, aapl]) expect(contractProblems(def, inputs, p)).toEqual([]);
  });

  it('has one warm-up of 2n-1 for all three outputs', () => {
    expect(DIRECTIONAL_FEATURES.map((f) => f.name)).toEqual(['adx']);
    expect(def.outputs({})).toEqual(['adx', 'plus_di', 'minus_di']);
    expect(def.lookback(paramsOf(def))).toBe(27);
    const r = adx(spy.high, spy.low, spy.close, 14);
    for (const col of [r.adx, r.plusDI, r.minusDI]) {
      expect(col.subarray(0, 27).every(Number.isNaN)).toBe(true);
      expect(Number.isFinite(col[27]!)).toBe(true);
    }
  });
});

describe('hand-computed ADX(2)', () => {
  // +DM: bar 1 = 1, bar 3 = 1.5; -DM: bar 2 = 0.5; TR: 1.5, 1.5, 2, 1.5
  const bars = barsOf([10, 11, 10.5, 12, 11], [9, 9.5, 9, 10, 10], [9.5, 10.5, 10, 11.5, 10.5]);
  it('seeds the Wilder sums with n-1 values, averages the first n DX, then smooths', () => {
    const r = adx(bars.high, bars.low, bars.close, 2);
    // bar 2: +DM 0.5, -DM 0.5, TR 2.25 -> DX 0; bar 3: +DM 1.75, -DM 0.25, TR 3.125 -> DX 75
    expect(r.adx[2]).toBeNaN();
    expect(r.plusDI[3]).toBeCloseTo(56, 12);
    expect(r.minusDI[3]).toBeCloseTo(8, 12);
    expect(r.adx[3]).toBeCloseTo(37.5, 12);
    // bar 4: +DM 0.875, -DM 0.125, TR 3.0625 -> DX 75, ADX (37.5 + 75)/2
    expect(r.plusDI[4]).toBeCloseTo(87.5 / 3.0625, 12);
    expect(r.minusDI[4]).toBeCloseTo(12.5 / 3.0625, 12);
    expect(r.adx[4]).toBeCloseTo(56.25, 12);
    const s = new AdxStream(2);
    const row = new Float64Array(3);
    s.update(10, 9, 9.5, row, 0);
    expect(Array.from(row)).toEqual([NaN, NaN, NaN]);
  });

  it('equal up and down moves (an outside bar) count as neither +DM nor -DM', () => {
    // bar 1 is an outside bar (+1 / -1): no DM at all, so both DIs stay 0 through bar 3
    const outside = barsOf([10, 11, 11, 11], [9, 8, 8, 8], [9.5, 9.5, 9.5, 9.5]);
    const r = adx(outside.high, outside.low, outside.close, 2);
    expect([r.plusDI[3], r.minusDI[3], r.adx[3]]).toEqual([0, 0, 0]);
  });

  it('flat bars: TR 0 gives DI 0 (TA-Lib PLUS_DI) and an ADX of 0 (no DX counted)', () => {
    const flat = barsOf(Array(40).fill(3), Array(40).fill(3), Array(40).fill(3));
    const r = adx(flat.high, flat.low, flat.close, 14);
    expect([r.adx[39], r.plusDI[39], r.minusDI[39]]).toEqual([0, 0, 0]);
  });

  it('a NaN bar poisons every later value (Wilder smoothing is recursive)', () => {
    const high = spy.high.slice(0, 200);
    high[100] = NaN;
    const r = adx(high, spy.low.slice(0, 200), spy.close.slice(0, 200), 14);
    expect(Number.isFinite(r.adx[99]!)).toBe(true);
    expect(r.adx.subarray(100).every(Number.isNaN)).toBe(true);
    expect(r.plusDI.subarray(100).every(Number.isNaN)).toBe(true);
  });
});

describe('against trading-signals on SPY and AAPL', () => {
  /** Bars whose up and down moves are equal and positive: TA-Lib counts neither, trading-signals both */
  function ties(x: FeatureInputs): number[] {
    const out: number[] = [];
    for (let i = 1; i < x.length; i++) {
      const up = x.high[i]! - x.high[i - 1]!;
      if (up > 0 && up === x.low[i - 1]! - x.low[i]!) out.push(i);
    }
    return out;
  }

  it.each([['spy', spy], ['aapl', aapl]] as const)('%s: ADX, +DI, -DI converge once its seeds decay', (_name, x) => {
    // trading-signals seeds its Wilder averages from bar 0 (a zero DM, TR = high-low) in mean form;
    // TA-Lib from bar 1 in sum form, and a tie bar (above) sets the two apart again. Each gap
    // shrinks by 13/14 a bar (< 1e-12 after 400 bars), so compare only bars 400+ past both.
    const ts = new ADX(14);
    const n = x.close.length;
    const theirs = { adx: new Float64Array(n), plus: new Float64Array(n), minus: new Float64Array(n) };
    for (let i = 0; i < n; i++) {
      theirs.adx[i] = ts.add({ high: x.high[i]!, low: x.low[i]!, close: x.close[i]! }) ?? NaN;
      theirs.plus[i] = (ts.pdi ?? NaN) * 100;
      theirs.minus[i] = (ts.mdi ?? NaN) * 100;
    }
    const ours = adx(x.high, x.low, x.close, 14);
    expect(Math.abs(ours.adx[27]! - theirs.adx[27]!)).toBeGreaterThan(1e-6); // the seeds do differ
    const tieBars = ties(x);
    let compared = 0;
    let worst = 0;
    for (let i = 527, t = 0; i < n; i++) {
      while (t < tieBars.length && tieBars[t]! <= i) t++;
      if (t > 0 && i - tieBars[t - 1]! < 400) continue;
      compared++;
      const d = Math.max(Math.abs(ours.adx[i]! - theirs.adx[i]!), Math.abs(ours.plusDI[i]! - theirs.plus[i]!), Math.abs(ours.minusDI[i]! - theirs.minus[i]!));
      if (!(d <= worst)) worst = d; // NaN-safe: a NaN difference sticks
    }
    expect(compared).toBeGreaterThan(1000);
    expect(worst).toBeLessThan(1e-9); // values are 0..100
  });
});
