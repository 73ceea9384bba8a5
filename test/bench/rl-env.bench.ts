import { parseEnvConfig, type TradingEnvConfigInput } from '../../lib/rl/env/config.js';
import { loadEnvDataset } from '../../lib/rl/env/make-env.js';
import { TradingVecEnv } from '../../lib/rl/env/vec-env.js';
import { medianMs, type BenchReport } from './harness.js';
import { NaiveVecEnv } from './rl-env-naive.js';

/*
 * RL environment throughput: env-steps per second of the vectorized trading env (lib/rl/env) with
 * random actions, 10 symbols x 30 features, window 32, next to the same env written as a naive
 * per-step, object-allocating Gym loop (rl-env-naive.ts) in the same run.
 *
 * Data: a seeded synthetic market (lib/rl/env/synthetic.ts, 10 symbols x 2,520 daily sessions of
 * the XNYS calendar, 30 feature columns): the env's step cost does not depend on where the
 * precomputed arrays came from, and the store's bundled daily data has fewer feature columns.
 * Costs are on (IB fixed commission, 1 bp slippage), reward risk-aware, stopper at 30% drawdown.
 * Before timing, both implementations are stepped with the same seed and actions and must give
 * the same rewards.
 */

const NUM_ENVS = 16;
const ACTION_BATCHES = 512;
const TARGET = 1_000_000;

function config(layout: 'stacked' | 'ring'): TradingEnvConfigInput {
  return {
    data: { kind: 'synthetic', symbols: 10, features: 30, bars: 2520, process: 'signal', seed: 11 },
    episode: { length: 252, window: 32 },
    portfolio: { cash: 1_000_000, commission: 'ib-fixed', slippageBps: 1 },
    action: { kind: 'volatility-target', volTarget: 0.15, maxLeverage: 1.5, maxAllocation: 0.3 },
    observation: { layout },
  };
}

/** Uniform [-1, 1) actions for `batches` vector steps (an LCG: the timed loops draw nothing) */
function randomActions(batches: number, width: number): Float32Array[] {
  let x = 20240611;
  return Array.from({ length: batches }, () => {
    const a = new Float32Array(width);
    for (let i = 0; i < width; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      a[i] = (x / 4294967296) * 2 - 1;
    }
    return a;
  });
}

let sink = 0;

export async function rlEnvBenchmarks(): Promise<BenchReport> {
  const problems: string[] = [];
  const ring = parseEnvConfig(config('ring'));
  const stacked = parseEnvConfig(config('stacked'));
  const data = await loadEnvDataset(ring);
  const S = data.symbols.length;
  const actions = randomActions(ACTION_BATCHES, NUM_ENVS * S);
  const nested = actions.map((a) => Array.from({ length: NUM_ENVS }, (_, e) => Array.from(a.subarray(e * S, (e + 1) * S))));

  // same seed and actions: the same rewards, through two auto-resets of every env
  {
    const vec = new TradingVecEnv(data, ring, NUM_ENVS);
    const naive = new NaiveVecEnv(data, ring, NUM_ENVS);
    vec.reset(7);
    naive.reset(7);
    let mismatches = 0;
    for (let k = 0; k < 600; k++) {
      const r = vec.step(actions[k % ACTION_BATCHES]!);
      const n = naive.step(nested[k % ACTION_BATCHES]!);
      for (let e = 0; e < NUM_ENVS; e++) {
        if (r.reward[e] !== Math.fround(n[e]!.reward) || r.terminal[e] !== (n[e]!.terminated ? 1 : 0) || r.truncated[e] !== (n[e]!.truncated ? 1 : 0)) mismatches++;
      }
    }
    if (mismatches) problems.push(`vectorized and naive envs disagree on ${mismatches} of ${600 * NUM_ENVS} steps`);
  }

  const vecRate = (cfg: typeof ring, steps: number) => {
    const env = new TradingVecEnv(data, cfg, NUM_ENVS);
    env.reset(1);
    let k = 0;
    return rates(steps * NUM_ENVS, () => {
      for (let i = 0; i < steps; i++) {
        const r = env.step(actions[k++ % ACTION_BATCHES]!);
        sink += r.reward[0]! + r.obs[i % r.obs.length]!;
      }
    });
  };
  const naiveRate = (steps: number) => {
    const env = new NaiveVecEnv(data, ring, NUM_ENVS);
    env.reset(1);
    let k = 0;
    return rates(steps * NUM_ENVS, () => {
      for (let i = 0; i < steps; i++) {
        const r = env.step(nested[k++ % ACTION_BATCHES]!);
        sink += r[0]!.reward + r[0]!.observation.features[0]![0]![i % 32]!;
      }
    });
  };

  const naive = await naiveRate(150);
  const ringRate = await vecRate(ring, 4000);
  const stackedRate = await vecRate(stacked, 2000);
  if (!Number.isFinite(sink)) problems.push(`results checksum is not finite (${sink})`);
  if (problems.length) {
    process.stderr.write(`\nERROR: rl-env results disagree (${problems.length}):\n${problems.map((p) => `  - ${p}`).join('\n')}\n\n`);
    process.exitCode = 1;
  }
  const baseline = { name: 'naive per-step object env', value: naive.wall };
  const cpuBaseline = { name: 'naive, per CPU second', value: naive.cpu };
  const target = `>= ${TARGET.toLocaleString('en-US')} env-steps/s`;
  const what = `(${NUM_ENVS} envs, 10 sym x 30 feat x 32 win, synthetic)`;
  return {
    [`rl-env.vec ring layout ${what}`]: { value: ringRate.wall, unit: 'env-steps/s', baseline, ratio: ringRate.wall / naive.wall, target, met: ringRate.wall >= TARGET },
    [`rl-env.vec stacked layout ${what}`]: { value: stackedRate.wall, unit: 'env-steps/s', baseline, ratio: stackedRate.wall / naive.wall, target, met: stackedRate.wall >= TARGET },
    // the same runs per second of this process's CPU time: steadier than wall time on a shared machine
    [`rl-env.vec ring layout, CPU time`]: { value: ringRate.cpu, unit: 'env-steps/cpu-s', baseline: cpuBaseline, ratio: ringRate.cpu / naive.cpu },
    [`rl-env.vec stacked layout, CPU time`]: { value: stackedRate.cpu, unit: 'env-steps/cpu-s', baseline: cpuBaseline, ratio: stackedRate.cpu / naive.cpu },
  };
}

/** Env-steps per second of wall time (median of 5 runs after a warm-up, the harness's medianMs) and of CPU time (median too) */
async function rates(envSteps: number, fn: () => void): Promise<{ wall: number; cpu: number }> {
  const cpu: number[] = [];
  const ms = await medianMs(() => {
    const c0 = process.cpuUsage();
    fn();
    const u = process.cpuUsage(c0);
    cpu.push((u.user + u.system) / 1000);
  }, 5);
  const timed = cpu.slice(1).sort((a, b) => a - b);
  return { wall: envSteps / (ms / 1000), cpu: envSteps / (timed[Math.floor(timed.length / 2)]! / 1000) };
}
