/**
 * The vectorized trading environment: N envs over one shared, precomputed dataset, stepped
 * together over flat typed arrays. A step of env e:
 *   1. the action scheme turns its actions into target weights at row t (the bar just observed);
 *   2. each slot is traded to its target at row t's close through the engine's cost models
 *      (`slippedPrice`, the commission model); cash and positions follow the engine Portfolio's
 *      arithmetic (see state.ts), in flat arrays across envs;
 *   3. the env moves to row t+1: marks, equity, drawdown;
 *   4. reward, episode record, stopper / step limit / data end;
 *   5. the observer writes the new observation; a finished env is reset at once (auto-reset) after
 *      its last observation is copied to `finalObs`.
 * Nothing is allocated per step (finished episodes build their metrics). Deterministic: env i of
 * `reset(seed)` draws from SeededRandom(seed + i) only.
 *
 * Why not the engine's Portfolio object per env: its applyFill (average cost, realized P&L, which
 * an env never reads) was 45 ns of a ~90 ns trade, and a call that is not inlined boxes its double
 * arguments. Futures are refused: their cash settles P&L only and a contract expires inside an
 * episode; they need continuous contracts first.
 */
import { newOrderCommissionState, parseCommissionModel, type CommissionModel, type OrderCommissionState } from '../../backtest/commission.js';
import { slippedPrice } from '../../backtest/slippage.js';
import { ConfigError, InvariantError } from '../../core/errors.js';
import { SeededRandom } from '../../core/seeded-random.js';
import type { ActionSpace, EpisodeMetrics, VecEnv, VecStepResult } from '../types.js';
import { DiscreteAction, VolatilityTargetedAction, type ActionScheme } from './actions.js';
import type { TradingEnvConfig } from './config.js';
import type { EnvDataset } from './dataset.js';
import { EpisodeRecorder, EpisodeSampler } from './episode.js';
import { PortfolioInformer, type Informer, type StepInfo } from './informer.js';
import { WindowObserver, type ObservationShape, type Observer } from './observer.js';
import { PnlReward, PositionReturnReward, RiskAwareReward, type RewardScheme } from './rewards.js';
import { EnvState } from './state.js';
import { DrawdownStopper, type Stopper } from './stopper.js';

export interface EnvSchemes {
  action: ActionScheme;
  reward: RewardScheme;
  stopper: Stopper;
  observer: Observer;
  informer: Informer;
}

/** Observation slots for a config over a dataset: `universe.slots`, else the sample size, else the universe */
export function slotCount(config: TradingEnvConfig, data: EnvDataset): number {
  return config.universe.slots ?? Math.min(config.universe.sample ?? data.symbols.length, data.symbols.length);
}

/** The schemes a config names (each replaceable: pass your own to the constructor) */
export function schemesFromConfig(config: TradingEnvConfig, numEnvs: number, slots: number, features: number): EnvSchemes {
  const a = config.action;
  const action =
    a.kind === 'discrete'
      ? new DiscreteAction(slots, { maxAllocation: a.maxAllocation, maxLeverage: a.maxLeverage, longOnly: a.longOnly })
      : new VolatilityTargetedAction(slots, { volTarget: a.volTarget, maxLeverage: a.maxLeverage, maxAllocation: a.maxAllocation, longOnly: a.longOnly });
  const r = config.reward;
  const reward = r.kind === 'pnl' ? new PnlReward() : r.kind === 'position-returns' ? new PositionReturnReward() : new RiskAwareReward(numEnvs, r);
  const o = config.observation;
  return {
    action,
    reward,
    stopper: new DrawdownStopper(config.stopper),
    observer: new WindowObserver(numEnvs, slots, features, config.episode.window, o.layout, o.includePortfolio),
    informer: new PortfolioInformer(),
  };
}

export class TradingVecEnv implements VecEnv {
  readonly numEnvs: number;
  readonly observationSize: number;
  readonly actionSpace: ActionSpace;
  readonly state: EnvState;
  readonly schemes: EnvSchemes;
  /** Newest window slot per env for the `ring` layout (see observer.ts) */
  readonly ringHead: Int32Array;
  readonly observationShape: ObservationShape | undefined;

  private readonly obs: Float32Array;
  private readonly finalObs: Float32Array;
  private readonly obsViews: Float32Array[] = [];
  private readonly result: VecStepResult;
  private readonly sampler: EpisodeSampler;
  private readonly recorder: EpisodeRecorder;
  private readonly multiplier: Float64Array;
  private readonly models: CommissionModel[] = [];
  private readonly orderState: OrderCommissionState = newOrderCommissionState();
  private readonly rngs: SeededRandom[] = [];
  private readonly seeds: Float64Array;
  private finished: EpisodeMetrics[] = [];
  private started = false;
  /** Set by the single-env wrapper: env 0's info is written here after every step */
  infoSink: StepInfo | undefined;
  /** Called with every fill when set (journals, tests); unset, a step pays one check */
  fillListener: ((env: number, symbol: number, quantity: number, price: number, commission: number) => void) | undefined;

  constructor(
    readonly data: EnvDataset,
    readonly config: TradingEnvConfig,
    numEnvs: number,
    schemes: Partial<EnvSchemes> = {},
  ) {
    if (!(Number.isInteger(numEnvs) && numEnvs >= 1)) throw new InvariantError(`numEnvs must be a positive integer, was ${numEnvs}`);
    this.numEnvs = numEnvs;
    const slots = slotCount(config, data);
    this.state = new EnvState(data, numEnvs, slots, config.episode.window);
    this.schemes = { ...schemesFromConfig(config, numEnvs, slots, data.columns.length), ...schemes };
    this.observationSize = this.schemes.observer.size;
    this.actionSpace = this.schemes.action.space;
    const observer = this.schemes.observer;
    this.ringHead = observer instanceof WindowObserver ? observer.ringHead : new Int32Array(numEnvs);
    this.observationShape = observer instanceof WindowObserver ? observer.shape : undefined;
    this.obs = new Float32Array(numEnvs * this.observationSize);
    this.finalObs = new Float32Array(numEnvs * this.observationSize);
    for (let e = 0; e < numEnvs; e++) this.obsViews.push(this.obs.subarray(e * this.observationSize, (e + 1) * this.observationSize));
    this.result = { obs: this.obs, reward: new Float32Array(numEnvs), terminal: new Uint8Array(numEnvs), truncated: new Uint8Array(numEnvs), finalObs: this.finalObs };
    const length = config.episode.length;
    this.sampler = new EpisodeSampler(data, {
      window: config.episode.window,
      length,
      start: config.episode.start,
      slots,
      sample: config.universe.sample ?? slots,
      minSymbols: config.universe.minSymbols,
    });
    this.recorder = new EpisodeRecorder(numEnvs, length === 'to-end' ? data.ts.length : length, data.periodsPerYear, config.action.maxLeverage);
    const futures = data.specs.filter((s) => s.secType === 'FUT').map((s) => s.key);
    if (futures.length) throw new ConfigError('data', [`data: futures (${futures.join(', ')}) are not supported by the RL env yet: a contract expires inside an episode`]);
    this.multiplier = Float64Array.from(data.specs, (s) => s.multiplier);
    this.seeds = new Float64Array(numEnvs);
    for (let e = 0; e < numEnvs; e++) {
      this.models.push(parseCommissionModel(config.portfolio.commission));
      this.rngs.push(new SeededRandom(e));
    }
  }

  /** The current observations (the buffer `reset` and `step` return) */
  get observations(): Float32Array {
    return this.obs;
  }

  reset(seed: number): Float32Array {
    for (let e = 0; e < this.numEnvs; e++) this.resetEnv(e, seed + e);
    this.started = true;
    return this.obs;
  }

  /** Starts a new episode in env e: reseeded when `seed` is given, else continuing its random stream */
  resetEnv(e: number, seed?: number): void {
    if (seed !== undefined) {
      this.rngs[e] = new SeededRandom(seed);
      this.seeds[e] = seed;
    }
    const st = this.state;
    this.sampler.sample(st, e, this.rngs[e]!);
    st.step[e] = 0;
    st.row[e] = st.start[e]!;
    this.models[e]!.reset();
    const cash = this.config.portfolio.cash;
    st.cash[e] = cash;
    st.position.fill(0, e * st.slots, (e + 1) * st.slots);
    st.startEquity[e] = cash;
    st.prevEquity[e] = cash;
    st.peak[e] = cash;
    st.drawdown[e] = 0;
    st.prevDrawdown[e] = 0;
    st.maxDrawdown[e] = 0;
    st.prevMaxDrawdown[e] = 0;
    st.turnover[e] = 0;
    st.tradedNotional[e] = 0;
    st.fees[e] = 0;
    st.held.fill(0, e * st.slots, (e + 1) * st.slots);
    this.mark(e);
    this.schemes.reward.reset(st, e);
    this.recorder.reset(e);
    this.schemes.observer.reset(st, e, this.obs, e * this.observationSize);
  }

  step(actions: Float32Array): VecStepResult {
    if (!this.started) throw new InvariantError('step before reset');
    const need = this.numEnvs * this.actionSpace.size;
    if (actions.length !== need) throw new InvariantError(`step: expected ${need} actions (${this.numEnvs} envs x ${this.actionSpace.size}), got ${actions.length}`);
    for (let e = 0; e < this.numEnvs; e++) this.stepEnv(actions, e);
    return this.result;
  }

  drainEpisodes(): EpisodeMetrics[] {
    const out = this.finished;
    this.finished = [];
    return out;
  }

  close(): void {}

  /** Symbols of env e's current episode, in slot order */
  symbols(e: number): string[] {
    const st = this.state;
    const out: string[] = [];
    for (let s = 0; s < st.slots; s++) {
      const u = st.slotSymbol[e * st.slots + s]!;
      if (u >= 0) out.push(this.data.symbols[u]!);
    }
    return out;
  }

  private stepEnv(actions: Float32Array, e: number): void {
    const st = this.state;
    this.schemes.action.targets(actions, e * this.actionSpace.size, st, e);
    this.rebalance(e);
    // 3. next row
    const step = st.step[e]! + 1;
    st.step[e] = step;
    st.row[e] = st.row[e]! + 1;
    st.prevEquity[e] = st.equity[e]!;
    this.mark(e);

    // 4. reward, record, end of episode
    this.schemes.reward.reward(st, e);
    this.result.reward[e] = st.reward[e]!;
    this.recorder.record(st, e);
    const stopped = this.schemes.stopper.stop(st, e);
    const dataEnd = !stopped && st.endsAtDataEnd[e] === 1 && step >= st.limit[e]!;
    const terminal = stopped || dataEnd;
    const truncated = !terminal && step >= st.limit[e]!;
    this.result.terminal[e] = terminal ? 1 : 0;
    this.result.truncated[e] = truncated ? 1 : 0;

    // 5. observation; auto-reset
    const off = e * this.observationSize;
    this.schemes.observer.update(st, e, this.obs, off);
    const info = e === 0 ? this.infoSink : undefined;
    if (info) this.schemes.informer.write(st, e, info);
    if (terminal || truncated) {
      this.finalObs.set(this.obsViews[e]!, off);
      const metrics = this.recorder.finish(st, e, this.seeds[e]!, stopped ? 'stopper' : dataEnd ? 'data-end' : 'step-limit');
      this.finished.push(metrics);
      if (info) info.episode = metrics;
      this.resetEnv(e);
    }
  }

  /**
   * Trades every slot of env e to its target weight at the current row's close. Its own method so
   * the engine calls in it (commission, slippage) are inlined: a call that is not passes its doubles
   * boxed, i.e. allocates.
   */
  private rebalance(e: number): void {
    const st = this.state;
    const S = st.slots;
    const t = st.row[e]!;
    const close = this.data.close;
    const specs = this.data.specs;
    const position = st.position;
    let cash = st.cash[e]!;
    const mult = this.multiplier;
    const slotSymbol = st.slotSymbol;
    const target = st.target;
    const held = st.held;
    const eq0 = st.equity[e]!;
    const p = this.config.portfolio;
    const whole = p.wholeShares;
    const bps = p.slippageBps;
    const band = p.rebalanceBand * eq0;
    const scale = eq0 > 0 ? eq0 : 0;
    const ts = this.data.ts[t]!;
    const model = this.models[e]!;
    const os = this.orderState;
    const rowBase = t * st.universe;
    let traded = 0;
    let fees = 0;
    for (let s = 0, i = e * S; s < S; s++, i++) {
      const u = slotSymbol[i]!;
      if (u < 0) continue;
      const unit = close[rowBase + u]! * mult[u]!;
      let qty = position[i]!;
      let q = (target[i]! * scale) / unit;
      // whole shares toward zero; the epsilon keeps a held position from losing a share to rounding
      if (whole) q = Math.trunc(q > 0 ? q + 1e-7 : q - 1e-7);
      const dq = q - qty;
      if (dq !== 0 && Math.abs(dq) * unit >= band) {
        const fill = slippedPrice(close[rowBase + u]!, dq > 0 ? 'BUY' : 'SELL', bps);
        os.quantity = 0;
        os.value = 0;
        os.raw = 0;
        const commission = model.commission(specs[u]!, dq, fill, ts, os);
        const m = mult[u]!;
        // the engine Portfolio's order of operations, so both give the same cash to the last bit
        cash -= commission;
        cash -= dq * fill * m;
        qty += dq;
        position[i] = qty;
        traded += Math.abs(dq) * fill * m;
        fees += commission;
        if (this.fillListener) this.fillListener(e, u, dq, fill, commission);
      }
      held[i] = scale > 0 ? (qty * unit) / scale : 0;
    }
    st.cash[e] = cash;
    st.tradedNotional[e] = traded;
    st.fees[e] = fees;
    st.turnover[e] = eq0 > 0 ? traded / eq0 : 0;
  }

  /** Marks env e's positions at its current row: equity, exposures, weights, peak and drawdown */
  private mark(e: number): void {
    const st = this.state;
    const S = st.slots;
    const base = st.row[e]! * st.universe;
    const close = this.data.close;
    const mult = this.multiplier;
    const slotSymbol = st.slotSymbol;
    const position = st.position;
    const weight = st.weight;
    let equity = st.cash[e]!;
    let gross = 0;
    let net = 0;
    const from = e * S;
    for (let i = from; i < from + S; i++) {
      const q = position[i]!;
      if (q === 0) {
        weight[i] = 0;
        continue;
      }
      const u = slotSymbol[i]!;
      const value = q * close[base + u]! * mult[u]!;
      equity += value;
      gross += value < 0 ? -value : value;
      net += value;
      weight[i] = value;
    }
    const inv = equity > 0 ? 1 / equity : 0;
    if (gross > 0) for (let i = from; i < from + S; i++) weight[i] = weight[i]! * inv;
    st.equity[e] = equity;
    st.grossExposure[e] = gross;
    st.netExposure[e] = net;
    const peak = equity > st.peak[e]! ? equity : st.peak[e]!;
    st.peak[e] = peak;
    const dd = peak > 0 ? (peak - equity) / peak : 0;
    st.prevDrawdown[e] = st.drawdown[e]!;
    st.drawdown[e] = dd;
    const maxDd = st.maxDrawdown[e]!;
    st.prevMaxDrawdown[e] = maxDd;
    if (dd > maxDd) st.maxDrawdown[e] = dd;
  }
}
