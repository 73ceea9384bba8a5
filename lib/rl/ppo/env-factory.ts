import { isAbsolute } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { locateProjectFile } from '../../core/project-files.js';
import { importModule } from '../../parallel/worker-main.js';
import type { EnvConfig, VecEnv, VecEnvFactory } from '../types.js';

/**
 * Where a VecEnv factory lives: a module file (absolute, or relative to the project root) and
 * the name of its exported {@link VecEnvFactory}. A reference rather than a function so rollout
 * workers can import the same factory in their own thread.
 */
export interface EnvFactoryRef {
  module: string;
  export: string;
}

/** The trading environment (lib/rl/env) */
export const DEFAULT_ENV_FACTORY: EnvFactoryRef = { module: 'lib/rl/env/make-env.ts', export: 'makeVecEnv' };

export function resolveFactoryModule(ref: EnvFactoryRef): string {
  return isAbsolute(ref.module) ? ref.module : locateProjectFile(ref.module);
}

export async function loadEnvFactory(ref: EnvFactoryRef): Promise<VecEnvFactory> {
  const file = resolveFactoryModule(ref);
  const loaded = await importModule(file);
  const factory = loaded[ref.export];
  if (typeof factory !== 'function') throw new ConfigError('env factory', [`${file} exports no function '${ref.export}' (exports: ${Object.keys(loaded).join(', ') || 'none'})`]);
  return factory as VecEnvFactory;
}

export async function buildVecEnv(ref: EnvFactoryRef, config: EnvConfig, numEnvs: number): Promise<VecEnv> {
  const factory = await loadEnvFactory(ref);
  return factory(config, numEnvs);
}
