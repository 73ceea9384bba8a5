import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { sha256Hex, weightsFromBytes, weightsToBytes } from '../policy/policy-codec.js';
import { parameterShapes, type PolicySpec, type PolicyWeights } from '../policy/policy-spec.js';
import type { EnvConfig } from '../types.js';
import type { EnvFactoryRef } from './env-factory.js';
import { parsePpoConfig, type PpoConfig } from './ppo-config.js';
import type { AdamState } from './adam.js';
import type { ResumeState } from './train.js';
import type { IterationMetrics, TrainMetrics } from './train-metrics.js';

/**
 * A checkpoint is a directory:
 *   checkpoint.json  manifest: format, seed, progress, env config (+ hash), feature-set hash,
 *                    env factory, PPO hyperparameters, policy spec and tensor shapes, metrics,
 *                    per-iteration history, and the sha256 of each binary file
 *   weights.bin      the policy (float32 little-endian, parameterShapes order; policy-codec.ts)
 *   optimizer.bin    Adam's first and second moments (float64 little-endian, m then v), for resuming
 * Loading checks every sha256 and shape, so a checkpoint is either what was saved or an error.
 * Non-finite metrics (NaN: no episode finished) are written as null.
 */
export const CHECKPOINT_FILE = 'checkpoint.json';
const WEIGHTS_FILE = 'weights.bin';
const OPTIMIZER_FILE = 'optimizer.bin';

export interface CheckpointManifest {
  format: 'monger-ppo-checkpoint';
  version: 1;
  /** ISO time the caller stamped (left out of anything hashed) */
  createdAt?: string;
  seed: number;
  envSteps: number;
  iterations: number;
  /** Reward scale used in training (resolved from 'auto') */
  rewardScale: number;
  backend: string;
  workers: number;
  envConfig: EnvConfig;
  envConfigHash: string;
  /** The feature set's content hash the observations come from (null for envs without one) */
  featureSetHash: string | null;
  envFactory: EnvFactoryRef;
  ppo: PpoConfig;
  policy: { spec: PolicySpec; tensors: { name: string; shape: number[] }[]; file: string; sha256: string };
  /** Adam's step count and its moments' file */
  optimizer: { step: number; size: number; file: string; sha256: string } | null;
  metrics: TrainMetrics;
  history: IterationMetrics[];
}

/** What a checkpoint is saved from: the manifest's run fields, plus the weights and optimizer state it stores as files */
export type CheckpointInput = Omit<CheckpointManifest, 'format' | 'version' | 'policy' | 'optimizer'> & {
  weights: PolicyWeights;
  optimizer?: AdamState;
};

export interface LoadedCheckpoint {
  dir: string;
  manifest: CheckpointManifest;
  weights: PolicyWeights;
  optimizer: AdamState | undefined;
}

function optimizerBytes(state: AdamState): Uint8Array {
  const n = state.m.length;
  const bytes = new Uint8Array(n * 16);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) {
    view.setFloat64(i * 8, state.m[i]!, true);
    view.setFloat64((n + i) * 8, state.v[i]!, true);
  }
  return bytes;
}

/** Writes the checkpoint (files first, the manifest last and atomically: a torn save has no manifest) */
export function saveCheckpoint(dir: string, c: CheckpointInput): CheckpointManifest {
  mkdirSync(dir, { recursive: true });
  const weightBytes = weightsToBytes(c.weights);
  writeFileSync(join(dir, WEIGHTS_FILE), weightBytes);
  let optimizer: CheckpointManifest['optimizer'] = null;
  if (c.optimizer !== undefined) {
    const bytes = optimizerBytes(c.optimizer);
    writeFileSync(join(dir, OPTIMIZER_FILE), bytes);
    optimizer = { step: c.optimizer.step, size: c.optimizer.m.length, file: OPTIMIZER_FILE, sha256: sha256Hex(bytes) };
  }
  const manifest: CheckpointManifest = {
    format: 'monger-ppo-checkpoint',
    version: 1,
    ...(c.createdAt === undefined ? {} : { createdAt: c.createdAt }),
    seed: c.seed,
    envSteps: c.envSteps,
    iterations: c.iterations,
    rewardScale: c.rewardScale,
    backend: c.backend,
    workers: c.workers,
    envConfig: c.envConfig,
    envConfigHash: c.envConfigHash,
    featureSetHash: c.featureSetHash,
    envFactory: c.envFactory,
    ppo: c.ppo,
    policy: { spec: c.weights.spec, tensors: parameterShapes(c.weights.spec), file: WEIGHTS_FILE, sha256: sha256Hex(weightBytes) },
    optimizer,
    metrics: c.metrics,
    history: c.history,
  };
  const tmp = join(dir, `${CHECKPOINT_FILE}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(manifest, finiteOrNull, 2)}\n`);
  renameSync(tmp, join(dir, CHECKPOINT_FILE));
  return manifest;
}

function finiteOrNull(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

function readChecked(dir: string, file: string, sha256: string, problems: string[]): Uint8Array | undefined {
  const path = join(dir, file);
  if (!existsSync(path)) {
    problems.push(`${file}: missing`);
    return undefined;
  }
  const bytes = new Uint8Array(readFileSync(path));
  const digest = sha256Hex(bytes);
  if (digest !== sha256) {
    problems.push(`${file}: sha256 ${digest}, the manifest says ${sha256}`);
    return undefined;
  }
  return bytes;
}

/** @throws ConfigError naming the directory and every problem (missing files, hashes, shapes, format) */
export function loadCheckpoint(dir: string): LoadedCheckpoint {
  const file = join(dir, CHECKPOINT_FILE);
  if (!existsSync(file)) throw new ConfigError(dir, [`no ${CHECKPOINT_FILE}: not a PPO checkpoint directory`]);
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8')) as CheckpointManifest;
  } catch (e) {
    throw new ConfigError(file, [`not JSON: ${(e as Error).message}`]);
  }
  if (manifest.format !== 'monger-ppo-checkpoint' || manifest.version !== 1) {
    throw new ConfigError(file, [`format: expected monger-ppo-checkpoint version 1, got ${String(manifest.format)} ${String(manifest.version)}`]);
  }
  manifest.ppo = parsePpoConfig(manifest.ppo, `${file} ppo`);
  const problems: string[] = [];
  const weightBytes = readChecked(dir, manifest.policy.file, manifest.policy.sha256, problems);
  let optimizer: AdamState | undefined;
  const o = manifest.optimizer;
  if (o !== null) {
    const bytes = readChecked(dir, o.file, o.sha256, problems);
    if (bytes !== undefined) {
      if (bytes.length !== o.size * 16) problems.push(`${o.file}: expected ${o.size * 16} bytes (${o.size} parameters), got ${bytes.length}`);
      else {
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const m = new Float64Array(o.size);
        const v = new Float64Array(o.size);
        for (let i = 0; i < o.size; i++) {
          m[i] = view.getFloat64(i * 8, true);
          v[i] = view.getFloat64((o.size + i) * 8, true);
        }
        optimizer = { step: o.step, m, v };
      }
    }
  }
  if (problems.length > 0 || weightBytes === undefined) throw new ConfigError(dir, problems);
  const weights = weightsFromBytes(manifest.policy.spec, weightBytes, join(dir, manifest.policy.file));
  return { dir, manifest, weights, optimizer };
}

/** What trainPpo needs to continue this checkpoint's run */
export function resumeState(c: LoadedCheckpoint): ResumeState {
  return {
    weights: c.weights,
    optimizer: c.optimizer,
    envSteps: c.manifest.envSteps,
    iterations: c.manifest.iterations,
    history: c.manifest.history,
    rewardScale: c.manifest.rewardScale,
  };
}
