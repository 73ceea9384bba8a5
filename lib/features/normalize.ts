/**
 * Rolling z-score normalization of any feature column, with a warm-up mask.
 *
 * Rule: the normalized value at i is (x[i] - mean)/std over x[i-window+1..i] (population std),
 * defined only when those `window` consecutive values are all finite. A NaN (or ±Infinity) input
 * therefore resets the window: the next `window - 1` outputs after it are NaN as well. Applied to a
 * feature whose own warm-up is NaN up to index featureLookback-1, the first normalized value is at
 * featureLookback + window - 1 (`normalizedLookback`). A constant window normalizes to 0.
 *
 * Numerics are those of kernels/rolling-stats (Welford with periodic exact resync); the batch form
 * runs the same core as the stream, so both agree bit for bit.
 */
import { nanColumn } from './feature-definition.js';
import { checkPeriod } from './kernels/moving-averages.js';
import { RollingMoments } from './kernels/rolling-stats.js';

/** Index of the first normalized value of a feature with lookback `featureLookback`: featureLookback + window - 1. */
export function normalizedLookback(featureLookback: number, window: number): number {
  return featureLookback + window - 1;
}

/** Streaming rolling z-score normalizer: `update(x)` returns the normalized x, NaN while masked. */
export class ZScoreNormalizer {
  private readonly m: RollingMoments;

  constructor(readonly window: number) {
    checkPeriod(window, 2);
    this.m = new RollingMoments(window);
  }

  update(x: number): number {
    this.m.push(x);
    return this.m.zscore(x);
  }
}

/** Batch rolling z-score normalization of `column` over `window` finite values (see the rule above). */
export function normalizeZScore(column: Float64Array, window: number): Float64Array {
  const s = new ZScoreNormalizer(window);
  const out = nanColumn(column.length);
  for (let i = 0; i < column.length; i++) out[i] = s.update(column[i]!);
  return out;
}
