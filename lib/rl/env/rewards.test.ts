import { describe, expect, it } from 'vitest';
import { handDataset } from './env-fixtures.js';
import { PnlReward, PositionReturnReward, RiskAwareReward } from './rewards.js';
import { EnvState } from './state.js';

function state(): EnvState {
  const data = handDataset([
    [100, 100, 110],
    [50, 50, 45],
  ]);
  const st = new EnvState(data, 1, 2, 1);
  st.slotSymbol.set([0, 1]);
  st.startEquity[0] = 10_000;
  return st;
}

describe('PnlReward', () => {
  it('is the equity change in units of the starting equity', () => {
    const st = state();
    st.prevEquity[0] = 10_200;
    st.equity[0] = 10_300;
    new PnlReward().reward(st, 0);
    expect(st.reward[0]).toBeCloseTo(0.01, 15);
  });
});

describe('PositionReturnReward', () => {
  it('sums held weight x the symbol return from the previous row to this one', () => {
    const st = state();
    st.row[0] = 2;
    st.held.set([0.5, -0.25]);
    new PositionReturnReward().reward(st, 0);
    // 0.5 x (110/100 - 1) + -0.25 x (45/50 - 1) = 0.05 + 0.025
    expect(st.reward[0]).toBeCloseTo(0.075, 15);
  });
});

describe('RiskAwareReward', () => {
  it('divides the return net of penalties by the volatility of earlier returns', () => {
    const st = state();
    // half-life 1 step: v <- v + 0.5 (r^2 - v)
    const reward = new RiskAwareReward(1, { drawdownPenalty: 1, turnoverPenalty: 0.001, volHalfLife: 1, volFloor: 0.01 });
    reward.reset(st, 0);
    // step 1: +2% with turnover 2 and no drawdown: (0.02 - 0.001 x 2) / floor 0.01 = 1.8
    st.prevEquity[0] = 10_000;
    st.equity[0] = 10_200;
    st.turnover[0] = 2;
    reward.reward(st, 0);
    expect(st.reward[0]).toBeCloseTo(1.8, 12);
    // step 2: -3% makes a new worst drawdown of 3%: (-0.03 - 1 x 0.03) / sqrt(0.5 x 0.02^2)
    st.prevEquity[0] = 10_200;
    st.equity[0] = 10_200 * 0.97;
    st.turnover[0] = 0;
    st.prevMaxDrawdown[0] = 0;
    st.maxDrawdown[0] = 0.03;
    reward.reward(st, 0);
    expect(st.reward[0]).toBeCloseTo(-0.06 / Math.sqrt(0.0002), 10);
    // step 3: -1% inside the drawdown but not deeper than 3%: only the return counts
    st.prevEquity[0] = st.equity[0]!;
    st.equity[0] = st.prevEquity[0]! * 0.99;
    st.prevMaxDrawdown[0] = 0.03;
    const v = 0.0002 + 0.5 * (0.03 * 0.03 - 0.0002);
    reward.reward(st, 0);
    expect(st.reward[0]).toBeCloseTo(-0.01 / Math.sqrt(v), 10);
  });
  it('keeps one running volatility per env and forgets it at reset', () => {
    const st = new EnvState(state().data, 2, 2, 1);
    st.startEquity.fill(10_000);
    const reward = new RiskAwareReward(2, { drawdownPenalty: 0, turnoverPenalty: 0, volHalfLife: 1, volFloor: 0.01 });
    st.prevEquity.fill(10_000);
    st.equity[0] = 11_000; // a 10% move raises env 0's volatility only
    st.equity[1] = 10_000;
    reward.reward(st, 0);
    reward.reward(st, 1);
    st.equity.fill(10_100);
    reward.reward(st, 0);
    reward.reward(st, 1);
    expect(st.reward[0]).toBeCloseTo(0.01 / Math.sqrt(0.5 * 0.01), 12);
    expect(st.reward[1]).toBeCloseTo(1, 12);
    reward.reset(st, 0);
    reward.reward(st, 0);
    expect(st.reward[0]).toBeCloseTo(1, 12);
  });
});
