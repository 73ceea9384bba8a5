import { describe, expect, it } from 'vitest';
import { decimalsFor, formatCell, inferFormat } from './cell-format.js';
import { tableHtml, tableText, truncatedIndices } from './table.js';

/** The text of every body cell, row by row (tags stripped, entities of escaped text kept). */
function cells(html: string): string[][] {
  const body = /<tbody>([\s\S]*)<\/tbody>/.exec(html)?.[1] ?? '';
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((r) => [...r[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => c[1]!));
}
const headers = (html: string) => [...(/<thead>([\s\S]*)<\/thead>/.exec(html)?.[1] ?? '').matchAll(/<th[^>]*>([\s\S]*?)<\/th>/g)].map((m) => m[1]);

describe('inferFormat', () => {
  it('reads epoch ms in time-named columns as timestamps, other integers as counts, floats as numbers', () => {
    expect(inferFormat('ts', [Date.UTC(2024, 0, 2), Date.UTC(2024, 0, 3)])).toBe('datetime');
    expect(inferFormat('entryTs', [Date.UTC(2024, 0, 2, 14, 30)])).toBe('datetime');
    expect(inferFormat('from', [Date.UTC(1998, 0, 2)])).toBe('datetime');
    // the same numbers under a non-time name are just big integers
    expect(inferFormat('volume', [Date.UTC(2024, 0, 2)])).toBe('integer');
    expect(inferFormat('runId', [12, 13])).toBe('plain');
    expect(inferFormat('year', [2013])).toBe('plain');
    expect(inferFormat('close', [1.5, 2])).toBe('number');
    expect(inferFormat('when', [new Date(0)])).toBe('datetime');
    expect(inferFormat('name', ['SPY', 3])).toBe('text');
    expect(inferFormat('empty', [null, undefined, NaN])).toBe('text');
  });
});

describe('decimalsFor', () => {
  it('keeps about five significant digits for the column magnitude, 2 for 100 and above', () => {
    expect(decimalsFor([123.456, 99])).toBe(2);
    expect(decimalsFor([1.23456, -0.5])).toBe(4);
    expect(decimalsFor([0.0123])).toBe(5);
    expect(decimalsFor([0.000123, NaN])).toBe(6);
    expect(decimalsFor([])).toBe(6);
  });
});

describe('formatCell', () => {
  it('formats by column format, shows missing values as a dash and colours signs on request', () => {
    expect(formatCell(NaN, 'number', 2, 60)).toEqual({ text: '—', className: 'na' });
    expect(formatCell(null, 'text', 2, 60).text).toBe('—');
    expect(formatCell(1234567.891, 'number', 2, 60)).toEqual({ text: '1,234,567.89', className: 'num' });
    expect(formatCell(0.1234, 'percent', 2, 60).text).toBe('12.34%');
    expect(formatCell(-12.5, 'money', 2, 60, true)).toEqual({ text: '-12.50', className: 'num neg' });
    expect(formatCell(12345n, 'integer', 0, 60).text).toBe('12,345');
    expect(formatCell(2013, 'plain', 0, 60).text).toBe('2013');
    expect(formatCell(Date.UTC(2013, 9, 8, 13, 30), 'datetime', 0, 60).text).toBe('2013-10-08 13:30');
    expect(formatCell(Date.UTC(2013, 9, 8), 'datetime', 0, 60).text).toBe('2013-10-08');
    expect(formatCell(3e-9, 'number', 6, 60).text).toBe('3.00e-9');
    expect(formatCell(Float64Array.from([1, 2]), 'text', 0, 60).text).toBe('[1, 2]');
    expect(formatCell({ a: 1 }, 'text', 0, 60).text).toBe('{"a":1}');
  });

  it('shortens long text and keeps the full text as a tooltip', () => {
    const cell = formatCell('x'.repeat(100), 'text', 0, 10);
    expect(cell.text).toBe(`${'x'.repeat(9)}…`);
    expect(cell.title).toBe('x'.repeat(100));
  });
});

describe('truncatedIndices', () => {
  it('keeps everything up to the limit, else the first and last halves around a gap', () => {
    expect(truncatedIndices(3, 4)).toEqual([0, 1, 2]);
    expect(truncatedIndices(10, 4)).toEqual([0, 1, -1, 8, 9]);
    expect(truncatedIndices(10, 5)).toEqual([0, 1, 2, -1, 8, 9]);
    expect(() => truncatedIndices(10, 1)).toThrow(RangeError);
  });
});

describe('tableHtml', () => {
  it('renders row objects with one format per column, escaping every text', () => {
    const html = tableHtml(
      [
        { symbol: 'SPY', ts: Date.UTC(2024, 0, 2), close: 472.65, volume: 123456789, note: '<b>x</b>' },
        { symbol: 'QQQ', ts: Date.UTC(2024, 0, 3), close: 402.1, volume: 1000, note: null },
      ],
      { caption: 'Bars & <more>' },
    );
    expect(headers(html)).toEqual(['', 'symbol', 'ts', 'close', 'volume', 'note']);
    expect(cells(html)).toEqual([
      ['0', 'SPY', '2024-01-02', '472.65', '123,456,789', '&lt;b&gt;x&lt;/b&gt;'],
      ['1', 'QQQ', '2024-01-03', '402.10', '1,000', '—'],
    ]);
    expect(html).toContain('<caption>Bars &amp; &lt;more&gt;</caption>');
    expect(html).not.toContain('<b>x</b>');
    // nothing left out, so no note about it
    expect(html).not.toContain('showing');
  });

  it('renders columns of typed arrays and truncates rows and columns with notes', () => {
    const n = 100;
    const columns: Record<string, Float64Array> = { ts: Float64Array.from({ length: n }, (_, i) => Date.UTC(2024, 0, 1) + i * 60_000) };
    for (let k = 0; k < 6; k++) columns[`f${k}`] = Float64Array.from({ length: n }, (_, i) => i / 10 + k);
    const html = tableHtml(columns, { maxRows: 4, maxColumns: 4, index: false });
    // ts, f0 | … | f4, f5
    expect(headers(html)).toEqual(['ts', 'f0', '…', 'f4', 'f5']);
    const rows = cells(html);
    expect(rows).toHaveLength(5);
    expect(rows[0]).toEqual(['2024-01-01', '0.0000', '…', '4.0000', '5.0000']);
    expect(rows[1]).toEqual(['2024-01-01 00:01', '0.1000', '…', '4.1000', '5.1000']);
    expect(rows[2]).toEqual(['… 96 rows not shown …']);
    expect(rows[4]![0]).toBe('2024-01-01 01:39');
    expect(html).toContain('100 rows × 7 columns; showing 4 rows and 4 columns.');
  });

  it('honours the column order, explicit formats and sign colouring', () => {
    const html = tableHtml([{ pnl: -5, ret: 0.02, name: 'a' }], { columns: ['name', 'ret', 'pnl'], formats: { ret: 'percent', pnl: 'money' }, tone: ['pnl'], index: false });
    expect(headers(html)).toEqual(['name', 'ret', 'pnl']);
    expect(html).toContain('<td class="num neg">-5.00</td>');
    expect(cells(html)[0]).toEqual(['a', '2.00%', '-5.00']);
  });

  it('refuses unknown columns and columns of different lengths, and says when there are no rows', () => {
    expect(() => tableHtml([{ a: 1 }], { columns: ['b'] })).toThrow(/no column b/);
    expect(() => tableHtml({ a: [1, 2], b: [1] })).toThrow(/differ in length: a 2, b 1/);
    expect(tableHtml([])).toContain('No rows.');
  });
});

describe('tableText', () => {
  it('prints the same formatted, truncated table as tab-separated text', () => {
    const text = tableText({ ts: [Date.UTC(2024, 0, 2), Date.UTC(2024, 0, 3), Date.UTC(2024, 0, 4)], v: [1.5, 2, 2.5] }, { maxRows: 2, caption: 'c' });
    expect(text).toBe(['c', 'ts\tv', '2024-01-02\t1.5000', '… 1 rows not shown …', '2024-01-04\t2.5000'].join('\n'));
  });
});
