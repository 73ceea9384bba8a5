import { ConfigError } from '../../core/errors.js';
import type { ActionSpace } from '../types.js';

/**
 * The shape of an actor-critic policy: two separate MLPs (actor and critic) over the same
 * observation, hidden layers with one activation, a linear output. Continuous actions: the actor
 * outputs Gaussian means and a state-independent `logStd` vector is learned beside it. Discrete
 * actions: the actor outputs `size * n` logits (one categorical per sub-action).
 *
 * Weights use tfjs's layout (W row-major [in][out], then bias [out]) so they copy to and from
 * tfjs variables without transposing; the plain-JS forward transposes once when it is built.
 */
export type Activation = 'tanh' | 'relu';

export interface PolicySpec {
  observationSize: number;
  actionSpace: ActionSpace;
  hidden: number[];
  activation: Activation;
  /**
   * The parts of the env observation the networks read: [start, end) index ranges, concatenated
   * (e.g. the newest window row, the mask and the weights). Absent: the whole observation.
   */
  input?: { ranges: [number, number][] };
}

/** Values the networks read per observation */
export function inputSize(spec: PolicySpec): number {
  return spec.input === undefined ? spec.observationSize : spec.input.ranges.reduce((n, [a, b]) => n + (b - a), 0);
}

/** Copies the policy's input out of one env observation (obs[obsOff…]) into out[outOff…] */
export function gatherInput(spec: PolicySpec, obs: Float32Array, obsOff: number, out: Float32Array, outOff: number): void {
  if (spec.input === undefined) {
    out.set(obs.subarray(obsOff, obsOff + spec.observationSize), outOff);
    return;
  }
  let o = outOff;
  for (const [a, b] of spec.input.ranges) {
    out.set(obs.subarray(obsOff + a, obsOff + b), o);
    o += b - a;
  }
}

export interface PolicyWeights {
  spec: PolicySpec;
  /** [W0, b0, W1, b1, …]: W [in * out] row-major (in, out), b [out] */
  actor: Float32Array[];
  critic: Float32Array[];
  /** Continuous: log standard deviation per action dimension; discrete: empty */
  logStd: Float32Array;
}

/** Width of the actor's output: one mean per action dimension, or n logits per sub-action */
export function actorOutputSize(space: ActionSpace): number {
  return space.kind === 'continuous' ? space.size : space.size * space.n;
}

/** Numbers per stored action: the sub-action count (a float each, or an integer choice each) */
export function actionDim(space: ActionSpace): number {
  return space.size;
}

/** Layer sizes [in, h1, …, out] of the actor or the critic */
export function layerSizes(spec: PolicySpec, net: 'actor' | 'critic'): number[] {
  return [inputSize(spec), ...spec.hidden, net === 'actor' ? actorOutputSize(spec.actionSpace) : 1];
}

/** Shapes of every tensor, in storage order (actor, critic, logStd): the checkpoint manifest and the tfjs variables */
export function parameterShapes(spec: PolicySpec): { name: string; shape: number[] }[] {
  const shapes: { name: string; shape: number[] }[] = [];
  for (const net of ['actor', 'critic'] as const) {
    const sizes = layerSizes(spec, net);
    for (let l = 0; l + 1 < sizes.length; l++) {
      shapes.push({ name: `${net}/dense${l}/kernel`, shape: [sizes[l]!, sizes[l + 1]!] });
      shapes.push({ name: `${net}/dense${l}/bias`, shape: [sizes[l + 1]!] });
    }
  }
  if (spec.actionSpace.kind === 'continuous') shapes.push({ name: 'logStd', shape: [spec.actionSpace.size] });
  return shapes;
}

/** Every parameter array in {@link parameterShapes} order */
export function flattenWeights(w: PolicyWeights): Float32Array[] {
  return w.spec.actionSpace.kind === 'continuous' ? [...w.actor, ...w.critic, w.logStd] : [...w.actor, ...w.critic];
}

/** The inverse of {@link flattenWeights}; checks every length against the spec */
export function unflattenWeights(spec: PolicySpec, arrays: readonly Float32Array[], source = 'policy weights'): PolicyWeights {
  const shapes = parameterShapes(spec);
  const problems: string[] = [];
  if (arrays.length !== shapes.length) problems.push(`expected ${shapes.length} arrays, got ${arrays.length}`);
  shapes.forEach((s, i) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const got = arrays[i]?.length;
    if (got !== undefined && got !== n) problems.push(`${s.name}: expected ${n} values (${s.shape.join('x')}), got ${got}`);
  });
  if (problems.length) throw new ConfigError(source, problems);
  const actorCount = (layerSizes(spec, 'actor').length - 1) * 2;
  const criticCount = (layerSizes(spec, 'critic').length - 1) * 2;
  return {
    spec,
    actor: arrays.slice(0, actorCount),
    critic: arrays.slice(actorCount, actorCount + criticCount),
    logStd: spec.actionSpace.kind === 'continuous' ? arrays[actorCount + criticCount]! : new Float32Array(0),
  };
}

/** Deep copy (weights cross threads and go into checkpoints; never share the buffers) */
export function cloneWeights(w: PolicyWeights): PolicyWeights {
  return {
    spec: structuredClone(w.spec),
    actor: w.actor.map((a) => a.slice()),
    critic: w.critic.map((a) => a.slice()),
    logStd: w.logStd.slice(),
  };
}

export function checkPolicySpec(spec: PolicySpec, source = 'policy'): void {
  const problems: string[] = [];
  if (!Number.isInteger(spec.observationSize) || spec.observationSize < 1) problems.push(`observationSize: expected an integer >= 1, got ${spec.observationSize}`);
  if (spec.hidden.length === 0 || spec.hidden.some((h) => !Number.isInteger(h) || h < 1)) problems.push(`hidden: expected at least one layer width (integers >= 1), got [${spec.hidden.join(', ')}]`);
  const a = spec.actionSpace;
  if (!Number.isInteger(a.size) || a.size < 1) problems.push(`actionSpace.size: expected an integer >= 1, got ${a.size}`);
  if (a.kind === 'discrete' && (!Number.isInteger(a.n) || a.n < 2)) problems.push(`actionSpace.n: expected an integer >= 2, got ${a.n}`);
  if (a.kind === 'continuous' && !(a.high > a.low)) problems.push(`actionSpace: high (${a.high}) must exceed low (${a.low})`);
  spec.input?.ranges.forEach(([start, end], i) => {
    if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end > start && end <= spec.observationSize)) {
      problems.push(`input.ranges[${i}]: expected [start, end) with 0 <= start < end <= ${spec.observationSize}, got [${start}, ${end})`);
    }
  });
  if (spec.input !== undefined && spec.input.ranges.length === 0) problems.push('input.ranges: expected at least one range');
  if (problems.length) throw new ConfigError(source, problems);
}
