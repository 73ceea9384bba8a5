import { describe, expect, it } from 'vitest';
import { initPolicyWeights } from '../policy/policy-init.js';
import type { PolicySpec } from '../policy/policy-spec.js';
import { RolloutCollector, type RolloutSettings } from './rollout.js';
import { flatToWeights, weightsToFlat } from '../policy/flat-params.js';
import { openShards, splitEnvs } from './shard-pool.js';
import { ToyVecEnv, type ToyEnvConfig } from './toy-env.js';

const settings: Omit<RolloutSettings, 'envStart'> = { steps: 20, gamma: 0.9, gaeLambda: 0.95, seed: 5 };
const toy: ToyEnvConfig = { kind: 'toy', observationSize: 3, length: 7, terminalProb: 0.05 };
const spec: PolicySpec = { observationSize: 3, actionSpace: { kind: 'continuous', size: 1, low: -1, high: 1 }, hidden: [8], activation: 'tanh' };

describe('rollouts', () => {
  it('are the same whether 5 envs run in one collector or split 3 + 2', () => {
    const w = initPolicyWeights(spec, 1, 0);
    const whole = new RolloutCollector(new ToyVecEnv(toy, 5), w, { ...settings, envStart: 0 });
    const a = new RolloutCollector(new ToyVecEnv(toy, 3), w, { ...settings, envStart: 0 });
    const b = new RolloutCollector(new ToyVecEnv(toy, 2), w, { ...settings, envStart: 3 });
    for (let round = 0; round < 2; round++) {
      const one = whole.collect(w, 1);
      const [x, y] = [a.collect(w, 1), b.collect(w, 1)];
      for (const key of ['inputs', 'actions', 'logProbs', 'values', 'advantages', 'returns', 'rewardSums'] as const) {
        const joined = new (one[key].constructor as Float32ArrayConstructor)(one[key].length);
        joined.set(x[key] as Float32Array, 0);
        joined.set(y[key] as Float32Array, x[key].length);
        expect(joined).toEqual(one[key]);
      }
      expect([...x.episodes, ...y.episodes]).toEqual(one.episodes);
      expect(one.episodes.length).toBeGreaterThan(5); // 100 steps of 7-step episodes
    }
  });

  it('truncated episodes bootstrap from the final observation; terminal ones do not', () => {
    // 1 env, episodes of 3 steps (truncated); a critic with a constant output of 2 (zero kernel, bias 2)
    const w = initPolicyWeights(spec, 1, 0);
    w.critic = w.critic.map((x) => new Float32Array(x.length));
    w.critic[w.critic.length - 1]![0] = 2;
    const c = new RolloutCollector(new ToyVecEnv({ ...toy, length: 3, terminalProb: 0 }, 1), w, { ...settings, steps: 3, gamma: 0.5, gaeLambda: 1, envStart: 0 });
    const s = c.collect(w, 1);
    // lambda 1: A_t = sum of discounted rewards to the end + gamma^k * V(final) - V_t
    // the last step's reward gets + gamma * V(finalObs) = 0.5 * 2 = 1
    const R = s.returns;
    const raw = [R[0]! - 0.5 * R[1]!, R[1]! - 0.5 * R[2]!, R[2]! - 1];
    // the rewards reconstructed from the returns sum to the env's own reward sum (which has no bootstrap term)
    expect(raw[0]! + raw[1]! + raw[2]!).toBeCloseTo(s.rewardSums[0]!, 5);
    expect(Array.from(s.values)).toEqual([2, 2, 2]);
    // with a terminal end instead, nothing is added: R_2 is the raw reward
    const t = new RolloutCollector(new ToyVecEnv({ ...toy, length: 100, terminalProb: 1 }, 1), w, { ...settings, steps: 1, gamma: 0.5, gaeLambda: 1, envStart: 0 });
    const st = t.collect(w, 1);
    expect(st.returns[0]).toBeCloseTo(st.rewardSums[0]!, 6);
    expect(s.episodes).toHaveLength(1);
    expect(s.episodes[0]!.rewardSum).toBeCloseTo(s.rewardSums[0]!, 6);
  });

  it('split envs over workers as evenly as possible', () => {
    expect(splitEnvs(7, 3)).toEqual([{ start: 0, count: 3 }, { start: 3, count: 2 }, { start: 5, count: 2 }]);
    expect(splitEnvs(2, 2)).toEqual([{ start: 0, count: 1 }, { start: 1, count: 1 }]);
  });

  it('a worker thread collects and differentiates exactly as this thread; 2 workers collect the same rollout', async () => {
    const factory = { module: 'lib/rl/ppo/toy-env.ts', export: 'makeToyVecEnv' };
    const params = weightsToFlat(initPolicyWeights(spec, 3, 0));
    const plan = { updateIndex: 0, seed: 1, minibatches: 2, advantageMean: 0, advantageStd: 1, coefficients: { clipRange: 0.2, valueCoef: 0.5, entropyCoef: 0 } };
    const runs = [];
    for (const workers of [0, 1, 2]) {
      const pool = await openShards({ factory, envConfig: { ...toy }, numEnvs: 4, backend: 'wasm', settings }, workers);
      try {
        expect(pool.info.observationSize).toBe(3);
        const summaries = await pool.collect(spec, params, 1);
        const session = await pool.update(plan, params.length);
        const grads = [...(await session.step(params, 0, 0)), ...(await session.step(params, 0, 1))];
        await session.end();
        runs.push({ summaries, grads });
      } finally {
        await pool.close();
      }
    }
    const [inThread, one, two] = runs;
    expect(one).toEqual(inThread);
    expect(two!.summaries.flatMap((s) => s.episodes)).toEqual(inThread!.summaries[0]!.episodes);
    expect(two!.grads.reduce((n, g) => n + g.count, 0)).toBe(80); // both halves of 4 envs x 20 steps
    expect(flatToWeights(spec, params)).toEqual(initPolicyWeights(spec, 3, 0)); // params are never modified by shards
  });

  it('a failing env factory is reported with its message', async () => {
    const factory = { module: 'lib/rl/ppo/toy-env.ts', export: 'makeToyVecEnv' };
    await expect(openShards({ factory, envConfig: { kind: 'nope' }, numEnvs: 2, backend: 'wasm', settings }, 1)).rejects.toThrow(/kind: expected 'toy'/);
    await expect(openShards({ factory, envConfig: { kind: 'toy' }, numEnvs: 2, backend: 'wasm', settings }, 3)).rejects.toThrow(/3 workers for 2 envs/);
  });
});
