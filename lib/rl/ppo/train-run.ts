import { join } from 'node:path';
import type { Store } from '../../store/store.js';
import { saveCheckpoint, type CheckpointManifest } from './checkpoint.js';
import { DEFAULT_ENV_FACTORY } from './env-factory.js';
import { describeEnv, type EnvIdentity } from './env-info.js';
import { parsePpoConfig } from './ppo-config.js';
import { saveTrainingRun } from './save-training.js';
import { resolveBackend } from './tf-loader.js';
import { summarizeTraining } from './train-metrics.js';
import { trainPpo, type TrainPpoOptions, type TrainResult, type TrainSnapshot } from './train.js';

export interface TrainRunOptions extends TrainPpoOptions {
  /** Identifies the run in the store */
  runId: string;
  /** Checkpoint directory: written at the end, and every `checkpointEvery` updates (overwritten) */
  checkpointDir?: string;
  checkpointEvery?: number;
  /** Store the run and its episodes (rl_training_runs, rl_episodes) */
  store?: Store;
  /** Stamped into the checkpoint manifest (the caller owns the clock) */
  createdAt?: string;
}

export interface TrainRunResult extends TrainResult, EnvIdentity {
  runId: string;
  checkpoint?: { dir: string; manifest: CheckpointManifest };
}

/** Default checkpoint folder of a run: data/checkpoints/<runId> */
export function defaultCheckpointDir(runId: string): string {
  return join('data', 'checkpoints', runId);
}

/**
 * A training run end to end, as `monger train` and notebooks do it: identify the env (config and
 * feature-set hashes), train, checkpoint (weights, env config, hashes, seed, hyperparameters,
 * metrics), and record the run and its episodes in the store.
 */
export async function runTraining(o: TrainRunOptions): Promise<TrainRunResult> {
  const factory = o.envFactory ?? DEFAULT_ENV_FACTORY;
  const identity = await describeEnv(factory, o.envConfig);
  const ppo = parsePpoConfig(o.ppo ?? {});
  const backend = resolveBackend(o.backend ?? 'auto');
  const write = (dir: string, s: TrainSnapshot) =>
    saveCheckpoint(dir, {
      ...identity,
      seed: o.seed,
      envSteps: s.envSteps,
      iterations: s.iterations,
      rewardScale: s.rewardScale,
      backend,
      workers: o.workers ?? 0,
      envConfig: o.envConfig,
      envFactory: factory,
      ppo,
      weights: s.weights,
      optimizer: s.optimizer,
      metrics: summarizeTraining(s.history, []),
      history: s.history,
      ...(o.createdAt === undefined ? {} : { createdAt: o.createdAt }),
    });
  const every = o.checkpointEvery ?? 0;
  const dir = o.checkpointDir;
  const result = await trainPpo({
    ...o,
    onIteration: async (m, p) => {
      await o.onIteration?.(m, p);
      if (dir !== undefined && every > 0 && (m.iteration + 1) % every === 0) write(dir, p.snapshot());
    },
  });
  let checkpoint: TrainRunResult['checkpoint'];
  if (dir !== undefined) {
    const manifest = saveCheckpoint(dir, {
      ...identity,
      seed: o.seed,
      envSteps: result.envSteps,
      iterations: result.iterations,
      rewardScale: result.rewardScale,
      backend: result.backend,
      workers: result.workers,
      envConfig: o.envConfig,
      envFactory: factory,
      ppo: result.ppo,
      weights: result.weights,
      optimizer: result.optimizer,
      metrics: result.metrics,
      history: result.history,
      ...(o.createdAt === undefined ? {} : { createdAt: o.createdAt }),
    });
    checkpoint = { dir, manifest };
  }
  if (o.store !== undefined) {
    const metrics = { ...result.metrics, rewardScale: result.rewardScale, backend: result.backend, workers: result.workers };
    await saveTrainingRun(o.store, { runId: o.runId, ...identity, seed: o.seed, steps: result.envSteps, metrics, checkpointPath: dir }, result.episodes);
  }
  return { ...result, ...identity, runId: o.runId, ...(checkpoint === undefined ? {} : { checkpoint }) };
}
