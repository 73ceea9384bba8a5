import { describe, expect, it } from 'vitest';
import { bestIndex, objectiveValue } from './objective.js';
import { stitchDaily } from './stitch.js';
import type { RunStatistics } from '../backtest/result-types.js';

const part = (equity: number[], gross: number[], t0: number) => ({
  ts: Float64Array.from(equity, (_, i) => t0 + i),
  equity: Float64Array.from(equity),
  gross: Float64Array.from(gross),
  net: Float64Array.from(gross, (g) => -g),
});

describe('stitchDaily', () => {
  it('compounds each window\'s returns from the common starting cash', () => {
    // window 1: +10% then -10%; window 2 (restarts at 100): +5%
    const d = stitchDaily(100, [part([110, 99], [50, 0], 0), part([105], [105], 10)]);
    expect(Array.from(d.ts)).toEqual([0, 1, 10]);
    expect(d.equity[0]).toBeCloseTo(110, 12);
    expect(d.equity[1]).toBeCloseTo(99, 12);
    expect(d.equity[2]).toBeCloseTo(99 * 1.05, 12);
    // exposure keeps its fraction of equity: 105 / 105 of the stitched level
    expect(d.grossExposure[2]).toBeCloseTo(99 * 1.05, 12);
    expect(d.netExposure[0]).toBeCloseTo(-50, 12);
  });
});

describe('objective selection', () => {
  const stats = (sharpe: number, trades: number) => ({ sharpe, trades }) as RunStatistics;

  it('makes runs with too few trades ineligible', () => {
    expect(objectiveValue(stats(1.2, 3), 'sharpe', 4)).toBe(-Infinity);
    expect(objectiveValue(stats(1.2, 4), 'sharpe', 4)).toBe(1.2);
  });

  it('scores drawdown so that the shallower one wins', () => {
    const dd = (maxDrawdown: number) => ({ maxDrawdown, trades: 5 }) as RunStatistics;
    expect(bestIndex([objectiveValue(dd(0.3), 'maxDrawdown', 0), objectiveValue(dd(0.1), 'maxDrawdown', 0)])).toBe(1);
  });

  it('picks the best score, the first on ties, and -1 when none is eligible', () => {
    expect(bestIndex([0.5, 1, 1, -2])).toBe(1);
    expect(bestIndex([-Infinity, NaN, -0.5])).toBe(2);
    expect(bestIndex([-Infinity, NaN])).toBe(-1);
  });
});
