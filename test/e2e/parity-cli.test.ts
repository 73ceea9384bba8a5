import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { importFiles } from '../../lib/ingest/import-files.js';
import { Store } from '../../lib/store/store.js';

// `monger parity` as a user runs it: the real CLI on a store holding the bundled SPY and IBM minutes
const dir = mkdtempSync(join(tmpdir(), 'monger-parity-cli-'));
const db = join(dir, 'bars.duckdb');
beforeAll(async () => {
  const store = await Store.open(db);
  await importFiles(store, ['spy', 'ibm'].map((s) => `data/lean/equity/usa/minute/${s}`));
  store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const monger = (...args: string[]) => spawnSync(process.execPath, [resolve('bin/monger.js'), '--db', db, ...args], { encoding: 'utf8', env: { ...process.env, MONGER_DB: '' }, timeout: 120_000 });

it('prints an empty diff as JSON and exits 0 for sma-cross on a real day of two stocks', () => {
  const r = monger('parity', '--strategy', 'sma-cross', '--from', '2013-10-08', '--to', '2013-10-08', '--symbols', 'SPY,IBM', '--json');
  expect(r.status, r.stderr.slice(-2000)).toBe(0);
  const report = JSON.parse(r.stdout) as { equal: boolean; version: string; counts: { backtest: Record<string, number>; runner: Record<string, number> }; firstDivergence: unknown };
  expect(report).toMatchObject({ equal: true, version: '1.0.0-dev', firstDivergence: null });
  expect(report.counts.runner.fill).toBeGreaterThan(0);
  expect(report.counts.runner).toEqual(report.counts.backtest);
}, 150_000);

it('refuses a strategy spec that is not name[@X.Y.Z|@dev] with exit 2', () => {
  const r = monger('parity', '--strategy', 'sma-cross@latest', '--from', '2013-10-08', '--to', '2013-10-08', '--symbols', 'SPY');
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/semver/);
});
