import type * as TF from '@tensorflow/tfjs';
import { LOG_SQRT_2PI } from '../policy/distributions.js';
import type { TfPolicy } from './tf-policy.js';
import type { Tf } from './tf-loader.js';

/** A minibatch as tensors: obs [B, obsSize], actions [B, dim] (continuous) or int32 choices [B, dim] (discrete) */
export interface LossBatch {
  obs: TF.Tensor2D;
  actions: TF.Tensor2D;
  oldLogProbs: TF.Tensor1D;
  /** Already normalized when the config says so */
  advantages: TF.Tensor1D;
  returns: TF.Tensor1D;
}

export interface LossCoefficients {
  clipRange: number;
  valueCoef: number;
  entropyCoef: number;
}

/** Order of the numbers in {@link PpoLossResult.stats} */
export const LOSS_STATS = ['policyLoss', 'valueLoss', 'entropy', 'approxKl', 'clipFraction'] as const;

export interface PpoLossResult {
  loss: TF.Scalar;
  /** [policyLoss, valueLoss, entropy, approxKl, clipFraction] */
  stats: TF.Tensor1D;
}

/** Per-row log-probabilities [B] of the actions and the mean entropy (a scalar) under the current policy */
export function logProbAndEntropy(tf: Tf, policy: TfPolicy, obs: TF.Tensor2D, actions: TF.Tensor2D): { logProb: TF.Tensor1D; entropy: TF.Scalar } {
  const out = policy.actor(obs);
  const space = policy.spec.actionSpace;
  if (space.kind === 'continuous') {
    const logStd = policy.logStd!;
    const z = tf.div(tf.sub(actions, out), tf.exp(logStd));
    const perDim = tf.sub(tf.mul(-0.5, tf.square(z)), tf.add(logStd, LOG_SQRT_2PI));
    return { logProb: tf.sum(perDim, 1), entropy: tf.sum(tf.add(logStd, 0.5 + LOG_SQRT_2PI)) };
  }
  const logits = tf.reshape(out, [-1, space.size, space.n]);
  const logP = tf.logSoftmax(logits, -1);
  const chosen = tf.oneHot(tf.cast(tf.reshape(actions, [-1, space.size]), 'int32'), space.n);
  const logProb = tf.sum(tf.mul(chosen, logP), [1, 2]) as TF.Tensor1D;
  const entropy = tf.mean(tf.neg(tf.sum(tf.mul(tf.exp(logP), logP), [1, 2]))) as TF.Scalar;
  return { logProb, entropy };
}

/**
 * PPO's clipped surrogate (Schulman et al. 2017) with a value loss and an entropy bonus, taped
 * (the definition; training uses its hand-written gradient, ppo-grad.ts, checked against this):
 *   ratio = exp(logp - logp_old)
 *   L_pi  = -mean(min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A))
 *   L_v   = mean((V(s) - R)^2)
 *   loss  = L_pi + valueCoef * L_v - entropyCoef * H
 * Diagnostics: approxKl = mean((ratio - 1) - log ratio) (non-negative, unbiased for KL(old||new)),
 * clipFraction = share of rows with |ratio - 1| > eps.
 */
export function ppoLoss(tf: Tf, policy: TfPolicy, batch: LossBatch, c: LossCoefficients): PpoLossResult {
  const { logProb, entropy } = logProbAndEntropy(tf, policy, batch.obs, batch.actions);
  const logRatio = tf.sub(logProb, batch.oldLogProbs);
  const ratio = tf.exp(logRatio);
  const unclipped = tf.mul(ratio, batch.advantages);
  const clipped = tf.mul(tf.clipByValue(ratio, 1 - c.clipRange, 1 + c.clipRange), batch.advantages);
  const policyLoss = tf.neg(tf.mean(tf.minimum(unclipped, clipped))) as TF.Scalar;
  const valueLoss = tf.mean(tf.square(tf.sub(policy.value(batch.obs), batch.returns))) as TF.Scalar;
  const loss = tf.sub(tf.add(policyLoss, tf.mul(c.valueCoef, valueLoss)), tf.mul(c.entropyCoef, entropy)) as TF.Scalar;
  const approxKl = tf.mean(tf.sub(tf.sub(ratio, 1), logRatio));
  const clipFraction = tf.mean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), c.clipRange), 'float32'));
  const stats = tf.stack([policyLoss, valueLoss, entropy, approxKl, clipFraction]) as TF.Tensor1D;
  return { loss, stats };
}
