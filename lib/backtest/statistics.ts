/**
 * Statistics of a backtest run, computed from the daily equity series and the closed trades.
 *
 * Notation: `n` = number of daily samples, `P` = `periodsPerYear` (default 252),
 * `years = n / P`, `rf = riskFreeRate / P` (simple daily risk-free rate, default 0).
 *
 * Returns
 * - Daily simple returns `r_t = equity_t / equity_{t-1} - 1`; the first is relative to
 *   `startingEquity` (equity before the first day). A return whose base equity is not
 *   positive (account wiped out) is taken as 0: there is nothing left to compound.
 * - `e_t = r_t - rf` are the excess returns used by sharpe, sortino and PSR.
 *
 * Fields
 * - `startingEquity`: passthrough. `finalEquity`: last daily equity, or `startingEquity` if
 *   there are no samples. `days`: `n`. `feesPaid`: passthrough.
 * - `totalReturn = finalEquity / startingEquity - 1` (0 if `startingEquity <= 0`).
 * - `annualReturn` (CAGR) `= (1 + totalReturn)^(1 / years) - 1`; 0 when `n = 0`,
 *   -1 when the account lost everything (`1 + totalReturn <= 0`).
 * - `annualVolatility = std(r) * sqrt(P)`, sample standard deviation (divisor `n - 1`);
 *   0 when `n < 2`.
 * - `sharpe = mean(e) / std(e) * sqrt(P)`. 0 when `n < 2` or `std < 1e-12` (a constant
 *   series, where only rounding noise would remain).
 * - `sortino = mean(e) / DD * sqrt(P)` with downside deviation
 *   `DD = sqrt(sum(min(e_t, 0)^2) / n)` over ALL `n` returns. 0 when `n < 2` or
 *   `DD < 1e-12`: a run without a single losing day reports 0, not Infinity.
 * - `probabilisticSharpe` (Bailey & López de Prado 2012), the probability that the true
 *   Sharpe exceeds the benchmark `SR* = 0`, from the NON-annualized daily `SR = mean(e) / std(e)`:
 *   `PSR = Phi(SR * sqrt(n - 1) / sqrt(1 - g3 * SR + (g4 - 1) / 4 * SR^2))` where
 *   `g3 = m3 / m2^1.5` is the sample skewness and `g4 = m4 / m2^2` the (non-excess) kurtosis,
 *   both from biased central moments `m_k = sum((e_t - mean)^k) / n` (as scipy's
 *   `skew`/`kurtosis(fisher=False)` defaults). Reported as 0.5 ("no evidence either way",
 *   consistent with sharpe = 0) when `n < 3` or `std < 1e-12`. If the variance term under
 *   the root is not positive (only possible for two-point distributions), the limit is
 *   reported: 1 if `SR > 0`, 0 if `SR < 0`, 0.5 if `SR = 0`. `Phi` is {@link normalCdf}.
 * - `maxDrawdown`: largest `(peak - equity_t) / peak` over daily equity, as a positive
 *   fraction; `startingEquity` is the initial peak. 0 while the peak is not positive.
 * - `maxDrawdownDurationDays`: longest time, in calendar days between daily `ts` values
 *   (`DAY_MS` = 86 400 000), from a peak until equity first gets back to at least that
 *   peak, or until the last sample if it never does. The `startingEquity` peak is dated
 *   one day before the first sample (it is the equity at the start of that day).
 * - `calmar = annualReturn / maxDrawdown`, 0 when `maxDrawdown` is 0.
 * - `trades`: number of closed trades. `winRate`: share with `netPnl > 0` (a trade with
 *   `netPnl = 0` is neither a win nor a loss). 0 without trades.
 * - `profitFactor = sum(netPnl > 0) / |sum(netPnl < 0)|`. 0 when there is no losing trade
 *   (the ratio is undefined, and Infinity has no JSON form): check `averageLoss === 0` to
 *   tell "no losses" from "no wins".
 * - `averageWin`: mean `netPnl` of winning trades (0 if none). `averageLoss`: mean `netPnl`
 *   of losing trades, a negative number (0 if none). `expectancy`: mean `netPnl` per trade
 *   (0 without trades).
 * - `turnover = tradedNotional / mean(equity_t) / years`: traded notional per year as a
 *   multiple of average equity; buying and later selling the whole equity once counts 2.
 *   0 when `n = 0` or the mean equity is not positive.
 * - `exposure`: share of daily samples with `grossExposure > 0` (0 if `n = 0`).
 * - `averageGrossExposure`: mean of `grossExposure_t / equity_t` (gross leverage) over the
 *   samples with positive equity, where leverage is defined; 0 if there are none.
 *
 * Every field is a finite number for any input, so JSON output is deterministic: as a last
 * resort a value that would still be non-finite (NaN in the inputs, overflow of an absurd
 * CAGR) is reported as 0.
 */
import { InvariantError } from '../core/errors.js';
import { DAY_MS } from '../core/time-zone.js';
import type { RunStatistics, StatisticsInput } from './result-types.js';

const DEFAULT_PERIODS_PER_YEAR = 252;
/** Daily return std below this is rounding noise of a constant series, i.e. zero. */
const ZERO_STD = 1e-12;
/** ln(sqrt(2 * pi)) */
const LN_SQRT_2PI = 0.9189385332046728;

/**
 * Standard normal CDF `Phi(x) = (1 + erf(x / sqrt 2)) / 2`, by Marsaglia's (2004) series
 * `Phi(x) = 1/2 + phi(x) * (x + x^3/3 + x^5/(3*5) + ...)`. Absolute error below 2e-15 on
 * the whole real line (measured against scipy on a 0.001 grid over [-9, 9]; below 6e-16
 * for |x| <= 3). For |x| > 8 the exact value is within 6.3e-16 of 0 or 1, which is
 * returned. Absolute, not relative, accuracy: far lower tails are not resolved. NaN gives NaN.
 */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x < -8) return 0;
  if (x > 8) return 1;
  const q = x * x;
  let sum = x;
  let term = x;
  let prev = 0;
  // Terms grow while i < x^2 (<= 64), then shrink geometrically: the sum settles in < 200 steps.
  for (let i = 3; sum !== prev; i += 2) {
    prev = sum;
    term *= q / i;
    sum += term;
  }
  return 0.5 + sum * Math.exp(-0.5 * q - LN_SQRT_2PI);
}

/**
 * Statistics of one run; every definition is in this module's documentation above.
 * Pure: reads the input arrays, allocates one Float64Array of returns.
 * @throws InvariantError when the daily arrays differ in length or `periodsPerYear` /
 * `riskFreeRate` are not usable numbers (caller bugs, not data problems).
 */
export function computeStatistics(input: StatisticsInput): RunStatistics {
  const { daily, trades } = input;
  const periods = input.periodsPerYear ?? DEFAULT_PERIODS_PER_YEAR;
  const riskFree = input.riskFreeRate ?? 0;
  if (!(periods > 0) || !Number.isFinite(periods)) throw new InvariantError(`periodsPerYear must be a positive number, got ${periods}`);
  if (!Number.isFinite(riskFree)) throw new InvariantError(`riskFreeRate must be finite, got ${riskFree}`);
  const n = daily.equity.length;
  if (daily.ts.length !== n || daily.grossExposure.length !== n || daily.netExposure.length !== n) {
    throw new InvariantError(`daily series arrays differ in length (ts ${daily.ts.length}, equity ${n}, gross ${daily.grossExposure.length}, net ${daily.netExposure.length})`);
  }

  const start = input.startingEquity;
  const finalEquity = n > 0 ? daily.equity[n - 1]! : start;
  const years = n / periods;
  const totalReturn = start > 0 ? finalEquity / start - 1 : 0;
  const growth = 1 + totalReturn;
  const annualReturn = n === 0 ? 0 : growth <= 0 ? -1 : Math.pow(growth, 1 / years) - 1;
  const rfDaily = riskFree / periods;

  // Pass 1 over the equity path: excess returns, drawdown, exposure.
  const excess = new Float64Array(n);
  let sumExcess = 0;
  let prev = start;
  let peak = start;
  let peakTs = n > 0 ? daily.ts[0]! - DAY_MS : 0;
  let underwater = false;
  let maxDrawdown = 0;
  let maxDurationMs = 0;
  let sumEquity = 0;
  let exposedDays = 0;
  let sumLeverage = 0;
  let leverageDays = 0;
  for (let t = 0; t < n; t++) {
    const eq = daily.equity[t]!;
    const at = daily.ts[t]!;
    const e = (prev > 0 ? eq / prev - 1 : 0) - rfDaily;
    excess[t] = e;
    sumExcess += e;
    prev = eq;
    if (eq >= peak) {
      if (underwater) maxDurationMs = Math.max(maxDurationMs, at - peakTs);
      underwater = false;
      peak = eq;
      peakTs = at;
    } else {
      underwater = true;
      if (peak > 0) maxDrawdown = Math.max(maxDrawdown, (peak - eq) / peak);
    }
    sumEquity += eq;
    const gross = daily.grossExposure[t]!;
    if (gross > 0) exposedDays++;
    if (eq > 0) {
      sumLeverage += gross / eq;
      leverageDays++;
    }
  }
  if (underwater) maxDurationMs = Math.max(maxDurationMs, daily.ts[n - 1]! - peakTs);

  // Pass 2: central moments of the excess returns (two-pass for accuracy) and downside.
  const mean = n > 0 ? sumExcess / n : 0;
  let s2 = 0;
  let s3 = 0;
  let s4 = 0;
  let sumDown = 0;
  for (let t = 0; t < n; t++) {
    const e = excess[t]!;
    const d = e - mean;
    const d2 = d * d;
    s2 += d2;
    s3 += d2 * d;
    s4 += d2 * d2;
    if (e < 0) sumDown += e * e;
  }
  const std = n > 1 ? Math.sqrt(s2 / (n - 1)) : 0;
  const downside = n > 0 ? Math.sqrt(sumDown / n) : 0;
  const sqrtPeriods = Math.sqrt(periods);
  const flat = n < 2 || !(std >= ZERO_STD);
  const sharpe = flat ? 0 : (mean / std) * sqrtPeriods;
  const sortino = n < 2 || !(downside >= ZERO_STD) ? 0 : (mean / downside) * sqrtPeriods;
  const probabilisticSharpe = n < 3 || flat ? 0.5 : psr(mean / std, n, s2 / n, s3 / n, s4 / n);

  // Trades.
  let wins = 0;
  let losses = 0;
  let grossWins = 0;
  let grossLosses = 0;
  let sumPnl = 0;
  for (const trade of trades) {
    const pnl = trade.netPnl;
    sumPnl += pnl;
    if (pnl > 0) {
      wins++;
      grossWins += pnl;
    } else if (pnl < 0) {
      losses++;
      grossLosses += pnl;
    }
  }
  const count = trades.length;
  const meanEquity = n > 0 ? sumEquity / n : 0;

  return {
    startingEquity: finite(start),
    finalEquity: finite(finalEquity),
    totalReturn: finite(totalReturn),
    annualReturn: finite(annualReturn),
    annualVolatility: finite(std * sqrtPeriods),
    sharpe: finite(sharpe),
    sortino: finite(sortino),
    probabilisticSharpe: finite(probabilisticSharpe),
    maxDrawdown: finite(maxDrawdown),
    maxDrawdownDurationDays: finite(maxDurationMs / DAY_MS),
    calmar: finite(maxDrawdown > 0 ? annualReturn / maxDrawdown : 0),
    trades: count,
    winRate: count > 0 ? wins / count : 0,
    profitFactor: finite(grossLosses < 0 ? grossWins / -grossLosses : 0),
    averageWin: finite(wins > 0 ? grossWins / wins : 0),
    averageLoss: finite(losses > 0 ? grossLosses / losses : 0),
    expectancy: finite(count > 0 ? sumPnl / count : 0),
    turnover: finite(n > 0 && meanEquity > 0 ? input.tradedNotional / meanEquity / years : 0),
    exposure: n > 0 ? exposedDays / n : 0,
    averageGrossExposure: finite(leverageDays > 0 ? sumLeverage / leverageDays : 0),
    feesPaid: finite(input.feesPaid),
    days: n,
  };
}

/** PSR against SR* = 0 from the daily Sharpe and the biased central moments m2..m4. */
function psr(sr: number, n: number, m2: number, m3: number, m4: number): number {
  const skew = m3 / Math.pow(m2, 1.5);
  const kurt = m4 / (m2 * m2);
  const variance = 1 - skew * sr + ((kurt - 1) / 4) * sr * sr;
  // Non-positive only at the two-point boundary (kurt = skew^2 + 1): report the limit.
  if (!(variance > 0)) return sr > 0 ? 1 : sr < 0 ? 0 : 0.5;
  const z = (sr * Math.sqrt(n - 1)) / Math.sqrt(variance);
  return Number.isNaN(z) ? 0.5 : normalCdf(z);
}

/** Keeps JSON deterministic: NaN and ±Infinity become 0. */
function finite(x: number): number {
  return Number.isFinite(x) ? x : 0;
}
