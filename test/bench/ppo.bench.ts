import { availableParallelism } from 'node:os';
import { makeVecEnv } from '../../lib/rl/env/make-env.js';
import { trainPpo } from '../../lib/rl/ppo/train.js';
import type { BenchReport } from './harness.js';
import { naivePpoStepsPerSecond } from './ppo-naive.js';

/**
 * PPO training throughput, end to end (rollouts, GAE, minibatch epochs, weight copies: everything
 * trainPpo does), in env steps per second, on the trading env over the synthetic 'signal' market
 * (4 symbols x 8 features, window 1: 40 observation values, 4 continuous exposures) with the
 * default hyperparameters (16 envs x 256 steps per update, 4 epochs of 512-sample minibatches,
 * 64x64 relu actor and critic). The target is 20,000 env steps/s on 2 cores. Baselines in
 * the same run: the same training in one thread, and PPO written the obvious tfjs way
 * (ppo-naive.ts: a tfjs forward per env step, tfjs's own gradients and optimizer).
 */
const ENV = {
  data: { kind: 'synthetic', symbols: 4, features: 8, bars: 2520, process: 'signal' },
  episode: { window: 1, length: 252 },
};

export async function ppoBenchmarks(): Promise<BenchReport> {
  const steps = 16 * 256 * 48; // 196,608 steps: long enough that starting the workers (about a second) is a small part
  const workers = Math.min(2, availableParallelism());
  // a short warm-up run: module compilation, wasm start-up and worker start are not throughput
  await trainPpo({ envConfig: ENV, steps: 4096, seed: 1, workers, backend: 'wasm' });
  // CPU time of the process (all its threads) next to wall time: on a machine other work competes for,
  // env steps per CPU-second is what the code costs, and 2 x that bounds 2 idle cores
  const cpuSeconds = (since: NodeJS.CpuUsage) => {
    const u = process.cpuUsage(since);
    return (u.user + u.system) / 1e6;
  };
  let cpu = process.cpuUsage();
  const parallel = await trainPpo({ envConfig: ENV, steps, seed: 1, workers, backend: 'wasm' });
  const parallelCpu = cpuSeconds(cpu);
  cpu = process.cpuUsage();
  const single = await trainPpo({ envConfig: ENV, steps: steps / 3, seed: 1, workers: 0, backend: 'wasm' });
  const singleCpu = cpuSeconds(cpu);
  const naive = await naivePpoStepsPerSecond(await makeVecEnv(ENV, 16), { rolloutSteps: 256, iterations: 2, hidden: [64, 64], epochs: 4, minibatchSize: 512 });
  const value = parallel.timing.stepsPerSecond;
  const rollout = (parallel.envSteps * 1000) / parallel.timing.rolloutMs;
  const update = (parallel.envSteps * 1000) / parallel.timing.updateMs;
  return {
    [`PPO training end to end, trading env (synthetic), ${workers} workers`]: {
      value,
      unit: 'env-steps/s',
      baseline: { name: 'naive tfjs PPO loop (a tfjs forward per step), one thread', value: naive },
      ratio: value / naive,
      target: '>= 20,000/s on 2 cores',
      met: value >= 20_000,
    },
    [`PPO training end to end, one thread`]: {
      value: single.timing.stepsPerSecond,
      unit: 'env-steps/s',
      baseline: { name: `${workers} workers`, value },
      ratio: single.timing.stepsPerSecond / value,
    },
    [`PPO training cost, one thread`]: {
      value: single.envSteps / singleCpu,
      unit: 'env-steps per CPU-s',
      baseline: { name: `${workers} workers`, value: parallel.envSteps / parallelCpu },
      ratio: single.envSteps / singleCpu / (parallel.envSteps / parallelCpu),
    },
    [`PPO rollout phase (plain-JS policy + env), ${workers} workers`]: {
      value: rollout,
      unit: 'env-steps/s',
      baseline: { name: 'update phase (gradients + Adam), same run', value: update },
      ratio: rollout / update,
    },
  };
}
