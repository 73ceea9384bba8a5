import { InvariantError } from '../../core/errors.js';
import { SeededRandom } from '../../core/seeded-random.js';
import { gaussianLogProb, logSoftmax, sampleCategorical, sampleGaussian } from '../policy/distributions.js';
import { PolicyNetwork } from '../policy/policy-network.js';
import { actionDim, type PolicyWeights } from '../policy/policy-spec.js';
import type { EpisodeMetrics, VecEnv } from '../types.js';
import { computeGae } from './gae.js';

/** What a rollout needs besides the env and the weights (plain data: it crosses to workers) */
export interface RolloutSettings {
  /** Steps per env per rollout */
  steps: number;
  gamma: number;
  gaeLambda: number;
  /** Training seed: env i (global index) resets with seed + i and samples actions from its own stream */
  seed: number;
  /** Global index of this collector's first env */
  envStart: number;
}

/**
 * One collector's rollout, env-major: element (i, t) at i * steps + t (policy inputs and actions
 * times their widths). Segments of consecutive env blocks concatenate into the global rollout.
 */
export interface RolloutSegment {
  envStart: number;
  numEnvs: number;
  steps: number;
  /** Values per policy input (the observation, or the parts the policy spec selects) */
  inputSize: number;
  actionDim: number;
  /** Policy inputs [numEnvs * steps * inputSize] */
  inputs: Float32Array;
  /** Sampled actions (Gaussian samples before clipping to the bounds; discrete choices as floats) */
  actions: Float32Array;
  logProbs: Float32Array;
  values: Float32Array;
  /** The env's rewards as given */
  envRewards: Float32Array;
  /** gamma * V(final observation) where a time limit ended the episode (added after scaling), else 0 */
  bootstrap: Float32Array;
  /** 1 where the episode ended after this step */
  dones: Uint8Array;
  /** V of the observation after the last step, per env */
  lastValues: Float32Array;
  /** The reward scale the advantages and returns were computed with */
  rewardScale: number;
  advantages: Float32Array;
  returns: Float32Array;
  /** Per env: sum of the env's rewards this rollout */
  rewardSums: Float64Array;
  /** Sum and count of squared running discounted returns (what reward scaling divides by) */
  discountedSumSq: number;
  discountedCount: number;
  /** Episodes finished during this rollout, envIndex global, in env then finishing order */
  episodes: EpisodeMetrics[];
}

/** The stream env `globalIndex` samples its actions from: independent of how envs are split over workers */
export function actionRandom(seed: number, globalIndex: number): SeededRandom {
  return new SeededRandom(seed).fork(`ppo-actions-${globalIndex}`);
}

/** (Re)computes a segment's advantages and returns with rewards scaled by `scale` */
export function applyGae(s: RolloutSegment, scale: number, gamma: number, lambda: number): void {
  const rewards = new Float32Array(s.envRewards.length);
  for (let k = 0; k < rewards.length; k++) rewards[k] = s.envRewards[k]! * scale + s.bootstrap[k]!;
  computeGae(rewards, s.values, s.dones, s.lastValues, s.numEnvs, s.steps, gamma, lambda, s.advantages, s.returns);
  s.rewardScale = scale;
}

/**
 * Steps a VecEnv with the plain-JS policy and returns GAE-processed segments. The env keeps
 * running across rollouts (episodes continue); every random draw comes from per-env streams, so
 * the numbers of env i do not depend on which collector steps it.
 */
export class RolloutCollector {
  private readonly net: PolicyNetwork;
  private readonly randoms: SeededRandom[];
  private readonly current: Float32Array;
  private readonly currentInputs: Float32Array;
  private readonly actorOut: Float32Array;
  private readonly stepValues: Float32Array;
  private readonly envActions: Float32Array;
  private readonly logits: Float64Array;
  /** Running discounted return per env (reward scaling's statistic), across rollouts */
  private readonly discounted: Float64Array;
  private started = false;

  constructor(
    private readonly env: VecEnv,
    weights: PolicyWeights,
    private readonly settings: RolloutSettings,
  ) {
    const spec = weights.spec;
    if (env.observationSize !== spec.observationSize) throw new InvariantError(`env observations have ${env.observationSize} values, the policy expects ${spec.observationSize}`);
    if (JSON.stringify(env.actionSpace) !== JSON.stringify(spec.actionSpace)) {
      throw new InvariantError(`env action space ${JSON.stringify(env.actionSpace)} differs from the policy's ${JSON.stringify(spec.actionSpace)}`);
    }
    this.net = new PolicyNetwork(weights);
    const n = env.numEnvs;
    this.randoms = Array.from({ length: n }, (_, i) => actionRandom(settings.seed, settings.envStart + i));
    this.current = new Float32Array(n * spec.observationSize);
    this.currentInputs = new Float32Array(n * this.net.inputSize);
    this.actorOut = new Float32Array(n * this.net.actorOutputs);
    this.stepValues = new Float32Array(n);
    this.envActions = new Float32Array(n * actionDim(spec.actionSpace));
    this.logits = new Float64Array(spec.actionSpace.kind === 'discrete' ? spec.actionSpace.n : 0);
    this.discounted = new Float64Array(n);
  }

  collect(weights: PolicyWeights, rewardScale: number): RolloutSegment {
    const { env, net, settings } = this;
    net.setWeights(weights);
    const n = env.numEnvs;
    const T = settings.steps;
    const obsSize = env.observationSize;
    const inSize = net.inputSize;
    const space = net.spec.actionSpace;
    const dim = actionDim(space);
    const outs = net.actorOutputs;
    if (!this.started) {
      this.current.set(env.reset(settings.seed + settings.envStart));
      this.started = true;
    }
    const inputs = new Float32Array(n * T * inSize);
    const actions = new Float32Array(n * T * dim);
    const logProbs = new Float32Array(n * T);
    const values = new Float32Array(n * T);
    const envRewards = new Float32Array(n * T);
    const bootstrap = new Float32Array(n * T);
    const dones = new Uint8Array(n * T);
    const rewardSums = new Float64Array(n);
    let discountedSumSq = 0;
    const cur = this.currentInputs;

    for (let t = 0; t < T; t++) {
      for (let i = 0; i < n; i++) net.gather(this.current, i * obsSize, cur, i * inSize);
      net.actor(cur, 0, n, this.actorOut);
      net.critic(cur, 0, n, this.stepValues);
      for (let i = 0; i < n; i++) {
        const k = i * T + t;
        inputs.set(cur.subarray(i * inSize, (i + 1) * inSize), k * inSize);
        values[k] = this.stepValues[i]!;
        const random = this.randoms[i]!;
        if (space.kind === 'continuous') {
          sampleGaussian(this.actorOut, i * outs, net.logStd, dim, random, actions, k * dim);
          logProbs[k] = gaussianLogProb(actions, k * dim, this.actorOut, i * outs, net.logStd, dim);
          for (let d = 0; d < dim; d++) this.envActions[i * dim + d] = Math.min(space.high, Math.max(space.low, actions[k * dim + d]!));
        } else {
          let lp = 0;
          for (let d = 0; d < dim; d++) {
            logSoftmax(this.actorOut, i * outs + d * space.n, space.n, this.logits);
            const choice = sampleCategorical(this.logits, space.n, random);
            lp += this.logits[choice]!;
            actions[k * dim + d] = choice;
            this.envActions[i * dim + d] = choice;
          }
          logProbs[k] = lp;
        }
      }
      const result = env.step(this.envActions);
      for (let i = 0; i < n; i++) {
        const k = i * T + t;
        const r = result.reward[i]!;
        envRewards[k] = r;
        rewardSums[i] = rewardSums[i]! + r;
        const disc = this.discounted[i]! * settings.gamma + r;
        discountedSumSq += disc * disc;
        const done = result.terminal[i] === 1 || result.truncated[i] === 1;
        this.discounted[i] = done ? 0 : disc;
        // a time limit, not a real end: the episode could have gone on, so bootstrap from its last observation
        if (result.truncated[i] === 1 && result.terminal[i] !== 1) bootstrap[k] = settings.gamma * net.valueOf(result.finalObs, i * obsSize);
        dones[k] = done ? 1 : 0;
      }
      this.current.set(result.obs);
    }

    const lastValues = new Float32Array(n);
    for (let i = 0; i < n; i++) lastValues[i] = net.valueOf(this.current, i * obsSize);
    const episodes = env
      .drainEpisodes()
      .map((e) => ({ ...e, envIndex: e.envIndex + settings.envStart }))
      .sort((a, b) => a.envIndex - b.envIndex); // stable: finishing order within an env is kept
    const segment: RolloutSegment = {
      envStart: settings.envStart, numEnvs: n, steps: T, inputSize: inSize, actionDim: dim, inputs, actions, logProbs, values,
      envRewards, bootstrap, dones, lastValues, rewardScale, advantages: new Float32Array(n * T), returns: new Float32Array(n * T),
      rewardSums, discountedSumSq, discountedCount: n * T, episodes,
    };
    applyGae(segment, rewardScale, settings.gamma, settings.gaeLambda);
    return segment;
  }
}
