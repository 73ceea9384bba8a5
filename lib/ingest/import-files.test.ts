import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataError } from '../core/errors.js';
import { loadBars } from '../store/bar-query.js';
import { findInstruments } from '../store/instruments.js';
import { Store } from '../store/store.js';
import { importFiles } from './import-files.js';

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'monger-'));
  store = await Store.open(path.join(dir, 'test.duckdb'));
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const HEADER = 'date,open,high,low,close,volume';
const GOOD_ROWS = ['2024-01-02,10,11,9,10.5,100', '2024-01-03,10.5,12,10,11,200', '2024-01-04,11,11.5,10.5,11.2,150'];

function write(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ['bars', 'instruments', 'corporate_actions', 'ticks']) {
    out[t] = (await store.all<{ n: number }>(`SELECT count(*) AS n FROM ${t}`))[0]!.n;
  }
  return out;
}

async function expectFailure(paths: string[], options: Parameters<typeof importFiles>[2]): Promise<DataError> {
  try {
    await importFiles(store, paths, options);
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('expected the import to fail');
}

/** Imports a valid file first, then the bad one; asserts nothing changed and the failure was recorded. */
async function importBadAfterGood(bad: string, options: Parameters<typeof importFiles>[2]): Promise<DataError> {
  await importFiles(store, [write('good.csv', [HEADER, ...GOOD_ROWS])], { interval: '1d', symbol: 'GOOD' });
  const before = await counts();
  const e = await expectFailure([bad], options);
  expect(await counts()).toEqual(before);
  const runs = await store.all<{ status: string; error: string }>('SELECT status, error FROM ingest_runs ORDER BY run_id DESC LIMIT 1');
  expect(runs).toEqual([{ status: 'failed', error: e.message }]);
  return e;
}

describe('importFiles with bad input', () => {
  const xyz = { interval: '1d' as const, symbol: 'XYZ' };

  it('fails BAD_NUMBER naming file, line and column when a price is not a number', async () => {
    const bad = write('bad.csv', [HEADER, GOOD_ROWS[0]!, '2024-01-03,10.5,12,10,1O.9,200']);
    const e = await importBadAfterGood(bad, xyz);
    expect(e.code).toBe('BAD_NUMBER');
    expect(e.message).toContain("bad.csv:3 column 'close'");
    expect(e.message).toContain("'1O.9'");
  });

  it('fails OHLC_INCONSISTENT with the line when high < low', async () => {
    const bad = write('bad.csv', [HEADER, GOOD_ROWS[0]!, GOOD_ROWS[1]!, '2024-01-04,11,9,12,11,150']);
    const e = await importBadAfterGood(bad, xyz);
    expect(e.code).toBe('OHLC_INCONSISTENT');
    expect(e.location.line).toBe(4);
    expect(e.message).toContain('bad.csv:4');
  });

  it('fails OUT_OF_ORDER when a timestamp is earlier than the previous one', async () => {
    const bad = write('bad.csv', [HEADER, GOOD_ROWS[1]!, GOOD_ROWS[0]!]);
    const e = await importBadAfterGood(bad, xyz);
    expect(e.code).toBe('OUT_OF_ORDER');
    expect(e.location.line).toBe(3);
  });

  it('fails DUPLICATE_BAR naming both lines when a timestamp repeats', async () => {
    const bad = write('bad.csv', [HEADER, GOOD_ROWS[0]!, GOOD_ROWS[1]!, GOOD_ROWS[1]!]);
    const e = await importBadAfterGood(bad, xyz);
    expect(e.code).toBe('DUPLICATE_BAR');
    expect(e.message).toContain('bad.csv:4');
    expect(e.message).toContain('line 3');
  });

  it('fails UNKNOWN_SYMBOL when a symbol column names an instrument the store lacks', async () => {
    const bad = write('bad.csv', ['date,symbol,open,high,low,close,volume', '2024-01-02,GOOD,10,11,9,10.5,100', '2024-01-02,NOPE,10,11,9,10.5,100']);
    const e = await importBadAfterGood(bad, { interval: '1d' });
    expect(e.code).toBe('UNKNOWN_SYMBOL');
    expect(e.message).toContain("unknown symbol 'NOPE'");
    expect(e.location.line).toBe(3);
  });

  it('registers the unknown symbol as a stock when register is set', async () => {
    const file = write('ok.csv', ['date,symbol,open,high,low,close,volume', '2024-01-02,NEW,10,11,9,10.5,100']);
    const r = await importFiles(store, [file], { interval: '1d', register: true });
    expect(r.bars.inserted).toBe(1);
    expect((await findInstruments(store, ['NEW'])).get('NEW')?.secType).toBe('STK');
  });

  it('fails BAD_SYMBOL when a symbol column holds invalid symbol text', async () => {
    const bad = write('bad.csv', ['date,symbol,open,high,low,close,volume', '2024-01-02,GOOD,10,11,9,10.5,100', '2024-01-03,$$$,10,11,9,10.5,100']);
    const e = await importBadAfterGood(bad, { interval: '1d' });
    expect(e.code).toBe('BAD_SYMBOL');
    expect(e.message).toContain("bad.csv:3 column 'symbol'");
  });

  it('fails BAD_NUMBER in a LEAN-shaped daily file naming its line and column', async () => {
    const bad = write('lean/equity/usa/daily/xyz.csv', ['20240102 00:00,100000,110000,90000,105000,100', '20240103 00:00,100000,110000,90000,abc,100']);
    const e = await importBadAfterGood(bad, {});
    expect(e.code).toBe('BAD_NUMBER');
    expect(e.message).toContain("xyz.csv:2 column 'close'");
  });

  it('leaves nothing of earlier files when the last file of a multi-file import is bad', async () => {
    const a = write('a.csv', [HEADER, ...GOOD_ROWS]);
    const b = write('b.csv', [HEADER, ...GOOD_ROWS]);
    const c = write('c.csv', [HEADER, GOOD_ROWS[0]!, 'not-a-date,1,1,1,1,1']);
    const before = await counts();
    const e = await expectFailure([a, b, c], xyz);
    expect(e.code).toBe('BAD_TIMESTAMP');
    expect(await counts()).toEqual(before);
    expect(await findInstruments(store, ['XYZ'])).toEqual(new Map());
    const runs = await store.all<{ status: string; n: number }>('SELECT status, count(*) AS n FROM ingest_runs GROUP BY status');
    expect(runs).toEqual([{ status: 'failed', n: 1 }]);
  });
});

describe('importFiles idempotency', () => {
  it('reports every bar unchanged and keeps the row count when data/lean is imported twice', async () => {
    const first = await importFiles(store, [path.resolve('data/lean')]);
    const rows1 = await counts();
    const second = await importFiles(store, [path.resolve('data/lean')]);
    expect(first.bars.inserted).toBeGreaterThan(0);
    expect(second.bars).toEqual({ inserted: 0, updated: 0, unchanged: first.bars.inserted });
    expect(second.ticks).toEqual({ inserted: 0, updated: 0, unchanged: first.ticks.inserted });
    expect(second.corporateActions).toEqual({ inserted: 0, updated: 0, unchanged: first.corporateActions.inserted });
    expect(await counts()).toEqual(rows1);
    expect(rows1.bars).toBe(first.bars.inserted);
  });

  it('reports updated 1 when one close value changed between imports', async () => {
    const file = write('x.csv', [HEADER, ...GOOD_ROWS]);
    await importFiles(store, [file], { interval: '1d', symbol: 'XYZ' });
    write('x.csv', [HEADER, GOOD_ROWS[0]!, '2024-01-03,10.5,12,10,11.5,200', GOOD_ROWS[2]!]);
    const r = await importFiles(store, [file], { interval: '1d', symbol: 'XYZ' });
    expect(r.bars).toEqual({ inserted: 0, updated: 1, unchanged: 2 });
    const [bars] = await loadBars(store, { symbols: ['XYZ'], interval: '1d' });
    expect(Array.from(bars!.close)).toEqual([10.5, 11.5, 11.2]);
  });
});

describe('importFiles real files', () => {
  it('imports 4,012 NVDA Yahoo bars whose adjusted close equals the Adj Close column', async () => {
    const file = path.resolve('data/yahoo/nvda-1999-2014.txt');
    // shared README: nvda-1999-2014.txt (4,012 rows)
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').slice(1);
    const r = await importFiles(store, [file]);
    expect(lines.length).toBe(4012);
    expect(r.bars.inserted).toBe(4012);
    expect(r.instruments).toEqual(['NVDA']);
    const [adj] = await loadBars(store, { symbols: ['NVDA'], interval: '1d', adjusted: true });
    for (const i of [0, 1, 500, 2000, 4011]) {
      const want = Number(lines[i]!.split(',')[5]);
      expect(new Date(adj!.ts[i]!).toISOString().slice(0, 10)).toBe(lines[i]!.slice(0, 10));
      expect(Math.abs(adj!.close[i]! / want - 1)).toBeLessThan(1e-9);
    }
  });

  it('imports 29,996 6E Mar 2024 minute bars as future 6E-202403 with multiplier 125000', async () => {
    const file = path.resolve('data/cme/6EH4.XCME_1min_bars_20240101_20240131.csv');
    // shared README: 29,996 one-minute bars
    const r = await importFiles(store, [file], { symbol: '6E', contractMonth: '202403', interval: '1m' });
    expect(r.bars.inserted).toBe(29_996);
    expect(r.instruments).toEqual(['6E-202403']);
    const inst = (await findInstruments(store, ['6E-202403'])).get('6E-202403');
    expect([inst?.secType, inst?.multiplier, inst?.localSymbol]).toEqual(['FUT', 125_000, '6EH4']);
    expect(r.series[0]?.from).toBe('2024-01-01T23:01:00.000Z');
  });
});

describe('importFiles on a folder with other CSVs', () => {
  it('skips non-bar CSVs found inside a folder with a note when no --interval is given, but fails on a file named alone', async () => {
    const lean = write('data/equity/usa/daily/xyz.csv', ['20240102 00:00,100000,110000,90000,105000,100', '20240103 00:00,105000,120000,100000,110000,200']);
    const other = write('data/watchlist.csv', ['symbol', 'SPY']);
    const r = await importFiles(store, [path.join(dir, 'data')], {});
    expect(r.bars.inserted).toBe(2);
    expect(r.notes.some((n) => n.includes('watchlist.csv: skipped'))).toBe(true);
    const e = await expectFailure([other], {});
    expect(e.message).toContain('watchlist.csv');
    expect(lean).toContain('xyz.csv');
  });
});
