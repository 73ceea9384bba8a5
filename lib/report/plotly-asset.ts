import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';

const RELATIVE = join('node_modules', 'plotly.js-dist-min', 'plotly.min.js');

/**
 * Finds `node_modules/plotly.js-dist-min/plotly.min.js` without import-dot-meta or
 * `require.resolve`, so it works under ESM (tsx, vitest) and tslab's CommonJS alike: an explicit
 * path wins; otherwise it walks up from `process.cwd()`, then from `__dirname` where the module
 * system defines it (CommonJS), and returns the first file found.
 *
 * @throws ConfigError when the explicit path does not exist or no candidate is found
 */
export function locatePlotlyJs(explicitPath?: string): string {
  if (explicitPath !== undefined) {
    const path = resolve(explicitPath);
    if (!existsSync(path)) throw new ConfigError('plotlyJsPath', [`no file at ${path}`]);
    return path;
  }
  const starts = [process.cwd()];
  if (typeof __dirname === 'string') starts.push(__dirname);
  for (const start of starts) {
    for (let dir = resolve(start); ; dir = dirname(dir)) {
      const candidate = join(dir, RELATIVE);
      if (existsSync(candidate)) return candidate;
      if (dirname(dir) === dir) break;
    }
  }
  throw new ConfigError('plotly.js', [
    `cannot find ${RELATIVE} in ${starts.join(' or ')} or any parent folder`,
    'run npm install in the project, or pass options.plotlyJsPath',
  ]);
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
