import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, expect, it } from 'vitest';

// `monger run --config runner/examples/replay.yaml --dev` as an operator runs it (faster, journal in a temp folder);
// --dev: the working tree's sma-cross (no promoted tag here), marked 1.0.0-dev
const dir = mkdtempSync(join(tmpdir(), 'monger-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('runs the shipped replay example end to end and prints the JSON summary as its last line', () => {
  const config = join(dir, 'replay.yaml');
  const journal = join(dir, 'journal.duckdb');
  writeFileSync(
    config,
    readFileSync('runner/examples/replay.yaml', 'utf8')
      .replace(/speed: 600\b/, 'speed: 3000')
      // at 3000x five replayed minutes are 100 real ms: give the close-out room on a busy machine
      .replace('noNewEntriesMinutesBeforeClose: 15', 'noNewEntriesMinutesBeforeClose: 30')
      .replace('flattenMinutesBeforeClose: 5', 'flattenMinutesBeforeClose: 15')
      .replace('path: data/journal-replay.duckdb', `path: ${journal}`)
      .replace('data/lean/equity/usa/minute/spy', resolve('data/lean/equity/usa/minute/spy')),
  );
  const env = { ...process.env, IB_HOST: '', IB_PORT: '', IB_CLIENT_ID: '' };
  const r = spawnSync(process.execPath, [resolve('bin/monger.js'), 'run', '--config', config, '--dev'], { encoding: 'utf8', env, timeout: 120_000 });
  expect(r.status, r.stderr.slice(-2000)).toBe(0);
  const lines = r.stdout.trim().split('\n');
  const summary = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown> & { orders: { total: number; filled: number }; fills: number; journal: { path: string } };
  expect(summary).toMatchObject({ mode: 'replay', strategy: 'sma-cross', stopReason: 'end of replay', positions: {}, reconnects: 0 });
  expect(summary.orders.total).toBeGreaterThan(0);
  expect(summary.orders.filled).toBe(summary.fills);
  expect(summary.journal.path).toBe(journal);
  // logs are JSON lines on stderr
  const firstLog = r.stderr.split('\n').find((l) => l.startsWith('{'));
  expect(firstLog && JSON.parse(firstLog)).toHaveProperty('level');
}, 150_000);
