import { SeededRandom } from '../../core/seeded-random.js';
import { checkPolicySpec, layerSizes, type PolicySpec, type PolicyWeights } from './policy-spec.js';

/**
 * Initial weights, computed in plain JS from a seed so they do not depend on the tfjs backend:
 * orthogonal kernels with the gains Stable-Baselines3 uses for PPO (sqrt 2 on hidden layers,
 * 0.01 on the actor's output so the first policy is near uniform / near zero mean, 1 on the
 * value head), zero biases, and a constant initial log standard deviation.
 */
export function initPolicyWeights(spec: PolicySpec, seed: number, logStdInit = 0): PolicyWeights {
  checkPolicySpec(spec);
  const random = new SeededRandom(seed).fork('ppo-policy-init');
  const net = (which: 'actor' | 'critic', outputGain: number): Float32Array[] => {
    const sizes = layerSizes(spec, which);
    const arrays: Float32Array[] = [];
    for (let l = 0; l + 1 < sizes.length; l++) {
      const last = l + 2 === sizes.length;
      arrays.push(orthogonal(sizes[l]!, sizes[l + 1]!, last ? outputGain : Math.SQRT2, random));
      arrays.push(new Float32Array(sizes[l + 1]!));
    }
    return arrays;
  };
  const actor = net('actor', 0.01);
  const critic = net('critic', 1);
  const logStd = spec.actionSpace.kind === 'continuous' ? new Float32Array(spec.actionSpace.size).fill(logStdInit) : new Float32Array(0);
  return { spec: structuredClone(spec), actor, critic, logStd };
}

/**
 * A (rows x cols) row-major matrix with orthonormal columns (rows >= cols) or rows (rows < cols),
 * times `gain`: Gram-Schmidt on a Gaussian matrix (the distribution QR-based initializers draw from).
 */
export function orthogonal(rows: number, cols: number, gain: number, random: SeededRandom): Float32Array {
  const tall = rows >= cols;
  const n = tall ? rows : cols; // length of each orthonormal vector
  const k = tall ? cols : rows; // how many vectors
  const vectors: Float64Array[] = [];
  for (let j = 0; j < k; j++) {
    let v = new Float64Array(n);
    for (let attempt = 0; ; attempt++) {
      for (let i = 0; i < n; i++) v[i] = random.normal();
      // modified Gram-Schmidt, twice for numerical orthogonality
      for (let pass = 0; pass < 2; pass++) {
        for (const u of vectors) {
          let dot = 0;
          for (let i = 0; i < n; i++) dot += u[i]! * v[i]!;
          for (let i = 0; i < n; i++) v[i]! -= dot * u[i]!;
        }
      }
      let norm = 0;
      for (let i = 0; i < n; i++) norm += v[i]! * v[i]!;
      norm = Math.sqrt(norm);
      if (norm > 1e-6 || attempt > 10) {
        for (let i = 0; i < n; i++) v[i]! /= norm;
        break;
      }
      v = new Float64Array(n);
    }
    vectors.push(v);
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = gain * (tall ? vectors[c]![r]! : vectors[r]![c]!);
  }
  return out;
}
