import { ConfigError } from '../../core/errors.js';
import { FeatureSetStream } from '../../features/compute-features.js';
import { resolveFeatureSet } from '../../features/feature-set.js';
import { RollingStdStream } from '../../features/kernels/rolling-stats.js';
import { BUY, SELL, clampGross, volTargetWeight } from '../env/actions.js';
import { policyModelWeights, type PolicyModel } from './policy-model.js';
import { PolicyNetwork } from './policy-network.js';

/** Extra bars streamed before the first decision so EMA-style features forget their seed (RSI, MACD, ADX) */
export const FEATURE_SETTLE_BARS = 250;

export interface PolicyTraderOptions {
  /** Overrides the env's gross leverage cap */
  maxLeverage?: number;
  /** Overrides the env's rebalance band (fraction of equity below which a slot is not traded) */
  rebalanceBand?: number;
}

interface Slot {
  stream: FeatureSetStream;
  /** The newest `window` observation rows, a ring (clipped float32 features; 0 where unusable) */
  rows: Float32Array;
  valid: Uint8Array;
  count: number;
  vol: RollingStdStream;
  volatility: number;
  lastClose: number;
  lastTs: number;
}

/**
 * A trained trading-env policy run on streaming bars, one slot per instrument (in subscription
 * order): it rebuilds the env's observation exactly as the env lays it out
 * ([window x slots x features] oldest row first, then the mask, then the current weights), from
 * the feature set's streaming kernels over the bars seen (z-scored, clipped, NaN as 0), runs the
 * plain-JS policy (its deterministic action), and turns the action into target weights with the
 * env's action scheme (volatility targeting, caps) and rebalance rules. Strategies turn the targets
 * into orders. Identical code in backtests, the runner and notebooks: no tfjs, no I/O.
 */
export class PolicyTrader {
  readonly net: PolicyNetwork;
  readonly slots: number;
  readonly features: number;
  readonly window: number;
  /** Bars of history to stream before deciding: feature warm-up, settling, window, volatility */
  readonly warmupBars: number;
  readonly maxLeverage: number;
  readonly rebalanceBand: number;
  readonly wholeShares: boolean;
  readonly observation: Float32Array;
  readonly exposures: Float32Array;
  private readonly pick: number[];
  private readonly clip: number;
  private readonly includePortfolio: boolean;
  private readonly annualize: number;
  private readonly slotState: Slot[] = [];
  private readonly row: Float64Array;

  constructor(
    readonly model: PolicyModel,
    options: PolicyTraderOptions = {},
  ) {
    const weights = policyModelWeights(model);
    const env = model.env;
    if (env.data.kind !== 'store') throw new ConfigError('policy model', ['the policy was not trained on store data']);
    if (env.observation.layout !== 'stacked') throw new ConfigError('policy model', ['the policy was trained on the ring observation layout; strategies rebuild the stacked one']);
    const set = resolveFeatureSet(model.featureSet.spec, 'policy model feature set');
    if (set.hash !== model.featureSet.hash) {
      throw new ConfigError('policy model', [`the feature set hashes to ${set.hash} with this library, the policy trained on ${model.featureSet.hash} (the feature kernels changed): retrain`]);
    }
    const columns = env.data.columns ?? set.columns;
    this.pick = columns.map((c) => set.columns.indexOf(c));
    if (this.pick.some((i) => i < 0)) throw new ConfigError('policy model', [`columns ${columns.join(', ')} are not all in the feature set (${set.columns.join(', ')})`]);
    this.net = new PolicyNetwork(weights);
    this.slots = weights.spec.actionSpace.size;
    this.features = columns.length;
    this.window = env.episode.window;
    const expected = this.window * this.slots * this.features + this.slots * (env.observation.includePortfolio ? 2 : 1);
    if (expected !== weights.spec.observationSize) {
      throw new ConfigError('policy model', [`the env config lays out ${expected} observation values, the policy expects ${weights.spec.observationSize}`]);
    }
    this.clip = env.observation.clip;
    this.includePortfolio = env.observation.includePortfolio;
    this.annualize = Math.sqrt(env.periodsPerYear);
    this.maxLeverage = options.maxLeverage ?? env.action.maxLeverage;
    this.rebalanceBand = options.rebalanceBand ?? env.portfolio.rebalanceBand;
    this.wholeShares = env.portfolio.wholeShares;
    this.warmupBars = set.lookback + FEATURE_SETTLE_BARS + this.window + env.action.volWindow + 1;
    this.observation = new Float32Array(weights.spec.observationSize);
    this.exposures = new Float32Array(this.slots);
    this.row = new Float64Array(set.columns.length);
    for (let s = 0; s < this.slots; s++) {
      this.slotState.push({
        stream: new FeatureSetStream(set),
        rows: new Float32Array(this.window * this.features),
        valid: new Uint8Array(this.window),
        count: 0,
        vol: new RollingStdStream(env.action.volWindow),
        volatility: NaN,
        lastClose: NaN,
        lastTs: -Infinity,
      });
    }
  }

  /** Feeds slot `s` one bar (bar start time `ts`) */
  update(s: number, ts: number, open: number, high: number, low: number, close: number, volume: number): void {
    const st = this.slotState[s]!;
    st.stream.update(open, high, low, close, volume, this.row);
    const k = st.count % this.window;
    let ok = close > 0 && Number.isFinite(close);
    for (let f = 0; f < this.features; f++) {
      const x = this.row[this.pick[f]!]!;
      let v = 0;
      if (Number.isFinite(x)) v = x > this.clip ? this.clip : x < -this.clip ? -this.clip : x;
      else ok = false;
      st.rows[k * this.features + f] = v;
    }
    // annualized realized volatility of log returns (lib/rl/env/dataset.ts realizedVolatility)
    if (st.lastClose > 0 && close > 0) st.volatility = st.vol.update(Math.log(close / st.lastClose)) * this.annualize;
    else st.volatility = NaN;
    if (!Number.isFinite(st.volatility)) ok = false;
    st.valid[k] = ok ? 1 : 0;
    st.count++;
    st.lastClose = close;
    st.lastTs = ts;
  }

  /** Slot s can trade at time ts: a bar at ts and a full window of usable rows */
  usable(s: number, ts: number): boolean {
    const st = this.slotState[s]!;
    if (st.lastTs !== ts || st.count < this.window) return false;
    for (let k = 0; k < this.window; k++) if (st.valid[k] === 0) return false;
    return true;
  }

  /**
   * The decision at bar time `ts`: builds the observation from the slots' windows and the current
   * `weights` (position value / equity per slot), runs the policy and writes target weights per
   * slot into `targets` (0 for slots that cannot trade). Returns how many slots are usable.
   */
  decide(ts: number, weights: Float64Array, targets: Float64Array): number {
    const obs = this.observation;
    obs.fill(0);
    const S = this.slots;
    const F = this.features;
    const W = this.window;
    const block = W * S * F;
    let usable = 0;
    for (let s = 0; s < S; s++) {
      if (!this.usable(s, ts)) continue;
      usable++;
      const st = this.slotState[s]!;
      // ring -> oldest-first rows, each row holding the slots in order
      for (let w = 0; w < W; w++) {
        const k = (st.count - W + w) % W;
        obs.set(st.rows.subarray(k * F, (k + 1) * F), (w * S + s) * F);
      }
      obs[block + s] = 1;
      if (this.includePortfolio) obs[block + S + s] = weights[s]!;
    }
    this.net.act(obs, 0, this.exposures, 0);
    const env = this.model.env;
    const a = env.action;
    for (let s = 0; s < S; s++) {
      if (obs[block + s] === 0) {
        targets[s] = 0;
        continue;
      }
      const x = this.exposures[s]!;
      if (a.kind === 'discrete') {
        targets[s] = x === BUY ? a.maxAllocation : x === SELL ? (a.longOnly ? 0 : -a.maxAllocation) : weights[s]!;
      } else {
        const e = a.longOnly && x < 0 ? 0 : x;
        targets[s] = volTargetWeight(e, this.slotState[s]!.volatility, a.volTarget, a.maxAllocation);
      }
    }
    clampGross(targets, 0, S, this.maxLeverage);
    return usable;
  }

  /**
   * Shares to trade toward target weight `w` at `price` (the env's rebalance rule): whole shares
   * toward zero when the env trades whole shares, nothing below the rebalance band.
   */
  orderQuantity(target: number, position: number, price: number, equity: number): number {
    if (!(price > 0) || !(equity > 0)) return 0;
    let q = (target * equity) / price;
    if (this.wholeShares) q = Math.trunc(q > 0 ? q + 1e-7 : q - 1e-7);
    const dq = q - position;
    return dq !== 0 && Math.abs(dq) * price >= this.rebalanceBand * equity ? dq : 0;
  }
}
