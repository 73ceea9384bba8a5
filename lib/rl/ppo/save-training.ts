import { saveEpisodes } from '../metrics.js';
import type { Store } from '../../store/store.js';
import type { EpisodeMetrics } from '../types.js';
import type { TrainMetrics } from './train-metrics.js';

export interface TrainingRunRecord {
  runId: string;
  envConfigHash: string;
  /** null for envs without a feature set (stored as '') */
  featureSetHash: string | null;
  seed: number;
  /** Env steps trained */
  steps: number;
  metrics: TrainMetrics & Record<string, unknown>;
  checkpointPath?: string;
}

/** Stores a training run (`rl_training_runs`) and its episodes (`rl_episodes`, in training order). */
export async function saveTrainingRun(store: Store, run: TrainingRunRecord, episodes: readonly EpisodeMetrics[]): Promise<void> {
  await store.run(
    `INSERT INTO rl_training_runs (run_id, env_config_hash, feature_set_hash, seed, steps, metrics, checkpoint_path)
     VALUES ($1, $2, $3, $4, $5, CAST($6 AS JSON), $7)`,
    [
      run.runId,
      run.envConfigHash,
      run.featureSetHash ?? '',
      run.seed,
      run.steps,
      JSON.stringify(run.metrics, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)),
      run.checkpointPath ?? null,
    ],
  );
  await saveEpisodes(store, run.runId, episodes);
}
