import { Adam } from './adam.js';
import type { LossCoefficients } from './ppo-loss.js';
import type { PpoConfig } from './ppo-config.js';
import type { ShardPool, UpdateSession } from './shard-pool.js';

/** One update's statistics (means over the minibatch steps applied) */
export interface UpdateStats {
  learningRate: number;
  policyLoss: number;
  valueLoss: number;
  entropy: number;
  approxKl: number;
  clipFraction: number;
  /** Global gradient norm before clipping */
  gradNorm: number;
  epochs: number;
  minibatches: number;
  /** The target-KL check ended the update early */
  stoppedEarly: boolean;
}

export interface UpdateInput {
  pool: ShardPool;
  /** Updated in place */
  params: Float32Array;
  adam: Adam;
  config: PpoConfig;
  seed: number;
  updateIndex: number;
  learningRate: number;
  /** Samples in the rollout (all shards) */
  samples: number;
  advantageMean: number;
  advantageStd: number;
}

/**
 * PPO's minibatch epochs over the rollout the shards hold. Each step every shard computes the
 * gradient on its rows of the minibatch; the step's gradient is their row-weighted mean (summed in
 * shard order, so a fixed worker count reproduces exactly), clipped to maxGradNorm, and applied by
 * Adam here. An update stops early (before applying the step) when the approximate KL exceeds
 * 1.5 x targetKl, as in Stable-Baselines3.
 */
export async function ppoUpdate(u: UpdateInput): Promise<UpdateStats> {
  const { pool, params, config } = u;
  const minibatches = Math.max(1, Math.ceil(u.samples / config.minibatchSize));
  const coefficients: LossCoefficients = { clipRange: config.clipRange, valueCoef: config.valueCoef, entropyCoef: config.entropyCoef };
  const plan = { updateIndex: u.updateIndex, seed: u.seed, minibatches, advantageMean: u.advantageMean, advantageStd: u.advantageStd, coefficients };
  const session = await pool.update(plan, params.length);
  try {
    return await runEpochs(u, session, minibatches);
  } finally {
    await session.end();
  }
}

async function runEpochs(u: UpdateInput, session: UpdateSession, minibatches: number): Promise<UpdateStats> {
  const { params, config } = u;
  const grad = new Float64Array(params.length);
  const sums = new Float64Array(6);
  let steps = 0;
  let epochs = 0;
  let stoppedEarly = false;
  outer: for (let epoch = 0; epoch < config.epochs; epoch++) {
    epochs++;
    for (let index = 0; index < minibatches; index++) {
      const results = await session.step(params, epoch, index);
      const rows = results.reduce((n, r) => n + r.count, 0);
      if (rows === 0) continue;
      grad.fill(0);
      const stats = new Float64Array(5);
      for (const r of results) {
        if (r.count === 0) continue;
        const w = r.count / rows;
        for (let i = 0; i < grad.length; i++) grad[i] = grad[i]! + w * r.grad[i]!;
        for (let k = 0; k < 5; k++) stats[k] = stats[k]! + w * r.stats[k]!;
      }
      if (config.targetKl > 0 && stats[3]! > 1.5 * config.targetKl) {
        stoppedEarly = true; // the policy moved too far from the one that collected the data
        break outer;
      }
      let norm = 0;
      for (let i = 0; i < grad.length; i++) norm += grad[i]! * grad[i]!;
      norm = Math.sqrt(norm);
      if (config.maxGradNorm > 0 && norm > config.maxGradNorm) {
        const scale = config.maxGradNorm / (norm + 1e-6);
        for (let i = 0; i < grad.length; i++) grad[i] = grad[i]! * scale;
      }
      u.adam.apply(params, grad, u.learningRate);
      for (let k = 0; k < 5; k++) sums[k] = sums[k]! + stats[k]!;
      sums[5] = sums[5]! + norm;
      steps++;
    }
  }
  const mean = (k: number) => (steps === 0 ? NaN : sums[k]! / steps);
  return {
    learningRate: u.learningRate,
    policyLoss: mean(0),
    valueLoss: mean(1),
    entropy: mean(2),
    approxKl: mean(3),
    clipFraction: mean(4),
    gradNorm: mean(5),
    epochs,
    minibatches: steps,
    stoppedEarly,
  };
}
