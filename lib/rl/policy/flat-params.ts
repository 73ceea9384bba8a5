import { flattenWeights, parameterShapes, unflattenWeights, type PolicySpec, type PolicyWeights } from './policy-spec.js';

/**
 * Every parameter of a policy in one Float32Array (parameterShapes order): what the optimizer
 * updates and what crosses to rollout and gradient workers after each step.
 */
export function parameterCount(spec: PolicySpec): number {
  return parameterShapes(spec).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

export function weightsToFlat(w: PolicyWeights): Float32Array {
  const arrays = flattenWeights(w);
  const flat = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let off = 0;
  for (const a of arrays) {
    flat.set(a, off);
    off += a.length;
  }
  return flat;
}

/** Copies (never views) the flat vector back into per-tensor arrays */
export function flatToWeights(spec: PolicySpec, flat: Float32Array): PolicyWeights {
  let off = 0;
  const arrays = parameterShapes(spec).map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const a = flat.slice(off, off + n);
    off += n;
    return a;
  });
  if (off !== flat.length) throw new RangeError(`flat parameters: expected ${off} values, got ${flat.length}`);
  return unflattenWeights(spec, arrays, 'flat parameters');
}
