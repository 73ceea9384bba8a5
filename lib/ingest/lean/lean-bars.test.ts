import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../../core/errors.js';
import { parseLeanBars, type LeanBarOptions } from './lean-bars.js';
import { parseLeanFile } from './lean-file.js';
import { parseLeanPath } from './lean-path.js';

const SPY_TRADE = path.resolve('data/lean/equity/usa/minute/spy/20131007_spy_minute_trade.csv');
const SPY_QUOTE = path.resolve('data/lean/equity/usa/minute/spy/20131007_spy_minute_quote.csv');
const ES_TRADE = path.resolve('data/lean/future/cme/minute/es/20131007_es_minute_trade_201312.csv');
const SHARED_GOOG = 'data/lean/equity/usa/daily/goog.csv';

/** Non-empty lines split on commas, each field as a Number: an independent reading of the file. */
function fileRows(file: string): number[][] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.trim().split(',').map(Number));
}

const parseMinute = (file: string, data: 'trade' | 'quote') =>
  parseLeanBars(readFileSync(file), { file, instrumentKey: 'SPY', resolution: 'minute', data, assetClass: 'equity', date: '20131007' });

describe('parseLeanBars on SPY minute trades 2013-10-07', () => {
  const rows = fileRows(SPY_TRADE);
  const r = parseMinute(SPY_TRADE, 'trade');
  const s = r.series[0]!;

  it('returns one trade series with one bar per non-empty line', () => {
    expect(r.series.map((x) => x.kind)).toEqual(['trade']);
    expect(s.length).toBe(rows.length);
    expect(r.rowsRead).toBe(rows.length);
    expect(s.interval).toBe('1m');
  });

  it('stamps the first bar 04:00 New York (EDT) as 08:00Z', () => {
    // first line: 14400000 ms = 4 h after New York midnight; New York is UTC-4 in October
    expect(rows[0]![0]).toBe(14_400_000);
    expect(new Date(s.ts[0]!).toISOString()).toBe('2013-10-07T08:00:00.000Z');
  });

  it('stamps every bar at day start + ms + 4 h', () => {
    const want = rows.map((row) => Date.UTC(2013, 9, 7) + row[0]! + 4 * 3_600_000);
    expect(Array.from(s.ts)).toEqual(want);
  });

  it('divides the integer prices by 10000 exactly and keeps volume unscaled', () => {
    // 1674100 -> 167.41: dividing gives the double nearest 167.41
    expect(s.open[0]).toBe(167.41);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      expect([s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i]]).toEqual([row[1]! / 10000, row[2]! / 10000, row[3]! / 10000, row[4]! / 10000, row[5]]);
    }
  });

  it('keeps the source line of each bar', () => {
    expect(s.line?.[0]).toBe(1);
    expect(s.line?.[s.length - 1]).toBe(rows.length);
  });
});

describe('parseLeanBars on SPY minute quotes 2013-10-07', () => {
  it('yields a bid series and an ask series with the file prices / 10000', () => {
    const rows = fileRows(SPY_QUOTE);
    const r = parseMinute(SPY_QUOTE, 'quote');
    const [bid, ask] = r.series;
    expect(r.series.map((x) => x.kind)).toEqual(['bid', 'ask']);
    // no line of this file has an empty side (checked: awk finds no empty bid or ask open)
    expect(bid!.length).toBe(rows.length);
    expect(ask!.length).toBe(rows.length);
    expect([bid!.open[0], bid!.close[0], bid!.volume[0]]).toEqual([rows[0]![1]! / 10000, rows[0]![4]! / 10000, rows[0]![5]]);
    expect([ask!.open[0], ask!.close[0], ask!.volume[0]]).toEqual([rows[0]![6]! / 10000, rows[0]![9]! / 10000, rows[0]![10]]);
  });

  it('leaves a side out of a bar when its four prices are empty', () => {
    const buf = new TextEncoder().encode('34200000,1000000,1000000,1000000,1000000,5,,,,,0\n34260000,1000000,1000000,1000000,1000000,5,1000100,1000100,1000100,1000100,7\n');
    const r = parseLeanBars(buf, { file: 'q.csv', instrumentKey: 'SPY', resolution: 'minute', data: 'quote', assetClass: 'equity', date: '20131007' });
    expect(r.series.map((x) => [x.kind, x.length])).toEqual([
      ['bid', 2],
      ['ask', 1],
    ]);
  });
});

describe('parseLeanBars on ES Dec 2013 minute trades', () => {
  it('reads times as UTC ms since midnight and prices unscaled', () => {
    const rows = fileRows(ES_TRADE);
    const r = parseLeanBars(readFileSync(ES_TRADE), { file: ES_TRADE, instrumentKey: 'ES-201312', resolution: 'minute', data: 'trade', assetClass: 'future', date: '20131007' });
    const s = r.series[0]!;
    expect(s.length).toBe(rows.length);
    expect(new Date(s.ts[0]!).toISOString()).toBe('2013-10-07T00:00:00.000Z');
    expect(s.open[0]).toBe(1676.5);
    expect(s.high[1]).toBe(1676.75);
  });
});

describe('parseLeanBars errors', () => {
  const opts = { file: 'x.csv', instrumentKey: 'SPY', resolution: 'minute' as const, data: 'trade' as const, assetClass: 'equity' as const, date: '20131007' };
  const fail = (text: string, o: LeanBarOptions = opts): DataError => {
    try {
      parseLeanBars(new TextEncoder().encode(text), o);
    } catch (e) {
      return e as DataError;
    }
    throw new Error('expected a DataError');
  };

  it('fails BAD_NUMBER naming line and column when a price is not a number', () => {
    const e = fail('34200000,1,1,1,1,1\n34260000,1,1,x,1,1\n');
    expect(e.code).toBe('BAD_NUMBER');
    expect(e.message).toContain("x.csv:2 column 'low'");
  });

  it('fails BAD_ROW when a line has the wrong number of fields', () => {
    expect(fail('34200000,1,1,1,1\n').code).toBe('BAD_ROW');
  });

  it('fails BAD_TIMESTAMP when ms since midnight is out of range', () => {
    expect(fail('86400000,1,1,1,1,1\n').code).toBe('BAD_TIMESTAMP');
  });

  it('fails BAD_TIMESTAMP when a daily line has no YYYYMMDD HH:mm stamp', () => {
    expect(fail('2013-10-07,1,1,1,1,1\n', { ...opts, resolution: 'daily', date: undefined }).code).toBe('BAD_TIMESTAMP');
  });
});

describe('parseLeanFile with a map file (shared GOOG daily)', () => {
  it('drops rows dated before the map file start 2014-03-27 and says so in a note', () => {
    // shared README: "GOOG 2014-03-27 (earlier goog.csv rows are today's GOOGL)"
    expect(existsSync(SHARED_GOOG)).toBe(true);
    const rows = readFileSync(SHARED_GOOG, 'utf8').split('\n').filter((l) => l.trim() !== '');
    const before = rows.filter((l) => l.slice(0, 8) < '20140327').length;
    const lean = parseLeanPath(SHARED_GOOG)!;
    const parsed = parseLeanFile(readFileSync(SHARED_GOOG), SHARED_GOOG, lean, new Map());
    const s = parsed.bars[0]!;
    expect(before).toBeGreaterThan(0);
    expect(s.length).toBe(rows.length - before);
    expect(new Date(s.ts[0]!).toISOString()).toBe('2014-03-27T00:00:00.000Z');
    expect(parsed.validity).toEqual([{ instrumentKey: 'GOOG', validFrom: '2014-03-27', validTo: '2050-12-31' }]);
    expect(parsed.notes.some((n) => n.includes(`skipped ${before} rows dated before 2014-03-27`))).toBe(true);
  });
});

describe('parseLeanFile with a map file (temp LEAN tree)', () => {
  it('keeps only rows from the map file start date and notes the 2 skipped rows', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'monger-'));
    try {
      mkdirSync(path.join(root, 'equity/usa/daily'), { recursive: true });
      mkdirSync(path.join(root, 'equity/usa/map_files'), { recursive: true });
      const file = path.join(root, 'equity/usa/daily/xyz.csv');
      writeFileSync(file, ['20140325 00:00,100000,110000,90000,100000,10', '20140326 00:00,100000,110000,90000,100000,10', '20140327 00:00,200000,210000,190000,200000,20', '20140328 00:00,200000,210000,190000,200000,20'].join('\n'));
      writeFileSync(path.join(root, 'equity/usa/map_files/xyz.csv'), '20140327,xyz,Q\n20501231,xyz,Q\n');
      const parsed = parseLeanFile(readFileSync(file), file, parseLeanPath(file)!, new Map());
      expect(Array.from(parsed.bars[0]!.ts, (t) => new Date(t).toISOString().slice(0, 10))).toEqual(['2014-03-27', '2014-03-28']);
      expect(parsed.bars[0]!.close[0]).toBe(20);
      expect(parsed.instruments[0]!.exchange).toBe('NASDAQ');
      expect(parsed.notes).toEqual([`${file}: skipped 2 rows dated before 2014-03-27, when the ticker belonged to another listing (map file)`]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
