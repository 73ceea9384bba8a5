/** Trading days per year for annualizing daily statistics. */
export const TRADING_DAYS_PER_YEAR = 252;

/**
 * Drawdown of an equity curve as a fraction of the running peak: `equity / peak - 1` (0 at a new
 * high, negative below it). Non-finite or non-positive equity yields NaN at that point.
 */
export function drawdown(equity: ArrayLike<number>): Float64Array {
  const out = new Float64Array(equity.length);
  let peak = -Infinity;
  for (let i = 0; i < equity.length; i++) {
    const e = equity[i]!;
    if (!Number.isFinite(e) || e <= 0) {
      out[i] = NaN;
      continue;
    }
    if (e > peak) peak = e;
    out[i] = e / peak - 1;
  }
  return out;
}

/** Simple returns between consecutive samples: `out[k] = equity[k + 1] / equity[k] - 1` (length n - 1). */
export function simpleReturns(equity: ArrayLike<number>): Float64Array {
  const out = new Float64Array(Math.max(0, equity.length - 1));
  for (let k = 0; k < out.length; k++) {
    const prev = equity[k]!;
    out[k] = prev > 0 ? equity[k + 1]! / prev - 1 : NaN;
  }
  return out;
}

/** Rolling annualized Sharpe ratio and volatility (fractions), aligned with the returns. */
export interface RollingRisk {
  /** mean / sample stdev * sqrt(periodsPerYear), risk-free rate 0; NaN before a full window */
  sharpe: Float64Array;
  /** Sample stdev * sqrt(periodsPerYear); NaN before a full window */
  volatility: Float64Array;
}

/**
 * Rolling Sharpe ratio and volatility over the last `window` returns ending at each index.
 * Each window is summed afresh (O(n·window)), which keeps the numbers exact for short windows.
 */
export function rollingRisk(returns: ArrayLike<number>, window: number, periodsPerYear = TRADING_DAYS_PER_YEAR): RollingRisk {
  if (!Number.isInteger(window) || window < 2) throw new RangeError(`expected a window of at least 2 returns, was ${window}`);
  const n = returns.length;
  const sharpe = new Float64Array(n).fill(NaN);
  const volatility = new Float64Array(n).fill(NaN);
  const annualize = Math.sqrt(periodsPerYear);
  for (let end = window - 1; end < n; end++) {
    let sum = 0;
    for (let k = end - window + 1; k <= end; k++) sum += returns[k]!;
    const mean = sum / window;
    let squares = 0;
    for (let k = end - window + 1; k <= end; k++) squares += (returns[k]! - mean) ** 2;
    const stdev = Math.sqrt(squares / (window - 1));
    volatility[end] = stdev * annualize;
    sharpe[end] = stdev > 0 ? (mean / stdev) * annualize : NaN;
  }
  return { sharpe, volatility };
}

/** Return of one calendar month (UTC). */
export interface MonthlyReturn {
  year: number;
  /** 1 = January … 12 = December */
  month: number;
  /** Fraction: 0.02 is +2% */
  value: number;
}

/**
 * Calendar-month returns (UTC) from end-of-day equity: each month's last equity over the previous
 * month's last equity. The first month starts from `startingEquity` when it is positive, else from
 * the first sample. Months without samples are absent.
 */
export function monthlyReturns(ts: ArrayLike<number>, equity: ArrayLike<number>, startingEquity?: number): MonthlyReturn[] {
  const out: MonthlyReturn[] = [];
  if (ts.length === 0) return out;
  let base = startingEquity !== undefined && startingEquity > 0 ? startingEquity : equity[0]!;
  for (let i = 0; i < ts.length; i++) {
    const d = new Date(ts[i]!);
    const year = d.getUTCFullYear();
    const month = d.getUTCMonth() + 1;
    const next = i + 1 < ts.length ? new Date(ts[i + 1]!) : undefined;
    const monthEnds = next === undefined || next.getUTCFullYear() !== year || next.getUTCMonth() + 1 !== month;
    if (!monthEnds) continue;
    const e = equity[i]!;
    out.push({ year, month, value: base > 0 ? e / base - 1 : NaN });
    base = e;
  }
  return out;
}

/** Index of the last `ts[i] <= t` in ascending `ts`, or -1 when every sample is later. */
export function indexAtOrBefore(ts: ArrayLike<number>, t: number): number {
  let lo = 0;
  let hi = ts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid]! <= t) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}
