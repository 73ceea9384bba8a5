import { ConfigError } from '../../core/errors.js';
import { SeededRandom } from '../../core/seeded-random.js';
import { PolicyNetwork } from '../policy/policy-network.js';
import type { PolicyWeights } from '../policy/policy-spec.js';
import type { ActionSpace, EnvConfig, EpisodeMetrics } from '../types.js';
import { buildVecEnv, DEFAULT_ENV_FACTORY, type EnvFactoryRef } from './env-factory.js';

/**
 * What acts in an evaluation: a trained policy (its deterministic action: the mean, or the most
 * likely choice), uniform random actions, or one constant action for every env (e.g. +1 on every
 * slot: always fully long, the buy-and-hold baseline of an exposure env).
 */
export type EvalAgent =
  | { kind: 'policy'; weights: PolicyWeights }
  | { kind: 'random' }
  | { kind: 'constant'; value: number }
  /** Any rule over one env's observation, e.g. a known optimal policy (in this thread only) */
  | { kind: 'rule'; act: (obs: Float32Array, obsOff: number, out: Float32Array, outOff: number) => void };

export interface EvaluateOptions {
  envConfig: EnvConfig;
  envFactory?: EnvFactoryRef;
  agent: EvalAgent;
  /** Episodes to evaluate: the first that finish (by step, then env index) */
  episodes: number;
  numEnvs?: number;
  /** Env seeds (env i resets with seed + i) and the random agent's stream */
  seed: number;
  /** Safety stop */
  maxSteps?: number;
}

export interface EvaluationSummary {
  episodes: EpisodeMetrics[];
  meanReward: number;
  meanSharpe: number;
  meanFinalEquity: number;
  meanMaxDrawdown: number;
}

function meanOf(es: readonly EpisodeMetrics[], f: (e: EpisodeMetrics) => number): number {
  return es.length === 0 ? NaN : es.reduce((s, e) => s + f(e), 0) / es.length;
}

export function summarizeEpisodes(episodes: EpisodeMetrics[]): EvaluationSummary {
  return {
    episodes,
    meanReward: meanOf(episodes, (e) => e.rewardSum),
    meanSharpe: meanOf(episodes, (e) => e.sharpe),
    meanFinalEquity: meanOf(episodes, (e) => e.finalEquity),
    meanMaxDrawdown: meanOf(episodes, (e) => e.maxDrawdown),
  };
}

/**
 * Runs an agent through an env's episodes with the plain-JS policy (no tfjs): the out-of-sample
 * check of a trained policy against baselines on the same seeds.
 */
export async function evaluateAgent(o: EvaluateOptions): Promise<EvaluationSummary> {
  const numEnvs = o.numEnvs ?? Math.min(8, o.episodes);
  const env = await buildVecEnv(o.envFactory ?? DEFAULT_ENV_FACTORY, o.envConfig, numEnvs);
  try {
    const space: ActionSpace = env.actionSpace;
    const size = space.size;
    const net = o.agent.kind === 'policy' ? new PolicyNetwork(o.agent.weights) : undefined;
    if (net !== undefined && (net.spec.observationSize !== env.observationSize || JSON.stringify(net.spec.actionSpace) !== JSON.stringify(space))) {
      throw new ConfigError('evaluate', [`the policy (${net.spec.observationSize} observations, ${JSON.stringify(net.spec.actionSpace)}) does not fit the env (${env.observationSize}, ${JSON.stringify(space)})`]);
    }
    const random = new SeededRandom(o.seed).fork('evaluate-random-agent');
    const actions = new Float32Array(numEnvs * size);
    let obs = env.reset(o.seed);
    const finished: EpisodeMetrics[] = [];
    const maxSteps = o.maxSteps ?? 10_000_000;
    for (let step = 0; finished.length < o.episodes; step++) {
      if (step >= maxSteps) throw new ConfigError('evaluate', [`${o.episodes} episodes did not finish within ${maxSteps} steps`]);
      for (let i = 0; i < numEnvs; i++) {
        if (net !== undefined) net.act(obs, i * env.observationSize, actions, i * size);
        else if (o.agent.kind === 'constant') actions.fill(o.agent.value, i * size, (i + 1) * size);
        else if (o.agent.kind === 'rule') o.agent.act(obs, i * env.observationSize, actions, i * size);
        else {
          for (let d = 0; d < size; d++) {
            actions[i * size + d] = space.kind === 'continuous' ? space.low + (space.high - space.low) * random.next() : random.int(space.n);
          }
        }
      }
      obs = env.step(actions).obs;
      for (const e of env.drainEpisodes()) finished.push(e);
    }
    return summarizeEpisodes(finished.slice(0, o.episodes));
  } finally {
    env.close?.();
  }
}
