import { beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../core/seeded-random.js';
import { gaussianLogProb, logSoftmax } from '../policy/distributions.js';
import { initPolicyWeights } from '../policy/policy-init.js';
import { PolicyNetwork } from '../policy/policy-network.js';
import type { PolicySpec } from '../policy/policy-spec.js';
import { logProbAndEntropy, ppoLoss } from './ppo-loss.js';
import { loadTf, type Tf } from './tf-loader.js';
import { TfPolicy } from './tf-policy.js';

let tf: Tf;
beforeAll(async () => {
  ({ tf } = await loadTf('wasm'));
});

const spec1d: PolicySpec = { observationSize: 2, actionSpace: { kind: 'continuous', size: 1, low: -1, high: 1 }, hidden: [3], activation: 'tanh' };

/** A policy whose mean is 0 for every observation and std 1: logp(a) = -a^2/2 - log sqrt(2 pi) */
function zeroPolicy(): TfPolicy {
  const w = initPolicyWeights(spec1d, 1, 0);
  w.actor = w.actor.map((a) => new Float32Array(a.length));
  w.critic = w.critic.map((a) => new Float32Array(a.length)); // V = 0
  return new TfPolicy(tf, w);
}

describe('clipped surrogate objective', () => {
  it('takes the pessimistic term: ratio clipped to [0.8, 1.2] only where that lowers the objective', () => {
    const policy = zeroPolicy();
    const a = [0.5, -0.3, 1.1, 0.0];
    const ratio = [1.5, 0.5, 0.5, 1.5];
    const adv = [1, 1, -1, -1];
    const logp = a.map((x) => -0.5 * x * x - 0.5 * Math.log(2 * Math.PI));
    const r = tf.tidy(() => {
      const out = ppoLoss(
        tf,
        policy,
        {
          obs: tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]),
          actions: tf.tensor2d(a, [4, 1]),
          oldLogProbs: tf.tensor1d(logp.map((l, i) => l - Math.log(ratio[i]!))),
          advantages: tf.tensor1d(adv),
          returns: tf.tensor1d([1, -1, 2, 0]),
        },
        { clipRange: 0.2, valueCoef: 0.5, entropyCoef: 0.01 },
      );
      return { loss: out.loss.dataSync()[0]!, stats: Array.from(out.stats.dataSync()) };
    });
    // per row min(r A, clip(r) A): 1.5 -> 1.2 (clipped), 0.5 (unclipped, worse), -0.8 (clipped 0.5 -> 0.8), -1.5 (unclipped)
    const surrogate = (1.2 + 0.5 - 0.8 - 1.5) / 4;
    const valueLoss = (1 + 1 + 4 + 0) / 4; // V = 0
    const entropy = 0.5 + 0.5 * Math.log(2 * Math.PI); // logStd 0
    const approxKl = ratio.reduce((s, x) => s + (x - 1) - Math.log(x), 0) / 4;
    const [pl, vl, ent, kl, clipFrac] = r.stats;
    expect(pl).toBeCloseTo(-surrogate, 5);
    expect(vl).toBeCloseTo(valueLoss, 5);
    expect(ent).toBeCloseTo(entropy, 5);
    expect(kl).toBeCloseTo(approxKl, 5);
    expect(clipFrac).toBe(1); // every ratio is outside [0.8, 1.2]
    expect(r.loss).toBeCloseTo(-surrogate + 0.5 * valueLoss - 0.01 * entropy, 5);
    policy.dispose();
  });
});

describe('tfjs policy = plain-JS policy', () => {
  it('continuous: same means, values and log-probabilities', () => {
    const spec: PolicySpec = { observationSize: 6, actionSpace: { kind: 'continuous', size: 2, low: -1, high: 1 }, hidden: [16, 16], activation: 'tanh' };
    const w = initPolicyWeights(spec, 9, -0.7);
    // larger output weights than the init's 0.01 gain, so the comparison sees real numbers
    w.actor[w.actor.length - 2] = w.actor[w.actor.length - 2]!.map((x) => x * 100);
    const js = new PolicyNetwork(w);
    const policy = new TfPolicy(tf, w);
    const random = new SeededRandom(4);
    const rows = 7;
    const obs = new Float32Array(rows * 6).map(() => random.normal());
    const actions = new Float32Array(rows * 2).map(() => random.normal());
    const means = new Float32Array(rows * 2);
    const values = new Float32Array(rows);
    js.actor(obs, 0, rows, means);
    js.critic(obs, 0, rows, values);
    const got = tf.tidy(() => {
      const x = tf.tensor2d(obs, [rows, 6]);
      const { logProb } = logProbAndEntropy(tf, policy, x, tf.tensor2d(actions, [rows, 2]));
      return { means: policy.actor(x).dataSync(), values: policy.value(x).dataSync(), logProb: logProb.dataSync() };
    });
    for (let i = 0; i < rows * 2; i++) expect(got.means[i]).toBeCloseTo(means[i]!, 5);
    for (let i = 0; i < rows; i++) {
      expect(got.values[i]).toBeCloseTo(values[i]!, 5);
      expect(got.logProb[i]).toBeCloseTo(gaussianLogProb(actions, i * 2, means, i * 2, w.logStd, 2), 4);
    }
    expect(policy.exportWeights()).toEqual(w);
    policy.dispose();
  });

  it('discrete: log-probabilities of the chosen sub-actions and the mean entropy', () => {
    const spec: PolicySpec = { observationSize: 3, actionSpace: { kind: 'discrete', size: 2, n: 3 }, hidden: [8], activation: 'relu' };
    const w = initPolicyWeights(spec, 2);
    w.actor[w.actor.length - 2] = w.actor[w.actor.length - 2]!.map((x) => x * 100);
    const js = new PolicyNetwork(w);
    const policy = new TfPolicy(tf, w);
    const obs = new Float32Array([0.2, -1, 0.5, 1.5, 0.3, -0.4]);
    const choices = new Float32Array([0, 2, 1, 1]);
    const logits = new Float32Array(12);
    js.actor(obs, 0, 2, logits);
    const lp = new Float64Array(3);
    const expected: number[] = [];
    let entropy = 0;
    for (let r = 0; r < 2; r++) {
      let sum = 0;
      for (let d = 0; d < 2; d++) {
        logSoftmax(logits, r * 6 + d * 3, 3, lp);
        sum += lp[choices[r * 2 + d]!]!;
        for (let k = 0; k < 3; k++) entropy -= (Math.exp(lp[k]!) * lp[k]!) / 2;
      }
      expected.push(sum);
    }
    const got = tf.tidy(() => {
      const r = logProbAndEntropy(tf, policy, tf.tensor2d(obs, [2, 3]), tf.tensor2d(choices, [2, 2]));
      return { logProb: Array.from(r.logProb.dataSync()), entropy: r.entropy.dataSync()[0]! };
    });
    got.logProb.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
    expect(got.entropy).toBeCloseTo(entropy, 4);
    policy.dispose();
  });
});
