/**
 * Oscillators with TA-Lib conventions: RSI and MACD here; STOCH, WILLR and CCI live in
 * range-oscillators.ts and are re-exported. Each batch kernel and its stream perform the same
 * floating-point operations in the same order (bit-identical results).
 *
 * Degenerate denominators follow TA-Lib's rule (output 0) but test for exact zero: TA-Lib's
 * TA_IS_ZERO uses |x| < 1e-8, which is scale-dependent and only differs for tiny prices.
 * NaN inputs: RSI and MACD are recursive (a NaN poisons every later value); STOCH, WILLR and CCI
 * rescan their windows each bar, so a NaN masks only the windows holding it.
 */
import { nanColumn, periodParam, type FeatureDefinition, type FeatureParams, type FeatureStream } from '../feature-definition.js';
import { cci, CciStream, stoch, StochStream, willr, WillrStream } from './range-oscillators.js';

export { cci, CciStream, stoch, StochStream, willr, WillrStream, type StochOutput } from './range-oscillators.js';

function checkPeriod(period: number, min: number): void {
  if (!Number.isInteger(period) || period < min) throw new RangeError(`period must be an integer >= ${min}, got ${period}`);
}

// ---------------------------------------------------------------------------------------------- RSI

/** 100*gain/(gain+loss), TA-Lib's form of 100-100/(1+RS); 0 when there was no movement at all. */
function rsiOf(gain: number, loss: number): number {
  const total = gain + loss;
  return total !== 0 ? 100 * (gain / total) : 0;
}

/**
 * Relative strength index, TA-Lib RSI: average gain/loss seeded at bar `period` with the plain
 * averages of the first `period` changes, then Wilder's avg = (avg*(period-1) + x)/period.
 * Output 100*avgGain/(avgGain+avgLoss), 0 when both are 0 (trading-signals says 100 when only
 * the loss is 0, which agrees, and also when both are 0, which does not). Lookback: period.
 */
export function rsi(close: Float64Array, period: number): Float64Array {
  checkPeriod(period, 2);
  const out = nanColumn(close.length);
  let gain = 0;
  let loss = 0;
  for (let i = 1; i < close.length; i++) {
    const d = close[i]! - close[i - 1]!;
    if (i > period) {
      gain *= period - 1;
      loss *= period - 1;
    }
    if (d < 0) loss -= d;
    else gain += d;
    if (i < period) continue;
    gain /= period;
    loss /= period;
    out[i] = rsiOf(gain, loss);
  }
  return out;
}

/** Streaming RSI (same seeding and update order as `rsi`). */
export class RsiStream {
  private prev = NaN;
  private count = 0;
  private gain = 0;
  private loss = 0;
  constructor(readonly period: number) {
    checkPeriod(period, 2);
  }
  update(close: number): number {
    const i = this.count++;
    const d = close - this.prev;
    this.prev = close;
    if (i === 0) return NaN;
    const n = this.period;
    if (i > n) {
      this.gain *= n - 1;
      this.loss *= n - 1;
    }
    if (d < 0) this.loss -= d;
    else this.gain += d;
    if (i < n) return NaN;
    this.gain /= n;
    this.loss /= n;
    return rsiOf(this.gain, this.loss);
  }
}

// --------------------------------------------------------------------------------------------- MACD

export interface MacdOutput {
  line: Float64Array;
  signal: Float64Array;
  hist: Float64Array;
}

/**
 * MACD, TA-Lib MACD (as called on a whole series): both EMAs use k = 2/(period+1) and
 * prev + (x-prev)*k, and both start at bar slow-1: the slow EMA seeded with the SMA of closes
 * 0..slow-1, the fast one with the SMA of the `fast` closes ending at slow-1 (TA-Lib aligns the
 * fast EMA with the slow one rather than starting it at fast-1). line = fast - slow; signal = EMA
 * of the line seeded with the SMA of its first `signal` values; hist = line - signal. A slow
 * period shorter than the fast one is swapped, as TA-Lib does. Lookback: slow-1 + signal-1 (33).
 * trading-signals seeds its EMAs with the first value instead, so it agrees only once seeds decay.
 */
export function macd(close: Float64Array, fastPeriod: number, slowPeriod: number, signalPeriod: number): MacdOutput {
  checkPeriod(fastPeriod, 2);
  checkPeriod(slowPeriod, 2);
  checkPeriod(signalPeriod, 1);
  const fast = Math.min(fastPeriod, slowPeriod);
  const slow = Math.max(fastPeriod, slowPeriod);
  const kF = 2 / (fast + 1);
  const kS = 2 / (slow + 1);
  const kG = 2 / (signalPeriod + 1);
  const start = slow - 1;
  const lb = start + signalPeriod - 1;
  const len = close.length;
  const out: MacdOutput = { line: nanColumn(len), signal: nanColumn(len), hist: nanColumn(len) };
  let fastSum = 0;
  let slowSum = 0;
  let emaF = NaN;
  let emaS = NaN;
  let sigSum = 0;
  let sig = NaN;
  for (let i = 0; i < len; i++) {
    const x = close[i]!;
    if (i <= start) {
      slowSum += x;
      if (i >= slow - fast) fastSum += x;
      if (i < start) continue;
      emaF = fastSum / fast;
      emaS = slowSum / slow;
    } else {
      emaF = (x - emaF) * kF + emaF;
      emaS = (x - emaS) * kS + emaS;
    }
    const m = emaF - emaS;
    if (i <= lb) {
      sigSum += m;
      if (i < lb) continue;
      sig = sigSum / signalPeriod;
    } else {
      sig = (m - sig) * kG + sig;
    }
    out.line[i] = m;
    out.signal[i] = sig;
    out.hist[i] = m - sig;
  }
  return out;
}

/** Streaming MACD: `update` writes line, signal, hist into out[offset..offset+2]. */
export class MacdStream {
  private readonly fast: number;
  private readonly slow: number;
  private readonly kF: number;
  private readonly kS: number;
  private readonly kG: number;
  private count = 0;
  private fastSum = 0;
  private slowSum = 0;
  private emaF = NaN;
  private emaS = NaN;
  private sigSum = 0;
  private sig = NaN;
  constructor(fastPeriod: number, slowPeriod: number, readonly signalPeriod: number) {
    checkPeriod(fastPeriod, 2);
    checkPeriod(slowPeriod, 2);
    checkPeriod(signalPeriod, 1);
    this.fast = Math.min(fastPeriod, slowPeriod);
    this.slow = Math.max(fastPeriod, slowPeriod);
    this.kF = 2 / (this.fast + 1);
    this.kS = 2 / (this.slow + 1);
    this.kG = 2 / (signalPeriod + 1);
  }
  update(x: number, out: Float64Array, offset: number): void {
    const i = this.count++;
    const start = this.slow - 1;
    const lb = start + this.signalPeriod - 1;
    if (i <= start) {
      this.slowSum += x;
      if (i >= this.slow - this.fast) this.fastSum += x;
      if (i === start) {
        this.emaF = this.fastSum / this.fast;
        this.emaS = this.slowSum / this.slow;
      }
    } else {
      this.emaF = (x - this.emaF) * this.kF + this.emaF;
      this.emaS = (x - this.emaS) * this.kS + this.emaS;
    }
    const m = this.emaF - this.emaS;
    if (i >= start && i <= lb) {
      this.sigSum += m;
      if (i === lb) this.sig = this.sigSum / this.signalPeriod;
    } else if (i > lb) {
      this.sig = (m - this.sig) * this.kG + this.sig;
    }
    if (i < lb) {
      out.fill(NaN, offset, offset + 3);
      return;
    }
    out[offset] = m;
    out[offset + 1] = this.sig;
    out[offset + 2] = m - this.sig;
  }
}

// --------------------------------------------------------------------------------------- Features

const int = (p: FeatureParams, name: string, dflt: number): number => p[name] ?? dflt;

/** Adapts a scalar (high, low, close) stream to the FeatureStream contract. */
function hlcStream(s: { update(high: number, low: number, close: number): number }): FeatureStream {
  return {
    update: (_o, high, low, close, _v, out, offset) => {
      out[offset] = s.update(high, low, close);
    },
  };
}

export const OSCILLATOR_FEATURES: FeatureDefinition[] = [
  {
    name: 'rsi',
    description: 'Relative strength index, Wilder smoothing (TA-Lib RSI)',
    params: [periodParam('period', 14, 'Wilder smoothing period', 2)],
    outputs: () => [''],
    lookback: (p) => int(p, 'period', 14),
    batch: (inputs, p) => [rsi(inputs.close, int(p, 'period', 14))],
    stream: (p) => {
      const s = new RsiStream(int(p, 'period', 14));
      return {
        update: (_o, _h, _l, close, _v, out, offset) => {
          out[offset] = s.update(close);
        },
      };
    },
  },
  {
    name: 'macd',
    description: 'MACD line, signal and histogram (TA-Lib MACD, EMAs seeded by SMA)',
    params: [periodParam('fast', 12, 'fast EMA period', 2), periodParam('slow', 26, 'slow EMA period', 2), periodParam('signal', 9, 'signal EMA period', 1)],
    outputs: () => ['line', 'signal', 'hist'],
    lookback: (p) => Math.max(int(p, 'fast', 12), int(p, 'slow', 26)) - 1 + int(p, 'signal', 9) - 1,
    batch: (inputs, p) => {
      const m = macd(inputs.close, int(p, 'fast', 12), int(p, 'slow', 26), int(p, 'signal', 9));
      return [m.line, m.signal, m.hist];
    },
    stream: (p) => {
      const s = new MacdStream(int(p, 'fast', 12), int(p, 'slow', 26), int(p, 'signal', 9));
      return { update: (_o, _h, _l, close, _v, out, offset) => s.update(close, out, offset) };
    },
  },
  {
    name: 'stoch',
    description: 'Slow stochastic %K and %D, SMA smoothing (TA-Lib STOCH)',
    params: [periodParam('fastK', 14, 'bars in the high-low window', 1), periodParam('slowK', 3, 'SMA period of fast %K', 1), periodParam('slowD', 3, 'SMA period of slow %K', 1)],
    outputs: () => ['k', 'd'],
    lookback: (p) => int(p, 'fastK', 14) - 1 + int(p, 'slowK', 3) - 1 + int(p, 'slowD', 3) - 1,
    batch: (inputs, p) => {
      const s = stoch(inputs.high, inputs.low, inputs.close, int(p, 'fastK', 14), int(p, 'slowK', 3), int(p, 'slowD', 3));
      return [s.k, s.d];
    },
    stream: (p) => {
      const s = new StochStream(int(p, 'fastK', 14), int(p, 'slowK', 3), int(p, 'slowD', 3));
      return { update: (_o, high, low, close, _v, out, offset) => s.update(high, low, close, out, offset) };
    },
  },
  {
    name: 'willr',
    description: 'Williams %R in [-100, 0] (TA-Lib WILLR)',
    params: [periodParam('period', 14, 'bars in the high-low window', 2)],
    outputs: () => [''],
    lookback: (p) => int(p, 'period', 14) - 1,
    batch: (inputs, p) => [willr(inputs.high, inputs.low, inputs.close, int(p, 'period', 14))],
    stream: (p) => hlcStream(new WillrStream(int(p, 'period', 14))),
  },
  {
    name: 'cci',
    description: 'Commodity channel index on the typical price (TA-Lib CCI)',
    params: [periodParam('period', 20, 'bars in the window', 2)],
    outputs: () => [''],
    lookback: (p) => int(p, 'period', 20) - 1,
    batch: (inputs, p) => [cci(inputs.high, inputs.low, inputs.close, int(p, 'period', 20))],
    stream: (p) => hlcStream(new CciStream(int(p, 'period', 20))),
  },
];
