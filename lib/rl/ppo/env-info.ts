import { createHash } from 'node:crypto';
import { canonicalJson, envConfigHash, loadEnvDataset } from '../env/make-env.js';
import type { EnvConfig } from '../types.js';
import { DEFAULT_ENV_FACTORY, type EnvFactoryRef } from './env-factory.js';

export interface EnvIdentity {
  /** sha256 of the env config (the trading env's own hash: validated, defaults filled, name left out) */
  envConfigHash: string;
  /** The feature set's content hash behind the observations; null for envs without one */
  featureSetHash: string | null;
}

export function isTradingEnv(factory: EnvFactoryRef): boolean {
  return factory.module === DEFAULT_ENV_FACTORY.module && factory.export === DEFAULT_ENV_FACTORY.export;
}

/**
 * The hashes a checkpoint and the store record for an env. For the trading env this loads the
 * dataset once in this thread, which also builds the feature cache before rollout workers open
 * the store (make-env.ts asks for exactly that).
 */
export async function describeEnv(factory: EnvFactoryRef, config: EnvConfig): Promise<EnvIdentity> {
  if (!isTradingEnv(factory)) return { envConfigHash: createHash('sha256').update(canonicalJson(config)).digest('hex'), featureSetHash: null };
  const data = await loadEnvDataset(config);
  return { envConfigHash: envConfigHash(config), featureSetHash: data.featureSetHash };
}
