import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The real CLI as a user runs it: node bin/monger.js, a fresh store file, real bundled data
const BIN = resolve('bin/monger.js');
let dir: string;
let db: string;

function monger(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, '--db', db, ...args], { encoding: 'utf8', env: { ...process.env, MONGER_DB: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'monger-cli-'));
  db = join(dir, 'cli.duckdb');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('monger CLI', () => {
  it('imports the bundled LEAN daily data and reports it as JSON', () => {
    const r = monger('data', 'import', 'data/lean/equity/usa/daily', 'data/lean/equity/usa/factor_files', 'data/lean/equity/usa/map_files', '--json');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { bars: { inserted: number }; instruments: string[] };
    // every row dated on or after the first date of the symbol's map file (earlier rows belong to
    // another company, e.g. GOOG before 2014-03-27); SPY AAPL IBM AIG BAC hold all 5,849 days
    const root = 'data/lean/equity/usa';
    const files = readdirSync(`${root}/daily`).sort();
    const expected = files.reduce((n, f) => {
      const start = readFileSync(`${root}/map_files/${f}`, 'utf8').slice(0, 8);
      return n + readFileSync(`${root}/daily/${f}`, 'utf8').split('\n').filter((l) => l.trim() !== '' && l.slice(0, 8) >= start).length;
    }, 0);
    expect(expected).toBe(60_630);
    expect(result.bars.inserted).toBe(expected);
    expect(result.instruments.sort()).toEqual(files.map((f) => f.replace('.csv', '').toUpperCase()));
  });

  it('lists stored series with data ls --json', () => {
    const r = monger('data', 'ls', '--json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { symbol: string; interval: string; rows: number }[];
    expect(rows.find((x) => x.symbol === 'SPY' && x.interval === '1d')?.rows).toBe(5849);
  });

  it('exits 3 naming file, line and column when a CSV has a bad number, and leaves the store unchanged', () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'date,open,high,low,close,volume\n2024-01-02,10,11,9,10.5,100\n2024-01-03,10,eleven,9,10.5,100\n');
    const r = monger('data', 'import', bad, '--symbol', 'XYZ', '--interval', '1d');
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('bad.csv:3');
    expect(r.stderr).toContain("column 'high'");
    expect(r.stderr).toContain("'eleven'");
    const ls = JSON.parse(monger('data', 'ls', '--instruments', '--json').stdout) as { key: string }[];
    expect(ls.map((i) => i.key)).not.toContain('XYZ');
    const runs = JSON.parse(monger('data', 'runs', '--json').stdout) as { status: string; error: string }[];
    expect(runs[0]!.status).toBe('failed');
    expect(runs[0]!.error).toContain('bad.csv:3');
  });

  it('exits 2 listing every bad flag at once', () => {
    const r = monger('data', 'import', 'x.csv', '--map', 'when=ts,open', '--tz', 'Mars/Olympus');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--map entry');
    expect(r.stderr).toContain('--tz');
  });

  it('audits daily bars with full coverage and fails --min-coverage with exit 5 when a series falls short', () => {
    const ok = monger('data', 'audit', 'SPY', '--interval', '1d', '--json');
    expect(ok.code).toBe(0);
    const [spy] = JSON.parse(ok.stdout) as { coverage: number; sessions: number; reportId: number }[];
    expect(spy!.coverage).toBe(1);
    expect(spy!.sessions).toBe(5849);
    expect(spy!.reportId).toBeGreaterThan(0);
    // QQQ's sample file has 3,964 of the 5,552 sessions since 1999-03-10 (years are missing in the sample)
    const short = monger('data', 'audit', 'QQQ', '--interval', '1d', '--from', '1999-03-10', '--to', '2021-03-31', '--min-coverage', '99');
    expect(short.code).toBe(5);
    expect(short.stderr).toContain('QQQ 1d trade');
  });

  it('prints NYSE sessions as CSV with the early close after Thanksgiving 2024', () => {
    const r = monger('calendar', 'sessions', '--exchange', 'XNYS', '--from', '2024-11-27', '--to', '2024-11-29', '--format', 'csv');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      'session,open,close,break_start,break_end',
      '2024-11-27,2024-11-27T14:30:00Z,2024-11-27T21:00:00Z,,',
      '2024-11-29,2024-11-29T14:30:00Z,2024-11-29T18:00:00Z,,',
    ]);
  });
});
