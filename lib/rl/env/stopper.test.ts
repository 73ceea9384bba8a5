import { describe, expect, it } from 'vitest';
import { handDataset } from './env-fixtures.js';
import { EnvState } from './state.js';
import { DrawdownStopper } from './stopper.js';

function state(equity: number, drawdown: number, step: number): EnvState {
  const st = new EnvState(handDataset([[1, 1, 1]]), 1, 1, 1);
  st.startEquity[0] = 10_000;
  st.equity[0] = equity;
  st.drawdown[0] = drawdown;
  st.step[0] = step;
  return st;
}

describe('DrawdownStopper', () => {
  const stopper = new DrawdownStopper({ maxDrawdown: 0.25, equityFloor: 0.5, warmupSteps: 3 });
  it('stops at the drawdown threshold, not before', () => {
    expect(stopper.stop(state(9_000, 0.25, 3), 0)).toBe(true);
    expect(stopper.stop(state(9_000, 0.2499, 3), 0)).toBe(false);
  });
  it('stops at the equity floor (a fraction of the starting equity), not above it', () => {
    expect(stopper.stop(state(5_000, 0, 3), 0)).toBe(true);
    expect(stopper.stop(state(5_001, 0, 3), 0)).toBe(false);
  });
  it('checks neither threshold during warm-up', () => {
    expect(stopper.stop(state(1_000, 0.9, 2), 0)).toBe(false);
    expect(stopper.stop(state(1_000, 0.9, 3), 0)).toBe(true);
  });
  it('always stops a wiped-out account, warm-up or not', () => {
    expect(stopper.stop(state(0, 1, 0), 0)).toBe(true);
    expect(stopper.stop(state(-5, 1, 0), 0)).toBe(true);
  });
  it('maxDrawdown 1 and equityFloor 0 disable the thresholds', () => {
    const never = new DrawdownStopper({ maxDrawdown: 1, equityFloor: 0, warmupSteps: 0 });
    expect(never.stop(state(1, 0.9999, 10), 0)).toBe(false);
  });
});
