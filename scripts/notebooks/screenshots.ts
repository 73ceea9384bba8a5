/**
 * `npm run notebooks:screenshots [-- names…]`: executes notebooks (default 03 and 04) with the
 * tslab kernel, exports them to static HTML with nbconvert and screenshots the pages in Debian's
 * headless Chromium (playwright-core, network blocked), so a reviewer sees the charts as rendered.
 * Fails when a page does not draw every figure it holds or reports a script error.
 * Output: data/reports/screenshots/<notebook>.html and .png.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { findJupyterPython, jupyterEnv, missingJupyterHint, projectRoot } from './jupyter-env.js';
import { FIGURE_SPEC_ATTRIBUTE, listNotebooks } from './notebook-file.js';
import { executeNotebooks } from './run-notebooks.js';

// Debian's Chromium (platform notes §8; test/e2e/report-browser.test.ts); never `npx playwright install`
const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The few browser globals the page check reads (tsconfig has no DOM lib). */
interface PageGlobals {
  document: { querySelectorAll(selector: string): { length: number } };
}

const root = projectRoot();
const outDir = join(root, 'data', 'reports', 'screenshots');

async function main(): Promise<void> {
  const names = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const wanted = names.length > 0 ? names : ['03', '04'];
  const notebooks = listNotebooks(join(root, 'notebooks')).filter((p) => wanted.some((w) => basename(p).includes(w)));
  if (notebooks.length === 0) throw new Error(`no notebook matches ${wanted.join(', ')}`);
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: apt-get install -y chromium`);
  const python = findJupyterPython(['nbconvert', 'nbclient']);
  if (python === undefined) throw new Error(missingJupyterHint('notebooks cannot be exported'));

  const store = mkdtempSync(join(tmpdir(), 'monger-screenshots-'));
  const executed = join(store, 'executed');
  try {
    const runs = await executeNotebooks(notebooks, { outDir: executed, env: { MONGER_DB: join(store, 'store.duckdb') } });
    const failed = runs.filter((r) => !r.ok);
    if (failed.length > 0) throw new Error(`notebooks failed (npm run test:notebooks shows why): ${failed.map((r) => `${basename(r.notebook)} cell ${r.failed?.index}`).join(', ')}`);
    const html = spawnSync(python, ['-m', 'nbconvert', '--to', 'html', '--output-dir', outDir, ...runs.map((r) => r.output)], { cwd: root, env: jupyterEnv(root), encoding: 'utf8' });
    if (html.status !== 0) throw new Error(`nbconvert --to html failed:\n${html.stderr}`);

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    try {
      for (const run of runs) {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        // offline like a reviewer's laptop on a plane: nbconvert's template asks CDNs for require.js
        // and MathJax; those are refused and must not matter
        await page.route('**/*', (r) => (r.request().url().startsWith('file:') ? r.continue() : r.abort()));
        const file = join(outDir, `${basename(run.output, '.ipynb')}.html`);
        await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
        // Debian's nbconvert loads a local MathJax whose "Loading …" box would sit on the picture
        await page.addStyleTag({ content: '#MathJax_Message { display: none !important; }' });
        const expected = await page.evaluate((attr) => (globalThis as unknown as PageGlobals).document.querySelectorAll(`script[${attr}]`).length, FIGURE_SPEC_ATTRIBUTE);
        await page.waitForFunction((n) => (globalThis as unknown as PageGlobals).document.querySelectorAll('.monger-plot.js-plotly-plot').length >= n, expected, { timeout: 60_000 });
        const png = join(outDir, `${basename(run.output, '.ipynb')}.png`);
        await page.screenshot({ path: png, fullPage: true });
        await page.close();
        if (errors.length > 0) throw new Error(`${relative(root, file)}: page errors: ${errors.join('; ')}`);
        console.log(`${relative(root, png)}: ${expected} figures drawn (${run.seconds.toFixed(1)} s to execute)`);
      }
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
