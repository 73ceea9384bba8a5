import { pathToFileURL } from 'node:url';
import type { StrategyDefinition } from '../engine/strategy.js';
import { PromotionError } from './errors.js';

/**
 * Imports a strategy module file and returns the definition named `name`: the default export, or
 * any export that is a definition with that name. The runtime loads TypeScript (tsx for the CLI and
 * the runner, vitest in tests, tslab in notebooks). A plain absolute path works both for ESM
 * `import()` and for the `require()` tslab's CommonJS turns it into; only Windows needs a file URL.
 */
export async function importStrategyDefinition(file: string, name: string): Promise<StrategyDefinition> {
  const specifier = process.platform === 'win32' ? pathToFileURL(file).href : file;
  const mod = (await import(specifier)) as Record<string, unknown>;
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
