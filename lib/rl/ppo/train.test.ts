import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex, weightsToBytes } from '../policy/policy-codec.js';
import { loadCheckpoint, resumeState, saveCheckpoint } from './checkpoint.js';
import type { EnvFactoryRef } from './env-factory.js';
import { trainPpo, type TrainPpoOptions, type TrainResult } from './train.js';

const toy: EnvFactoryRef = { module: 'lib/rl/ppo/toy-env.ts', export: 'makeToyVecEnv' };

/** Every hyperparameter spelled out, so a change of defaults cannot move the golden numbers */
const golden: TrainPpoOptions = {
  envConfig: { kind: 'toy', observationSize: 4, length: 16, terminalProb: 0.02 },
  envFactory: toy,
  steps: 1024,
  seed: 42,
  backend: 'wasm',
  ppo: {
    numEnvs: 4, rolloutSteps: 128, epochs: 2, minibatchSize: 128, hidden: [16, 16], activation: 'tanh', learningRate: 1e-3, lrSchedule: 'linear',
    lrFinalFraction: 0, rewardScale: 'auto', logStdInit: -0.5, gamma: 0.99, gaeLambda: 0.95, clipRange: 0.2, valueCoef: 0.5, entropyCoef: 0,
    maxGradNorm: 0.5, normalizeAdvantages: true, targetKl: 0, adamEpsilon: 1e-5, inputRows: 'all',
  },
};

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('PPO training', () => {
  let first: TrainResult;

  it('golden seed: a short run reproduces its recorded metrics and weights exactly', async () => {
    first = await trainPpo({ ...golden, workers: 0 });
    // Recorded from this very configuration (2 updates of 512 toy steps on the wasm backend). Exact
    // equality is justified: every number is a deterministic function of the seed — JS doubles in
    // rollouts, GAE and Adam; tfjs-wasm float32 kernels (no threads, no FMA in wasm SIMD) for the
    // gradients — so any change here means the computation changed.
    expect(first.metrics).toEqual({
      envSteps: 1024,
      iterations: 2,
      episodes: 71,
      recentEpisodes: 38,
      recentEpisodeReward: -0.054714619638263164,
      recentEpisodeSharpe: 0,
      recentFinalEquity: 0.945285380361737,
      recentMaxDrawdown: 0,
      policyLoss: -0.003946766257286072,
      valueLoss: 0.8710794225335121,
      entropy: 0.920590952038765,
      approxKl: 0.00011373456800356507,
      clipFraction: 0,
      explainedVariance: -0.05281866756396569,
      learningRate: 0.0005,
    });
    expect(first.rewardScale).toBe(4.833775374279066);
    expect(sha256Hex(weightsToBytes(first.weights))).toBe('0aa2f582bbc073b9f6ea482cc3da1dab9452b40e0d8fe49935a77f9e3da5dae8');
  });

  it('reruns identically, and one worker thread computes exactly what this thread does', async () => {
    const again = await trainPpo({ ...golden, workers: 0 });
    const threaded = await trainPpo({ ...golden, workers: 1 });
    for (const r of [again, threaded]) {
      expect(r.metrics).toEqual(first.metrics);
      expect(r.history).toEqual(first.history);
      expect(r.weights).toEqual(first.weights);
      expect(r.optimizer).toEqual(first.optimizer);
    }
    // the learning-rate schedule: linear from 1e-3 at step 0 to 0 at 1024, evaluated as each update starts
    expect(first.history.map((h) => h.learningRate)).toEqual([1e-3, 5e-4]);
    expect(first.history.map((h) => h.minibatches)).toEqual([8, 8]); // 2 epochs x 512 / 128
  });

  it('checkpoints round-trip and resume where the run stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'monger-ppo-ckpt-'));
    dirs.push(dir);
    const common = { envConfigHash: 'h', featureSetHash: null, envFactory: toy, ppo: first.ppo, backend: first.backend, workers: 0 };
    saveCheckpoint(dir, { ...common, seed: 42, envSteps: first.envSteps, iterations: first.iterations, rewardScale: first.rewardScale, envConfig: golden.envConfig, weights: first.weights, optimizer: first.optimizer, metrics: first.metrics, history: first.history });
    const loaded = loadCheckpoint(dir);
    expect(loaded.weights).toEqual(first.weights);
    expect(loaded.optimizer).toEqual(first.optimizer);
    expect(loaded.manifest.ppo).toEqual(first.ppo);
    expect(loaded.manifest.metrics.learningRate).toBe(0.0005);
    expect(loaded.manifest.metrics.recentEpisodeSharpe).toBe(0);

    const resumed = await trainPpo({ ...golden, workers: 0, steps: 2048, resume: resumeState(loaded) });
    expect(resumed.iterations).toBe(4);
    expect(resumed.history.map((h) => h.iteration)).toEqual([0, 1, 2, 3]);
    expect(resumed.history.map((h) => h.learningRate)).toEqual([1e-3, 5e-4, 5e-4, 2.5e-4]); // the schedule over 2048 steps from step 1024 on
    expect(resumed.rewardScale).toBe(first.rewardScale); // kept, not re-measured
    expect(resumed.optimizer.step).toBe(first.optimizer.step + 16);
    expect(resumed.weights).not.toEqual(first.weights);

    writeFileSync(join(dir, 'weights.bin'), new Uint8Array(weightsToBytes(first.weights).length));
    expect(() => loadCheckpoint(dir)).toThrow(/weights\.bin: sha256 [0-9a-f]{64}, the manifest says/);
    expect(() => loadCheckpoint(join(dir, 'nope'))).toThrow(/not a PPO checkpoint directory/);
  });

  it('refuses bad settings by name', async () => {
    await expect(trainPpo({ ...golden, ppo: { numEnvs: 0, learningRate: -1, bogus: 1 } as never })).rejects.toThrow(/numEnvs: expected an integer >= 1[\s\S]*learningRate: expected a positive learning rate[\s\S]*bogus: unknown setting/);
    await expect(trainPpo({ ...golden, steps: 0 })).rejects.toThrow(/--steps/);
    await expect(trainPpo({ ...golden, ppo: { ...golden.ppo, inputRows: 1 } })).rejects.toThrow(/ppo.inputRows[\s\S]*needs an env with a stacked observation window/);
  });
});
