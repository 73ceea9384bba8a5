/**
 * Entry points: `makeVecEnv(config, numEnvs)` (the contract's VecEnvFactory: a plain-JSON config in,
 * importable in a worker thread) and `loadEnvConfig(path)`. Store data is read once per call; in
 * worker threads each worker opens the store itself (DuckDB allows several instances on one file
 * within a process), so build the feature cache first (one `loadEnvDataset` in the main thread)
 * rather than letting workers race to write it.
 */
import { resolve } from 'node:path';
import { loadFeatureSetFile } from '../../features/feature-set.js';
import type { Store } from '../../store/store.js';
import type { EnvConfig, VecEnvFactory } from '../types.js';
import { parseEnvConfig, type TradingEnvConfig } from './config.js';
import type { EnvDataset } from './dataset.js';
import { storeDataset } from './store-data.js';
import { syntheticDataset, syntheticFeatureHash } from './synthetic.js';
import { TradingEnv } from './trading-env.js';
import { TradingVecEnv, type EnvSchemes } from './vec-env.js';

export { canonicalJson, envConfigHash, loadEnvConfig, parseEnvConfig, type TradingEnvConfig, type TradingEnvConfigInput } from './config.js';

/** The dataset a config describes (synthetic, or the store through its feature set). */
export async function loadEnvDataset(config: EnvConfig | TradingEnvConfig, options: { store?: Store } = {}): Promise<EnvDataset> {
  const c = parseEnvConfig(config);
  const volWindow = c.action.volWindow;
  const common = { volWindow, periodsPerYear: c.periodsPerYear, clip: c.observation.clip };
  return c.data.kind === 'synthetic' ? syntheticDataset(c.data, common) : storeDataset(c.data, { ...common, store: options.store });
}

/** The hash of what defines the observation's features, without loading data (the feature set's content hash for store data) */
export function featureSetHash(config: EnvConfig | TradingEnvConfig): string {
  const c = parseEnvConfig(config);
  return c.data.kind === 'synthetic' ? syntheticFeatureHash(c.data) : loadFeatureSetFile(resolve(c.data.featureSet)).hash;
}

export const makeVecEnv: VecEnvFactory = async (config: EnvConfig, numEnvs: number) => {
  const c = parseEnvConfig(config);
  return new TradingVecEnv(await loadEnvDataset(c), c, numEnvs);
};

/** A vectorized env over an already loaded dataset, optionally with your own schemes. */
export function vecEnvFromDataset(data: EnvDataset, config: EnvConfig | TradingEnvConfig, numEnvs: number, schemes: Partial<EnvSchemes> = {}): TradingVecEnv {
  return new TradingVecEnv(data, parseEnvConfig(config), numEnvs, schemes);
}

/** The single-env (Gymnasium-like) API for a config. */
export async function makeTradingEnv(config: EnvConfig | TradingEnvConfig, options: { store?: Store } = {}): Promise<TradingEnv> {
  const c = parseEnvConfig(config);
  return new TradingEnv(new TradingVecEnv(await loadEnvDataset(c, options), c, 1));
}
