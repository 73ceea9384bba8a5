import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { locateProjectFile } from '../core/project-files.js';

const RELATIVE = join('node_modules', 'plotly.js-dist-min', 'plotly.min.js');

/**
 * Finds `node_modules/plotly.js-dist-min/plotly.min.js`: an explicit path wins; otherwise the
 * project lookup of `lib/core/project-files.ts` (works under tsx, vitest and tslab's CommonJS).
 *
 * @throws ConfigError when the explicit path does not exist or no candidate is found
 */
export function locatePlotlyJs(explicitPath?: string): string {
  if (explicitPath !== undefined) {
    const path = resolve(explicitPath);
    if (!existsSync(path)) throw new ConfigError('plotlyJsPath', [`no file at ${path}`]);
    return path;
  }
  try {
    return locateProjectFile(RELATIVE);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    throw new ConfigError('plotly.js', [...e.problems.slice(0, 1), 'run npm install in the project, or pass options.plotlyJsPath']);
  }
}

/**
 * Wraps plotly's source in a `<script>` for inlining: an IIFE hides `define`, `module` and
 * `exports`, so the bundle neither registers as an AMD/CommonJS module (require.js in Jupyter) nor
 * misses `window.Plotly`. `</script` and `<!--` inside the source (they can only occur in string or
 * regex literals of minified code) are escaped so the HTML parser cannot end the element early.
 */
export function plotlyScriptTag(source: string): string {
  const safe = source.replace(/<\/script/gi, '<\\/script').replace(/<!--/g, '<\\x21--');
  return `<script>(function (define, module, exports) {\n${safe}\n}).call(window);</script>`;
}

/** Reads plotly.min.js (see {@link locatePlotlyJs}) and returns it as an inline `<script>` element. */
export function inlinePlotlyScript(explicitPath?: string): string {
  return plotlyScriptTag(readFileSync(locatePlotlyJs(explicitPath), 'utf8'));
}
