/**
 * The single-environment, Gymnasium-like API over the vectorized core with one env:
 * `reset(seed?)` → { observation, info }, `step(action)` → { observation, reward, terminated,
 * truncated, info }. After an episode ends, `observation` is its last observation and the next
 * `reset()` (no seed) starts the following episode of the same random stream; `reset(seed)`
 * reseeds. The observation and info objects are reused between calls: copy what you keep.
 */
import { InvariantError } from '../../core/errors.js';
import type { ActionSpace } from '../types.js';
import { emptyInfo, type StepInfo } from './informer.js';
import type { TradingVecEnv } from './vec-env.js';

export interface ResetResult {
  observation: Float32Array;
  info: StepInfo;
}

export interface StepResult {
  observation: Float32Array;
  reward: number;
  terminated: boolean;
  truncated: boolean;
  info: StepInfo;
}

export class TradingEnv {
  readonly observationSize: number;
  readonly actionSpace: ActionSpace;
  private readonly info: StepInfo = emptyInfo();
  private readonly action: Float32Array;
  private readonly out: StepResult;
  /** True once the core auto-reset after an episode end, until `reset()` hands that episode out */
  private pending = false;
  private started = false;

  constructor(readonly vec: TradingVecEnv) {
    if (vec.numEnvs !== 1) throw new InvariantError(`TradingEnv wraps a VecEnv with one env, got ${vec.numEnvs}`);
    this.observationSize = vec.observationSize;
    this.actionSpace = vec.actionSpace;
    this.action = new Float32Array(vec.actionSpace.size);
    this.out = { observation: new Float32Array(0), reward: 0, terminated: false, truncated: false, info: this.info };
    vec.infoSink = this.info;
  }

  reset(seed?: number): ResetResult {
    if (seed !== undefined) this.vec.reset(seed);
    else if (!this.started) this.vec.reset(0);
    else if (!this.pending) this.vec.resetEnv(0);
    this.started = true;
    this.pending = false;
    this.vec.schemes.informer.write(this.vec.state, 0, this.info);
    return { observation: this.vec.observations, info: this.info };
  }

  step(action: ArrayLike<number>): StepResult {
    if (!this.started) throw new InvariantError('step before reset');
    if (this.pending) throw new InvariantError('step after the episode ended: call reset() first');
    if (action.length !== this.action.length) throw new InvariantError(`step: expected ${this.action.length} actions, got ${action.length}`);
    for (let i = 0; i < action.length; i++) this.action[i] = action[i]!;
    const r = this.vec.step(this.action);
    const out = this.out;
    out.reward = r.reward[0]!;
    out.terminated = r.terminal[0] === 1;
    out.truncated = r.truncated[0] === 1;
    this.pending = out.terminated || out.truncated;
    out.observation = this.pending ? r.finalObs : r.obs;
    return out;
  }
}
