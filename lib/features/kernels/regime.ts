/**
 * Regime labels built from the other kernels, so they inherit their warm-up and their
 * batch/stream identity:
 * - `volregime`: where today's realized volatility (population std of 1-bar log returns over
 *   `period`) sits among its own last `window` values: 0 low (bottom third), 1 normal, 2 high
 *   (top third). Also outputs the percentile itself. Lookback: period + window - 1.
 * - `trend`: EMA slope (% change of EMA(`period`) over one bar) and a label from the slope's sign
 *   gated by ADX(`adx`) >= `threshold`: +1 up-trend, -1 down-trend, 0 no trend.
 *   Lookback: max(period, 2 * adx - 1).
 */
import { nanColumn, numberParam, periodParam, type FeatureDefinition, type FeatureInputs, type FeatureParams, type FeatureStream } from '../feature-definition.js';
import { AdxStream } from './directional.js';
import { EmaStream } from './moving-averages.js';
import { RollingStdStream } from './rolling-stats.js';

/** Rank of `x` among the finite values of a window: fraction below plus half of the ties. */
function percentile(ring: Float64Array, count: number, x: number): number {
  let below = 0;
  let equal = 0;
  for (let j = 0; j < count; j++) {
    const v = ring[j]!;
    if (v < x) below++;
    else if (v === x) equal++;
  }
  return (below + 0.5 * equal) / count;
}

/** Streaming volatility regime: writes [label, percentile]. */
export class VolRegimeStream implements FeatureStream {
  private readonly std: RollingStdStream;
  private readonly ring: Float64Array;
  private head = 0;
  private filled = 0;
  private prevClose = NaN;

  constructor(period: number, readonly window: number) {
    this.std = new RollingStdStream(period);
    this.ring = new Float64Array(window);
  }

  update(_o: number, _h: number, _l: number, close: number, _v: number, out: Float64Array, offset: number): void {
    const r = Math.log(close / this.prevClose);
    this.prevClose = close;
    // the first bar's return is NaN: the rolling std masks every window holding it
    const vol = this.std.update(r);
    out[offset] = NaN;
    out[offset + 1] = NaN;
    if (!Number.isFinite(vol)) {
      // a gap in volatility restarts the percentile window: no regime across missing data
      this.filled = 0;
      this.head = 0;
      return;
    }
    this.ring[this.head] = vol;
    this.head = this.head + 1 === this.window ? 0 : this.head + 1;
    if (this.filled < this.window) this.filled++;
    if (this.filled < this.window) return;
    const p = percentile(this.ring, this.window, vol);
    out[offset] = p < 1 / 3 ? 0 : p > 2 / 3 ? 2 : 1;
    out[offset + 1] = p;
  }
}

/** Streaming trend: writes [slope %, label]. */
export class TrendStream implements FeatureStream {
  private readonly ema: EmaStream;
  private readonly adx: AdxStream;
  private readonly adxOut = new Float64Array(3);
  private prevEma = NaN;

  constructor(period: number, adxPeriod: number, readonly threshold: number) {
    this.ema = new EmaStream(period);
    this.adx = new AdxStream(adxPeriod);
  }

  update(_o: number, high: number, low: number, close: number, _v: number, out: Float64Array, offset: number): void {
    const e = this.ema.update(close);
    this.adx.update(high, low, close, this.adxOut, 0);
    const slope = (e / this.prevEma - 1) * 100;
    this.prevEma = e;
    const a = this.adxOut[0]!;
    const defined = Number.isFinite(slope) && Number.isFinite(a);
    out[offset] = defined ? slope : NaN;
    out[offset + 1] = !defined ? NaN : a < this.threshold ? 0 : slope > 0 ? 1 : slope < 0 ? -1 : 0;
  }
}

/** Batch form of a stream feature: runs the stream over the columns (one implementation, identical values). */
function runStream(stream: FeatureStream, inputs: FeatureInputs, width: number): Float64Array[] {
  const cols = Array.from({ length: width }, () => nanColumn(inputs.length));
  const row = new Float64Array(width);
  const { open, high, low, close, volume } = inputs;
  for (let i = 0; i < inputs.length; i++) {
    stream.update(open[i]!, high[i]!, low[i]!, close[i]!, volume[i]!, row, 0);
    for (let j = 0; j < width; j++) cols[j]![i] = row[j]!;
  }
  return cols;
}

const p = (x: FeatureParams, name: string, dflt: number): number => x[name] ?? dflt;

export const REGIME_FEATURES: FeatureDefinition[] = [
  {
    name: 'volregime',
    description: 'Volatility regime: 0 low / 1 normal / 2 high tercile of realized volatility within its trailing window, and the percentile',
    params: [periodParam('period', 20, 'bars of log returns in the realized volatility', 2), periodParam('window', 252, 'trailing volatility values ranked against', 2)],
    outputs: () => ['label', 'pct'],
    lookback: (x) => p(x, 'period', 20) + p(x, 'window', 252) - 1,
    batch: (inputs, x) => runStream(new VolRegimeStream(p(x, 'period', 20), p(x, 'window', 252)), inputs, 2),
    stream: (x) => new VolRegimeStream(p(x, 'period', 20), p(x, 'window', 252)),
  },
  {
    name: 'trend',
    description: 'Trend: EMA slope in % per bar, and +1/-1/0 when ADX >= threshold confirms an up/down trend',
    params: [periodParam('period', 20, 'EMA length'), periodParam('adx', 14, 'ADX length', 2), numberParam('threshold', 20, 'ADX level that counts as trending')],
    outputs: () => ['slope', 'label'],
    lookback: (x) => Math.max(p(x, 'period', 20), 2 * p(x, 'adx', 14) - 1),
    batch: (inputs, x) => runStream(new TrendStream(p(x, 'period', 20), p(x, 'adx', 14), p(x, 'threshold', 20)), inputs, 2),
    stream: (x) => new TrendStream(p(x, 'period', 20), p(x, 'adx', 14), p(x, 'threshold', 20)),
  },
];
