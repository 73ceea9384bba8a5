import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `monger run --config … --check` as an operator runs it: the real CLI, the shipped examples
const BIN = resolve('bin/monger.js');
let dir: string;

function monger(args: string[], env: Record<string, string> = {}) {
  const inherited = { ...process.env };
  for (const name of ['IB_HOST', 'IB_PORT', 'IB_CLIENT_ID']) delete inherited[name];
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...inherited, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'monger-run-config-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('monger run --check', () => {
  it('validates the shipped replay example and prints it resolved as JSON', () => {
    const r = monger(['run', '--config', 'runner/examples/replay.yaml', '--check']);
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout) as Record<string, any>;
    expect(c.mode).toBe('replay');
    expect(c.strategy).toEqual({ name: 'sma-cross', version: '1.0.0', params: { fast: 10, slow: 30, size: 100 }, interval: '1m', warmup: 30 });
    expect(c.replay).toMatchObject({ db: ':memory:', speed: 600, simulator: { port: 0, serverVersion: 193 }, fromMs: Date.parse('2013-10-08T13:00:00Z') });
    expect(c.trading.resolved.SPY).toEqual({ unitSize: 100, maxPosition: 100, tradeThreshold: 0, stop: 'static', spread: 'best', invertSignals: false });
    expect(c.riskLimits).toEqual({ maxOrderQuantity: 100, maxOrderNotional: 50_000, maxGrossLeverage: 1, maxPositionQuantity: 100, allowShort: false });
  });

  it('validates the shipped paper example, with IB_* overriding the file', () => {
    const plain = monger(['run', '--config', 'runner/examples/paper.yaml', '--check']);
    expect(plain.code, plain.stderr).toBe(0);
    expect((JSON.parse(plain.stdout) as { ib: unknown }).ib).toEqual({ host: '127.0.0.1', port: 4002, clientId: 17, account: 'DU1234567' });
    const r = monger(['run', '--config', 'runner/examples/paper.yaml', '--check'], { IB_HOST: '10.0.0.5', IB_PORT: '7497', IB_CLIENT_ID: '23' });
    expect(r.code, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout) as Record<string, any>;
    expect(c.ib).toEqual({ host: '10.0.0.5', port: 7497, clientId: 23, account: 'DU1234567' });
    expect(c.trading.resolved.QQQ).toMatchObject({ unitSize: 50, maxPosition: 100, spread: 'mid' });
  });

  it('refuses a live port from the environment under paper mode, exit 2', () => {
    const r = monger(['run', '--config', 'runner/examples/paper.yaml', '--check'], { IB_PORT: '7496' });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('ib.port (IB_PORT): 7496 is the TWS live-trading port but mode is paper');
  });

  it('lists every problem of a bad config with the file name, exit 2', () => {
    const path = join(dir, 'bad.yaml');
    const text = readFileSync('runner/examples/paper.yaml', 'utf8')
      .replace('mode: paper ', 'mode: live  ')
      .replace('QQQ: { unitSize: 50, maxPosition: 100, spread: mid }', 'QQQ: { unitSize: 50, maxPosition: -5, spread: mid }\n    TSLA: { unitSize: 1 }')
      .replace('flattenMinutesBeforeClose: 5 ', 'flattenMinutesBeforeClose: 2 ');
    writeFileSync(path, text);
    const r = monger(['run', '--config', path, '--check']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      [
        `monger: error CONFIG_INVALID: ${path}: invalid configuration`,
        '  - trading.symbols.QQQ.maxPosition: expected a positive number, got -5',
        '  - session.flattenMinutesBeforeClose: expected a number of minutes >= 5 (positions are flat at least 5 minutes before the close), got 2',
        '  - ib.port: 4002 is the IB Gateway paper-trading port but mode is live; use 7496 (TWS live) or 4001 (IB Gateway live), or set mode: paper',
        '  - ib.account: DU1234567 is a paper-trading account (ids starting with D) but mode is live; use the live account id (U1234567) or set mode: paper',
        '  - trading.symbols.TSLA: overrides a symbol that is not in universe.symbols (SPY, QQQ)',
        '',
      ].join('\n'),
    );
  });

  it('names a missing config file, exit 2', () => {
    const r = monger(['run', '--config', join(dir, 'nope.yaml'), '--check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'nope.yaml')}: invalid configuration`);
    expect(r.stderr).toContain('cannot read the runner config: ENOENT');
  });
});

describe('monger run', () => {
  it('refuses a malformed --duration before starting anything, exit 2', () => {
    const r = monger(['run', '--config', 'runner/examples/replay.yaml', '--duration', 'ten minutes']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("--duration: expected a duration like 90s, 30m or 2h, was 'ten minutes'");
  });

  it('requires --config', () => {
    const r = monger(['run', '--check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("required option '--config <file>' not specified");
  });
});
