import type { StrategyDefinition } from '../engine/strategy.js';
import { importModule } from '../parallel/worker-main.js';
import { PromotionError } from './errors.js';

/**
 * Imports a strategy module file and returns the definition named `name`: the default export, or
 * any export that is a definition with that name. The host's loader takes TypeScript (tsx for the CLI
 * and the runner, vitest in tests); tslab's CommonJS cannot require a .ts file outside the cell's
 * imports, so `importModule` falls back to tsx there (lib/parallel, as for pool handlers).
 */
export async function importStrategyDefinition(file: string, name: string): Promise<StrategyDefinition> {
  const mod = await importModule(file);
  const candidates = [mod.default, ...Object.values(mod)].filter(isDefinition);
  const found = candidates.find((d) => d.name === name);
  if (found === undefined) {
    const names = [...new Set(candidates.map((d) => d.name))];
    throw new PromotionError('STRATEGY_NOT_FOUND', `${file} exports no strategy named '${name}'${names.length ? ` (it exports ${names.join(', ')})` : ''}`);
  }
  return found;
}

function isDefinition(v: unknown): v is StrategyDefinition {
  if (v === null || typeof v !== 'object') return false;
  const d = v as Partial<StrategyDefinition>;
  return typeof d.name === 'string' && typeof d.version === 'string' && typeof d.create === 'function' && d.params !== undefined;
}
