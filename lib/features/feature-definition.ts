/**
 * The contract every feature implements: a batch kernel over typed columns and a streaming
 * counterpart fed one bar at a time. Both perform the same floating-point operations in the same
 * order, so they agree (tests hold them to 1e-9 on real data; most agree bit for bit).
 *
 * Conventions (TA-Lib's):
 * - `lookback(p)` is the index of the first defined output: outputs at indices < lookback are NaN
 *   (masked), never zero. A NaN input poisons the outputs that depend on it, nothing else.
 * - Outputs at index i depend only on inputs at indices <= i (no lookahead).
 */

/** The bar inputs a feature can read: parallel columns of equal length. */
export interface FeatureInputs {
  readonly length: number;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

/** One positional parameter: `rsi:14` fills `period`. */
export interface FeatureParamSpec {
  readonly name: string;
  readonly default: number;
  /** Integer parameters reject fractions (periods) */
  readonly integer: boolean;
  /** Inclusive lower bound */
  readonly min: number;
  readonly description: string;
}

export type FeatureParams = Readonly<Record<string, number>>;

/**
 * Streaming state of one feature for one instrument. `update` consumes one bar and writes the
 * feature's outputs (NaN during warm-up) into `out` starting at `offset`: no allocation per bar.
 */
export interface FeatureStream {
  update(open: number, high: number, low: number, close: number, volume: number, out: Float64Array, offset: number): void;
}

export interface FeatureDefinition {
  /** Short name used in specs: `sma`, `macd`, `bbands` */
  readonly name: string;
  readonly description: string;
  readonly params: readonly FeatureParamSpec[];
  /** Output suffixes, e.g. `['line', 'signal', 'hist']`; a single-output feature returns `['']` */
  outputs(p: FeatureParams): readonly string[];
  /** Index of the first defined value (warm-up length in bars) */
  lookback(p: FeatureParams): number;
  /** Batch kernel: one Float64Array per output, each of `inputs.length` */
  batch(inputs: FeatureInputs, p: FeatureParams): Float64Array[];
  stream(p: FeatureParams): FeatureStream;
}

/** A NaN-filled output column, the starting point of every batch kernel. */
export function nanColumn(length: number): Float64Array {
  return new Float64Array(length).fill(NaN);
}

/** Convenience for integer-period parameters. */
export function periodParam(name: string, dflt: number, description: string, min = 1): FeatureParamSpec {
  return { name, default: dflt, integer: true, min, description };
}

/** Convenience for real-valued parameters (multipliers, thresholds). */
export function numberParam(name: string, dflt: number, description: string, min = 0): FeatureParamSpec {
  return { name, default: dflt, integer: false, min, description };
}
