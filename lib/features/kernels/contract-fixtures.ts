import type { FeatureDefinition, FeatureInputs, FeatureParams } from '../feature-definition.js';
import { prefixInputs } from '../feature-fixtures.js';

// Shared checks for the volatility / oscillator / directional kernel tests (not a test file itself)

/** Runs a feature's stream bar by bar, one column per output. */
export function streamColumns(def: FeatureDefinition, inputs: FeatureInputs, p: FeatureParams): Float64Array[] {
  const k = def.outputs(p).length;
  const cols = Array.from({ length: k }, () => new Float64Array(inputs.length));
  const row = new Float64Array(k + 2).fill(-12345); // padding checks that update writes only its slots
  const s = def.stream(p);
  for (let i = 0; i < inputs.length; i++) {
    s.update(inputs.open[i]!, inputs.high[i]!, inputs.low[i]!, inputs.close[i]!, inputs.volume[i]!, row, 1);
    if (row[0] !== -12345 || row[k + 1] !== -12345) throw new Error(`${def.name}: stream wrote outside its slots`);
    for (let j = 0; j < k; j++) cols[j]![i] = row[j + 1]!;
  }
  return cols;
}

/**
 * First index where a and b differ by more than tol * max(|a|, |b|, scale), NaN matching NaN only,
 * or -1 when they agree everywhere.
 */
export function firstMismatch(a: ArrayLike<number>, b: ArrayLike<number>, tol = 0, scale = 0, from = 0): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = from; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Object.is(x, y) || (Number.isNaN(x) && Number.isNaN(y))) continue;
    if (Math.abs(x - y) <= tol * Math.max(Math.abs(x), Math.abs(y), scale)) continue;
    return i;
  }
  return -1;
}

/** Largest |a-b| from `from` on, over indices where both are numbers. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, from = 0): number {
  let m = 0;
  for (let i = from; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > m) m = d;
  }
  return m;
}

/** Count of NaN values at the start of the column (the observed warm-up). */
export function leadingNaNs(col: Float64Array): number {
  let i = 0;
  while (i < col.length && Number.isNaN(col[i]!)) i++;
  return i;
}

/** Count of NaN values anywhere in the column. */
export function nanCount(col: ArrayLike<number>): number {
  let c = 0;
  for (let i = 0; i < col.length; i++) if (Number.isNaN(col[i]!)) c++;
  return c;
}

/** Bars as FeatureInputs from plain arrays (open = close, volume 0). */
export function barsOf(high: number[], low: number[], close: number[]): FeatureInputs {
  return {
    length: close.length,
    open: Float64Array.from(close),
    high: Float64Array.from(high),
    low: Float64Array.from(low),
    close: Float64Array.from(close),
    volume: new Float64Array(close.length),
  };
}

/** Parameter defaults of a definition, overridden by `over`. */
export function paramsOf(def: FeatureDefinition, over: FeatureParams = {}): FeatureParams {
  return { ...Object.fromEntries(def.params.map((s) => [s.name, s.default])), ...over };
}

/**
 * The contract checks of feature-definition.ts on one series, as a list of violations (empty when
 * all hold): (a) batch == stream within `tol` relative (NaN where the other is NaN), (b) every
 * output NaN before lookback(p) and finite at it, (c) no lookahead: the batch over each prefix
 * equals the full batch's prefix bit for bit.
 */
export function contractProblems(def: FeatureDefinition, inputs: FeatureInputs, p: FeatureParams, tol = 1e-9): string[] {
  const problems: string[] = [];
  const names = def.outputs(p);
  const lb = def.lookback(p);
  const full = def.batch(inputs, p);
  const streamed = streamColumns(def, inputs, p);
  if (full.length !== names.length) problems.push(`batch returned ${full.length} columns for ${names.length} outputs`);
  if (lb >= inputs.length) problems.push(`series of ${inputs.length} bars is too short for lookback ${lb}`);
  names.forEach((name, j) => {
    const col = full[j]!;
    if (col.length !== inputs.length) problems.push(`${name}: length ${col.length}`);
    const bad = firstMismatch(col, streamed[j]!, tol);
    if (bad >= 0) problems.push(`${name}: batch ${col[bad]} != stream ${streamed[j]![bad]} at ${bad}`);
    const warm = leadingNaNs(col);
    if (warm < lb) problems.push(`${name}: finite at ${warm} < lookback ${lb}`);
    if (!Number.isFinite(col[lb]!)) problems.push(`${name}: ${col[lb]} at lookback ${lb}`);
  });
  for (const n of [lb, lb + 1, lb + 7, Math.floor(inputs.length / 3), inputs.length - 1]) {
    const part = def.batch(prefixInputs(inputs, n), p);
    names.forEach((name, j) => {
      const bad = firstMismatch(part[j]!, full[j]!.subarray(0, n));
      if (bad >= 0) problems.push(`${name}: prefix ${n} differs at ${bad} (${part[j]![bad]} vs ${full[j]![bad]})`);
    });
  }
  return problems;
}
