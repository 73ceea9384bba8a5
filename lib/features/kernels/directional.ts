/**
 * Wilder's directional movement system, TA-Lib ADX / PLUS_DI / MINUS_DI. The batch kernel and the
 * stream share one step function over a small state vector, so they perform the same
 * floating-point operations in the same order and agree bit for bit.
 */
import { nanColumn, periodParam, type FeatureDefinition, type FeatureParams } from '../feature-definition.js';
import { trueRangeOf } from './volatility.js';

function checkPeriod(period: number, min: number): void {
  if (!Number.isInteger(period) || period < min) throw new RangeError(`period must be an integer >= ${min}, got ${period}`);
}

// State slots: previous bar, Wilder sums of +DM, -DM and TR, the DX seed sum and the ADX
const PH = 0;
const PL = 1;
const PC = 2;
const PDM = 3;
const MDM = 4;
const TR = 5;
const SUM_DX = 6;
const ADX = 7;
const STATE = 8;

/**
 * Consumes bar i (0-based) and writes adx, +DI, -DI into out[o..o+2] (NaN before 2n-1).
 * Follows ta_ADX.c step for step:
 * - +DM = up move if up > 0 and up > down move, -DM = down move if down > 0 and down > up; a tie
 *   gives neither.
 * - Bars 1..n-1 sum +DM, -DM and TR (n-1 values, TA-Lib's seed); from bar n on, Wilder's
 *   running sum: s = s - s/n + x.
 * - +DI = 100*(+DM/TR), -DI likewise, 0 when the smoothed TR is 0 (TA-Lib PLUS_DI's rule).
 * - DX = 100*|+DI - -DI|/(+DI + -DI) at bars n..2n-1, summed; ADX at 2n-1 = sum/n (a DX skipped
 *   because TR or +DI + -DI was 0 still counts in the divisor, as in TA-Lib), then
 *   adx = (adx*(n-1) + dx)/n, left unchanged on a bar whose DX is undefined.
 */
function adxStep(s: Float64Array, n: number, i: number, high: number, low: number, close: number, out: Float64Array, o: number): void {
  out[o] = NaN;
  out[o + 1] = NaN;
  out[o + 2] = NaN;
  if (i === 0) {
    s[PH] = high;
    s[PL] = low;
    s[PC] = close;
    return;
  }
  const diffP = high - s[PH]!;
  const diffM = s[PL]! - low;
  const tr = trueRangeOf(high, low, s[PC]!);
  s[PH] = high;
  s[PL] = low;
  s[PC] = close;
  if (i >= n) {
    s[PDM] = s[PDM]! - s[PDM]! / n;
    s[MDM] = s[MDM]! - s[MDM]! / n;
    s[TR] = s[TR]! - s[TR]! / n;
  }
  if (diffM > 0 && diffP < diffM) s[MDM] = s[MDM]! + diffM;
  else if (diffP > 0 && diffP > diffM) s[PDM] = s[PDM]! + diffP;
  s[TR] = s[TR]! + tr;
  if (i < n) return;

  // DX is undefined (skipped) when TR or +DI + -DI is 0; a NaN passes both guards and poisons
  const trSum = s[TR]!;
  let plusDI = 0;
  let minusDI = 0;
  let dx = 0;
  let hasDx = false;
  if (trSum !== 0) {
    minusDI = 100 * (s[MDM]! / trSum);
    plusDI = 100 * (s[PDM]! / trSum);
    const diSum = minusDI + plusDI;
    if (diSum !== 0) {
      dx = 100 * (Math.abs(minusDI - plusDI) / diSum);
      hasDx = true;
    }
  }
  const last = 2 * n - 1;
  if (i <= last) {
    if (hasDx) s[SUM_DX] = s[SUM_DX]! + dx;
    if (i < last) return;
    s[ADX] = s[SUM_DX]! / n;
  } else if (hasDx) {
    s[ADX] = (s[ADX]! * (n - 1) + dx) / n;
  }
  out[o] = s[ADX]!;
  out[o + 1] = plusDI;
  out[o + 2] = minusDI;
}

export interface AdxOutput {
  adx: Float64Array;
  plusDI: Float64Array;
  minusDI: Float64Array;
}

/**
 * Average directional index with +DI and -DI, TA-Lib ADX/PLUS_DI/MINUS_DI (Wilder, no
 * rounding). TA-Lib defines +DI/-DI from bar n and the ADX from bar 2n-1; this feature has one
 * warm-up, so all three outputs are NaN before 2n-1 (the DI values from 2n-1 on equal TA-Lib's
 * PLUS_DI/MINUS_DI). Lookback: 2n-1 (27 for 14). trading-signals' DX/ADX seed their averages
 * from bar 0 and agree only once the seeds decay.
 */
export function adx(high: Float64Array, low: Float64Array, close: Float64Array, period: number): AdxOutput {
  checkPeriod(period, 2);
  const len = close.length;
  const out: AdxOutput = { adx: nanColumn(len), plusDI: nanColumn(len), minusDI: nanColumn(len) };
  const s = new Float64Array(STATE);
  const bar = new Float64Array(3);
  for (let i = 0; i < len; i++) {
    adxStep(s, period, i, high[i]!, low[i]!, close[i]!, bar, 0);
    out.adx[i] = bar[0]!;
    out.plusDI[i] = bar[1]!;
    out.minusDI[i] = bar[2]!;
  }
  return out;
}

/** Streaming ADX: `update` writes adx, +DI, -DI into out[offset..offset+2]. */
export class AdxStream {
  private readonly state = new Float64Array(STATE);
  private count = 0;
  constructor(readonly period: number) {
    checkPeriod(period, 2);
  }
  update(high: number, low: number, close: number, out: Float64Array, offset: number): void {
    adxStep(this.state, this.period, this.count++, high, low, close, out, offset);
  }
}

const period = (p: FeatureParams): number => p['period'] ?? 14;

export const DIRECTIONAL_FEATURES: FeatureDefinition[] = [
  {
    name: 'adx',
    description: 'Average directional index with +DI and -DI, Wilder smoothing (TA-Lib ADX)',
    params: [periodParam('period', 14, 'Wilder smoothing period', 2)],
    outputs: () => ['adx', 'plus_di', 'minus_di'],
    lookback: (p) => 2 * period(p) - 1,
    batch: (inputs, p) => {
      const r = adx(inputs.high, inputs.low, inputs.close, period(p));
      return [r.adx, r.plusDI, r.minusDI];
    },
    stream: (p) => {
      const s = new AdxStream(period(p));
      return { update: (_o, high, low, close, _v, out, offset) => s.update(high, low, close, out, offset) };
    },
  },
];
