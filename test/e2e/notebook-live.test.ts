/**
 * A newcomer's first notebook, for real: `npm run notebook` (scripts/notebooks/open.ts) starts the
 * classic Jupyter Notebook in the project root with the project's `monger` kernel, Debian's headless
 * Chromium opens notebook 1, runs every cell through the Notebook UI, and every chart must be drawn
 * by plotly from the notebook itself (no network), with no error output in any cell.
 *
 * Needs Jupyter (Debian's jupyter-notebook; `.ci/run` installs it) and Chromium: missing either
 * fails the test, never skips it. The notebook runs from a copy under data/reports/ so the UI can
 * never save outputs into notebooks/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The classic Notebook's page API and the few DOM calls the checks make (tsconfig has no DOM lib). */
interface NotebookPage {
  Jupyter?: {
    notebook?: {
      kernel?: { name: string; is_connected(): boolean };
      get_cells(): { cell_type: string; input_prompt_number: number | string | null | undefined }[];
      execute_all_cells(): void;
      set_autosave_interval(ms: number): void;
    };
  };
  Plotly?: { version: string };
  document: { querySelectorAll(selector: string): { length: number } };
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? done(address.port) : fail(new Error('no port'))));
    });
  });
}

let server: ChildProcess | undefined;
let browser: Browser | undefined;
const scratch = mkdtempSync(join(tmpdir(), 'monger-notebook-live-'));
const copyDir = resolve('data/reports/notebooks-live');

afterAll(async () => {
  await browser?.close();
  // the server was started in its own process group: end it and the kernels it started
  const group = server?.pid;
  if (server !== undefined && group !== undefined && server.exitCode === null) {
    const exited = new Promise((done) => server!.once('exit', done));
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(-group, s);
      } catch {
        // already gone
      }
    };
    signal('SIGTERM');
    const timer = setTimeout(() => signal('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(scratch, { recursive: true, force: true });
  rmSync(copyDir, { recursive: true, force: true });
});

it('npm run notebook serves notebook 1 on the monger kernel and it runs cleanly in the Notebook UI, charts drawn offline', async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: apt-get install -y chromium (.ci/run does this)`);
  mkdirSync(copyDir, { recursive: true });
  copyFileSync('notebooks/01-data.ipynb', join(copyDir, '01-data.ipynb'));
  const port = await freePort();
  let log = '';
  server = spawn(
    process.execPath,
    [resolve('node_modules/tsx/dist/cli.mjs'), 'scripts/notebooks/open.ts', '--no-browser', `--port=${port}`, '--ip=127.0.0.1', '--NotebookApp.token=', '--NotebookApp.password=', '--NotebookApp.port_retries=0'],
    { env: { ...process.env, MONGER_DB: join(scratch, 'store.duckdb') }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  server.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`the notebook server exited (${server.exitCode}):\n${log}`);
    const up = await fetch(`${base}/api`).then((r) => r.ok, () => false);
    if (up) break;
    if (Date.now() > deadline) throw new Error(`the notebook server did not answer within 60 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }

  browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors: string[] = [];
  const external: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    if (!r.url().startsWith(base) && !/^(data|blob):/.test(r.url())) external.push(r.url());
  });
  await page.route('**/*', (r) => (r.request().url().startsWith(base) || /^(data|blob):/.test(r.request().url()) ? r.continue() : r.abort()));
  await page.goto(`${base}/notebooks/data/reports/notebooks-live/01-data.ipynb`, { waitUntil: 'load' });
  await page.waitForFunction(() => (globalThis as unknown as NotebookPage).Jupyter?.notebook?.kernel?.is_connected() === true, undefined, { timeout: 60_000 });
  const kernel = await page.evaluate(() => {
    const nb = (globalThis as unknown as NotebookPage).Jupyter!.notebook!;
    nb.set_autosave_interval(0);
    nb.execute_all_cells();
    return nb.kernel!.name;
  });
  expect(kernel).toBe('monger');

  // every code cell answered (its prompt shows a number, not `*`)
  await page.waitForFunction(
    () => (globalThis as unknown as NotebookPage).Jupyter!.notebook!.get_cells().filter((c) => c.cell_type === 'code').every((c) => typeof c.input_prompt_number === 'number'),
    undefined,
    { timeout: 180_000, polling: 500 },
  );
  await page.waitForFunction(() => (globalThis as unknown as NotebookPage).document.querySelectorAll('.monger-plot.js-plotly-plot').length >= (globalThis as unknown as NotebookPage).document.querySelectorAll('script[data-monger-figure]').length, undefined, { timeout: 30_000 });
  const state = await page.evaluate(() => {
    const { document, Plotly } = (globalThis as unknown as NotebookPage);
    return {
      plotly: Plotly?.version,
      figures: document.querySelectorAll('script[data-monger-figure]').length,
      drawn: document.querySelectorAll('.monger-plot.js-plotly-plot').length,
      tables: document.querySelectorAll('table.monger-table').length,
      progress: document.querySelectorAll('.monger-progress.done').length,
      stderr: document.querySelectorAll('.output_stderr').length,
      jsErrors: document.querySelectorAll('.js-error').length,
    };
  });
  expect(state, log).toEqual({ plotly: '4.1.2', figures: 1, drawn: 1, tables: 4, progress: 1, stderr: 0, jsErrors: 0 });
  expect(errors).toEqual([]);
  expect(external).toEqual([]);
}, 300_000);
