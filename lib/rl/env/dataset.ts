/**
 * What an environment steps over, precomputed once into flat typed arrays so a step is index
 * arithmetic: features [time, symbol, feature] as float32 (clipped, NaN written as 0), close and
 * annualized realized volatility [time, symbol] as float64, and per symbol a prefix count of
 * unusable rows, so "has symbol u data on rows a..b" is one subtraction.
 *
 * The dataset is read-only and shared by every env of a VecEnv (and cheap to send to a worker:
 * typed arrays only).
 */
import { InvariantError } from '../../core/errors.js';
import type { InstrumentSpec } from '../../data/instrument.js';
import { rollingStd } from '../../features/kernels/rolling-stats.js';

export interface EnvDataset {
  /** Bar times, epoch ms */
  ts: Float64Array;
  symbols: string[];
  specs: InstrumentSpec[];
  columns: string[];
  /** [time, symbol, feature] */
  features: Float32Array;
  /** [time, symbol]; NaN where the symbol has no bar */
  close: Float64Array;
  /** [time, symbol] annualized volatility of log returns over `volWindow` bars ending at the row */
  vol: Float64Array;
  /** [symbol, time + 1]: rows before t that are unusable (no bar, non-finite feature or volatility) */
  invalidPrefix: Int32Array;
  periodsPerYear: number;
  volWindow: number;
  /** Identifies the feature definitions (the feature set's content hash, or the synthetic spec's) */
  featureSetHash: string;
}

export interface DatasetInput {
  ts: Float64Array;
  symbols: string[];
  specs: InstrumentSpec[];
  columns: string[];
  /** Per symbol, per feature: a column aligned with `ts` (NaN during warm-up or missing bars) */
  features: Float64Array[][];
  /** Per symbol: closes aligned with `ts` */
  close: Float64Array[];
  volWindow: number;
  periodsPerYear: number;
  /** Features are clipped to [-clip, clip] */
  clip: number;
  featureSetHash: string;
}

/**
 * Annualized rolling volatility of log returns: row t uses the returns ending at rows t-window+1..t
 * (population std, the feature library's kernel), so it never looks ahead. NaN until a full window
 * of returns exists, or where a close is missing.
 */
export function realizedVolatility(close: Float64Array, window: number, periodsPerYear: number): Float64Array {
  const n = close.length;
  const out = new Float64Array(n).fill(NaN);
  if (n < 2) return out;
  const r = new Float64Array(n - 1);
  for (let t = 1; t < n; t++) r[t - 1] = Math.log(close[t]! / close[t - 1]!);
  const sd = rollingStd(r, window);
  const annualize = Math.sqrt(periodsPerYear);
  for (let t = 1; t < n; t++) out[t] = sd[t - 1]! * annualize;
  return out;
}

export function buildDataset(input: DatasetInput): EnvDataset {
  const T = input.ts.length;
  const U = input.symbols.length;
  const F = input.columns.length;
  if (input.features.length !== U || input.close.length !== U || input.specs.length !== U) {
    throw new InvariantError(`dataset: ${U} symbols but ${input.features.length} feature blocks, ${input.close.length} close columns, ${input.specs.length} specs`);
  }
  const features = new Float32Array(T * U * F);
  const close = new Float64Array(T * U);
  const vol = new Float64Array(T * U);
  const invalidPrefix = new Int32Array(U * (T + 1));
  const clip = input.clip;
  for (let u = 0; u < U; u++) {
    const c = input.close[u]!;
    const cols = input.features[u]!;
    if (c.length !== T || cols.length !== F || cols.some((col) => col.length !== T)) throw new InvariantError(`dataset: symbol ${input.symbols[u]} is not aligned with the time index`);
    const v = realizedVolatility(c, input.volWindow, input.periodsPerYear);
    let bad = 0;
    for (let t = 0; t < T; t++) {
      invalidPrefix[u * (T + 1) + t] = bad;
      const price = c[t]!;
      let ok = price > 0 && Number.isFinite(price) && Number.isFinite(v[t]!);
      close[t * U + u] = price;
      vol[t * U + u] = v[t]!;
      const base = (t * U + u) * F;
      for (let f = 0; f < F; f++) {
        const x = cols[f]![t]!;
        if (Number.isFinite(x)) features[base + f] = x > clip ? clip : x < -clip ? -clip : x;
        else ok = false; // stays 0
      }
      if (!ok) bad++;
    }
    invalidPrefix[u * (T + 1) + T] = bad;
  }
  return {
    ts: input.ts,
    symbols: input.symbols,
    specs: input.specs,
    columns: input.columns,
    features,
    close,
    vol,
    invalidPrefix,
    periodsPerYear: input.periodsPerYear,
    volWindow: input.volWindow,
    featureSetHash: input.featureSetHash,
  };
}

/** True when symbol `u` has usable rows from..to (inclusive). */
export function validRange(d: EnvDataset, u: number, from: number, to: number): boolean {
  const T = d.ts.length;
  if (from < 0 || to >= T) return false;
  const base = u * (T + 1);
  return d.invalidPrefix[base + to + 1]! - d.invalidPrefix[base + from]! === 0;
}
