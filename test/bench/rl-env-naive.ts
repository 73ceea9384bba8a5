/**
 * Baseline of the rl-env benchmark: the same trading environment as lib/rl/env (volatility-targeted
 * action, fills at the close through the engine's slippage and commission models, risk-aware
 * reward, drawdown stopper, auto-reset), written the way a per-step Gym env usually is: one object
 * per env, positions in a Map, a fill object per trade, and a fresh nested-array observation
 * `[symbols][features][window]` plus step-result and info objects on every step.
 *
 * Same arithmetic in the same order as the vectorized env, so both produce the same rewards for the
 * same seed and actions (the benchmark checks that before timing anything). Covers the benchmark's
 * configuration only: every symbol in every episode, random starts, fixed episode length.
 */
import { parseCommissionModel, newOrderCommissionState, type CommissionModel } from '../../lib/backtest/commission.js';
import { slippedPrice } from '../../lib/backtest/slippage.js';
import { SeededRandom } from '../../lib/core/seeded-random.js';
import type { TradingEnvConfig } from '../../lib/rl/env/config.js';
import { validRange, type EnvDataset } from '../../lib/rl/env/dataset.js';

interface Fill {
  symbol: string;
  quantity: number;
  price: number;
  commission: number;
}

export interface NaiveStepResult {
  observation: { features: number[][][]; mask: number[]; weights: number[] };
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: { step: number; equity: number; drawdown: number; fills: Fill[]; turnover: number };
}

export class NaiveTradingEnv {
  private rng = new SeededRandom(0);
  private readonly model: CommissionModel;
  private positions = new Map<string, number>();
  private cash = 0;
  private equity = 0;
  private peak = 0;
  private maxDrawdown = 0;
  private v = 0;
  private row = 0;
  private steps = 0;
  rewardSum = 0;

  constructor(
    readonly data: EnvDataset,
    readonly config: TradingEnvConfig,
  ) {
    this.model = parseCommissionModel(config.portfolio.commission);
  }

  reset(seed?: number): NaiveStepResult['observation'] {
    if (seed !== undefined) this.rng = new SeededRandom(seed);
    const W = this.config.episode.window;
    const L = this.config.episode.length as number;
    const lo = W - 1;
    const hi = this.data.ts.length - 1 - L;
    // redraw starts whose window reaches rows without data (volatility warm-up), as the real env does
    do this.row = lo + this.rng.int(hi - lo + 1);
    while (!this.data.symbols.every((_, u) => validRange(this.data, u, this.row - W + 1, this.row + L)));
    this.steps = 0;
    this.positions = new Map();
    this.cash = this.config.portfolio.cash;
    this.equity = this.cash;
    this.peak = this.cash;
    this.maxDrawdown = 0;
    this.v = 0;
    this.rewardSum = 0;
    this.model.reset();
    return this.observe();
  }

  step(action: number[]): NaiveStepResult {
    const d = this.data;
    const U = d.symbols.length;
    const a = this.config.action;
    if (a.kind !== 'volatility-target') throw new Error('naive env: volatility-target actions only');
    // targets
    const targets = d.symbols.map((_, u) => {
      let x = action[u]!;
      x = !(x === x) ? 0 : x > 1 ? 1 : x < -1 ? -1 : x;
      if (a.longOnly && x < 0) x = 0;
      const sigma = d.vol[this.row * U + u]!;
      if (x === 0 || !(sigma === sigma) || sigma === Infinity) return 0;
      const size = sigma > 0 ? Math.abs(x) * (a.volTarget / sigma) : Infinity;
      const capped = size > a.maxAllocation ? a.maxAllocation : size;
      return x > 0 ? capped : -capped;
    });
    const gross = targets.reduce((g, w) => g + Math.abs(w), 0);
    const scaled = gross > a.maxLeverage ? targets.map((w) => w * (a.maxLeverage / gross)) : targets;
    // trades at the close
    const p = this.config.portfolio;
    const eq0 = this.equity;
    const fills: Fill[] = [];
    d.symbols.forEach((symbol, u) => {
      const price = d.close[this.row * U + u]!;
      const m = d.specs[u]!.multiplier;
      const current = this.positions.get(symbol) ?? 0;
      let q = eq0 > 0 ? (scaled[u]! * eq0) / (price * m) : 0;
      if (p.wholeShares) q = Math.trunc(q > 0 ? q + 1e-7 : q - 1e-7);
      const dq = q - current;
      if (dq !== 0 && Math.abs(dq) * (price * m) >= p.rebalanceBand * eq0) {
        const fill = slippedPrice(price, dq > 0 ? 'BUY' : 'SELL', p.slippageBps);
        const commission = this.model.commission(d.specs[u]!, dq, fill, d.ts[this.row]!, newOrderCommissionState());
        fills.push({ symbol, quantity: dq, price: fill, commission });
      }
    });
    for (const f of fills) {
      const m = d.specs[d.symbols.indexOf(f.symbol)]!.multiplier;
      this.cash -= f.commission;
      this.cash -= f.quantity * f.price * m;
      this.positions.set(f.symbol, (this.positions.get(f.symbol) ?? 0) + f.quantity);
    }
    const traded = fills.reduce((s, f) => s + Math.abs(f.quantity) * f.price * d.specs[d.symbols.indexOf(f.symbol)]!.multiplier, 0);
    const turnover = eq0 > 0 ? traded / eq0 : 0;
    // next bar
    this.row++;
    this.steps++;
    let equity = this.cash;
    d.symbols.forEach((symbol, u) => {
      const q = this.positions.get(symbol) ?? 0;
      if (q !== 0) equity += q * d.close[this.row * U + u]! * d.specs[u]!.multiplier;
    });
    this.equity = equity;
    this.peak = Math.max(this.peak, equity);
    const dd = this.peak > 0 ? (this.peak - equity) / this.peak : 0;
    const prevMax = this.maxDrawdown;
    if (dd > prevMax) this.maxDrawdown = dd;
    // risk-aware reward
    const rc = this.config.reward;
    if (rc.kind !== 'risk-aware') throw new Error('naive env: risk-aware reward only');
    const r = eq0 > 0 ? equity / eq0 - 1 : 0;
    const pen = rc.drawdownPenalty * (this.maxDrawdown - prevMax) + rc.turnoverPenalty * turnover;
    const sd = Math.sqrt(this.v);
    const sigma = sd > rc.volFloor ? sd : rc.volFloor;
    this.v = this.v + (1 - Math.pow(2, -1 / rc.volHalfLife)) * (r * r - this.v);
    const reward = (r - pen) / sigma;
    this.rewardSum += reward;
    // stopper and step limit
    const s = this.config.stopper;
    let terminated = !(equity > 0);
    if (!terminated && this.steps >= s.warmupSteps) {
      terminated = (s.maxDrawdown < 1 && dd >= s.maxDrawdown) || (s.equityFloor > 0 && equity <= s.equityFloor * p.cash);
    }
    const truncated = !terminated && this.steps >= (this.config.episode.length as number);
    return { observation: this.observe(), reward, terminated, truncated, info: { step: this.steps, equity, drawdown: dd, fills, turnover } };
  }

  /** [symbols][features][window], oldest first; mask; weights */
  private observe(): NaiveStepResult['observation'] {
    const d = this.data;
    const U = d.symbols.length;
    const F = d.columns.length;
    const W = this.config.episode.window;
    const first = this.row - W + 1;
    const features: number[][][] = [];
    const weights: number[] = [];
    const mask: number[] = [];
    for (let u = 0; u < U; u++) {
      const perSymbol: number[][] = [];
      for (let f = 0; f < F; f++) {
        const series: number[] = [];
        for (let k = 0; k < W; k++) series.push(d.features[((first + k) * U + u) * F + f]!);
        perSymbol.push(series);
      }
      features.push(perSymbol);
      weights.push(((this.positions.get(d.symbols[u]!) ?? 0) * d.close[this.row * U + u]! * d.specs[u]!.multiplier) / this.equity);
      mask.push(1);
    }
    return { features, mask, weights };
  }
}

/** N naive envs stepped in a loop, auto-resetting finished ones, as a Gym vector env would. */
export class NaiveVecEnv {
  readonly envs: NaiveTradingEnv[];
  constructor(data: EnvDataset, config: TradingEnvConfig, numEnvs: number) {
    this.envs = Array.from({ length: numEnvs }, () => new NaiveTradingEnv(data, config));
  }
  reset(seed: number): NaiveStepResult['observation'][] {
    return this.envs.map((env, i) => env.reset(seed + i));
  }
  step(actions: number[][]): NaiveStepResult[] {
    return this.envs.map((env, i) => {
      const r = env.step(actions[i]!);
      if (r.terminated || r.truncated) env.reset();
      return r;
    });
  }
}
