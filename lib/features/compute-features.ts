import type { FeatureInputs, FeatureStream } from './feature-definition.js';
import type { FeatureSet } from './feature-set.js';
import { normalizeZScore, ZScoreNormalizer } from './normalize.js';

/** Feature columns of one instrument, aligned with its bars (NaN during warm-up). */
export interface FeatureFrame {
  length: number;
  columns: string[];
  values: Float64Array[];
  /** First row where every column is defined */
  lookback: number;
}

/** Batch: every feature of the set over the whole input, normalized where the set says so. */
export function computeFeatures(set: FeatureSet, inputs: FeatureInputs): FeatureFrame {
  const values: Float64Array[] = [];
  for (const f of set.features) {
    for (const column of f.definition.batch(inputs, f.params)) {
      values.push(f.normalizeWindow > 0 ? normalizeZScore(column, f.normalizeWindow) : column);
    }
  }
  return { length: inputs.length, columns: set.columns, values, lookback: set.lookback };
}

/**
 * Streaming counterpart of {@link computeFeatures}, one bar at a time (live trading, the engine):
 * writes one row of `set.columns.length` values into `out`; the same numbers as the batch frame.
 */
export class FeatureSetStream {
  readonly width: number;
  private readonly streams: FeatureStream[];
  private readonly widths: number[];
  private readonly normalizers: (ZScoreNormalizer | undefined)[];
  private readonly raw: Float64Array;

  constructor(readonly set: FeatureSet) {
    this.width = set.columns.length;
    this.streams = set.features.map((f) => f.definition.stream(f.params));
    this.widths = set.features.map((f) => f.columns.length);
    this.normalizers = set.features.flatMap((f) => f.columns.map(() => (f.normalizeWindow > 0 ? new ZScoreNormalizer(f.normalizeWindow) : undefined)));
    this.raw = new Float64Array(this.width);
  }

  update(open: number, high: number, low: number, close: number, volume: number, out: Float64Array): void {
    let offset = 0;
    for (let k = 0; k < this.streams.length; k++) {
      this.streams[k]!.update(open, high, low, close, volume, this.raw, offset);
      offset += this.widths[k]!;
    }
    for (let j = 0; j < this.width; j++) {
      const n = this.normalizers[j];
      out[j] = n === undefined ? this.raw[j]! : n.update(this.raw[j]!);
    }
  }
}
