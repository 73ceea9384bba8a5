/**
 * Moving averages with TA-Lib conventions: EMA, WMA, DEMA, TEMA (SMA lives in ../sma.ts).
 * Each batch kernel and its stream perform the same floating-point operations in the same order,
 * so they agree bit for bit. The EMA family is recursive: a NaN input poisons every later output.
 */
import { nanColumn, periodParam, type FeatureDefinition, type FeatureInputs, type FeatureParams } from '../feature-definition.js';
import { sma, SmaStream } from '../sma.js';

/** A per-value stream: `update(x)` returns the feature value at this bar (NaN during warm-up). */
export interface ScalarStream {
  update(x: number): number;
}

/** Throws a RangeError unless `period` is an integer >= min (kernels validate once per call). */
export function checkPeriod(period: number, min = 1): void {
  if (!Number.isInteger(period) || period < min) throw new RangeError(`period must be an integer >= ${min}, got ${period}`);
}

/**
 * EMA of src[start..] written into out: seeded at start+period-1 with the SMA of the first
 * `period` values, then prev + k*(x - prev) with k = 2/(period+1), TA-Lib's update form.
 */
function emaInto(src: Float64Array, period: number, start: number, out: Float64Array): void {
  const k = 2 / (period + 1);
  const first = start + period - 1;
  if (first >= src.length) return;
  let sum = 0;
  for (let i = start; i <= first; i++) sum += src[i]!;
  let prev = sum / period;
  out[first] = prev;
  for (let i = first + 1; i < src.length; i++) {
    prev = (src[i]! - prev) * k + prev;
    out[i] = prev;
  }
}

function emaFrom(src: Float64Array, period: number, start: number): Float64Array {
  const out = nanColumn(src.length);
  emaInto(src, period, start, out);
  return out;
}

/**
 * Exponential moving average, TA-Lib EMA (default compatibility): k = 2/(period+1), seeded with
 * the SMA of the first `period` values. Lookback: period-1.
 */
export function ema(values: Float64Array, period: number): Float64Array {
  checkPeriod(period);
  return emaFrom(values, period, 0);
}

/**
 * Linearly weighted moving average (weights 1..n, newest heaviest), TA-Lib WMA. Lookback: period-1.
 * A non-finite input masks only the windows holding it: the sums are rebuilt once it has left.
 */
export function wma(values: Float64Array, period: number): Float64Array {
  checkPeriod(period);
  const out = nanColumn(values.length);
  const divider = (period * (period + 1)) / 2;
  // TA-Lib's O(1) scheme: `sum` is the plain window sum; subtracting it after each output shifts
  // every weight down by one, so adding x*period places the newest value at the top weight.
  let sum = 0;
  let wsum = 0;
  let bad = 0;
  let dirty = false;
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!;
    if (!Number.isFinite(x)) bad++;
    if (i >= period && !Number.isFinite(values[i - period]!)) bad--;
    if (i < period - 1) {
      sum += x;
      wsum += x * (i + 1);
      continue;
    }
    if (bad > 0) {
      dirty = true;
      continue;
    }
    if (dirty) {
      sum = 0;
      wsum = 0;
      for (let j = 0; j < period; j++) {
        const v = values[i - period + 1 + j]!;
        sum += v;
        wsum += v * (j + 1);
      }
      dirty = false;
    } else {
      const old = i >= period ? values[i - period]! : 0;
      sum += x;
      sum -= old;
      wsum += x * period;
    }
    out[i] = wsum / divider;
    wsum -= sum;
  }
  return out;
}

/** Double EMA, TA-Lib DEMA: 2*E1 - E2 with E2 = EMA(E1) seeded on E1's first `period` values. Lookback: 2(period-1). */
export function dema(values: Float64Array, period: number): Float64Array {
  const e1 = ema(values, period);
  const e2 = emaFrom(e1, period, period - 1);
  const out = nanColumn(values.length);
  for (let i = 2 * (period - 1); i < values.length; i++) out[i] = 2 * e1[i]! - e2[i]!;
  return out;
}

/** Triple EMA, TA-Lib TEMA: 3*E1 - 3*E2 + E3, each EMA seeded on the previous one's first outputs. Lookback: 3(period-1). */
export function tema(values: Float64Array, period: number): Float64Array {
  const e1 = ema(values, period);
  const e2 = emaFrom(e1, period, period - 1);
  const e3 = emaFrom(e2, period, 2 * (period - 1));
  const out = nanColumn(values.length);
  for (let i = 3 * (period - 1); i < values.length; i++) out[i] = 3 * e1[i]! - 3 * e2[i]! + e3[i]!;
  return out;
}

/** Streaming EMA: same seed (SMA of the first `period` values) and update as `ema`. */
export class EmaStream implements ScalarStream {
  private readonly k: number;
  private count = 0;
  private sum = 0;
  private prev = NaN;

  constructor(readonly period: number) {
    checkPeriod(period);
    this.k = 2 / (period + 1);
  }

  get ready(): boolean {
    return this.count >= this.period;
  }

  update(x: number): number {
    if (this.count >= this.period) {
      this.prev = (x - this.prev) * this.k + this.prev;
      return this.prev;
    }
    this.sum += x;
    if (++this.count === this.period) this.prev = this.sum / this.period;
    return this.prev;
  }
}

/** Streaming WMA: O(1) per update with the same running sums (and rebuild after a NaN) as `wma`. */
export class WmaStream implements ScalarStream {
  private readonly ring: Float64Array;
  private readonly divider: number;
  private head = 0;
  private count = 0;
  private sum = 0;
  private wsum = 0;
  private bad = 0;
  private dirty = false;

  constructor(readonly period: number) {
    checkPeriod(period);
    this.ring = new Float64Array(period);
    this.divider = (period * (period + 1)) / 2;
  }

  update(x: number): number {
    const n = this.period;
    const full = this.count >= n;
    const old = full ? this.ring[this.head]! : 0;
    this.ring[this.head] = x;
    this.head = this.head + 1 === n ? 0 : this.head + 1;
    if (!Number.isFinite(x)) this.bad++;
    if (full && !Number.isFinite(old)) this.bad--;
    if (this.count < n - 1) {
      this.sum += x;
      this.wsum += x * ++this.count;
      return NaN;
    }
    if (!full) this.count++;
    if (this.bad > 0) {
      this.dirty = true;
      return NaN;
    }
    if (this.dirty) {
      // Oldest value sits at head after the push: rebuild in chronological order, as `wma` does
      this.sum = 0;
      this.wsum = 0;
      for (let j = 0, k = this.head; j < n; j++, k = k + 1 === n ? 0 : k + 1) {
        const v = this.ring[k]!;
        this.sum += v;
        this.wsum += v * (j + 1);
      }
      this.dirty = false;
    } else {
      this.sum += x;
      this.sum -= old;
      this.wsum += x * n;
    }
    const out = this.wsum / this.divider;
    this.wsum -= this.sum;
    return out;
  }
}

/** Streaming DEMA: E2 is fed only E1's defined values, as in `dema`. */
export class DemaStream implements ScalarStream {
  private readonly e1: EmaStream;
  private readonly e2: EmaStream;

  constructor(readonly period: number) {
    this.e1 = new EmaStream(period);
    this.e2 = new EmaStream(period);
  }

  update(x: number): number {
    const a = this.e1.update(x);
    if (!this.e1.ready) return NaN;
    const b = this.e2.update(a);
    return this.e2.ready ? 2 * a - b : NaN;
  }
}

/** Streaming TEMA: each EMA is fed only the previous one's defined values, as in `tema`. */
export class TemaStream implements ScalarStream {
  private readonly e1: EmaStream;
  private readonly e2: EmaStream;
  private readonly e3: EmaStream;

  constructor(readonly period: number) {
    this.e1 = new EmaStream(period);
    this.e2 = new EmaStream(period);
    this.e3 = new EmaStream(period);
  }

  update(x: number): number {
    const a = this.e1.update(x);
    if (!this.e1.ready) return NaN;
    const b = this.e2.update(a);
    if (!this.e2.ready) return NaN;
    const c = this.e3.update(b);
    return this.e3.ready ? 3 * a - 3 * b + c : NaN;
  }
}

export interface SeriesFeatureSpec {
  readonly name: string;
  readonly description: string;
  /** The bar column the feature reads */
  readonly input: 'close' | 'volume';
  readonly defaultPeriod: number;
  readonly minPeriod?: number;
  readonly lookback: (period: number) => number;
  readonly kernel: (values: Float64Array, period: number) => Float64Array;
  readonly makeStream: (period: number) => ScalarStream;
}

/** Reads the `period` parameter, falling back to the default. */
export function periodOf(p: FeatureParams, dflt: number): number {
  return p['period'] ?? dflt;
}

/** Adapts a one-column, one-parameter (`period`), one-output kernel and stream to the feature contract. */
export function seriesFeature(spec: SeriesFeatureSpec): FeatureDefinition {
  const volume = spec.input === 'volume';
  return {
    name: spec.name,
    description: spec.description,
    params: [periodParam('period', spec.defaultPeriod, 'bars in the window', spec.minPeriod ?? 1)],
    outputs: () => [''],
    lookback: (p) => spec.lookback(periodOf(p, spec.defaultPeriod)),
    batch: (inputs: FeatureInputs, p) => [spec.kernel(volume ? inputs.volume : inputs.close, periodOf(p, spec.defaultPeriod))],
    stream: (p) => {
      const s = spec.makeStream(periodOf(p, spec.defaultPeriod));
      return { update: (_o, _h, _l, c, v, out, offset) => void (out[offset] = s.update(volume ? v : c)) };
    },
  };
}

type Kernel = SeriesFeatureSpec['kernel'];
const onClose = (name: string, description: string, lookback: (n: number) => number, kernel: Kernel, makeStream: (n: number) => ScalarStream): FeatureDefinition =>
  seriesFeature({ name, description, input: 'close', defaultPeriod: 20, lookback, kernel, makeStream });

export const MOVING_AVERAGE_FEATURES: FeatureDefinition[] = [
  onClose('sma', 'Simple moving average of close (TA-Lib SMA)', (n) => n - 1, (v, n) => (checkPeriod(n), sma(v, n)), (n) => (checkPeriod(n), new SmaStream(n))),
  onClose('ema', 'Exponential moving average of close, SMA-seeded (TA-Lib EMA)', (n) => n - 1, ema, (n) => new EmaStream(n)),
  onClose('wma', 'Linearly weighted moving average of close (TA-Lib WMA)', (n) => n - 1, wma, (n) => new WmaStream(n)),
  onClose('dema', 'Double exponential moving average of close (TA-Lib DEMA)', (n) => 2 * (n - 1), dema, (n) => new DemaStream(n)),
  onClose('tema', 'Triple exponential moving average of close (TA-Lib TEMA)', (n) => 3 * (n - 1), tema, (n) => new TemaStream(n)),
];
