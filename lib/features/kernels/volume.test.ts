import { getZScore, OBV } from 'trading-signals';
import { describe, expect, it } from 'vitest';
import type { FeatureDefinition, FeatureInputs, FeatureParams } from '../feature-definition.js';
import { leanDailyInputs, prefixInputs } from '../feature-fixtures.js';
import { firstMismatch, streamColumns } from './contract-fixtures.js';
import { obv, ObvStream, VOLUME_FEATURES, volumeSpike, VolumeSpikeStream, volumeZScore } from './volume.js';

/** The feature's stream run bar by bar (its single output). */
const streamed = (d: FeatureDefinition, inputs: FeatureInputs, p: FeatureParams): Float64Array => streamColumns(d, inputs, p)[0]!;

const spy = leanDailyInputs('spy');
const bno = leanDailyInputs('bno');
const def = (name: string): FeatureDefinition => VOLUME_FEATURES.find((f) => f.name === name)!;



describe('volume: hand-computed examples', () => {
  it('obv starts at volume[0] and adds/subtracts volume on up/down closes', () => {
    const close = Float64Array.from([10, 11, 11, 9, 12]);
    const volume = Float64Array.from([100, 50, 70, 30, 20]);
    // 100; up +50 = 150; flat 150; down -30 = 120; up +20 = 140
    expect(Array.from(obv(close, volume))).toEqual([100, 150, 150, 120, 140]);
    const s = new ObvStream();
    expect([0, 1, 2, 3, 4].map((i) => s.update(close[i]!, volume[i]!))).toEqual([100, 150, 150, 120, 140]);
  });

  it('obv: a NaN close poisons the running total from that bar on', () => {
    const out = obv(Float64Array.from([1, 2, NaN, 3]), Float64Array.from([5, 5, 5, 5]));
    expect(out[1]).toBe(10);
    expect(out[2]).toBeNaN();
    expect(out[3]).toBeNaN();
  });

  it('volspike flags z >= threshold, is NaN in warm-up and 0 on a constant window', () => {
    const v = Float64Array.from([10, 10, 10, 10, 40, 10]);
    // window [10,10,10,40]: mean 17.5, std sqrt(168.75) = 12.99, z(40) = 1.732
    expect(volumeZScore(v, 4)[4]).toBeCloseTo(22.5 / Math.sqrt(168.75), 12);
    expect(Array.from(volumeSpike(v, 4, 1.5))).toEqual([NaN, NaN, NaN, 0, 1, 0]);
    expect(Array.from(volumeSpike(v, 4, 1.8))).toEqual([NaN, NaN, NaN, 0, 0, 0]);
    expect(Array.from(volumeSpike(v, 4, 0))).toEqual([NaN, NaN, NaN, 1, 1, 0]);
    const s = new VolumeSpikeStream(4, 1.5);
    expect(Array.from(v, (x) => s.update(x))).toEqual([NaN, NaN, NaN, 0, 1, 0]);
  });
});

describe.each([
  ['obv', [{}]],
  ['volz', [{}, { period: 2 }, { period: 63 }]],
  ['volspike', [{}, { period: 5, threshold: 1 }, { period: 63, threshold: 3.5 }]],
] as const)('%s feature contract on real daily bars', (name, cases) => {
  const d = def(name);

  it.each([['spy', spy], ['bno (zero-volume days)', bno]] as const)('batch equals stream bit for bit on %s', (_sym, inputs) => {
    for (const p of cases) expect(firstMismatch(d.batch(inputs, p)[0]!, streamed(d, inputs, p))).toBe(-1);
  });

  it('is NaN before lookback and finite from it', () => {
    for (const p of cases) {
      const lb = d.lookback(p);
      expect(lb).toBe(name === 'obv' ? 0 : ((p as FeatureParams)['period'] ?? 20) - 1);
      const out = d.batch(bno, p)[0]!;
      for (let i = 0; i < lb; i++) expect(out[i]).toBeNaN();
      expect(out.subarray(lb).every(Number.isFinite)).toBe(true);
    }
  });

  it('has no lookahead: a prefix computes the same values as the full run', () => {
    const full = d.batch(spy, cases[0])[0]!;
    for (const n of [1, 20, 1500, 5001]) expect(firstMismatch(d.batch(prefixInputs(spy, n), cases[0])[0]!, full.subarray(0, n))).toBe(-1);
  });
});

describe('volume features vs oracles', () => {
  it('obv equals trading-signals OBV plus volume[0] (it starts from 0 at the second bar)', () => {
    for (const inputs of [spy, bno]) {
      const o = new OBV(2);
      const ours = obv(inputs.close, inputs.volume);
      const theirs = new Float64Array(inputs.length).fill(NaN);
      for (let i = 0; i < inputs.length; i++) {
        const r = o.add({ open: inputs.open[i]!, high: inputs.high[i]!, low: inputs.low[i]!, close: inputs.close[i]!, volume: inputs.volume[i]! });
        if (r !== null) theirs[i] = r + inputs.volume[0]!;
      }
      // Integer volumes: exact sums below 2^53, whichever the grouping
      expect(firstMismatch(ours.subarray(1), theirs.subarray(1))).toBe(-1);
    }
  });

  it('volz matches getZScore per window (0 where the window is constant) and volspike thresholds it', () => {
    const n = 20;
    const vol = bno.volume;
    const z = volumeZScore(vol, n);
    const spike = volumeSpike(vol, n, 2);
    let constant = 0;
    let spikes = 0;
    for (let i = n - 1; i < vol.length; i++) {
      const w = Array.from(vol.subarray(i - n + 1, i + 1));
      const flat = w.every((x) => x === w[0]);
      const ref = flat ? 0 : getZScore(w);
      if (flat) constant++;
      expect(Math.abs(z[i]! - ref)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(ref)));
      expect(spike[i]).toBe(ref >= 2 ? 1 : 0);
      spikes += spike[i]!;
    }
    expect(spikes).toBeGreaterThan(50);
    expect(constant).toBe(0); // bno's zero-volume days are isolated: no all-zero window
  });
});
