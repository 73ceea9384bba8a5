import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataError } from '../core/errors.js';
import { parseWatchlist, watchlistVersion } from './watchlist.js';

const enc = new TextEncoder();
const parse = (text: string) => parseWatchlist(enc.encode(text), 'wl.csv', 'test');
const failure = (text: string): DataError => {
  try {
    parse(text);
  } catch (e) {
    return e as DataError;
  }
  throw new Error('expected parseWatchlist to fail');
};

describe('parseWatchlist', () => {
  it('skips the header and comments and uppercases and trims symbols', () => {
    const w = parse('symbol\n# core names\n spy \nqqq\n\nBrk.b\n');
    expect(w.symbols).toEqual(['SPY', 'QQQ', 'BRK.B']);
    expect(w.name).toBe('test');
    expect(w.source).toBe('wl.csv');
  });

  it('drops duplicates and reports every line they appear on', () => {
    const w = parse('ticker\nSPY\nqqq\nspy\nIBM\nSPY\n');
    expect(w.symbols).toEqual(['SPY', 'QQQ', 'IBM']);
    expect(w.duplicates).toEqual([{ symbol: 'SPY', lines: [2, 4, 6] }]);
  });

  it('reads only the first column when lines have more', () => {
    expect(parse('symbol,weight\nSPY,0.5\nQQQ,0.5\n').symbols).toEqual(['SPY', 'QQQ']);
  });

  it('treats a first line that is not a header as a symbol', () => {
    expect(parse('AAPL\nMSFT\n').symbols).toEqual(['AAPL', 'MSFT']);
  });

  it('fails BAD_SYMBOL naming the line of an invalid symbol', () => {
    const e = failure('symbol\nSPY\nBAD$SYM\nQQQ\n');
    expect(e).toBeInstanceOf(DataError);
    expect(e.code).toBe('BAD_SYMBOL');
    expect(e.message).toContain('line 3');
    expect(e.message).toContain("'BAD$SYM'");
  });

  it('lists every invalid symbol with its line when there are several', () => {
    const e = failure('SPY\n!!\nQQQ\n12345\n');
    expect(e.message).toContain('invalid symbols');
    expect(e.message).toContain('line 2');
    expect(e.message).toContain('line 4');
  });

  it('fails EMPTY_INPUT when only a header and comments are present', () => {
    expect(failure('symbol\n# nothing yet\n').code).toBe('EMPTY_INPUT');
  });

  it('reads the bundled data/watchlist.csv, folding its lowercase repeat of AAPL', () => {
    const file = path.resolve('data/watchlist.csv');
    // independent reading: header on line 1, one symbol per line, uppercased, first occurrence wins
    const lines = readFileSync(file, 'utf8').split('\n').map((l) => l.trim().toUpperCase());
    const want = [...new Set(lines.slice(1).filter((l) => l !== ''))];
    const aaplLines = lines.flatMap((l, i) => (l === 'AAPL' ? [i + 1] : []));
    const w = parseWatchlist(readFileSync(file), file);
    expect(w.symbols).toEqual(want);
    expect(w.duplicates).toEqual([{ symbol: 'AAPL', lines: aaplLines }]);
    expect(w.name).toBe('default');
  });
});

describe('watchlistVersion', () => {
  it('ignores order and case', () => {
    expect(watchlistVersion(['SPY', 'QQQ', 'IBM'])).toBe(watchlistVersion(['ibm', 'spy', 'Qqq']));
  });

  it('ignores repeats and surrounding spaces', () => {
    expect(watchlistVersion(['SPY', ' spy ', 'QQQ'])).toBe(watchlistVersion(['QQQ', 'SPY']));
  });

  it('changes when a symbol is added', () => {
    expect(watchlistVersion(['SPY', 'QQQ', 'IBM'])).not.toBe(watchlistVersion(['SPY', 'QQQ']));
  });

  it('is the version parseWatchlist reports, a 16-hex-digit hash', () => {
    const w = parse('symbol\nqqq\nSPY\nqqq\n');
    expect(w.version).toBe(watchlistVersion(['SPY', 'QQQ']));
    expect(w.version).toMatch(/^[0-9a-f]{16}$/);
  });
});
