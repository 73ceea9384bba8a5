import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFiles } from '../ingest/import-files.js';
import { alignIndex, boundToMs, loadAlignedBars, loadBars } from './bar-query.js';
import { Store } from './store.js';

let dir: string;
let store: Store;
const LEAN = path.resolve('data/lean/equity/usa');
const nonEmptyLines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'monger-'));
  store = await Store.open(path.join(dir, 'q.duckdb'));
  await importFiles(store, [`${LEAN}/daily/aapl.csv`, `${LEAN}/factor_files/aapl.csv`, `${LEAN}/map_files/aapl.csv`, `${LEAN}/minute/spy/20131007_spy_minute_trade.csv`, `${LEAN}/minute/spy/20131008_spy_minute_trade.csv`]);
  // two hand-made daily series: AAA on Jan 2-5, BBB on Jan 4-8 (overlap Jan 4 and 5)
  const header = 'date,symbol,open,high,low,close,volume';
  const rows = [
    '2024-01-02,AAA,1,1,1,1,10',
    '2024-01-03,AAA,2,2,2,2,10',
    '2024-01-04,AAA,3,3,3,3,10',
    '2024-01-05,AAA,4,4,4,4,10',
    '2024-01-04,BBB,30,30,30,30,5',
    '2024-01-05,BBB,40,40,40,40,5',
    '2024-01-08,BBB,50,50,50,50,5',
  ];
  const csv = path.join(dir, 'two.csv');
  writeFileSync(csv, [header, ...rows].join('\n'));
  await importFiles(store, [csv], { interval: '1d', register: true });
});

afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('loadBars time bounds', () => {
  it('includes the whole day when to is a date', async () => {
    // every bar of the 2013-10-07 file lies within 08:00Z..23:59Z of that UTC day
    const want = nonEmptyLines(`${LEAN}/minute/spy/20131007_spy_minute_trade.csv`).length;
    const [bars] = await loadBars(store, { symbols: ['SPY'], interval: '1m', from: '2013-10-07', to: '2013-10-07' });
    expect(bars!.length).toBe(want);
    expect(new Date(bars!.ts[bars!.length - 1]!).toISOString()).toBe('2013-10-07T23:59:00.000Z');
  });

  it('starts at the from date and returns only the later day', async () => {
    const want = nonEmptyLines(`${LEAN}/minute/spy/20131008_spy_minute_trade.csv`).length;
    const [bars] = await loadBars(store, { symbols: ['SPY'], interval: '1m', from: '2013-10-08' });
    expect(bars!.length).toBe(want);
    expect(day(bars!.ts[0]!)).toBe('2013-10-08');
  });

  it('treats ISO timestamp bounds as inclusive instants', async () => {
    // regular hours 09:30..15:59 EDT = 13:30Z..19:59Z, i.e. ms 34,200,000..57,540,000 in the file
    const want = nonEmptyLines(`${LEAN}/minute/spy/20131007_spy_minute_trade.csv`).filter((l) => {
      const ms = Number(l.split(',')[0]);
      return ms >= 34_200_000 && ms <= 57_540_000;
    }).length;
    const [bars] = await loadBars(store, { symbols: ['SPY'], interval: '1m', from: '2013-10-07T13:30:00Z', to: '2013-10-07T19:59:00Z' });
    expect(bars!.length).toBe(want);
  });

  it('turns date bounds into ms with the to side at the last ms of the day', () => {
    expect(boundToMs('2024-01-02', 'from')).toBe(Date.UTC(2024, 0, 2));
    expect(boundToMs('2024-01-02', 'to')).toBe(Date.UTC(2024, 0, 3) - 1);
    expect(boundToMs('2024-01-02T10:00:00', 'to')).toBe(Date.UTC(2024, 0, 2, 10));
    expect(boundToMs(5, 'from')).toBe(5);
    expect(boundToMs(undefined, 'from')).toBeUndefined();
  });

  it('fails STORE_QUERY when a bound is not a date', () => {
    expect(() => boundToMs('soon', 'from')).toThrow(expect.objectContaining({ code: 'STORE_QUERY' }));
  });

  it('fails STORE_NOT_FOUND naming the instrument when it is unknown', async () => {
    await expect(loadBars(store, { symbols: ['SPY', 'ZZZZ'], interval: '1m' })).rejects.toMatchObject({ code: 'STORE_NOT_FOUND', message: expect.stringContaining('ZZZZ') });
  });
});

describe('loadAlignedBars', () => {
  it('puts NaN where a symbol has no bar when aligning on the union', async () => {
    const a = await loadAlignedBars(store, { symbols: ['AAA', 'BBB'], interval: '1d', align: 'union' });
    expect(Array.from(a.ts, day)).toEqual(['2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05', '2024-01-08']);
    expect(a.symbols).toEqual(['AAA', 'BBB']);
    expect(Array.from(a.close[0]!)).toEqual([1, 2, 3, 4, NaN]);
    expect(Array.from(a.close[1]!)).toEqual([NaN, NaN, 30, 40, 50]);
    expect(Array.from(a.volume[1]!)).toEqual([NaN, NaN, 5, 5, 5]);
  });

  it('keeps only shared timestamps when aligning on the intersection', async () => {
    const a = await loadAlignedBars(store, { symbols: ['AAA', 'BBB'], interval: '1d', align: 'intersection' });
    expect(Array.from(a.ts, day)).toEqual(['2024-01-04', '2024-01-05']);
    expect(Array.from(a.close[0]!)).toEqual([3, 4]);
    expect(Array.from(a.close[1]!)).toEqual([30, 40]);
  });

  it('sorts the union numerically across arrays', () => {
    const idx = alignIndex([Float64Array.from([10, 200, 3000]), Float64Array.from([20, 200])], 'union');
    expect(Array.from(idx)).toEqual([10, 20, 200, 3000]);
  });
});

describe('adjusted bars across the AAPL 7:1 split (2014-06-09)', () => {
  /** price_factor x split_factor of the first factor-file row dated on or after `date` (YYYY-MM-DD). */
  function factorRow(date: string): { price: number; split: number } {
    const compact = date.replace(/-/g, '');
    const row = nonEmptyLines(`${LEAN}/factor_files/aapl.csv`)
      .map((l) => l.split(','))
      .find((f) => f[0]! >= compact)!;
    return { price: Number(row[1]), split: Number(row[2]) };
  }
  const expectedFactor = (date: string): number => factorRow(date).price * factorRow(date).split;

  it('shows a ~7x raw drop but a continuous adjusted close', async () => {
    const q = { symbols: ['AAPL'], interval: '1d' as const, from: '2014-06-06', to: '2014-06-09' };
    const [raw] = await loadBars(store, q);
    const [adj] = await loadBars(store, { ...q, adjusted: true });
    expect(Array.from(raw!.ts, day)).toEqual(['2014-06-06', '2014-06-09']);
    const rawRatio = raw!.close[0]! / raw!.close[1]!;
    const adjRatio = adj!.close[0]! / adj!.close[1]!;
    expect(rawRatio).toBeGreaterThan(6.5);
    expect(rawRatio).toBeLessThan(7.5);
    expect(Math.abs(adjRatio - 1)).toBeLessThan(0.02);
  });

  it('equals raw x price_factor x split_factor of the first factor row on or after the bar date', async () => {
    const q = { symbols: ['AAPL'], interval: '1d' as const, from: '2014-06-02', to: '2014-08-08' };
    const [raw] = await loadBars(store, q);
    const [adj] = await loadBars(store, { ...q, adjusted: true });
    expect(adj!.length).toBe(raw!.length);
    for (let i = 0; i < raw!.length; i++) {
      const f = expectedFactor(day(raw!.ts[i]!));
      expect(adj!.close[i]).toBeCloseTo(raw!.close[i]! * f, 10);
      expect(adj!.open[i]).toBeCloseTo(raw!.open[i]! * f, 10);
    }
    // volume is divided by the split factor only
    const first = factorRow(day(raw!.ts[0]!));
    expect(first.split).toBe(0.0357143);
    expect(adj!.volume[0]! / (raw!.volume[0]! / first.split) - 1).toBeCloseTo(0, 12);
  });
});
