import { beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../core/seeded-random.js';
import { weightsToFlat } from '../policy/flat-params.js';
import { initPolicyWeights } from '../policy/policy-init.js';
import type { PolicySpec } from '../policy/policy-spec.js';
import { ppoGradient } from './ppo-grad.js';
import { ppoLoss } from './ppo-loss.js';
import { loadTf, type Tf } from './tf-loader.js';
import { TfPolicy } from './tf-policy.js';

let tf: Tf;
beforeAll(async () => {
  ({ tf } = await loadTf('wasm'));
});

const cases: [string, PolicySpec][] = [
  ['continuous, relu', { observationSize: 5, actionSpace: { kind: 'continuous', size: 2, low: -1, high: 1 }, hidden: [8, 6], activation: 'relu' }],
  ['continuous, tanh, one hidden layer', { observationSize: 4, actionSpace: { kind: 'continuous', size: 3, low: -1, high: 1 }, hidden: [7], activation: 'tanh' }],
  ['discrete 2 x 3, tanh', { observationSize: 4, actionSpace: { kind: 'discrete', size: 2, n: 3 }, hidden: [6, 5], activation: 'tanh' }],
];

describe('hand-written PPO gradient', () => {
  it.each(cases)('equals tfjs autodiff of the PPO loss (%s)', (_name, spec) => {
    const w = initPolicyWeights(spec, 3, -0.3);
    // scale the heads up so ratios spread and some land outside the clip range
    w.actor[w.actor.length - 2] = w.actor[w.actor.length - 2]!.map((v) => v * 60);
    const random = new SeededRandom(8);
    const m = 33;
    const dim = spec.actionSpace.size;
    const inputs = new Float32Array(m * spec.observationSize).map(() => random.normal());
    const actions = new Float32Array(m * dim).map(() => (spec.actionSpace.kind === 'discrete' ? random.int(spec.actionSpace.n) : random.normal()));
    const oldLogProbs = new Float32Array(m).map(() => -2 + random.normal());
    const advantages = new Float32Array(m).map(() => random.normal());
    const returns = new Float32Array(m).map(() => random.normal());
    const c = { clipRange: 0.2, valueCoef: 0.5, entropyCoef: 0.01 };

    const policy = new TfPolicy(tf, w);
    const auto = tf.tidy(() => {
      let stats: Float32Array | undefined;
      const { grads } = tf.variableGrads(() => {
        const r = ppoLoss(tf, policy, {
          obs: tf.tensor2d(inputs, [m, spec.observationSize]), actions: tf.tensor2d(actions, [m, dim]),
          oldLogProbs: tf.tensor1d(oldLogProbs), advantages: tf.tensor1d(advantages), returns: tf.tensor1d(returns),
        }, c);
        stats = r.stats.dataSync() as Float32Array;
        return r.loss;
      }, policy.variables);
      return { grad: policy.variables.flatMap((v) => Array.from(grads[v.name]!.dataSync())), stats: Array.from(stats!) };
    });
    policy.dispose();

    const out = ppoGradient(tf, spec, weightsToFlat(w), { rows: m, inputs, actions, oldLogProbs, advantages, returns }, c);
    const n = auto.grad.length;
    expect(out.length).toBe(n + 5);
    expect(auto.stats[4]).toBeGreaterThan(0.1); // the case exercises clipping
    const scale = Math.max(...auto.grad.map(Math.abs));
    for (let i = 0; i < n; i++) expect(Math.abs(out[i]! - auto.grad[i]!)).toBeLessThan(1e-4 * scale + 1e-6);
    for (let k = 0; k < 5; k++) expect(out[n + k]).toBeCloseTo(auto.stats[k]!, 4);
  });
});
