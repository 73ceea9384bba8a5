import { describe, expect, it } from 'vitest';
import { computeGae } from './gae.js';
import { learningRateAt } from './lr-schedule.js';

describe('computeGae', () => {
  it('matches a hand computation with an episode end inside the rollout', () => {
    // one env, 3 steps, gamma 0.9, lambda 0.8; the episode ends after step 1, V(after step 2) = 4
    // step 2: delta = 3 + 0.9*4 - 2.5        = 4.1                    A2 = 4.1
    // step 1: delta = 2 + 0 (done) - 1.5     = 0.5                    A1 = 0.5 (no carry over the end)
    // step 0: delta = 1 + 0.9*1.5 - 0.5      = 1.85   A0 = 1.85 + 0.9*0.8*0.5 = 2.21
    const rewards = new Float32Array([1, 2, 3]);
    const values = new Float32Array([0.5, 1.5, 2.5]);
    const dones = new Uint8Array([0, 1, 0]);
    const adv = new Float32Array(3);
    const ret = new Float32Array(3);
    computeGae(rewards, values, dones, new Float32Array([4]), 1, 3, 0.9, 0.8, adv, ret);
    expect(Array.from(adv)).toEqual([2.21, 0.5, 4.1].map(Math.fround));
    expect(Array.from(ret)).toEqual([2.71, 2.0, 6.6].map(Math.fround));
  });

  it('keeps envs apart (env-major layout) and reduces to discounted returns at lambda 1, TD errors at lambda 0', () => {
    // env 0: rewards 1,1 no end, V = 0, last 0 -> lambda 1: A = [1 + 0.5, 1] (gamma 0.5)
    // env 1: rewards 0,2, V = [1, 1], last 10, ends after step 1 -> lambda 0: A = [0 + 0.5*1 - 1, 2 - 1] = [-0.5, 1]
    const rewards = new Float32Array([1, 1, 0, 2]);
    const values = new Float32Array([0, 0, 1, 1]);
    const dones = new Uint8Array([0, 0, 0, 1]);
    const adv1 = new Float32Array(4);
    computeGae(rewards, values, dones, new Float32Array([0, 10]), 2, 2, 0.5, 1, adv1, new Float32Array(4));
    expect(Array.from(adv1.subarray(0, 2))).toEqual([1.5, 1]);
    const adv0 = new Float32Array(4);
    computeGae(rewards, values, dones, new Float32Array([0, 10]), 2, 2, 0.5, 0, adv0, new Float32Array(4));
    expect(Array.from(adv0.subarray(2, 4))).toEqual([-0.5, 1]);
  });
});

describe('learningRateAt', () => {
  it('constant, linear and cosine schedules', () => {
    expect(learningRateAt('constant', 1e-3, 0, 0.7)).toBe(1e-3);
    expect(learningRateAt('linear', 1e-3, 0, 0)).toBe(1e-3);
    expect(learningRateAt('linear', 1e-3, 0, 0.25)).toBeCloseTo(7.5e-4, 15);
    expect(learningRateAt('linear', 1e-3, 0.1, 1)).toBeCloseTo(1e-4, 15);
    expect(learningRateAt('cosine', 1e-3, 0, 0.5)).toBeCloseTo(5e-4, 15);
    expect(learningRateAt('cosine', 1e-3, 0.2, 1)).toBeCloseTo(2e-4, 15);
    expect(learningRateAt('linear', 1e-3, 0, 2)).toBe(0); // clamped past the end
  });
});
