import { ConfigError } from '../../core/errors.js';
import { flatToWeights, weightsToFlat } from '../policy/flat-params.js';
import { initPolicyWeights } from '../policy/policy-init.js';
import type { PolicySpec, PolicyWeights } from '../policy/policy-spec.js';
import type { EnvConfig, EpisodeMetrics } from '../types.js';
import { Adam, type AdamState } from './adam.js';
import { DEFAULT_ENV_FACTORY, type EnvFactoryRef } from './env-factory.js';
import type { CollectSummary, ShardEnvInfo } from './learner-shard.js';
import { learningRateAt } from './lr-schedule.js';
import { parsePpoConfig, rolloutSize, type PpoConfig, type PpoConfigInput } from './ppo-config.js';
import { ppoUpdate } from './ppo-update.js';
import { openShards } from './shard-pool.js';
import { resolveBackend, type TfBackendName } from './tf-loader.js';
import { summarizeTraining, type IterationMetrics, type TrainMetrics } from './train-metrics.js';

export type { IterationMetrics, TrainMetrics } from './train-metrics.js';

/** Where a resumed run starts: a checkpoint's weights, optimizer and progress */
export interface ResumeState {
  weights: PolicyWeights;
  optimizer?: AdamState;
  envSteps: number;
  iterations: number;
  history: IterationMetrics[];
  /** The reward scale the run used (an 'auto' scale stays what the first run measured) */
  rewardScale: number;
}

export interface TrainPpoOptions {
  envConfig: EnvConfig;
  /** Default: the trading environment's makeVecEnv */
  envFactory?: EnvFactoryRef;
  /** Train until this many env steps (whole rollouts, so possibly a little more); includes a resumed run's steps */
  steps: number;
  seed: number;
  /** Worker threads, each stepping a block of envs and computing its share of every gradient; 0 (default): all in this thread */
  workers?: number;
  ppo?: PpoConfigInput;
  backend?: TfBackendName;
  resume?: ResumeState;
  /** After every update (progress bars, periodic checkpoints) */
  onIteration?: (metrics: IterationMetrics, progress: TrainProgress) => void | Promise<void>;
}

export interface TrainProgress {
  envSteps: number;
  totalSteps: number;
  elapsedMs: number;
  stepsPerSecond: number;
  /** Copies of the current weights, optimizer state and history, for periodic checkpoints */
  snapshot(): TrainSnapshot;
}

export interface TrainSnapshot {
  weights: PolicyWeights;
  optimizer: AdamState;
  rewardScale: number;
  envSteps: number;
  iterations: number;
  history: IterationMetrics[];
}

/** Wall-clock figures: they vary run to run, so they are kept apart from the metrics */
export interface TrainTiming {
  elapsedMs: number;
  /** Starting the workers (or the in-thread env) before the first rollout: included in elapsedMs */
  startupMs: number;
  rolloutMs: number;
  updateMs: number;
  stepsPerSecond: number;
}

export interface TrainResult {
  weights: PolicyWeights;
  optimizer: AdamState;
  ppo: PpoConfig;
  seed: number;
  envConfig: EnvConfig;
  envFactory: EnvFactoryRef;
  backend: string;
  workers: number;
  envSteps: number;
  iterations: number;
  /** The reward scale used (resolved when the config says 'auto') */
  rewardScale: number;
  history: IterationMetrics[];
  /** Every episode finished during this call, tagged with its iteration */
  episodes: (EpisodeMetrics & { iteration: number })[];
  metrics: TrainMetrics;
  timing: TrainTiming;
}

/** A resumed run's streams must not repeat the first run's: derive them from the seed and the iteration it resumes at */
export function rolloutSeed(seed: number, startIteration: number): number {
  return startIteration === 0 ? seed : (Math.imul(seed ^ 0x5bd1e995, 31) + startIteration * 1_000_003) | 0;
}

/**
 * The policy's shape for an env: its observation and action space, the config's hidden layers,
 * and (inputRows) which parts of the observation the networks read.
 */
export function policySpecFor(info: ShardEnvInfo, ppo: PpoConfig): PolicySpec {
  const spec: PolicySpec = { observationSize: info.observationSize, actionSpace: info.actionSpace, hidden: ppo.hidden, activation: ppo.activation };
  if (ppo.inputRows === 'all') return spec;
  const shape = info.observationShape;
  if (shape === undefined || shape.layout !== 'stacked') {
    throw new ConfigError('ppo.inputRows', [`needs an env with a stacked observation window (the trading env's observation.layout: stacked); this env has ${shape === undefined ? 'none' : `layout ${shape.layout}`}`]);
  }
  if (ppo.inputRows > shape.window) throw new ConfigError('ppo.inputRows', [`${ppo.inputRows} rows, but the env's window has ${shape.window}`]);
  const row = shape.slots * shape.features;
  // the newest rows (the window is oldest first), then everything after the window: mask and weights
  spec.input = { ranges: [[(shape.window - ppo.inputRows) * row, shape.window * row], [shape.maskOffset, info.observationSize]] };
  return spec;
}

/** 1 / RMS of the running discounted return over a rollout (1 when the rewards are all zero) */
export function autoRewardScale(summaries: readonly CollectSummary[]): number {
  let sumSq = 0;
  let count = 0;
  for (const s of summaries) {
    sumSq += s.discountedSumSq;
    count += s.discountedCount;
  }
  const rms = Math.sqrt(sumSq / Math.max(1, count));
  return rms > 1e-8 ? 1 / rms : 1;
}

function combine(summaries: readonly CollectSummary[]) {
  let n = 0;
  let a = 0;
  let a2 = 0;
  let r = 0;
  let r2 = 0;
  let d = 0;
  let d2 = 0;
  let reward = 0;
  for (const s of summaries) {
    n += s.samples;
    a += s.advantageSum;
    a2 += s.advantageSumSq;
    r += s.returnSum;
    r2 += s.returnSumSq;
    d += s.residualSum;
    d2 += s.residualSumSq;
    for (let i = 0; i < s.rewardSums.length; i++) reward += s.rewardSums[i]!;
  }
  const advantageMean = a / n;
  const advantageVar = n > 1 ? Math.max(0, (a2 - n * advantageMean * advantageMean) / (n - 1)) : 0;
  const varR = r2 / n - (r / n) ** 2;
  const varD = d2 / n - (d / n) ** 2;
  return {
    samples: n,
    advantageMean,
    advantageStd: Math.sqrt(advantageVar) + 1e-8,
    explainedVariance: varR > 0 ? 1 - varD / varR : NaN,
    rewardTotal: reward,
    episodes: summaries.flatMap((s) => s.episodes),
  };
}

/**
 * Trains a PPO agent: every shard (this thread, or one per worker) steps its envs with the
 * plain-JS policy and computes GAE; then minibatch epochs run with each shard computing the
 * gradient on its rows in tfjs and Adam applied here; repeat until `steps` env steps. With a
 * fixed seed, worker count and backend the metrics and weights are reproducible exactly.
 */
export async function trainPpo(o: TrainPpoOptions): Promise<TrainResult> {
  const ppo = parsePpoConfig(o.ppo ?? {});
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new ConfigError('--steps', [`expected an integer >= 1, got ${o.steps}`]);
  if (!Number.isInteger(o.seed)) throw new ConfigError('--seed', [`expected an integer, got ${o.seed}`]);
  const workers = o.workers ?? 0;
  const start = o.resume;
  const startIteration = start?.iterations ?? 0;
  const startSteps = start?.envSteps ?? 0;
  const perRollout = rolloutSize(ppo);
  const iterations = Math.max(0, Math.ceil((o.steps - startSteps) / perRollout));
  const backend = resolveBackend(o.backend ?? 'auto');
  const envFactory = o.envFactory ?? DEFAULT_ENV_FACTORY;

  const t0 = performance.now();
  const pool = await openShards(
    {
      factory: envFactory,
      envConfig: o.envConfig,
      numEnvs: ppo.numEnvs,
      backend,
      settings: { steps: ppo.rolloutSteps, gamma: ppo.gamma, gaeLambda: ppo.gaeLambda, seed: rolloutSeed(o.seed, startIteration) },
    },
    workers,
  );
  try {
    const spec = policySpecFor(pool.info, ppo);
    if (start !== undefined && JSON.stringify(start.weights.spec) !== JSON.stringify(spec)) {
      throw new ConfigError('resume', [`the checkpoint's policy ${JSON.stringify(start.weights.spec)} does not fit this env and config ${JSON.stringify(spec)}`]);
    }
    const startupMs = performance.now() - t0;
    const params = weightsToFlat(start?.weights ?? initPolicyWeights(spec, o.seed, ppo.logStdInit));
    const adam = new Adam(params.length, ppo.adamEpsilon);
    if (start?.optimizer !== undefined) {
      if (start.optimizer.m.length !== params.length) throw new ConfigError('resume', [`optimizer state for ${start.optimizer.m.length} parameters, the policy has ${params.length}`]);
      adam.state = { step: start.optimizer.step, m: start.optimizer.m.slice(), v: start.optimizer.v.slice() };
    }
    let rewardScale = start?.rewardScale ?? (ppo.rewardScale === 'auto' ? undefined : ppo.rewardScale);
    let envSteps = startSteps;
    const history: IterationMetrics[] = [...(start?.history ?? [])];
    const episodes: TrainResult['episodes'] = [];
    let rolloutMs = 0;
    let updateMs = 0;
    const snapshot = (): TrainSnapshot => ({
      weights: flatToWeights(spec, params),
      optimizer: { step: adam.state.step, m: adam.state.m.slice(), v: adam.state.v.slice() },
      rewardScale: rewardScale ?? 1,
      envSteps,
      iterations: history.length,
      history: history.slice(),
    });
    for (let k = 0; k < iterations; k++) {
      const iteration = startIteration + k;
      const tr = performance.now();
      let summaries = await pool.collect(spec, params, rewardScale ?? 1);
      if (rewardScale === undefined) {
        rewardScale = autoRewardScale(summaries);
        summaries = await pool.rescale(rewardScale);
      }
      const rollout = combine(summaries);
      const tu = performance.now();
      rolloutMs += tu - tr;
      const learningRate = learningRateAt(ppo.lrSchedule, ppo.learningRate, ppo.lrFinalFraction, envSteps / o.steps);
      const stats = await ppoUpdate({
        pool, params, adam, config: ppo, seed: o.seed, updateIndex: iteration, learningRate,
        samples: rollout.samples, advantageMean: ppo.normalizeAdvantages ? rollout.advantageMean : 0, advantageStd: ppo.normalizeAdvantages ? rollout.advantageStd : 1,
      });
      updateMs += performance.now() - tu;
      envSteps += perRollout;
      const finished = rollout.episodes;
      for (const e of finished) episodes.push({ ...e, iteration });
      const meanOf = (f: (e: EpisodeMetrics) => number) => (finished.length === 0 ? NaN : finished.reduce((s, e) => s + f(e), 0) / finished.length);
      const metrics: IterationMetrics = {
        iteration,
        envSteps,
        ...stats,
        explainedVariance: rollout.explainedVariance,
        rewardPerStep: rollout.rewardTotal / perRollout,
        episodes: finished.length,
        episodeReward: meanOf((e) => e.rewardSum),
        episodeSharpe: meanOf((e) => e.sharpe),
        episodeFinalEquity: meanOf((e) => e.finalEquity),
      };
      history.push(metrics);
      const elapsedMs = performance.now() - t0;
      await o.onIteration?.(metrics, { envSteps, totalSteps: o.steps, elapsedMs, stepsPerSecond: ((envSteps - startSteps) * 1000) / elapsedMs, snapshot });
    }
    const elapsedMs = performance.now() - t0;
    const final = snapshot();
    return {
      weights: final.weights,
      optimizer: final.optimizer,
      ppo,
      seed: o.seed,
      envConfig: o.envConfig,
      envFactory,
      backend,
      workers,
      envSteps,
      iterations: startIteration + iterations,
      rewardScale: rewardScale ?? (ppo.rewardScale === 'auto' ? 1 : ppo.rewardScale),
      history,
      episodes,
      metrics: summarizeTraining(history, episodes),
      timing: { elapsedMs, startupMs, rolloutMs, updateMs, stepsPerSecond: ((envSteps - startSteps) * 1000) / elapsedMs },
    };
  } finally {
    await pool.close();
  }
}
