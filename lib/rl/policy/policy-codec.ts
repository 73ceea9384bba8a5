import { createHash } from 'node:crypto';
import { ConfigError } from '../../core/errors.js';
import { checkPolicySpec, flattenWeights, parameterShapes, unflattenWeights, type PolicySpec, type PolicyWeights } from './policy-spec.js';

/**
 * Policy weights as bytes: every parameter in {@link parameterShapes} order, float32
 * little-endian, concatenated. Checkpoints store these bytes in a file next to a JSON manifest;
 * the strategy module's model file embeds them base64-encoded. The sha256 of the bytes identifies
 * a policy (recorded in checkpoints and the model file, checked on load).
 */

export interface EncodedPolicy {
  format: 'monger-policy';
  version: 1;
  spec: PolicySpec;
  tensors: { name: string; shape: number[] }[];
  /** sha256 of the float32 bytes */
  sha256: string;
  /** base64 of the float32 bytes */
  data: string;
}

export function weightsToBytes(w: PolicyWeights): Uint8Array {
  const arrays = flattenWeights(w);
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const bytes = new Uint8Array(total * 4);
  const view = new DataView(bytes.buffer);
  let offset = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++, offset += 4) view.setFloat32(offset, a[i]!, true);
  }
  return bytes;
}

export function weightsFromBytes(spec: PolicySpec, bytes: Uint8Array, source = 'policy weights'): PolicyWeights {
  checkPolicySpec(spec, source);
  const shapes = parameterShapes(spec);
  const total = shapes.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  if (bytes.length !== total * 4) throw new ConfigError(source, [`expected ${total * 4} bytes (${total} float32 values), got ${bytes.length}`]);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  const arrays = shapes.map((s) => {
    const a = new Float32Array(s.shape.reduce((x, y) => x * y, 1));
    for (let i = 0; i < a.length; i++, offset += 4) a[i] = view.getFloat32(offset, true);
    return a;
  });
  return unflattenWeights(spec, arrays, source);
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function encodePolicy(w: PolicyWeights): EncodedPolicy {
  const bytes = weightsToBytes(w);
  return {
    format: 'monger-policy',
    version: 1,
    spec: structuredClone(w.spec),
    tensors: parameterShapes(w.spec),
    sha256: sha256Hex(bytes),
    data: Buffer.from(bytes).toString('base64'),
  };
}

/** @throws ConfigError when the format, shapes or sha256 disagree */
export function decodePolicy(encoded: EncodedPolicy, source = 'encoded policy'): PolicyWeights {
  if (encoded.format !== 'monger-policy' || encoded.version !== 1) throw new ConfigError(source, [`expected format monger-policy version 1, got ${String(encoded.format)} ${String(encoded.version)}`]);
  const bytes = new Uint8Array(Buffer.from(encoded.data, 'base64'));
  const digest = sha256Hex(bytes);
  if (digest !== encoded.sha256) throw new ConfigError(source, [`sha256 of the weights is ${digest}, the file says ${encoded.sha256}`]);
  return weightsFromBytes(encoded.spec, bytes, source);
}
