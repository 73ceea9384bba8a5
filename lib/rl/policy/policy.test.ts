import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../core/seeded-random.js';
import {
  LOG_SQRT_2PI, argmax, categoricalEntropy, gaussianEntropy, gaussianLogProb, logSoftmax, sampleCategorical, sampleGaussian,
} from './distributions.js';
import { decodePolicy, encodePolicy } from './policy-codec.js';
import { initPolicyWeights, orthogonal } from './policy-init.js';
import { PolicyNetwork } from './policy-network.js';
import type { PolicySpec } from './policy-spec.js';

const continuous: PolicySpec = { observationSize: 5, actionSpace: { kind: 'continuous', size: 2, low: -1, high: 1 }, hidden: [8, 6], activation: 'tanh' };
const discrete: PolicySpec = { observationSize: 3, actionSpace: { kind: 'discrete', size: 2, n: 3 }, hidden: [4], activation: 'relu' };

describe('Gaussian head', () => {
  it('log-probability and entropy follow the closed forms', () => {
    const mean = new Float32Array([0, 1]);
    const logStd = new Float32Array([0, Math.log(2)]);
    // at the mean: sum of -logStd - log sqrt(2 pi)
    expect(gaussianLogProb(new Float32Array([0, 1]), 0, mean, 0, logStd, 2)).toBeCloseTo(-Math.log(2) - 2 * LOG_SQRT_2PI, 6);
    // one std away in dim 0 (z = 1) and two stds in dim 1 (a = 1 + 2*2, z = 2): -0.5 - 2 more
    expect(gaussianLogProb(new Float32Array([1, 5]), 0, mean, 0, logStd, 2)).toBeCloseTo(-0.5 - 2 - Math.log(2) - 2 * LOG_SQRT_2PI, 6);
    // N(0,1) entropy = 0.5 (1 + log 2 pi) = 1.4189385...; doubling std adds log 2
    expect(gaussianEntropy(new Float32Array([0]))).toBeCloseTo(1.4189385332, 9);
    expect(gaussianEntropy(logStd)).toBeCloseTo(2 * 1.4189385332 + Math.log(2), 6);
  });

  it('samples have the mean and std of the head (seeded)', () => {
    const random = new SeededRandom(3);
    const mean = new Float32Array([0.5]);
    const logStd = new Float32Array([Math.log(0.2)]);
    const out = new Float32Array(20000);
    for (let i = 0; i < out.length; i++) sampleGaussian(mean, 0, logStd, 1, random, out, i);
    const m = out.reduce((a, b) => a + b, 0) / out.length;
    const sd = Math.sqrt(out.reduce((a, b) => a + (b - m) ** 2, 0) / out.length);
    // standard error of the mean is 0.2 / sqrt(20000) = 0.0014
    expect(Math.abs(m - 0.5)).toBeLessThan(0.006);
    expect(Math.abs(sd - 0.2)).toBeLessThan(0.005);
  });
});

describe('categorical head', () => {
  it('log-softmax, entropy, sampling frequencies and argmax', () => {
    // logits log 1, log 2, log 3 -> probabilities 1/6, 2/6, 3/6
    const logits = new Float32Array([9, Math.log(1), Math.log(2), Math.log(3)]);
    const lp = new Float64Array(3);
    logSoftmax(logits, 1, 3, lp);
    expect(Array.from(lp).map(Math.exp)).toEqual([1 / 6, 2 / 6, 3 / 6].map((p) => expect.closeTo(p, 6)));
    const h = -[1 / 6, 2 / 6, 3 / 6].reduce((s, p) => s + p * Math.log(p), 0);
    expect(categoricalEntropy(lp, 3)).toBeCloseTo(h, 6);
    const random = new SeededRandom(11);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30000; i++) counts[sampleCategorical(lp, 3, random)]!++;
    counts.forEach((c, k) => expect(Math.abs(c / 30000 - (k + 1) / 6)).toBeLessThan(0.01));
    expect(argmax(logits, 1, 3)).toBe(2);
    expect(argmax(new Float32Array([1, 1]), 0, 2)).toBe(0); // first on ties
  });
});

describe('policy weights', () => {
  it('orthogonal init: columns (or rows) orthonormal times the gain', () => {
    const w = orthogonal(6, 3, 2, new SeededRandom(1));
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        let dot = 0;
        for (let r = 0; r < 6; r++) dot += w[r * 3 + a]! * w[r * 3 + b]!;
        expect(dot).toBeCloseTo(a === b ? 4 : 0, 5);
      }
    }
    const wide = orthogonal(2, 5, 1, new SeededRandom(2));
    let cross = 0;
    for (let c = 0; c < 5; c++) cross += wide[c]! * wide[5 + c]!;
    expect(cross).toBeCloseTo(0, 6);
  });

  it('init is a pure function of the seed; the codec round-trips bit for bit and refuses a changed byte', () => {
    const a = initPolicyWeights(continuous, 42, -0.5);
    expect(initPolicyWeights(continuous, 42, -0.5)).toEqual(a);
    expect(initPolicyWeights(continuous, 43, -0.5).actor[0]).not.toEqual(a.actor[0]);
    expect(Array.from(a.logStd)).toEqual([-0.5, -0.5]);
    const encoded = encodePolicy(a);
    expect(decodePolicy(JSON.parse(JSON.stringify(encoded)))).toEqual(a);
    const bytes = Buffer.from(encoded.data, 'base64');
    bytes[3] = bytes[3]! ^ 1;
    expect(() => decodePolicy({ ...encoded, data: bytes.toString('base64') })).toThrow(/sha256 of the weights/);
  });
});

describe('PolicyNetwork (plain JS forward)', () => {
  it('computes tanh/relu MLPs by hand on a 1-hidden-layer net', () => {
    const spec: PolicySpec = { observationSize: 2, actionSpace: { kind: 'continuous', size: 1, low: -1, high: 1 }, hidden: [2], activation: 'tanh' };
    const w = initPolicyWeights(spec, 1);
    // actor: W0 = [[1, 2], [3, 4]] (in x out), b0 = [0.1, -0.1], W1 = [[0.5], [-1]], b1 = [0.2]
    w.actor = [new Float32Array([1, 2, 3, 4]), new Float32Array([0.1, -0.1]), new Float32Array([0.5, -1]), new Float32Array([0.2])];
    const net = new PolicyNetwork(w);
    const x = new Float32Array([0.3, -0.2]);
    const h0 = Math.tanh(1 * 0.3 + 3 * -0.2 + 0.1);
    const h1 = Math.tanh(2 * 0.3 + 4 * -0.2 - 0.1);
    const out = new Float32Array(1);
    net.actor(x, 0, 1, out);
    expect(out[0]).toBeCloseTo(0.5 * h0 - h1 + 0.2, 6);
    const act = new Float32Array(1);
    net.act(x, 0, act);
    expect(act[0]).toBeCloseTo(0.5 * h0 - h1 + 0.2, 6); // inside the bounds: the mean itself
    w.actor[3] = new Float32Array([5]);
    net.setWeights(w);
    net.act(x, 0, act);
    expect(act[0]).toBe(1); // clipped to high
  });

  it('discrete act takes the argmax of each sub-action', () => {
    const w = initPolicyWeights(discrete, 5);
    const net = new PolicyNetwork(w);
    const x = new Float32Array([0.5, -1, 2]);
    const logits = new Float32Array(6);
    net.actor(x, 0, 1, logits);
    const act = new Float32Array(2);
    net.act(x, 0, act);
    expect(Array.from(act)).toEqual([argmax(logits, 0, 3), argmax(logits, 3, 3)]);
  });
});
