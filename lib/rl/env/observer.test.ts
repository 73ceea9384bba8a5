import { describe, expect, it } from 'vitest';
import { handConfig, handDataset } from './env-fixtures.js';
import { symbolMajorWindow } from './observer.js';
import { TradingVecEnv } from './vec-env.js';

// feature (t, u, f) = t + u/10 + f/100 (as float32): every value names its row, symbol and column
const data = handDataset(
  [
    [100, 101, 102, 101, 103, 104, 103, 105, 106, 107],
    [50, 49, 50, 51, 50, 52, 53, 52, 54, 55],
  ],
  { features: 2, volWindow: 2 },
);
const feature = (t: number, u: number, f: number) => Math.fround(t + u / 10 + f / 100);

function env(layout: 'stacked' | 'ring', overrides = {}) {
  return new TradingVecEnv(data, handConfig({ episode: { length: 4, window: 3, start: 'first' }, observation: { layout }, ...overrides }), 1);
}

/** The window block of a ring observation in chronological order */
function unrotate(obs: Float32Array, head: number, W: number, rowSize: number): number[] {
  const out: number[] = [];
  for (let k = 1; k <= W; k++) out.push(...obs.subarray(((head + k) % W) * rowSize, ((head + k) % W + 1) * rowSize));
  return out;
}

describe('WindowObserver', () => {
  it('stacks the last `window` rows, oldest first, as [window, slots, features], then mask and weights', () => {
    const e = env('stacked');
    const obs = e.reset(0);
    // volatility needs 2 returns (rows 0..2), the window 3 rows: the first start with full data is row 4
    expect(e.state.start[0]).toBe(4);
    expect(e.observationSize).toBe(3 * 2 * 2 + 2 + 2);
    const expected: number[] = [];
    for (const t of [2, 3, 4]) for (const u of [0, 1]) for (const f of [0, 1]) expected.push(feature(t, u, f));
    expect([...obs.subarray(0, 12)]).toEqual(expected);
    expect([...obs.subarray(12, 14)]).toEqual([1, 1]);
    expect([...obs.subarray(14, 16)]).toEqual([0, 0]);
    e.step(Float32Array.from([1, -1]));
    expect([...obs.subarray(0, 4)]).toEqual([feature(3, 0, 0), feature(3, 0, 1), feature(3, 1, 0), feature(3, 1, 1)]);
    expect([...obs.subarray(8, 12)]).toEqual([feature(5, 0, 0), feature(5, 0, 1), feature(5, 1, 0), feature(5, 1, 1)]);
    // weights: the positions just bought and sold, marked at row 5
    expect(obs[14]!).toBeCloseTo(e.state.weight[0]!, 6);
    expect(obs[14]!).toBeGreaterThan(0);
    expect(obs[15]!).toBeLessThan(0);
  });

  it('ring layout: one row written per step at the head; unrotated it equals the stacked window', () => {
    const stacked = env('stacked');
    const ring = env('ring');
    const a = stacked.reset(3);
    const b = ring.reset(3);
    const check = () => {
      expect(unrotate(b, ring.ringHead[0]!, 3, 4)).toEqual([...a.subarray(0, 12)]);
      expect([...b.subarray(12)]).toEqual([...a.subarray(12)]);
    };
    check();
    expect(ring.ringHead[0]).toBe(2);
    for (let k = 0; k < 9; k++) {
      const act = Float32Array.from([Math.sin(k), Math.cos(k)]);
      stacked.step(act);
      ring.step(act);
      check();
    }
  });

  it('omits the weights when asked, and describes its shape', () => {
    const e = env('stacked', { observation: { layout: 'stacked', includePortfolio: false } });
    expect(e.observationSize).toBe(12 + 2);
    expect(e.observationShape).toEqual({ window: 3, slots: 2, features: 2, layout: 'stacked', maskOffset: 12, weightOffset: -1 });
  });

  it('empty slots are zeros with mask 0', () => {
    const e = new TradingVecEnv(data, handConfig({ episode: { length: 4, window: 3, start: 'first' }, universe: { slots: 3, sample: 2, minSymbols: 1 } }), 1);
    const obs = e.reset(0);
    const rowSize = 3 * 2;
    for (let k = 0; k < 3; k++) expect([...obs.subarray(k * rowSize + 4, k * rowSize + 6)]).toEqual([0, 0]);
    expect([...obs.subarray(18, 21)]).toEqual([1, 1, 0]);
  });

  it('symbolMajorWindow gives [slots, features, window] from either layout', () => {
    const stacked = env('stacked');
    const ring = env('ring');
    stacked.reset(0);
    ring.reset(0);
    for (let k = 0; k < 2; k++) {
      stacked.step(Float32Array.from([0.5, -0.5]));
      ring.step(Float32Array.from([0.5, -0.5]));
    }
    // now rows 4, 5, 6 are in the window
    const expected: number[] = [];
    for (const u of [0, 1]) for (const f of [0, 1]) for (const t of [4, 5, 6]) expected.push(feature(t, u, f));
    expect([...symbolMajorWindow(stacked.observations, 0, stacked.observationShape!)]).toEqual(expected);
    expect([...symbolMajorWindow(ring.observations, 0, ring.observationShape!, ring.ringHead[0])]).toEqual(expected);
  });
});
