import { describe, expect, it } from 'vitest';
import type { JournalRecord } from '../journal/journal.js';
import { smallReportInput } from '../report/test-fixture.js';
import { candlesFigure, correlationHeatmap, correlationMatrix, histogram, histogramsFigure, linesFigure, tradesOnPricesFigure } from './figures.js';
import { reviewJournal } from './journal-review.js';

describe('histogram', () => {
  it('counts finite values into equal-width bins, the maximum in the last bin', () => {
    const h = histogram([0, 1, 2, 3, 4, NaN, Infinity], 4);
    // width (4 - 0) / 4 = 1: bins [0,1) [1,2) [2,3) [3,4]
    expect(h.width).toBe(1);
    expect(h.counts).toEqual([1, 1, 1, 2]);
    expect(h.centers).toEqual([0.5, 1.5, 2.5, 3.5]);
    expect(histogram([7, 7, 7], 10)).toEqual({ centers: [7], counts: [3], width: 1 });
    expect(histogram([NaN], 3).counts).toEqual([]);
  });

  it('lays out one small bar chart per column with its own axes', () => {
    const f = histogramsFigure({ a: [1, 2, 3], b: [4, 5, 6], c: [1, 1, 2] }, { bins: 2, perRow: 2 });
    expect(f.data.map((t) => [t['name'], t['xaxis'], t['yaxis']])).toEqual([
      ['a', 'x', 'y'],
      ['b', 'x2', 'y2'],
      ['c', 'x3', 'y3'],
    ]);
    expect(f.data[0]!['y']).toEqual([1, 2]);
    // two rows: the third panel sits under the first
    expect((f.layout['xaxis3'] as { domain: number[] }).domain).toEqual((f.layout['xaxis'] as { domain: number[] }).domain);
  });
});

describe('correlationMatrix', () => {
  it('is Pearson over the rows where both columns are finite', () => {
    const x = [1, 2, 3, 4, 5];
    const { names, matrix } = correlationMatrix({ x, up: [2, 4, 6, 8, 10], down: [5, 4, 3, 2, 1], gappy: [1, NaN, 3, 4, 5], flat: [1, 1, 1, 1, 1] });
    expect(names).toEqual(['x', 'up', 'down', 'gappy', 'flat']);
    expect(matrix[0]![1]).toBeCloseTo(1, 12);
    expect(matrix[0]![2]).toBeCloseTo(-1, 12);
    // pairwise complete: row 1 is dropped for this pair only, the rest is a perfect line
    expect(matrix[0]![3]).toBeCloseTo(1, 12);
    expect(matrix[0]![4]).toBeNaN();
    expect(matrix[2]![0]).toBe(matrix[0]![2]);
    // by hand: deviations from 2.5 are (-1.5, -.5, .5, 1.5) and (-1.5, .5, -.5, 1.5): r = 4 / sqrt(5 * 5) = 0.8
    expect(correlationMatrix({ x: [1, 2, 3, 4], y: [1, 3, 2, 4] }).matrix[0]![1]).toBeCloseTo(0.8, 12);
    const heatmap = correlationHeatmap({ x, up: [2, 4, 6, 8, 10] });
    expect(heatmap.data[0]!['z']).toEqual([
      [1, 1],
      [1, 1],
    ]);
  });
});

describe('candle figures', () => {
  const prices = smallReportInput().prices[0]!;

  it('candlesFigure is the report candlestick and volume without trade traces', () => {
    const f = candlesFigure(prices, 'A day');
    expect(f.data.map((t) => t['type'])).toEqual(['candlestick', 'bar']);
    expect((f.layout['title'] as { text: string }).text).toBe('A day');
  });

  it('tradesOnPricesFigure draws given trades and fills on the prices', () => {
    const input = smallReportInput();
    const f = tradesOnPricesFigure(prices, input.trades, input.fills);
    const entry = f.data.find((t) => t['name'] === 'Entry')!;
    expect(entry['x']).toHaveLength(input.trades.filter((t) => t.instrument === prices.instrument).length);
  });

  it('linesFigure draws one line per series, dashing the named ones', () => {
    const f = linesFigure([Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 2)], { a: [1, NaN], b: [2, 3] }, { dash: ['b'], yTickFormat: ',.0f' });
    expect(f.data.map((t) => (t['line'] as { dash: string }).dash)).toEqual(['solid', 'dash']);
    expect(f.data[0]!['y']).toEqual([1, null]);
    expect(f.data[0]!['x']).toEqual(['2024-01-01', '2024-01-02']);
    expect((f.layout['yaxis'] as { tickformat: string }).tickformat).toBe(',.0f');
  });
});

describe('reviewJournal', () => {
  const base = { runId: 'r', wallTs: 0, decisionId: null, brokerOrderId: null } as const;
  const rec = (seq: number, kind: JournalRecord['kind'], fields: Partial<JournalRecord>): JournalRecord => ({ ...base, seq, kind, ts: seq * 1000, clientOrderId: null, instrument: 'SPY', payload: {}, ...fields });
  const order = (status: string, filled: number, avg: number | null, extra: object = {}) => ({ type: 'x', status, order: { side: 'BUY', type: 'MARKET', quantity: 100, filledQuantity: filled, avgFillPrice: avg }, ...extra });
  const records: JournalRecord[] = [
    rec(1, 'snapshot', { instrument: null, payload: { equity: 1_000_000 } }),
    rec(2, 'order_event', { clientOrderId: 'a-1', payload: order('REJECTED', 0, null, { reason: 'risk: halted' }) }),
    rec(3, 'order_intent', { clientOrderId: 'a-2', payload: { side: 'BUY', type: 'MARKET', quantity: 100 } }),
    rec(4, 'fill', { clientOrderId: 'a-2', payload: { executionId: 'e1', orderId: 2, side: 'BUY', quantity: 100, price: 10, commission: 1, ts: 4000, liquidity: 'taker' } }),
    rec(5, 'order_event', { clientOrderId: 'a-2', payload: order('FILLED', 100, 10) }),
    rec(6, 'order_intent', { clientOrderId: 'a-3', payload: { side: 'SELL', type: 'MARKET', quantity: 100 } }),
    rec(7, 'fill', { clientOrderId: 'a-3', payload: { executionId: 'e2', orderId: 3, side: 'SELL', quantity: 100, price: 12, commission: 1, ts: 7000, liquidity: 'taker' } }),
    rec(8, 'snapshot', { instrument: null, payload: { equity: 1_000_198 } }),
  ];

  it('gives one row per order with its intent and final state, the fills, the round trips and the equity', () => {
    const r = reviewJournal(records);
    expect(r.orders.map((o) => [o.clientOrderId, o.side, o.quantity, o.intentTs, o.status, o.filledQuantity, o.avgFillPrice, o.reason])).toEqual([
      ['a-1', 'BUY', 100, null, 'REJECTED', 0, null, 'risk: halted'],
      ['a-2', 'BUY', 100, 3000, 'FILLED', 100, 10, null],
      ['a-3', 'SELL', 100, 6000, null, 0, null, null],
    ]);
    expect(r.fills.map((f) => [f.side, f.quantity, f.price, f.ts])).toEqual([
      ['BUY', 100, 10, 4000],
      ['SELL', 100, 12, 7000],
    ]);
    // bought 100 at 10, sold at 12: gross 200, two 1.00 commissions
    expect(r.trades).toHaveLength(1);
    expect(r.trades[0]).toMatchObject({ direction: 'LONG', quantity: 100, entryPrice: 10, exitPrice: 12, grossPnl: 200, netPnl: 198 });
    expect(Array.from(r.equity.ts)).toEqual([1000, 8000]);
    expect(Array.from(r.equity.equity)).toEqual([1_000_000, 1_000_198]);
    expect(r.counts).toEqual({ snapshot: 2, order_event: 2, order_intent: 2, fill: 2 });
  });
});
