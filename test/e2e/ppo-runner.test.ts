import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';

// The trained-policy strategy in the headless runner, unchanged: the replay example with
// ppo-voltarget on three stocks' minute bars (the policy trained on daily bars, so its decisions
// mean nothing here; what this proves is that the module, its model and its streaming features run
// in the runner as they do in backtests: warm-up from the store, a decision per bar close, orders
// through the IB client to the simulator and back).
const dir = mkdtempSync(join(tmpdir(), 'monger-ppo-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('runs ppo-voltarget in replay and trades', () => {
  const config = join(dir, 'replay.yaml');
  const journal = join(dir, 'journal.duckdb');
  const minute = (s: string) => resolve(`data/lean/equity/usa/minute/${s}`);
  writeFileSync(
    config,
    readFileSync('runner/examples/replay.yaml', 'utf8')
      .replace(/strategy:\n  name: sma-cross\n  version: 1\.0\.0\n  interval: 1m\n  params: \{ fast: 10, slow: 30, size: 100 \}/, 'strategy:\n  name: ppo-voltarget\n  interval: 1m\n  params: {}')
      .replace('symbols: [SPY]', 'symbols: [SPY, AAPL, IBM]')
      .replace('import: [data/lean/equity/usa/minute/spy]', `import: [${minute('spy')}, ${minute('aapl')}, ${minute('ibm')}]`)
      .replace(/maxOrderQuantity: \d+/, 'maxOrderQuantity: 100000')
      .replace(/maxOrderNotional: \d+/, 'maxOrderNotional: 2000000')
      .replace(/maxPositionNotionalPerSymbol: \d+/, 'maxPositionNotionalPerSymbol: 2000000')
      .replace(/maxGrossLeverage: \d+/, 'maxGrossLeverage: 3')
      .replace(/maxOpenOrders: \d+/, 'maxOpenOrders: 20\n  allowShort: true')
      .replace(/maxPosition: \d+/, 'maxPosition: 100000')
      .replace(/speed: 600\b/, 'speed: 3000')
      .replace('path: data/journal-replay.duckdb', `path: ${journal}`),
  );
  const env = { ...process.env, IB_HOST: '', IB_PORT: '', IB_CLIENT_ID: '' };
  const r = spawnSync(process.execPath, [resolve('bin/monger.js'), 'run', '--config', config, '--dev', '--duration', '90m'], { encoding: 'utf8', env, timeout: 150_000 });
  expect(r.status, r.stderr.slice(-3000)).toBe(0);
  const summary = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown> & { orders: { total: number; filled: number }; fills: number };
  expect(summary).toMatchObject({ mode: 'replay', strategy: 'ppo-voltarget' });
  expect(summary.orders.total).toBeGreaterThan(0);
  expect(summary.orders.filled).toBeGreaterThan(0);
  expect(summary.fills).toBeGreaterThanOrEqual(summary.orders.filled);
}, 180_000);
