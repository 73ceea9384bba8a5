import { InvariantError } from '../../core/errors.js';
import { SeededRandom } from '../../core/seeded-random.js';
import { flatToWeights, parameterCount } from '../policy/flat-params.js';
import type { PolicySpec } from '../policy/policy-spec.js';
import type { ActionSpace, EnvConfig, EpisodeMetrics, VecEnv } from '../types.js';
import { buildVecEnv, type EnvFactoryRef } from './env-factory.js';
import { ppoGradient, type GradBatch } from './ppo-grad.js';
import type { LossCoefficients } from './ppo-loss.js';
import { RolloutCollector, applyGae, type RolloutSegment, type RolloutSettings } from './rollout.js';
import { loadTf, type Tf, type TfBackendName } from './tf-loader.js';

/** Everything a shard is built from (structured-clonable: a worker's workerData) */
export interface ShardInit {
  factory: EnvFactoryRef;
  envConfig: EnvConfig;
  /** Envs of this shard: global indices envStart … envStart + numEnvs - 1 */
  numEnvs: number;
  settings: RolloutSettings;
  backend: TfBackendName;
}

/** What the env says about itself (the trainer builds the policy spec from it) */
export interface ShardEnvInfo {
  observationSize: number;
  actionSpace: ActionSpace;
  /** The trading env's observation layout (lib/rl/env/observer.ts), when the env has one */
  observationShape?: { window: number; slots: number; features: number; layout: string; maskOffset: number; weightOffset: number };
}

/** A rollout's totals: the trainer combines shards' sums (the data itself stays in the shard) */
export interface CollectSummary {
  envStart: number;
  samples: number;
  rewardSums: Float64Array;
  episodes: EpisodeMetrics[];
  advantageSum: number;
  advantageSumSq: number;
  returnSum: number;
  returnSumSq: number;
  /** Of returns - values (the critic's residual) */
  residualSum: number;
  residualSumSq: number;
  /** Squared running discounted returns (unscaled rewards): reward scaling's statistic */
  discountedSumSq: number;
  discountedCount: number;
}

export interface UpdatePlan {
  updateIndex: number;
  seed: number;
  /** Minibatches per epoch: the shard splits its shuffled rows into this many near-equal chunks */
  minibatches: number;
  /** Advantages are normalized with the whole rollout's mean and std (all shards) */
  advantageMean: number;
  advantageStd: number;
  coefficients: LossCoefficients;
}

export interface GradResult {
  /** Gradient of the loss averaged over this shard's rows of the minibatch, parameterShapes order */
  grad: Float32Array;
  /** [policyLoss, valueLoss, entropy, approxKl, clipFraction] over those rows */
  stats: Float64Array;
  /** Rows of the minibatch this shard holds (the weight of its gradient) */
  count: number;
}

/**
 * One slice of the envs and of the learning: it steps its envs with the plain-JS policy, keeps
 * its rollout, and computes tfjs gradients on its part of each minibatch. The trainer runs one
 * shard in its own thread (workers 0) or one per worker thread, combines the gradients weighted
 * by rows, and applies Adam itself, so rollouts and gradients both use every core.
 */
export class LearnerShard {
  private collector: RolloutCollector | undefined;
  private spec: PolicySpec | undefined;
  private segment: RolloutSegment | undefined;
  private plan: UpdatePlan | undefined;
  private order: Int32Array = new Int32Array(0);
  private epoch = -1;
  private shuffle: SeededRandom | undefined;
  private tf: Tf | undefined;

  private constructor(
    private readonly env: VecEnv,
    private readonly init: ShardInit,
  ) {}

  static async create(init: ShardInit): Promise<LearnerShard> {
    const env = await buildVecEnv(init.factory, init.envConfig, init.numEnvs);
    if (env.numEnvs !== init.numEnvs) throw new InvariantError(`the env factory built ${env.numEnvs} envs, asked for ${init.numEnvs}`);
    return new LearnerShard(env, init);
  }

  info(): ShardEnvInfo {
    const shape = (this.env as { observationShape?: ShardEnvInfo['observationShape'] }).observationShape;
    return { observationSize: this.env.observationSize, actionSpace: this.env.actionSpace, ...(shape === undefined ? {} : { observationShape: { ...shape } }) };
  }

  /** Collects a rollout with these parameters and reward scale; keeps it for the next update */
  collect(spec: PolicySpec, params: Float32Array, rewardScale: number): CollectSummary {
    const weights = flatToWeights(spec, params);
    if (this.spec === undefined) {
      this.spec = structuredClone(spec);
      this.collector = new RolloutCollector(this.env, weights, this.init.settings);
    }
    this.segment = this.collector!.collect(weights, rewardScale);
    return this.summary();
  }

  /** Recomputes the kept rollout's advantages with another reward scale (the first rollout, once the scale is known) */
  rescale(rewardScale: number): CollectSummary {
    if (this.segment === undefined) throw new InvariantError('rescale before any rollout');
    applyGae(this.segment, rewardScale, this.init.settings.gamma, this.init.settings.gaeLambda);
    return this.summary();
  }

  private summary(): CollectSummary {
    const s = this.segment!;
    let advantageSum = 0;
    let advantageSumSq = 0;
    let returnSum = 0;
    let returnSumSq = 0;
    let residualSum = 0;
    let residualSumSq = 0;
    for (let k = 0; k < s.advantages.length; k++) {
      const a = s.advantages[k]!;
      const r = s.returns[k]!;
      const d = r - s.values[k]!;
      advantageSum += a;
      advantageSumSq += a * a;
      returnSum += r;
      returnSumSq += r * r;
      residualSum += d;
      residualSumSq += d * d;
    }
    return {
      envStart: s.envStart, samples: s.advantages.length, rewardSums: s.rewardSums.slice(), episodes: s.episodes, advantageSum, advantageSumSq,
      returnSum, returnSumSq, residualSum, residualSumSq, discountedSumSq: s.discountedSumSq, discountedCount: s.discountedCount,
    };
  }

  /** Prepares an update over the kept rollout (loads tfjs on first use) */
  async beginUpdate(plan: UpdatePlan): Promise<void> {
    if (this.segment === undefined) throw new InvariantError('beginUpdate before any rollout');
    this.tf ??= (await loadTf(this.init.backend)).tf;
    this.plan = plan;
    this.epoch = -1;
    this.order = new Int32Array(this.segment.advantages.length);
    // a stream per update and env block: resumed runs and any worker count shuffle reproducibly
    this.shuffle = new SeededRandom(plan.seed).fork(`ppo-minibatches-${plan.updateIndex}-${this.init.settings.envStart}`);
  }

  /** Gradient on this shard's rows of minibatch `index` of `epoch`, at parameters `params` (synchronous: the wasm backend is) */
  gradStep(params: Float32Array, epoch: number, index: number): GradResult {
    const plan = this.plan;
    const s = this.segment;
    const tf = this.tf;
    if (plan === undefined || s === undefined || this.spec === undefined || tf === undefined) throw new InvariantError('gradStep before beginUpdate');
    if (epoch !== this.epoch) {
      if (epoch !== this.epoch + 1) throw new InvariantError(`epochs must run in order: got ${epoch} after ${this.epoch}`);
      this.epoch = epoch;
      for (let i = 0; i < this.order.length; i++) this.order[i] = i;
      shuffleInPlace(this.order, this.shuffle!);
    }
    const n = this.order.length;
    const rows = this.order.subarray(Math.floor((index * n) / plan.minibatches), Math.floor(((index + 1) * n) / plan.minibatches));
    const size = parameterCount(this.spec);
    if (rows.length === 0) return { grad: new Float32Array(size), stats: new Float64Array(5), count: 0 };
    const m = gatherRows(s, rows, plan.advantageMean, plan.advantageStd);
    const out = ppoGradient(tf, this.spec, params, { rows: rows.length, ...m, oldLogProbs: m.logProbs }, plan.coefficients);
    const grad = out.slice(0, size);
    const stats = Float64Array.from(out.subarray(size));
    return { grad, stats, count: rows.length };
  }

  close(): void {
    this.env.close?.();
  }
}

/** Fisher-Yates with a seeded stream */
export function shuffleInPlace(a: Int32Array, random: SeededRandom): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
}

/** Rows of a segment copied into fresh arrays, advantages normalized with the given mean and std */
export function gatherRows(s: RolloutSegment, rows: Int32Array, advantageMean: number, advantageStd: number): Omit<GradBatch, 'rows' | 'oldLogProbs'> & { logProbs: Float32Array } {
  const m = rows.length;
  const is = s.inputSize;
  const ad = s.actionDim;
  const inputs = new Float32Array(m * is);
  const actions = new Float32Array(m * ad);
  const logProbs = new Float32Array(m);
  const advantages = new Float32Array(m);
  const returns = new Float32Array(m);
  for (let r = 0; r < m; r++) {
    const k = rows[r]!;
    inputs.set(s.inputs.subarray(k * is, (k + 1) * is), r * is);
    actions.set(s.actions.subarray(k * ad, (k + 1) * ad), r * ad);
    logProbs[r] = s.logProbs[k]!;
    advantages[r] = (s.advantages[k]! - advantageMean) / advantageStd;
    returns[r] = s.returns[k]!;
  }
  return { inputs, actions, logProbs, advantages, returns };
}
