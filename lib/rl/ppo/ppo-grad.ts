import type * as TF from '@tensorflow/tfjs';
import { LOG_SQRT_2PI } from '../policy/distributions.js';
import { layerSizes, parameterShapes, type PolicySpec } from '../policy/policy-spec.js';
import type { LossCoefficients } from './ppo-loss.js';
import type { Tf } from './tf-loader.js';

/** A minibatch as typed arrays (policy inputs row-major; actions as floats, choices for discrete heads) */
export interface GradBatch {
  rows: number;
  inputs: Float32Array;
  actions: Float32Array;
  oldLogProbs: Float32Array;
  advantages: Float32Array;
  returns: Float32Array;
}

/**
 * The gradient of the PPO loss (ppo-loss.ts: clipped surrogate + valueCoef * value MSE -
 * entropyCoef * entropy) with respect to every parameter, written out by hand in tfjs ops instead
 * of taped autodiff. Why: for these small nets tfjs spends most of a step in per-op bookkeeping
 * (the tape, identity and cast ops of custom gradients, one sync per gradient tensor), not in the
 * matrix products; this pass runs about half the ops, transposes explicitly (tfjs-wasm's
 * transposed matMul is a slow path) and returns everything in one buffer with one sync.
 * Tests check it against tf.variableGrads of ppoLoss.
 *
 * Derivatives (m rows, ratio r = exp(logp - logp_old), A the advantages, eps the clip range):
 *   d min(rA, clip(r)A) / dr = A where rA <= clip(r)A (unclipped term, or r inside the range), else 0
 *   d L_pi / d logp = -(1/m) * that * r
 *   Gaussian: d logp/d mu = z / sigma, d logp/d logStd = z^2 - 1 (z = (a - mu) / sigma); d H/d logStd = 1
 *   categorical: d logp/d logits = onehot - p; d H/d logits = -p (log p + H) per sub-action
 *   value: d (valueCoef * mean (v - R)^2) / dv = 2 valueCoef (v - R) / m
 * then back through each MLP (relu' = [h > 0], tanh' = 1 - h^2).
 *
 * Returns [gradient in parameterShapes order …, policyLoss, valueLoss, entropy, approxKl, clipFraction].
 */
export function ppoGradient(tf: Tf, spec: PolicySpec, params: Float32Array, b: GradBatch, c: LossCoefficients): Float32Array {
  // tidy returns tensors, not their data: tidy walks whatever it returns, element by element for a typed array
  const result = tf.tidy(() => {
    const m = b.rows;
    const space = spec.actionSpace;
    const shapes = parameterShapes(spec);
    // one upload per parameter (a copy into the backend; cheaper than slicing one big tensor)
    let off = 0;
    const tensors = shapes.map((s) => {
      const n = s.shape.reduce((x, y) => x * y, 1);
      const t = tf.tensor(params.subarray(off, off + n), s.shape, 'float32');
      off += n;
      return t;
    });
    const actorLayers = layerSizes(spec, 'actor').length - 1;
    const criticLayers = layerSizes(spec, 'critic').length - 1;
    const actorW = tensors.slice(0, 2 * actorLayers) as TF.Tensor2D[];
    const criticW = tensors.slice(2 * actorLayers, 2 * (actorLayers + criticLayers)) as TF.Tensor2D[];
    const x = tf.tensor2d(b.inputs, [m, b.inputs.length / m]);
    const relu = spec.activation === 'relu';

    /** Forward through an MLP keeping every layer's input (for the backward pass) */
    const forward = (w: TF.Tensor[]) => {
      const hs: TF.Tensor2D[] = [x];
      let h: TF.Tensor2D = x;
      for (let l = 0; l < w.length; l += 2) {
        const hidden = l + 2 < w.length;
        // one fused op (matMul + bias + relu) where tfjs has it: fewer ops is what makes a step cheap
        if (relu || !hidden) h = tf.fused.matMul({ a: h, b: w[l] as TF.Tensor2D, bias: w[l + 1], activation: hidden ? 'relu' : 'linear' }) as TF.Tensor2D;
        else h = tf.tanh(tf.fused.matMul({ a: h, b: w[l] as TF.Tensor2D, bias: w[l + 1] })) as TF.Tensor2D;
        if (hidden) hs.push(h);
      }
      return { out: h, hs };
    };
    /** Backward from d loss / d output: kernel and bias gradients, in layer order */
    const backward = (w: TF.Tensor[], hs: TF.Tensor2D[], dOut: TF.Tensor2D): TF.Tensor[] => {
      const grads: TF.Tensor[] = new Array(w.length);
      let dz = dOut;
      for (let l = w.length / 2 - 1; l >= 0; l--) {
        const h = hs[l]!;
        grads[2 * l] = tf.matMul(tf.transpose(h), dz);
        grads[2 * l + 1] = tf.sum(dz, 0);
        if (l > 0) {
          const dh = tf.matMul(dz, tf.transpose(w[2 * l] as TF.Tensor2D));
          dz = (relu ? tf.mul(dh, tf.step(h)) : tf.mul(dh, tf.sub(1, tf.square(h)))) as TF.Tensor2D;
        }
      }
      return grads;
    };

    const actor = forward(actorW);
    const critic = forward(criticW);
    const oldLogp = tf.tensor1d(b.oldLogProbs);
    const adv = tf.tensor1d(b.advantages);
    const ret = tf.tensor1d(b.returns);

    let logp: TF.Tensor1D;
    let entropy: TF.Scalar;
    let dOutOf: (dLogp: TF.Tensor1D) => TF.Tensor2D;
    let logStdGrad: ((dLogp: TF.Tensor1D) => TF.Tensor) | undefined;
    if (space.kind === 'continuous') {
      const logStd = tensors[tensors.length - 1] as TF.Tensor1D;
      const invStd = tf.exp(tf.neg(logStd));
      const z = tf.mul(tf.sub(tf.tensor2d(b.actions, [m, space.size]), actor.out), invStd);
      const z2 = tf.square(z);
      logp = tf.sub(tf.mul(-0.5, tf.sum(z2, 1)), tf.add(tf.sum(logStd), space.size * LOG_SQRT_2PI)) as TF.Tensor1D;
      entropy = tf.sum(tf.add(logStd, 0.5 + LOG_SQRT_2PI)) as TF.Scalar;
      dOutOf = (dLogp) => tf.mul(tf.expandDims(dLogp, 1), tf.mul(z, invStd)) as TF.Tensor2D;
      logStdGrad = (dLogp) => tf.sub(tf.sum(tf.mul(tf.expandDims(dLogp, 1), tf.sub(z2, 1)), 0), c.entropyCoef);
    } else {
      const logits = tf.reshape(actor.out, [m, space.size, space.n]);
      const logP = tf.logSoftmax(logits, -1);
      const p = tf.exp(logP);
      const onehot = tf.oneHot(tf.tensor2d(Int32Array.from(b.actions), [m, space.size], 'int32'), space.n);
      logp = tf.sum(tf.mul(onehot, logP), [1, 2]) as TF.Tensor1D;
      const groupH = tf.neg(tf.sum(tf.mul(p, logP), 2, true)); // [m, size, 1]
      entropy = tf.mean(tf.sum(groupH, [1, 2])) as TF.Scalar;
      // -entropyCoef * d mean(H) / d logits = entropyCoef / m * p (log p + H)
      const dEntropy = tf.mul(c.entropyCoef / m, tf.mul(p, tf.add(logP, groupH)));
      dOutOf = (dLogp) => tf.reshape(tf.add(tf.mul(tf.reshape(dLogp, [m, 1, 1]), tf.sub(onehot, p)), dEntropy), [m, space.size * space.n]) as TF.Tensor2D;
    }

    const logRatio = tf.sub(logp, oldLogp);
    const ratio = tf.exp(logRatio);
    const surr1 = tf.mul(ratio, adv);
    const surr2 = tf.mul(tf.clipByValue(ratio, 1 - c.clipRange, 1 + c.clipRange), adv);
    const policyLoss = tf.neg(tf.mean(tf.minimum(surr1, surr2)));
    const dLogp = tf.mul(tf.mul(tf.where(tf.lessEqual(surr1, surr2), adv, tf.zerosLike(adv)), ratio), -1 / m) as TF.Tensor1D;

    const v = tf.reshape(critic.out, [m]);
    const diff = tf.sub(v, ret);
    const valueLoss = tf.mean(tf.square(diff));
    const dV = tf.reshape(tf.mul(diff, (2 * c.valueCoef) / m), [m, 1]) as TF.Tensor2D;

    const grads = [...backward(actorW, actor.hs, dOutOf(dLogp)), ...backward(criticW, critic.hs, dV)];
    if (logStdGrad !== undefined) grads.push(logStdGrad(dLogp));
    const approxKl = tf.mean(tf.sub(tf.sub(ratio, 1), logRatio));
    const clipFraction = tf.mean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), c.clipRange), 'float32'));
    return [...grads, tf.stack([policyLoss, valueLoss, entropy, approxKl, clipFraction])];
  });
  // read each tensor out (a copy from wasm memory) rather than concatenating: fewer ops
  const out = new Float32Array(result.reduce((n, t) => n + t.size, 0));
  let at = 0;
  for (const t of result) {
    out.set(t.dataSync() as Float32Array, at);
    at += t.size;
  }
  tf.dispose(result);
  return out;
}
