/**
 * Test fixture: a worker-pool handler that builds an env from a plain config with `makeVecEnv`
 * (what rollout workers do) and returns the rewards of 100 fixed-action steps from a seed.
 */
import type { EnvConfig } from '../types.js';
import { makeVecEnv } from './make-env.js';

export async function makeEnvHandler(init: { config: EnvConfig }): Promise<(seed: unknown) => number[]> {
  const env = await makeVecEnv(init.config, 2);
  return (seed) => {
    env.reset(seed as number);
    const a = new Float32Array(2 * env.actionSpace.size).fill(0.3);
    const rewards: number[] = [];
    for (let k = 0; k < 100; k++) rewards.push(...env.step(a).reward);
    return rewards;
  };
}
