import { describe, expect, it } from 'vitest';
import { computeFeatures, FeatureSetStream, type FeatureFrame } from './compute-features.js';
import type { FeatureInputs } from './feature-definition.js';
import { leanDailyInputs, prefixInputs } from './feature-fixtures.js';
import { resolveFeatureSet, type FeatureSet } from './feature-set.js';
import { firstMismatch, leadingNaNs } from './kernels/contract-fixtures.js';
import { FEATURES, featureNames } from './registry.js';

// Every feature of the catalogue with its default params, raw and z-scored over 60 bars
const WINDOW = 60;
const raw = resolveFeatureSet({ name: 'everything', features: featureNames() });
const normalized = resolveFeatureSet({ name: 'everything-z', features: featureNames(), normalize: { window: WINDOW } });
const sets: [string, FeatureSet][] = [
  ['raw', raw],
  [`normalized (window ${WINDOW})`, normalized],
];
const symbols: [string, FeatureInputs][] = [
  ['SPY', leanDailyInputs('spy')],
  ['QQQ', leanDailyInputs('qqq')],
];

/** Runs FeatureSetStream over the inputs, one column per set column. */
function streamFrame(set: FeatureSet, inputs: FeatureInputs): Float64Array[] {
  const s = new FeatureSetStream(set);
  const cols = set.columns.map(() => new Float64Array(inputs.length));
  const row = new Float64Array(s.width);
  for (let i = 0; i < inputs.length; i++) {
    s.update(inputs.open[i]!, inputs.high[i]!, inputs.low[i]!, inputs.close[i]!, inputs.volume[i]!, row);
    for (let j = 0; j < s.width; j++) cols[j]![i] = row[j]!;
  }
  return cols;
}

/**
 * Expected first defined index of each column, from the definitions (not from the resolved set):
 * the feature's own lookback, plus window - 1 when z-scored.
 */
function expectedLookbacks(set: FeatureSet, window: number): number[] {
  return set.features.flatMap((f) => {
    const d = FEATURES.get(f.definition.name)!;
    const defaults = Object.fromEntries(d.params.map((p) => [p.name, p.default]));
    const own = d.lookback(defaults);
    return d.outputs(defaults).map(() => (window > 0 ? own + window - 1 : own));
  });
}

const frames = new Map<string, FeatureFrame>();
function frameOf(setName: string, set: FeatureSet, symbol: string, inputs: FeatureInputs): FeatureFrame {
  const key = `${setName}/${symbol}`;
  if (!frames.has(key)) frames.set(key, computeFeatures(set, inputs));
  return frames.get(key)!;
}

describe('the all-features set', () => {
  it('holds one feature per catalogue entry, with every output as a column', () => {
    expect(raw.features.map((f) => f.definition.name)).toEqual([...FEATURES.keys()]);
    const outputs = [...FEATURES.values()].reduce((n, d) => n + d.outputs(Object.fromEntries(d.params.map((p) => [p.name, p.default]))).length, 0);
    expect(raw.columns).toHaveLength(outputs);
    expect(normalized.columns).toEqual(raw.columns.map((c) => `${c}_z${WINDOW}`));
  });
});

describe.each(sets)('computeFeatures vs FeatureSetStream, %s', (setName, set) => {
  const window = set === normalized ? WINDOW : 0;

  it.each(symbols)('%s: the batch frame equals the stream within 1e-9 relative, NaN where NaN', (symbol, inputs) => {
    const frame = frameOf(setName, set, symbol, inputs);
    expect(frame.length).toBe(inputs.length);
    expect(frame.columns).toEqual(set.columns);
    expect(frame.values).toHaveLength(set.columns.length);
    const streamed = streamFrame(set, inputs);
    const problems: string[] = [];
    frame.values.forEach((col, j) => {
      expect(col).toHaveLength(inputs.length);
      const bad = firstMismatch(col, streamed[j]!, 1e-9);
      if (bad >= 0) problems.push(`${set.columns[j]}: batch ${col[bad]} vs stream ${streamed[j]![bad]} at ${bad}`);
    });
    expect(problems).toEqual([]);
  });

  it.each(symbols)('%s: each column is NaN before its lookback and finite from it on', (symbol, inputs) => {
    const frame = frameOf(setName, set, symbol, inputs);
    const lookbacks = expectedLookbacks(set, window);
    // the resolved set agrees with the definitions
    expect(set.features.flatMap((f) => f.columns.map(() => f.lookback))).toEqual(lookbacks);
    const problems: string[] = [];
    frame.values.forEach((col, j) => {
      const lb = lookbacks[j]!;
      if (lb >= inputs.length) problems.push(`${set.columns[j]}: lookback ${lb} beyond the series`);
      const warm = leadingNaNs(col);
      if (warm !== lb) problems.push(`${set.columns[j]}: first value at ${warm}, lookback ${lb}`);
      // no feature may go NaN later on this data: it has no NaN, zero or non-finite prices
      // (checked below), so a later NaN would be a kernel bug, not a documented mask
      for (let i = lb; i < col.length; i++) {
        if (!Number.isFinite(col[i]!)) {
          problems.push(`${set.columns[j]}: ${col[i]} at ${i} after lookback ${lb}`);
          break;
        }
      }
    });
    expect(problems).toEqual([]);
    expect(frame.lookback).toBe(Math.max(...lookbacks));
    expect(frame.values.every((c) => Number.isFinite(c[frame.lookback]!))).toBe(true);
    expect(frame.values.some((c) => Number.isNaN(c[frame.lookback - 1]!))).toBe(true);
  });

  it.each(symbols)('%s: no lookahead, the frame over the first k bars is the full frame cut at k', (symbol, inputs) => {
    const full = frameOf(setName, set, symbol, inputs);
    const problems: string[] = [];
    for (const k of [1, 2, set.lookback, set.lookback + 1, 1000, Math.floor(inputs.length / 2) + 3, inputs.length - 1]) {
      const part = computeFeatures(set, prefixInputs(inputs, k));
      expect(part.length).toBe(k);
      part.values.forEach((col, j) => {
        const bad = firstMismatch(col, full.values[j]!.subarray(0, k)); // exact: tol 0
        if (bad >= 0) problems.push(`k=${k} ${set.columns[j]}: ${col[bad]} vs ${full.values[j]![bad]} at ${bad}`);
      });
    }
    expect(problems).toEqual([]);
  });
});

describe('the real data these tests rely on', () => {
  it.each(symbols)('%s has finite, positive prices and volume (so no feature is masked after warm-up)', (_symbol, inputs) => {
    for (const col of [inputs.open, inputs.high, inputs.low, inputs.close, inputs.volume]) {
      expect(col.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
    }
  });
});

describe('FeatureSetStream', () => {
  it('writes exactly width values and leaves the rest of the row alone', () => {
    const set = resolveFeatureSet({ features: ['sma:3', 'macd:2:3:2'] });
    const s = new FeatureSetStream(set);
    expect(s.width).toBe(4);
    const row = new Float64Array(6).fill(-1);
    s.update(1, 1, 1, 1, 1, row);
    expect(Array.from(row)).toEqual([NaN, NaN, NaN, NaN, -1, -1]);
  });
});
