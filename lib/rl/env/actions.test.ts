import { describe, expect, it } from 'vitest';
import { clampGross, DiscreteAction, VolatilityTargetedAction, volTargetWeight } from './actions.js';
import { handDataset } from './env-fixtures.js';
import { EnvState } from './state.js';

/** One env over 3 symbols in 4 slots (slot 3 empty), at row 5, with the given volatilities */
function stateWithVols(vols: number[]): EnvState {
  const data = handDataset([Array(8).fill(100), Array(8).fill(50), Array(8).fill(20)]);
  const st = new EnvState(data, 1, 4, 2);
  st.row[0] = 5;
  st.slotSymbol.set([0, 1, 2, -1]);
  st.mask.set([1, 1, 1, 0]);
  vols.forEach((v, u) => (data.vol[5 * 3 + u] = v));
  return st;
}

describe('volTargetWeight', () => {
  it('scales the exposure by target / volatility', () => {
    // 0.5 x 0.15 / 0.30 = 0.25 of equity
    expect(volTargetWeight(0.5, 0.3, 0.15, 1)).toBeCloseTo(0.25, 15);
    expect(volTargetWeight(-0.5, 0.3, 0.15, 1)).toBeCloseTo(-0.25, 15);
  });
  it('caps the weight per symbol', () => {
    // 1 x 0.15 / 0.05 = 3, capped at 0.5
    expect(volTargetWeight(1, 0.05, 0.15, 0.5)).toBe(0.5);
    expect(volTargetWeight(-1, 0.05, 0.15, 0.5)).toBe(-0.5);
  });
  it('gives the cap at zero volatility (the limit), never Infinity or NaN', () => {
    expect(volTargetWeight(1, 0, 0.15, 0.4)).toBe(0.4);
    expect(volTargetWeight(-0.01, 0, 0.15, 0.4)).toBe(-0.4);
    expect(volTargetWeight(0, 0, 0.15, 0.4)).toBe(0);
  });
  it('gives 0 without a volatility estimate', () => {
    expect(volTargetWeight(1, NaN, 0.15, 0.4)).toBe(0);
    expect(volTargetWeight(1, Infinity, 0.15, 0.4)).toBe(0);
  });
});

describe('clampGross', () => {
  it('scales all weights together down to the leverage limit', () => {
    const w = Float64Array.from([9, 0.5, -0.5, 0.5, 9]);
    expect(clampGross(w, 1, 3, 1)).toBe(1.5);
    expect([...w]).toEqual([9, 0.5 / 1.5, -0.5 / 1.5, 0.5 / 1.5, 9]);
    expect(Math.abs(w[1]!) + Math.abs(w[2]!) + Math.abs(w[3]!)).toBeCloseTo(1, 15);
  });
  it('leaves weights within the limit alone', () => {
    const w = Float64Array.from([0.2, -0.3]);
    clampGross(w, 0, 2, 1);
    expect([...w]).toEqual([0.2, -0.3]);
  });
});

describe('VolatilityTargetedAction', () => {
  const options = { volTarget: 0.15, maxAllocation: 0.6, maxLeverage: 10, longOnly: false };
  it('clips actions, targets volatility per symbol, caps, and leaves empty slots at 0', () => {
    const st = stateWithVols([0.3, 0.15, 0]);
    // slot 0: 1 x 0.15/0.3 = 0.5; slot 1: -0.5 x 0.15/0.15 = -0.5; slot 2: 2 clipped to 1, zero vol -> cap 0.6; slot 3 empty
    new VolatilityTargetedAction(4, options).targets(Float32Array.from([1, -0.5, 2, 1]), 0, st, 0);
    expect([...st.target]).toEqual([0.5, -0.5, 0.6, 0]);
  });
  it('clamps the gross leverage', () => {
    const st = stateWithVols([0.3, 0.15, 0]);
    new VolatilityTargetedAction(4, { ...options, maxLeverage: 1 }).targets(Float32Array.from([1, -0.5, 2, 1]), 0, st, 0);
    // gross 1.6 -> scaled by 1 / 1.6
    expect(st.target[0]).toBeCloseTo(0.3125, 15);
    expect(st.target[1]).toBeCloseTo(-0.3125, 15);
    expect(st.target[2]).toBeCloseTo(0.375, 15);
    expect(st.target[3]).toBe(0);
  });
  it('long-only turns shorts into 0; NaN actions are no exposure', () => {
    const st = stateWithVols([0.3, 0.15, 0.3]);
    new VolatilityTargetedAction(4, { ...options, longOnly: true }).targets(Float32Array.from([1, -0.5, NaN, 1]), 0, st, 0);
    expect([...st.target]).toEqual([0.5, 0, 0, 0]);
  });
  it('reads the actions at the env offset', () => {
    const st = stateWithVols([0.3, 0.3, 0.3]);
    // float32 actions: use values it holds exactly
    new VolatilityTargetedAction(4, options).targets(Float32Array.from([9, 9, 9, 9, 0.25, 0.5, -0.25, 0]), 4, st, 0);
    expect(st.target[0]).toBeCloseTo(0.125, 15);
    expect(st.target[1]).toBeCloseTo(0.25, 15);
    expect(st.target[2]).toBeCloseTo(-0.125, 15);
  });
  it('describes a continuous space of one exposure per slot in [-1, 1]', () => {
    expect(new VolatilityTargetedAction(4, options).space).toEqual({ kind: 'continuous', size: 4, low: -1, high: 1 });
  });
});

describe('DiscreteAction', () => {
  const options = { maxAllocation: 0.25, maxLeverage: 1, longOnly: false };
  function state(): EnvState {
    const st = stateWithVols([0.2, 0.2, 0.2]);
    st.weight.set([0.1, 0.2, 0.3, 0]);
    return st;
  }
  it('buy, sell and hold: +allocation, -allocation, the current weight', () => {
    const st = state();
    new DiscreteAction(4, options).targets(Float32Array.from([2, 0, 1, 2]), 0, st, 0);
    expect([...st.target]).toEqual([0.25, -0.25, 0.3, 0]);
  });
  it('long-only sells close the position', () => {
    const st = state();
    new DiscreteAction(4, { ...options, longOnly: true }).targets(Float32Array.from([0, 0, 2, 0]), 0, st, 0);
    expect([...st.target]).toEqual([0, 0, 0.25, 0]);
  });
  it('rounds choices, clips out-of-range ones and holds on NaN; then the leverage cap', () => {
    const st = state();
    new DiscreteAction(4, { ...options, maxLeverage: 0.4 }).targets(Float32Array.from([1.7, -3, NaN, 0]), 0, st, 0);
    // [buy 0.25, sell -0.25, hold 0.3] gross 0.8 -> x 0.5
    expect(st.target[0]).toBeCloseTo(0.125, 15);
    expect(st.target[1]).toBeCloseTo(-0.125, 15);
    expect(st.target[2]).toBeCloseTo(0.15, 15);
    expect(st.target[3]).toBe(0);
  });
  it('describes three choices per slot', () => {
    expect(new DiscreteAction(4, options).space).toEqual({ kind: 'discrete', size: 4, n: 3 });
  });
});
