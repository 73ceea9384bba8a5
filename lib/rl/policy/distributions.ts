import type { SeededRandom } from '../../core/seeded-random.js';

/**
 * Action distributions in plain JS over typed arrays (rollouts, the strategy module, tests). The
 * tfjs loss (lib/rl/ppo/ppo-loss.ts) computes the same formulas on tensors; tests check both
 * agree. Multi-dimensional actions are independent per dimension, so log-probabilities and
 * entropies are sums over dimensions.
 */

export const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** log N(a | mean, exp(logStd)) summed over `size` dimensions */
export function gaussianLogProb(action: Float32Array, aOff: number, mean: Float32Array, mOff: number, logStd: Float32Array, size: number): number {
  let lp = 0;
  for (let d = 0; d < size; d++) {
    const z = (action[aOff + d]! - mean[mOff + d]!) / Math.exp(logStd[d]!);
    lp += -0.5 * z * z - logStd[d]! - LOG_SQRT_2PI;
  }
  return lp;
}

/** Differential entropy of the diagonal Gaussian: sum of logStd + 0.5 (1 + log 2 pi) */
export function gaussianEntropy(logStd: Float32Array): number {
  let h = 0;
  for (let d = 0; d < logStd.length; d++) h += logStd[d]! + 0.5 + LOG_SQRT_2PI;
  return h;
}

/** Writes mean + std * N(0, 1) for each dimension into out[outOff…] */
export function sampleGaussian(mean: Float32Array, mOff: number, logStd: Float32Array, size: number, random: SeededRandom, out: Float32Array, outOff: number): void {
  for (let d = 0; d < size; d++) out[outOff + d] = mean[mOff + d]! + Math.exp(logStd[d]!) * random.normal();
}

/** log softmax of logits[off … off+n) into out[0 … n) (max subtracted for stability) */
export function logSoftmax(logits: Float32Array, off: number, n: number, out: Float64Array): void {
  let max = -Infinity;
  for (let k = 0; k < n; k++) max = Math.max(max, logits[off + k]!);
  let sum = 0;
  for (let k = 0; k < n; k++) sum += Math.exp(logits[off + k]! - max);
  const logZ = max + Math.log(sum);
  for (let k = 0; k < n; k++) out[k] = logits[off + k]! - logZ;
}

/** Entropy of a categorical given its log-probabilities */
export function categoricalEntropy(logProbs: Float64Array, n: number): number {
  let h = 0;
  for (let k = 0; k < n; k++) h -= Math.exp(logProbs[k]!) * logProbs[k]!;
  return h;
}

/** Draws a choice by inverting the CDF with one uniform number (the last choice absorbs rounding) */
export function sampleCategorical(logProbs: Float64Array, n: number, random: SeededRandom): number {
  const u = random.next();
  let cumulative = 0;
  for (let k = 0; k < n - 1; k++) {
    cumulative += Math.exp(logProbs[k]!);
    if (u < cumulative) return k;
  }
  return n - 1;
}

/** Index of the largest logit (the first one on ties): the deterministic discrete action */
export function argmax(values: Float32Array, off: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (values[off + k]! > values[off + best]!) best = k;
  return best;
}
