/**
 * Volume features: TA-Lib OBV, the rolling z-score of volume, and a volume-spike flag.
 * Batch and stream perform the same operations in the same order (bit-identical).
 */
import { nanColumn, numberParam, periodParam, type FeatureDefinition, type FeatureParams } from '../feature-definition.js';
import { periodOf, seriesFeature } from './moving-averages.js';
import { RollingMoments, rollingZScore, RollingZScoreStream } from './rolling-stats.js';

/** One OBV step: add the volume on an up close, subtract it on a down close; NaN poisons the total. */
function obvStep(obv: number, close: number, prevClose: number, volume: number): number {
  if (close > prevClose) return obv + volume;
  if (close < prevClose) return obv - volume;
  // Equal closes leave OBV unchanged; a NaN close (no comparison holds) poisons the running total
  return close === prevClose ? obv : NaN;
}

/**
 * On-balance volume, TA-Lib OBV: starts at volume[0], then adds volume[i] when close[i] >
 * close[i-1], subtracts it when lower, keeps it when equal. Lookback: 0. Cumulative, so a NaN
 * input poisons every later value.
 */
export function obv(close: Float64Array, volume: Float64Array): Float64Array {
  const out = nanColumn(close.length);
  if (close.length === 0) return out;
  let total = volume[0]!;
  out[0] = total;
  for (let i = 1; i < close.length; i++) {
    total = obvStep(total, close[i]!, close[i - 1]!, volume[i]!);
    out[i] = total;
  }
  return out;
}

/** Streaming OBV. */
export class ObvStream {
  private total = NaN;
  private prevClose = NaN;
  private started = false;

  update(close: number, volume: number): number {
    this.total = this.started ? obvStep(this.total, close, this.prevClose, volume) : volume;
    this.started = true;
    this.prevClose = close;
    return this.total;
  }
}

/** Rolling z-score of volume over `period` bars (see rolling-stats: 0 for a constant window). Lookback: period-1. */
export function volumeZScore(volume: Float64Array, period = 20): Float64Array {
  return rollingZScore(volume, period);
}

/** Streaming volume z-score. */
export class VolumeZScoreStream extends RollingZScoreStream {}

/**
 * Volume spike flag: 1 when the rolling volume z-score >= threshold, else 0; NaN while the
 * z-score is undefined. A constant-volume window has z = 0, so it flags only if threshold <= 0.
 * Lookback: period-1.
 */
export function volumeSpike(volume: Float64Array, period = 20, threshold = 2): Float64Array {
  const z = volumeZScore(volume, period);
  for (let i = 0; i < z.length; i++) z[i] = spikeFlag(z[i]!, threshold);
  return z;
}

function spikeFlag(z: number, threshold: number): number {
  return z !== z ? NaN : z >= threshold ? 1 : 0;
}

/** Streaming volume spike flag. */
export class VolumeSpikeStream {
  private readonly m: RollingMoments;

  constructor(readonly period = 20, readonly threshold = 2) {
    this.m = new RollingMoments(period);
  }

  update(volume: number): number {
    this.m.push(volume);
    return spikeFlag(this.m.zscore(volume), this.threshold);
  }
}

const thresholdOf = (p: FeatureParams): number => p['threshold'] ?? 2;

export const VOLUME_FEATURES: FeatureDefinition[] = [
  {
    name: 'obv',
    description: 'On-balance volume (TA-Lib OBV), starting at the first bar volume',
    params: [],
    outputs: () => [''],
    lookback: () => 0,
    batch: (inputs) => [obv(inputs.close, inputs.volume)],
    stream: () => {
      const s = new ObvStream();
      return { update: (_open, _high, _low, close, volume, out, offset) => void (out[offset] = s.update(close, volume)) };
    },
  },
  seriesFeature({
    name: 'volz', description: 'Rolling z-score of volume (0 for a constant window)', input: 'volume', defaultPeriod: 20,
    minPeriod: 2, lookback: (n) => n - 1, kernel: volumeZScore, makeStream: (n) => new VolumeZScoreStream(n),
  }),
  {
    name: 'volspike',
    description: 'Volume spike: 1 when the rolling volume z-score >= threshold, else 0',
    params: [periodParam('period', 20, 'bars in the volume window', 2), numberParam('threshold', 2, 'z-score at or above which volume is a spike')],
    outputs: () => [''],
    lookback: (p) => periodOf(p, 20) - 1,
    batch: (inputs, p) => [volumeSpike(inputs.volume, periodOf(p, 20), thresholdOf(p))],
    stream: (p) => {
      const s = new VolumeSpikeStream(periodOf(p, 20), thresholdOf(p));
      return { update: (_open, _high, _low, _close, volume, out, offset) => void (out[offset] = s.update(volume)) };
    },
  },
];
