import { ConfigError } from '../core/errors.js';
import type { RunStatistics } from '../backtest/result-types.js';

/** Statistics a search can maximize. maxDrawdown (a positive fraction) scores as its negative, so shallower wins. */
export const OBJECTIVES = ['sharpe', 'sortino', 'probabilisticSharpe', 'calmar', 'totalReturn', 'annualReturn', 'profitFactor', 'expectancy', 'maxDrawdown'] as const;
export type ObjectiveName = (typeof OBJECTIVES)[number];

export function parseObjective(s: string): ObjectiveName {
  if ((OBJECTIVES as readonly string[]).includes(s)) return s as ObjectiveName;
  throw new ConfigError('--objective', [`expected one of ${OBJECTIVES.join(', ')}, was '${s}'`]);
}

/**
 * The score of a run: the chosen statistic, or -Infinity when the run made fewer than `minTrades`
 * round trips (a flat strategy's Sharpe of 0 must not beat a real but slightly negative one by
 * accident of not trading).
 */
export function objectiveValue(s: RunStatistics, objective: ObjectiveName, minTrades: number): number {
  if (s.trades < minTrades) return -Infinity;
  return objective === 'maxDrawdown' ? -s.maxDrawdown : s[objective];
}

/**
 * Index of the best score; ties go to the lowest index (grid order), so the choice never depends
 * on completion order or worker count. -1 when every score is -Infinity or NaN.
 */
export function bestIndex(scores: ArrayLike<number>): number {
  let best = -1;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i]!;
    if (v === -Infinity || Number.isNaN(v)) continue;
    if (best < 0 || v > scores[best]!) best = i;
  }
  return best;
}
