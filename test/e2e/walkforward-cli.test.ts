import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../lib/store/store.js';

// `monger walkforward` as a user runs it: the real CLI, real bundled data, worker threads, a store file
const BIN = resolve('bin/monger.js');
const CHROMIUM = '/usr/bin/chromium';
let dir: string;
let db: string;

function monger(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, '--db', db, ...args], { encoding: 'utf8', env: { ...process.env, MONGER_DB: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'monger-wf-'));
  db = join(dir, 'wf.duckdb');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DATA = ['--data', 'data/lean/equity/usa/daily/spy.csv', 'data/lean/equity/usa/daily/qqq.csv'];
const RUN = ['walkforward', '--strategy', 'sma-cross', '--grid', 'fast=5..20:5,slow=20..60:10', '--params', 'size=100', ...DATA, '--folds', '4', '--embargo', '5', '--commission', 'ib-fixed'];

describe('monger walkforward', () => {
  let json: {
    config_hash: string;
    points: number;
    skipped: { params: Record<string, number> }[];
    folds: { fold: number; train: { from: string; to: string; sessions: number }; test: { from: string; to: string; sessions: number }; params: Record<string, number>; train_objective: number }[];
    oos: { statistics: Record<string, number>; days: number };
    workers: number;
    backtests: number;
  };

  it('prints the same JSON with 2 workers as with none, and stores the run', () => {
    const parallel = monger(...RUN, '--json', '--workers', '2');
    const single = monger(...RUN, '--json', '--workers', '0', '--no-save');
    expect(parallel.code, parallel.stderr).toBe(0);
    expect(single.code, single.stderr).toBe(0);
    const strip = (s: string) => s.replace(/"elapsed_ms": [\d.]+/, '"elapsed_ms": 0').replace(/"workers": \d+/, '"workers": 0');
    expect(strip(parallel.stdout)).toBe(strip(single.stdout));
    json = JSON.parse(parallel.stdout);
    expect(json.workers).toBe(2);
    // 4 x 5 grid minus fast=20/slow=20 (the schema wants slow > fast)
    expect(json.points).toBe(19);
    expect(json.skipped.map((s) => s.params)).toEqual([{ fast: 20, slow: 20 }]);
    expect(json.folds).toHaveLength(4);
    // 4 folds x 19 points on train, then each fold's choice on test and again on train
    expect(json.backtests).toBe(4 * 19 + 2 * 4);
    expect(json.folds[3]!.test.to).toBe('2021-03-31');
    for (let k = 1; k < 4; k++) {
      const prev = json.folds[k - 1]!.test.to;
      expect(json.folds[k]!.test.from > prev).toBe(true);
    }
    expect(json.oos.days).toBe(json.folds.reduce((n, f) => n + f.test.sessions, 0));
    expect(parallel.stderr).toMatch(/walk-forward run 1 stored in/);
  }, 120_000);

  it('stored the folds and scores in the DuckDB store', async () => {
    const store = await Store.open(db);
    try {
      const folds = await store.all<{ fold: number; params: string }>('SELECT fold, params FROM walkforward_folds WHERE run_id = 1 ORDER BY fold');
      expect(folds.map((f) => JSON.parse(f.params))).toEqual(json.folds.map((f) => f.params));
      const [n] = await store.all<{ n: number }>('SELECT count(*) AS n FROM walkforward_scores WHERE run_id = 1');
      expect(n!.n).toBe(4 * 19);
    } finally {
      store.close();
    }
  });

  it('explains a bad grid and split with exit code 2', () => {
    const r = monger('walkforward', '--strategy', 'sma-cross', '--grid', 'fast=20..5:5,slow', ...DATA, '--folds', '0', '--no-save');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--folds: expected an integer >= 1, was '0'");
    expect(r.stderr).toContain("--grid: 'fast=20..5:5': expected lo <= hi and a positive step");
    const tooMany = monger('walkforward', '--strategy', 'sma-cross', '--grid', 'fast=5,slow=20', ...DATA, '--folds', '4', '--train', '6000', '--no-save');
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toMatch(/5849 sessions cannot hold train 6000/);
  });

  it('writes an offline report whose charts render in Chromium', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: install it with 'apt-get install -y chromium' (.ci/run does this in CI)`);
    const report = join(dir, 'wf.html');
    const r = monger(...RUN, '--report', report, '--no-save', '--workers', '0');
    expect(r.code, r.stderr).toBe(0);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : route.abort()));
      await page.goto(pathToFileURL(report).href, { waitUntil: 'load' });
      await page.waitForFunction(() => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('.js-plotly-plot').length === 3, undefined, { timeout: 30_000 });
      const text = await page.evaluate(() => (globalThis as unknown as { document: { body: { innerText: string } } }).document.body.innerText);
      expect(text).toContain('Out-of-sample statistics (stitched test windows)');
      expect(text).toContain('Parameter stability');
      // one fold row per fold in the table
      expect(await page.locator('table.folds tbody tr').count()).toBe(4);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
