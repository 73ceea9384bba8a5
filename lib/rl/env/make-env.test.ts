import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTasks } from '../../parallel/worker-pool.js';
import { featureSetHash, loadEnvConfig, loadEnvDataset, makeVecEnv } from './make-env.js';

describe('makeVecEnv', () => {
  it('builds the same deterministic env inside worker threads as in this one', async () => {
    const config = { data: { kind: 'synthetic', symbols: 3, features: 4, bars: 500 }, episode: { length: 50, window: 8 } };
    const options = { module: resolve('lib/rl/env/env-worker-fixture.ts'), factory: 'makeEnvHandler', init: { config } };
    const inWorkers = await runTasks<number, number[], typeof options.init>([1, 2, 3], { ...options, workers: 2 });
    const here = await runTasks<number, number[], typeof options.init>([1, 2, 3], { ...options, workers: 0 });
    expect(inWorkers).toEqual(here);
    expect(inWorkers[0]).toHaveLength(200);
    expect(inWorkers[0]).not.toEqual(inWorkers[1]);
  });

  it('implements the contract shape: sizes, spaces, auto-reset buffers', async () => {
    const env = await makeVecEnv({ data: { kind: 'synthetic', symbols: 3, features: 4, bars: 300 }, episode: { length: 5, window: 6 }, action: { kind: 'discrete' } }, 4);
    expect(env.numEnvs).toBe(4);
    expect(env.observationSize).toBe(6 * 3 * 4 + 3 + 3);
    expect(env.actionSpace).toEqual({ kind: 'discrete', size: 3, n: 3 });
    const obs = env.reset(0);
    expect(obs).toHaveLength(4 * env.observationSize);
    let r = env.step(new Float32Array(12).fill(2));
    for (let k = 0; k < 4; k++) r = env.step(new Float32Array(12).fill(1));
    expect([...r.truncated]).toEqual([1, 1, 1, 1]);
    expect(r.finalObs).toHaveLength(4 * env.observationSize);
    expect(r.obs).toBe(obs);
    const episodes = env.drainEpisodes();
    expect(episodes.map((m) => [m.envIndex, m.seed, m.steps])).toEqual([
      [0, 0, 5],
      [1, 1, 5],
      [2, 2, 5],
      [3, 3, 5],
    ]);
    expect(env.drainEpisodes()).toEqual([]);
  });

  it('featureSetHash names the features without loading data, as the dataset does', async () => {
    const synthetic = { data: { kind: 'synthetic', symbols: 2, bars: 100 } };
    expect(featureSetHash(synthetic)).toBe((await loadEnvDataset(synthetic)).featureSetHash);
    expect(featureSetHash({ data: { ...synthetic.data, seed: 2 } })).not.toBe(featureSetHash(synthetic));
    expect(featureSetHash(loadEnvConfig('strategies/ppo-voltarget/env.yaml'))).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses to step before reset', async () => {
    const env = await makeVecEnv({ data: { kind: 'synthetic', symbols: 2, bars: 100 }, episode: { length: 5, window: 4 } }, 1);
    expect(() => env.step(new Float32Array(2))).toThrow(/before reset/);
  });
});
