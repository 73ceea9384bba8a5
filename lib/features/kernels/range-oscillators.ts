/**
 * Windowed oscillators with TA-Lib conventions: STOCH, WILLR, CCI (exported as features from
 * oscillators.ts). Windows are rescanned each bar (periods are small), so there is no running-sum
 * drift and a NaN input masks only the windows holding it. Batch and stream scan in the same
 * order and agree bit for bit. Zero denominators give 0, TA-Lib's rule (exact-zero test).
 */
import { nanColumn } from '../feature-definition.js';
import { ringMax, ringMin, ringPush, ringSum, windowMax, windowMin, windowSum } from './window-ring.js';

function checkPeriod(period: number, min: number): void {
  if (!Number.isInteger(period) || period < min) throw new RangeError(`period must be an integer >= ${min}, got ${period}`);
}

// -------------------------------------------------------------------------------------------- STOCH

/** TA-Lib fast %K: (close-lowest)/((highest-lowest)/100); 0 on a flat window. */
function fastK(close: number, highest: number, lowest: number): number {
  const diff = (highest - lowest) / 100;
  return diff !== 0 ? (close - lowest) / diff : 0;
}

export interface StochOutput {
  k: Float64Array;
  d: Float64Array;
}

/**
 * Slow stochastic, TA-Lib STOCH with SMA smoothing: fast %K over `fastK` bars (0 on a flat
 * window), slow %K = SMA(fast %K, slowK), slow %D = SMA(slow %K, slowD). Both outputs start at
 * the same bar, as in TA-Lib. Lookback: fastK-1 + slowK-1 + slowD-1 (17 for 14/3/3).
 */
export function stoch(high: Float64Array, low: Float64Array, close: Float64Array, fastKPeriod: number, slowKPeriod: number, slowDPeriod: number): StochOutput {
  checkPeriod(fastKPeriod, 1);
  checkPeriod(slowKPeriod, 1);
  checkPeriod(slowDPeriod, 1);
  const len = close.length;
  const fk = nanColumn(len);
  const sk = nanColumn(len);
  const out: StochOutput = { k: nanColumn(len), d: nanColumn(len) };
  const lbK = fastKPeriod - 1;
  const lbSK = lbK + slowKPeriod - 1;
  const lb = lbSK + slowDPeriod - 1;
  for (let i = lbK; i < len; i++) {
    const from = i - fastKPeriod + 1;
    fk[i] = fastK(close[i]!, windowMax(high, from, i), windowMin(low, from, i));
    if (i < lbSK) continue;
    sk[i] = windowSum(fk, i - slowKPeriod + 1, i) / slowKPeriod;
    if (i < lb) continue;
    out.k[i] = sk[i]!;
    out.d[i] = windowSum(sk, i - slowDPeriod + 1, i) / slowDPeriod;
  }
  return out;
}

/** Streaming STOCH: `update` writes k, d into out[offset..offset+1]. */
export class StochStream {
  private readonly highs: Float64Array;
  private readonly lows: Float64Array;
  private readonly fks: Float64Array;
  private readonly sks: Float64Array;
  private hlHead = 0;
  private fkHead = 0;
  private skHead = 0;
  private count = 0;
  constructor(readonly fastKPeriod: number, readonly slowKPeriod: number, readonly slowDPeriod: number) {
    checkPeriod(fastKPeriod, 1);
    checkPeriod(slowKPeriod, 1);
    checkPeriod(slowDPeriod, 1);
    this.highs = new Float64Array(fastKPeriod);
    this.lows = new Float64Array(fastKPeriod);
    this.fks = new Float64Array(slowKPeriod);
    this.sks = new Float64Array(slowDPeriod);
  }
  update(high: number, low: number, close: number, out: Float64Array, offset: number): void {
    const i = this.count++;
    const lbK = this.fastKPeriod - 1;
    const lbSK = lbK + this.slowKPeriod - 1;
    const lb = lbSK + this.slowDPeriod - 1;
    ringPush(this.highs, this.hlHead, high);
    this.hlHead = ringPush(this.lows, this.hlHead, low);
    out[offset] = NaN;
    out[offset + 1] = NaN;
    if (i < lbK) return;
    this.fkHead = ringPush(this.fks, this.fkHead, fastK(close, ringMax(this.highs), ringMin(this.lows)));
    if (i < lbSK) return;
    const sk = ringSum(this.fks, this.fkHead) / this.slowKPeriod;
    this.skHead = ringPush(this.sks, this.skHead, sk);
    if (i < lb) return;
    out[offset] = sk;
    out[offset + 1] = ringSum(this.sks, this.skHead) / this.slowDPeriod;
  }
}

// -------------------------------------------------------------------------------------------- WILLR

/** TA-Lib WILLR: (highest-close)/((highest-lowest)/-100), in [-100, 0]; 0 on a flat window. */
function willrOf(close: number, highest: number, lowest: number): number {
  const diff = (highest - lowest) / -100;
  return diff !== 0 ? (highest - close) / diff : 0;
}

/**
 * Williams %R, TA-Lib WILLR: -100*(highest high - close)/(highest high - lowest low) over the last
 * `period` bars including today. A flat window gives 0 (trading-signals gives -100). A close at
 * the highest high gives -0, as TA-Lib's division does. Lookback: period-1.
 */
export function willr(high: Float64Array, low: Float64Array, close: Float64Array, period: number): Float64Array {
  checkPeriod(period, 2);
  const out = nanColumn(close.length);
  for (let i = period - 1; i < close.length; i++) out[i] = willrOf(close[i]!, windowMax(high, i - period + 1, i), windowMin(low, i - period + 1, i));
  return out;
}

/** Streaming WILLR. */
export class WillrStream {
  private readonly highs: Float64Array;
  private readonly lows: Float64Array;
  private head = 0;
  private count = 0;
  constructor(readonly period: number) {
    checkPeriod(period, 2);
    this.highs = new Float64Array(period);
    this.lows = new Float64Array(period);
  }
  update(high: number, low: number, close: number): number {
    ringPush(this.highs, this.head, high);
    this.head = ringPush(this.lows, this.head, low);
    if (++this.count < this.period) return NaN;
    return willrOf(close, ringMax(this.highs), ringMin(this.lows));
  }
}

// ---------------------------------------------------------------------------------------------- CCI

/** (tp-mean)/(0.015*meanDeviation) given the window's sums; 0 when either factor is 0 (TA-Lib). */
function cciOf(tp: number, sum: number, absDevSum: number, period: number): number {
  const num = tp - sum / period;
  return num !== 0 && absDevSum !== 0 ? num / (0.015 * (absDevSum / period)) : 0;
}

/**
 * Commodity channel index, TA-Lib CCI: typical price tp = (high+low+close)/3; over the last
 * `period` tps, (tp - mean)/(0.015 * mean absolute deviation from the mean); 0 when tp equals the
 * mean or the window is flat. TA-Lib sums its circular buffer in slot order; this sums oldest
 * first (same value up to rounding). Lookback: period-1.
 */
export function cci(high: Float64Array, low: Float64Array, close: Float64Array, period: number): Float64Array {
  checkPeriod(period, 2);
  const len = close.length;
  const out = nanColumn(len);
  const tp = new Float64Array(len);
  for (let i = 0; i < len; i++) tp[i] = (high[i]! + low[i]! + close[i]!) / 3;
  for (let i = period - 1; i < len; i++) {
    const sum = windowSum(tp, i - period + 1, i);
    const mean = sum / period;
    let dev = 0;
    for (let j = i - period + 1; j <= i; j++) dev += Math.abs(tp[j]! - mean);
    out[i] = cciOf(tp[i]!, sum, dev, period);
  }
  return out;
}

/** Streaming CCI over a ring of the last `period` typical prices. */
export class CciStream {
  private readonly ring: Float64Array;
  private head = 0;
  private count = 0;
  constructor(readonly period: number) {
    checkPeriod(period, 2);
    this.ring = new Float64Array(period);
  }
  update(high: number, low: number, close: number): number {
    const tp = (high + low + close) / 3;
    this.head = ringPush(this.ring, this.head, tp);
    if (++this.count < this.period) return NaN;
    const sum = ringSum(this.ring, this.head);
    const mean = sum / this.period;
    let dev = 0;
    for (let j = this.head; j < this.period; j++) dev += Math.abs(this.ring[j]! - mean);
    for (let j = 0; j < this.head; j++) dev += Math.abs(this.ring[j]! - mean);
    return cciOf(tp, sum, dev, this.period);
  }
}
