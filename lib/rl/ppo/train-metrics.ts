import type { EpisodeMetrics } from '../types.js';
import type { UpdateStats } from './ppo-update.js';

/** One update: the learner's statistics plus what the rollout before it showed */
export interface IterationMetrics extends UpdateStats {
  iteration: number;
  /** Env steps done after this iteration (cumulative, including a resumed run's) */
  envSteps: number;
  /** Of the critic on this rollout's value targets */
  explainedVariance: number;
  /** Mean env reward per step over the rollout */
  rewardPerStep: number;
  /** Episodes finished during the rollout and their means (NaN when none finished) */
  episodes: number;
  episodeReward: number;
  episodeSharpe: number;
  episodeFinalEquity: number;
}

/** Deterministic summary of a training run (checkpoints, the store, the golden test, --json) */
export interface TrainMetrics {
  envSteps: number;
  iterations: number;
  episodes: number;
  /** Means over the episodes finished in the last quarter of the iterations (at least the last one) */
  recentEpisodes: number;
  recentEpisodeReward: number;
  recentEpisodeSharpe: number;
  recentFinalEquity: number;
  recentMaxDrawdown: number;
  /** The last update's statistics */
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  approxKl: number;
  clipFraction: number;
  explainedVariance: number;
  learningRate: number;
}

export function summarizeTraining(history: readonly IterationMetrics[], episodes: readonly (EpisodeMetrics & { iteration: number })[]): TrainMetrics {
  const last = history[history.length - 1];
  const lastIteration = last?.iteration ?? -1;
  const window = Math.max(1, Math.ceil(history.length / 4));
  const recent = episodes.filter((e) => e.iteration > lastIteration - window);
  const mean = (f: (e: EpisodeMetrics) => number) => (recent.length === 0 ? NaN : recent.reduce((s, e) => s + f(e), 0) / recent.length);
  return {
    envSteps: last?.envSteps ?? 0,
    iterations: history.length,
    episodes: episodes.length,
    recentEpisodes: recent.length,
    recentEpisodeReward: mean((e) => e.rewardSum),
    recentEpisodeSharpe: mean((e) => e.sharpe),
    recentFinalEquity: mean((e) => e.finalEquity),
    recentMaxDrawdown: mean((e) => e.maxDrawdown),
    policyLoss: last?.policyLoss ?? NaN,
    valueLoss: last?.valueLoss ?? NaN,
    entropy: last?.entropy ?? NaN,
    approxKl: last?.approxKl ?? NaN,
    clipFraction: last?.clipFraction ?? NaN,
    explainedVariance: last?.explainedVariance ?? NaN,
    learningRate: last?.learningRate ?? NaN,
  };
}
