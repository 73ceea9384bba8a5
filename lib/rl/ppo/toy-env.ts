import { ConfigError } from '../../core/errors.js';
import { SeededRandom } from '../../core/seeded-random.js';
import type { ActionSpace, EnvConfig, EpisodeMetrics, VecEnv, VecStepResult } from '../types.js';

/**
 * A tiny VecEnv for PPO's own tests and benchmark baseline, independent of the trading env: each
 * step shows a signal x ~ N(0, 1) (feature 0) plus noise features; the reward of exposure a is
 * a * x * edge + noise * eps. The optimal policy is a = sign(x) (continuous, bounds [-1, 1]) or
 * choice 2 when x > 0 and 0 when x < 0 (discrete: choices -1, 0, +1). Episodes end `truncated`
 * after `length` steps, or `terminal` with probability `terminalProb` per step.
 * Env i draws from SeededRandom(seed + i), so it does not depend on the vector size.
 */
export interface ToyEnvConfig {
  kind: 'toy';
  observationSize?: number;
  length?: number;
  action?: 'continuous' | 'discrete';
  /** Size of the edge: reward per unit of a * x */
  edge?: number;
  noise?: number;
  terminalProb?: number;
}

export async function makeToyVecEnv(config: EnvConfig, numEnvs: number): Promise<VecEnv> {
  return new ToyVecEnv(config as unknown as ToyEnvConfig, numEnvs);
}

export class ToyVecEnv implements VecEnv {
  readonly observationSize: number;
  readonly actionSpace: ActionSpace;
  private readonly length: number;
  private readonly edge: number;
  private readonly noise: number;
  private readonly terminalProb: number;
  private readonly obs: Float32Array;
  private readonly result: VecStepResult;
  private randoms: SeededRandom[] = [];
  private seeds: number[] = [];
  private readonly t: Int32Array;
  private readonly rewardSum: Float64Array;
  private readonly finished: EpisodeMetrics[] = [];

  constructor(
    config: ToyEnvConfig,
    readonly numEnvs: number,
  ) {
    if (config.kind !== 'toy') throw new ConfigError('toy env', [`kind: expected 'toy', got ${String(config.kind)}`]);
    this.observationSize = config.observationSize ?? 4;
    this.length = config.length ?? 32;
    this.edge = config.edge ?? 0.1;
    this.noise = config.noise ?? 0.05;
    this.terminalProb = config.terminalProb ?? 0;
    this.actionSpace = config.action === 'discrete' ? { kind: 'discrete', size: 1, n: 3 } : { kind: 'continuous', size: 1, low: -1, high: 1 };
    this.obs = new Float32Array(numEnvs * this.observationSize);
    this.result = {
      obs: this.obs,
      reward: new Float32Array(numEnvs),
      terminal: new Uint8Array(numEnvs),
      truncated: new Uint8Array(numEnvs),
      finalObs: new Float32Array(numEnvs * this.observationSize),
    };
    this.t = new Int32Array(numEnvs);
    this.rewardSum = new Float64Array(numEnvs);
  }

  reset(seed: number): Float32Array {
    this.seeds = Array.from({ length: this.numEnvs }, (_, i) => seed + i);
    this.randoms = this.seeds.map((s) => new SeededRandom(s));
    for (let i = 0; i < this.numEnvs; i++) this.observe(i);
    this.t.fill(0);
    this.rewardSum.fill(0);
    this.finished.length = 0;
    return this.obs;
  }

  private observe(i: number): void {
    const r = this.randoms[i]!;
    for (let k = 0; k < this.observationSize; k++) this.obs[i * this.observationSize + k] = r.normal();
  }

  step(actions: Float32Array): VecStepResult {
    const { result, observationSize: size } = this;
    for (let i = 0; i < this.numEnvs; i++) {
      const x = this.obs[i * size]!;
      const a = this.actionSpace.kind === 'continuous' ? actions[i]! : actions[i]! - 1;
      const random = this.randoms[i]!;
      const reward = a * x * this.edge + this.noise * random.normal();
      result.reward[i] = reward;
      this.rewardSum[i] = this.rewardSum[i]! + reward;
      this.t[i] = this.t[i]! + 1;
      const terminal = this.terminalProb > 0 && random.next() < this.terminalProb;
      const truncated = !terminal && this.t[i]! >= this.length;
      result.terminal[i] = terminal ? 1 : 0;
      result.truncated[i] = truncated ? 1 : 0;
      this.observe(i);
      if (terminal || truncated) {
        result.finalObs.set(this.obs.subarray(i * size, (i + 1) * size), i * size);
        this.finished.push({
          envIndex: i, seed: this.seeds[i]!, steps: this.t[i]!, rewardSum: this.rewardSum[i]!,
          sharpe: 0, sortino: 0, maxDrawdown: 0, turnover: 0, exposureUtilization: 0, winRatio: 0, finalEquity: 1 + this.rewardSum[i]!,
        });
        this.t[i] = 0;
        this.rewardSum[i] = 0;
        this.observe(i); // the new episode's first observation
      }
    }
    return result;
  }

  drainEpisodes(): EpisodeMetrics[] {
    return this.finished.splice(0, this.finished.length);
  }
}
