import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from './errors.js';

/**
 * Folders to search upwards from, in order: `process.cwd()`, `__dirname` where the module system
 * defines it (CommonJS, i.e. tslab; undefined under tsx's ESM), and the folder of the entry script
 * (`process.argv[1]`, e.g. `runner/cli/main.ts` when started from another folder).
 */
export function projectSearchStarts(): string[] {
  const starts = [resolve(process.cwd())];
  if (typeof __dirname === 'string') starts.push(resolve(__dirname));
  const script = process.argv[1];
  if (typeof script === 'string' && script !== '') starts.push(dirname(resolve(script)));
  return [...new Set(starts)];
}

/**
 * Finds `<root>/<relativePath>` for the nearest folder `root` at or above one of
 * {@link projectSearchStarts} and returns its absolute path. Works without import-dot-meta or
 * `require.resolve`, so under tsx, vitest and tslab's CommonJS alike.
 *
 * @throws ConfigError naming every folder searched when no such file exists
 */
export function locateProjectFile(relativePath: string): string {
  if (isAbsolute(relativePath)) {
    if (existsSync(relativePath)) return relativePath;
    throw new ConfigError('project file', [`no file at ${relativePath}`]);
  }
  const starts = projectSearchStarts();
  for (const start of starts) {
    for (let dir = start; ; dir = dirname(dir)) {
      const candidate = join(dir, relativePath);
      if (existsSync(candidate)) return candidate;
      if (dirname(dir) === dir) break;
    }
  }
  throw new ConfigError('project file', [
    `cannot find ${relativePath} in ${starts.join(' or ')} or any parent folder`,
    'run from inside the project (or npm install it)',
  ]);
}

