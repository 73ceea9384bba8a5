import { describe, expect, it } from 'vitest';
import { CsvCursor } from './csv-cursor.js';

const enc = new TextEncoder();

/** Every non-blank line as [lineNumber, fields]. */
function readAll(text: string | Uint8Array, delimiter?: number): [number, string[]][] {
  const cur = new CsvCursor(typeof text === 'string' ? enc.encode(text) : text, delimiter);
  const out: [number, string[]][] = [];
  while (cur.next()) out.push([cur.lineNumber, cur.texts()]);
  return out;
}

describe('CsvCursor', () => {
  it('splits LF lines into fields and counts lines from 1', () => {
    expect(readAll('a,b,c\n1,2,3\n')).toEqual([
      [1, ['a', 'b', 'c']],
      [2, ['1', '2', '3']],
    ]);
  });

  it('drops the CR of CRLF line endings', () => {
    const rows = readAll('a,b\r\n1,2\r\n');
    expect(rows).toEqual([
      [1, ['a', 'b']],
      [2, ['1', '2']],
    ]);
  });

  it('skips a UTF-8 byte-order mark before the first field', () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode('symbol\nSPY\n')]);
    expect(readAll(bom)).toEqual([
      [1, ['symbol']],
      [2, ['SPY']],
    ]);
  });

  it('skips blank lines (LF and CRLF) but keeps counting them in lineNumber', () => {
    expect(readAll('a\n\n\r\nb\n\n')).toEqual([
      [1, ['a']],
      [4, ['b']],
    ]);
  });

  it('reads the last line when the file has no final newline', () => {
    expect(readAll('a,b\n1,2')).toEqual([
      [1, ['a', 'b']],
      [2, ['1', '2']],
    ]);
  });

  it('unquotes quoted fields, keeps delimiters inside them and turns "" into "', () => {
    const rows = readAll('"a,b","say ""hi""",c\n"",x\n');
    expect(rows).toEqual([
      [1, ['a,b', 'say "hi"', 'c']],
      [2, ['', 'x']],
    ]);
  });

  it('reports an empty last field when the line ends with a delimiter', () => {
    const cur = new CsvCursor(enc.encode('1,2,\n'));
    expect(cur.next()).toBe(true);
    expect(cur.fieldCount).toBe(3);
    expect(cur.texts()).toEqual(['1', '2', '']);
    expect(cur.fieldLength(2)).toBe(0);
  });

  it('reports empty middle fields when delimiters are adjacent', () => {
    expect(readAll('1,,3\n')).toEqual([[1, ['1', '', '3']]]);
  });

  it('reads numbers from fields and NaN for missing or non-numeric ones', () => {
    const cur = new CsvCursor(enc.encode('1.5,abc,"2.25"\n'));
    cur.next();
    expect(cur.number(0)).toBe(1.5);
    expect(cur.number(1)).toBeNaN();
    expect(cur.number(2)).toBe(2.25);
    expect(cur.number(7)).toBeNaN();
    expect(cur.text(7)).toBe('');
  });

  it('splits on another delimiter when one is given', () => {
    expect(readAll('a;b,c;d\n', ';'.charCodeAt(0))).toEqual([[1, ['a', 'b,c', 'd']]]);
  });

  it('grows past 64 fields on a wide line', () => {
    const fields = Array.from({ length: 150 }, (_, i) => String(i));
    const rows = readAll(fields.join(',') + '\n');
    expect(rows[0]?.[1]).toEqual(fields);
  });

  it('advances offset to the end of the input after the last line', () => {
    const buf = enc.encode('a\nb\n');
    const cur = new CsvCursor(buf);
    while (cur.next());
    expect(cur.offset).toBeGreaterThanOrEqual(buf.length);
    expect(cur.next()).toBe(false);
  });
});
