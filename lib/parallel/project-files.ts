import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../core/errors.js';
import { locateProjectFile } from '../core/project-files.js';

export { locateProjectFile, projectSearchStarts } from '../core/project-files.js';

type ExportTarget = string | null | ExportTarget[] | { [condition: string]: ExportTarget };

/** Node's conditional-exports matching for one `exports` entry: first matching key wins. */
function resolveExportTarget(target: ExportTarget | undefined, conditions: readonly string[]): string | undefined {
  if (target === undefined || target === null) return undefined;
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const item of target) {
      const found = resolveExportTarget(item, conditions);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [condition, value] of Object.entries(target)) {
    if (conditions.includes(condition)) {
      const found = resolveExportTarget(value, conditions);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * The file a subpath export of the installed `tsx` package points to (ESM conditions), as a
 * file URL string.
 *
 * @throws ConfigError when tsx is not installed or does not export the subpath
 */
export function locateTsxExport(subpath: '.' | `./${string}`): string {
  const packageJson = locateProjectFile(join('node_modules', 'tsx', 'package.json'));
  const manifest = JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: string; exports?: ExportTarget };
  const exportsField = manifest.exports;
  let entry: ExportTarget | undefined;
  if (typeof exportsField === 'string' || Array.isArray(exportsField)) {
    entry = subpath === '.' ? exportsField : undefined;
  } else if (exportsField !== null && exportsField !== undefined) {
    entry = exportsField[subpath];
  }
  const target = resolveExportTarget(entry, ['node', 'import', 'default']);
  const file = target === undefined ? undefined : resolve(dirname(packageJson), target);
  if (file === undefined || !existsSync(file)) {
    throw new ConfigError('tsx', [
      `${packageJson} (version ${manifest.version ?? '?'}) has no usable export '${subpath}'` +
        (file === undefined ? '' : `: ${file} does not exist`),
    ]);
  }
  return pathToFileURL(file).href;
}

/** File URL of tsx's ESM loader (the package's `.` export, `dist/loader.mjs`), for `--import`. */
export function locateTsxLoader(): string {
  return locateTsxExport('.');
}

/** File URL of tsx's programmatic ESM API (`tsx/esm/api`: `register`, `tsImport`). */
export function locateTsxEsmApi(): string {
  return locateTsxExport('./esm/api');
}
