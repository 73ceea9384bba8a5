import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../lib/store/store.js';

// `monger backtest` as a user runs it: the real CLI, real bundled data, a fresh store file
const BIN = resolve('bin/monger.js');
let dir: string;
let db: string;

function monger(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, '--db', db, ...args], { encoding: 'utf8', env: { ...process.env, MONGER_DB: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'monger-backtest-'));
  db = join(dir, 'bt.duckdb');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SPY_DAILY = ['--strategy', 'sma-cross', '--params', 'fast=10,slow=30', '--size', '100', '--data', 'data/lean/equity/usa/daily/spy.csv', '--format', 'lean', '--commission', 'ib-fixed', '--cash', '100000'];

describe('monger backtest', () => {
  it('prints one JSON object that is byte-identical on rerun apart from elapsed_ms', () => {
    const a = monger('backtest', ...SPY_DAILY, '--json');
    const b = monger('backtest', ...SPY_DAILY, '--json');
    expect(a.code, a.stderr).toBe(0);
    expect(b.code).toBe(0);
    const strip = (s: string) => s.replace(/"elapsed_ms": \d+/, '"elapsed_ms": 0');
    expect(strip(b.stdout)).toBe(strip(a.stdout));
    const r = JSON.parse(a.stdout) as Record<string, unknown> & { orders: unknown[]; trades: unknown[]; statistics: Record<string, number> };
    for (const key of ['orders', 'trades', 'final_value', 'statistics', 'bars', 'elapsed_ms']) expect(r).toHaveProperty(key);
    // the same run as the golden SPY daily backtest (test/acceptance)
    expect(r.orders).toHaveLength(203);
    expect(r.final_value).toBe(111_800);
    expect(r.bars).toBe(5849);
    expect(r.statistics.trades).toBe(101);
  });

  it('stores every run in DuckDB with its config hash, orders, fills, trades and daily equity', async () => {
    const r = monger('backtest', ...SPY_DAILY, '--json');
    expect(r.code).toBe(0);
    const hash = (JSON.parse(r.stdout) as { config_hash: string }).config_hash;
    const store = await Store.open(db);
    try {
      const runs = await store.all<{ run_id: number; orders: number; fills: number; trades: number; days: number }>(
        `SELECT r.run_id,
           (SELECT CAST(count(*) AS INTEGER) FROM backtest_orders o WHERE o.run_id = r.run_id) AS orders,
           (SELECT CAST(count(*) AS INTEGER) FROM backtest_fills f WHERE f.run_id = r.run_id) AS fills,
           (SELECT CAST(count(*) AS INTEGER) FROM backtest_trades t WHERE t.run_id = r.run_id) AS trades,
           (SELECT CAST(count(*) AS INTEGER) FROM backtest_daily d WHERE d.run_id = r.run_id) AS days
         FROM backtest_runs r WHERE config_hash = $1 ORDER BY run_id`,
        [hash],
      );
      // three runs of the same config so far (two in the test above), identical contents
      expect(runs).toHaveLength(3);
      // 101 round trips plus the open final buy: every one of the 203 orders filled once
      expect(runs[2]).toMatchObject({ orders: 203, fills: 203, trades: 101, days: 5849 });
    } finally {
      store.close();
    }
  });

  it('backtests a Yahoo file and writes an offline HTML report', () => {
    const report = join(dir, 'nvda.html');
    const r = monger('backtest', '--strategy', 'buy-and-hold', '--data', 'data/yahoo/nvda-1999-2014.txt', '--format', 'yahoo', '--report', report, '--json', '--no-save');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { orders: { status: string }[]; bars: number };
    expect(out.orders.map((o) => o.status)).toEqual(['FILLED']);
    expect(existsSync(report)).toBe(true);
    const html = readFileSync(report, 'utf8');
    expect(html).toContain('buy-and-hold');
    expect(html).not.toMatch(/<script[^>]+src=["']https?:/);
  });

  it('rejects bad input with every problem listed and exit code 2', () => {
    const r = monger('backtest', '--strategy', 'sma-cross', '--params', 'fast=50,slow=10,bogus=1', '--symbols', 'SPY', '--interval', '1d', '--cash', '-5', '--no-save');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--cash: expected a positive amount');
    const p = monger('backtest', '--strategy', 'sma-cross', '--params', 'fast=50,slow=10,bogus=1', '--symbols', 'SPY', '--interval', '1d', '--no-save');
    expect(p.code).toBe(2);
    expect(p.stderr).toContain('bogus: unknown parameter');
    expect(p.stderr).toContain('slow: slow must be greater than fast');
  });

  it('names an instrument the store does not have', () => {
    const r = monger('backtest', '--strategy', 'sma-cross', '--symbols', 'NOPE', '--interval', '1d', '--no-save');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("no instrument 'NOPE'");
  });
});
