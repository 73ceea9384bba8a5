/**
 * Adam (Kingma & Ba 2015) on a flat Float32Array of parameters, in plain JS: the trainer applies
 * the (combined, clipped) gradient here, so the optimizer state is three arrays and a counter that
 * checkpoints store as they are, and the update is the same whichever thread computed the gradient.
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)        (PyTorch's placement of eps)
 */
export interface AdamState {
  step: number;
  m: Float64Array;
  v: Float64Array;
}

export class Adam {
  state: AdamState;

  constructor(
    size: number,
    readonly epsilon = 1e-5,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
  ) {
    this.state = { step: 0, m: new Float64Array(size), v: new Float64Array(size) };
  }

  apply(params: Float32Array, grad: Float64Array, learningRate: number): void {
    const { m, v } = this.state;
    if (grad.length !== params.length || m.length !== params.length) throw new RangeError(`Adam: ${params.length} parameters, ${grad.length} gradients, state for ${m.length}`);
    const t = ++this.state.step;
    const c1 = 1 - this.beta1 ** t;
    const c2 = 1 - this.beta2 ** t;
    const b1 = this.beta1;
    const b2 = this.beta2;
    for (let i = 0; i < params.length; i++) {
      const g = grad[i]!;
      const mi = b1 * m[i]! + (1 - b1) * g;
      const vi = b2 * v[i]! + (1 - b2) * g * g;
      m[i] = mi;
      v[i] = vi;
      params[i] = params[i]! - (learningRate * (mi / c1)) / (Math.sqrt(vi / c2) + this.epsilon);
    }
  }
}
