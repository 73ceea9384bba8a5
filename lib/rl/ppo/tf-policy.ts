import type * as TF from '@tensorflow/tfjs';
import { parameterShapes, flattenWeights, unflattenWeights, type PolicySpec, type PolicyWeights } from '../policy/policy-spec.js';
import type { Tf } from './tf-loader.js';

/**
 * The policy as tfjs variables with a taped forward pass: the reference the hand-written gradient
 * (ppo-grad.ts, what training runs) is checked against, and a model notebooks can differentiate
 * freely. Same actor and critic MLPs as PolicyNetwork, variables in parameterShapes order.
 */
export class TfPolicy {
  readonly spec: PolicySpec;
  readonly variables: TF.Variable[];
  private readonly actorVars: TF.Variable[];
  private readonly criticVars: TF.Variable[];
  readonly logStd: TF.Variable | undefined;

  /**
   * x W + b with a hand-written gradient that transposes explicitly: tfjs-wasm's matMul with
   * transposeA or transposeB (what the built-in gradient uses) takes a slow path, 5-20x slower
   * than a transpose followed by a plain matMul for these shapes.
   */
  private readonly dense: (x: TF.Tensor2D, w: TF.Tensor2D, b: TF.Tensor1D) => TF.Tensor2D;

  constructor(
    private readonly tf: Tf,
    weights: PolicyWeights,
  ) {
    this.dense = tf.customGrad((...args: (TF.Tensor | TF.GradSaveFunc)[]) => {
      const [x, w, b, save] = args as [TF.Tensor2D, TF.Tensor2D, TF.Tensor1D, TF.GradSaveFunc];
      const [x2, w2] = [x, w];
      save([x2, w2]);
      return {
        value: tf.add(tf.matMul(x2, w2), b) as TF.Tensor2D,
        gradFunc: (dy: TF.Tensor, saved: TF.Tensor[]) => {
          const [sx, sw] = saved as [TF.Tensor2D, TF.Tensor2D];
          const d = dy as TF.Tensor2D;
          return [tf.matMul(d, tf.transpose(sw)), tf.matMul(tf.transpose(sx), d), tf.sum(d, 0)];
        },
      };
    }) as unknown as (x: TF.Tensor2D, w: TF.Tensor2D, b: TF.Tensor1D) => TF.Tensor2D;
    this.spec = structuredClone(weights.spec);
    const shapes = parameterShapes(this.spec);
    const arrays = flattenWeights(weights);
    // tidy disposes the initial tensors; variables survive it
    this.variables = tf.tidy(() => shapes.map((s, i) => tf.variable(tf.tensor(arrays[i]!, s.shape, 'float32'), true)));
    this.actorVars = this.variables.slice(0, weights.actor.length);
    this.criticVars = this.variables.slice(weights.actor.length, weights.actor.length + weights.critic.length);
    this.logStd = this.spec.actionSpace.kind === 'continuous' ? this.variables[this.variables.length - 1] : undefined;
  }

  /** Actor outputs [batch, actorOutputs] (means or logits) */
  actor(x: TF.Tensor2D): TF.Tensor2D {
    return this.mlp(x, this.actorVars);
  }

  /** Values [batch] */
  value(x: TF.Tensor2D): TF.Tensor1D {
    return this.tf.reshape(this.mlp(x, this.criticVars), [-1]);
  }

  private mlp(x: TF.Tensor2D, vars: TF.Variable[]): TF.Tensor2D {
    const tf = this.tf;
    let h: TF.Tensor2D = x;
    for (let l = 0; l < vars.length; l += 2) {
      h = this.dense(h, vars[l] as TF.Tensor2D, vars[l + 1] as TF.Tensor1D);
      if (l + 2 < vars.length) h = this.spec.activation === 'relu' ? tf.relu(h) : tf.tanh(h);
    }
    return h;
  }

  /** Current weights as fresh Float32Arrays */
  exportWeights(): PolicyWeights {
    return unflattenWeights(
      this.spec,
      this.variables.map((v) => new Float32Array(v.dataSync() as Float32Array)),
      'tfjs policy',
    );
  }

  setWeights(weights: PolicyWeights): void {
    const arrays = flattenWeights(weights);
    this.tf.tidy(() => this.variables.forEach((v, i) => v.assign(this.tf.tensor(arrays[i]!, v.shape, 'float32'))));
  }

  /** Sets every variable from one flat vector (parameterShapes order) */
  setFlat(flat: Float32Array): void {
    const tf = this.tf;
    tf.tidy(() => {
      let off = 0;
      for (const v of this.variables) {
        v.assign(tf.tensor(flat.slice(off, off + v.size), v.shape, 'float32')); // a copy: the caller updates flat in place
        off += v.size;
      }
    });
  }

  dispose(): void {
    for (const v of this.variables) v.dispose();
  }
}
