/**
 * npm postinstall: gives `node_modules/.bin/tsc` and `tsserver` back to the project's TypeScript.
 *
 * tslab depends on `@tslab/typescript-for-tslab` (its TypeScript 5.0 fork), which declares the
 * same `tsc` and `tsserver` bins; npm hoists it and may link its bins instead of the project's
 * `typescript`, after which `tsc -p .` (npm test) and `npx tsc` silently type-check with 5.0 and
 * fail on code 5.9 accepts. tslab itself requires its fork by package name, never through these
 * links, so re-pointing them is safe. Never fails an install.
 */
import { existsSync, lstatSync, readlinkSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './jupyter-env.js';

/** Re-points the bins that resolve into the tslab fork; returns the names it fixed. */
export function fixTypeScriptBins(root = projectRoot()): string[] {
  const fixed: string[] = [];
  for (const name of ['tsc', 'tsserver']) {
    const link = join(root, 'node_modules', '.bin', name);
    const target = join('..', 'typescript', 'bin', name);
    if (!existsSync(join(root, 'node_modules', 'typescript', 'bin', name))) continue;
    let current: string | undefined;
    try {
      const stat = lstatSync(link);
      if (!stat.isSymbolicLink()) continue; // not npm's link layout: leave it alone
      current = readlinkSync(link);
    } catch {
      current = undefined; // no link at all
    }
    if (current !== undefined && !current.includes('typescript-for-tslab')) continue;
    if (current !== undefined) unlinkSync(link);
    symlinkSync(target, link);
    fixed.push(name);
  }
  return fixed;
}

try {
  const fixed = fixTypeScriptBins();
  if (fixed.length > 0) console.error(`monger: node_modules/.bin/${fixed.join(', ')} point to the project's TypeScript again (tslab's fork had taken them)`);
} catch (e) {
  console.error(`monger: could not check node_modules/.bin/tsc: ${(e as Error).message}`);
}
