export type ActionSpace =
  | { kind: 'continuous'; size: number; low: number; high: number }   // e.g. exposures per symbol in [-1, 1]
  | { kind: 'discrete'; size: number; n: number };                     // size sub-actions (one per symbol), n choices each (sell/hold/buy = 3)

/** N environments stepped together over flat typed arrays (row i = env i). Deterministic for a seed. */
export interface VecEnv {
  readonly numEnvs: number;
  readonly observationSize: number;          // flattened obs length per env (mask included)
  readonly actionSpace: ActionSpace;
  /** Resets every env; env i uses seed + i. Returns obs [numEnvs * observationSize] (a view owned by the env: copy if kept). */
  reset(seed: number): Float32Array;
  /** actions: continuous [numEnvs * size] floats; discrete [numEnvs * size] integer choices in [0, n).
   *  Envs that finish are auto-reset; `terminal` marks them, `truncated` marks time-limit ends (bootstrap value), and
   *  `obs` already holds the NEW episode's first observation for those envs; `finalObs` holds the last obs of the finished episode. */
  step(actions: Float32Array): VecStepResult;
  /** Episode metrics of every episode finished since the last call (then cleared) */
  drainEpisodes(): EpisodeMetrics[];
  close?(): void;
}

export interface VecStepResult {
  obs: Float32Array;        // [numEnvs * observationSize]
  reward: Float32Array;     // [numEnvs]
  terminal: Uint8Array;     // [numEnvs] 1 = episode ended by the stopper / data end
  truncated: Uint8Array;    // [numEnvs] 1 = ended by a step limit (bootstrap from finalObs)
  finalObs: Float32Array;   // [numEnvs * observationSize], valid where terminal|truncated
}

export interface EpisodeMetrics {
  envIndex: number; seed: number; steps: number;
  rewardSum: number; sharpe: number; sortino: number; maxDrawdown: number;
  turnover: number; exposureUtilization: number; winRatio: number; finalEquity: number;
  // additive (set by lib/rl/env): episode ordinal within its env, bar times of the first decision and
  // the last mark (epoch ms), the symbols traded, total return, commissions, and what ended it
  episode?: number; startTs?: number; endTs?: number; symbols?: string[];
  totalReturn?: number; feesPaid?: number; ended?: 'stopper' | 'data-end' | 'step-limit';
}

/** A serializable description an env factory rebuilds from (goes into checkpoints and worker threads). */
export interface EnvConfig { [key: string]: unknown }

/** Builds a VecEnv from a config: must be importable inside a worker_thread (no closures over main-thread state). */
export type VecEnvFactory = (config: EnvConfig, numEnvs: number) => Promise<VecEnv>;
