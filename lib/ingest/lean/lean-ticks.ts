import { DataError } from '../../core/errors.js';
import { NEW_YORK, utcOffsetMs } from '../../core/time-zone.js';
import { CsvCursor } from '../../data/csv/csv-cursor.js';
import { allocateTicks, type TickSeries } from '../../data/tick-series.js';

const TRADE = ['time', 'price', 'size', 'exchange', 'sale_condition', 'suspicious'];
const QUOTE = ['time', 'bid', 'bid_size', 'ask', 'ask_size', 'exchange', 'condition', 'suspicious'];

/**
 * Parses a LEAN equity tick file (ms since New York midnight; prices x 10000).
 * Quote ticks carry one side each; the other side's zeros become NaN (no update).
 * Ticks sharing a millisecond keep file order through `seq`.
 */
export function parseLeanTicks(buf: Uint8Array, file: string, instrumentKey: string, date: string, kind: 'trade' | 'quote'): { ticks: TickSeries; rowsRead: number } {
  const columns = kind === 'trade' ? TRADE : QUOTE;
  const estimate = Math.max(16, Math.ceil(buf.length / 30));
  let t = allocateTicks(instrumentKey, kind, file, estimate);
  const dayStart = Date.UTC(Number(date.slice(0, 4)), Number(date.slice(4, 6)) - 1, Number(date.slice(6, 8)));
  const offset = utcOffsetMs(NEW_YORK, dayStart + 12 * 3_600_000);
  const cur = new CsvCursor(buf);
  let prevMs = -1;
  let seq = 0;
  const num = (i: number): number => {
    const v = cur.number(i);
    if (Number.isNaN(v)) throw new DataError('BAD_NUMBER', { file, line: cur.lineNumber, column: columns[i] }, `expected a number, was '${cur.text(i)}'`);
    return v;
  };
  while (cur.next()) {
    if (cur.fieldCount !== columns.length) {
      throw new DataError('BAD_ROW', { file, line: cur.lineNumber }, `expected ${columns.length} fields (${columns.join(',')}), was ${cur.fieldCount}`);
    }
    const ms = num(0);
    if (!Number.isInteger(ms) || ms < 0 || ms >= 86_400_000) {
      throw new DataError('BAD_TIMESTAMP', { file, line: cur.lineNumber, column: 'time' }, `expected milliseconds since midnight, was '${cur.text(0)}'`);
    }
    if (ms < prevMs) {
      throw new DataError('OUT_OF_ORDER', { file, line: cur.lineNumber, column: 'time' }, `timestamps out of order: ${ms} ms after ${prevMs} ms on the previous line`);
    }
    seq = ms === prevMs ? seq + 1 : 0;
    prevMs = ms;
    if (t.length === t.ts.length) t = growTicks(t);
    const i = t.length++;
    t.ts[i] = dayStart + ms - offset;
    t.seq[i] = seq;
    if (kind === 'trade') {
      t.price[i] = num(1) / 10_000;
      t.size[i] = num(2);
      t.exchange[i] = cur.text(3);
      t.condition[i] = num(4);
      t.suspicious[i] = num(5) ? 1 : 0;
    } else {
      const bid = num(1);
      const ask = num(3);
      if (bid > 0) {
        t.bid[i] = bid / 10_000;
        t.bidSize[i] = num(2);
      }
      if (ask > 0) {
        t.ask[i] = ask / 10_000;
        t.askSize[i] = num(4);
      }
      t.exchange[i] = cur.text(5);
      t.condition[i] = num(6);
      t.suspicious[i] = num(7) ? 1 : 0;
    }
  }
  return { ticks: trimTicks(t), rowsRead: t.length };
}

function growTicks(t: TickSeries): TickSeries {
  const n = t.ts.length * 2;
  const g = allocateTicks(t.instrumentKey, t.kind, t.file, n);
  g.length = t.length;
  for (const k of ['ts', 'seq', 'price', 'size', 'bid', 'bidSize', 'ask', 'askSize', 'condition', 'suspicious'] as const) {
    (g[k] as Float64Array).set(t[k] as Float64Array);
  }
  for (let i = 0; i < t.length; i++) g.exchange[i] = t.exchange[i]!;
  return g;
}

function trimTicks(t: TickSeries): TickSeries {
  const n = t.length;
  return {
    ...t,
    ts: t.ts.subarray(0, n),
    seq: t.seq.subarray(0, n),
    price: t.price.subarray(0, n),
    size: t.size.subarray(0, n),
    bid: t.bid.subarray(0, n),
    bidSize: t.bidSize.subarray(0, n),
    ask: t.ask.subarray(0, n),
    askSize: t.askSize.subarray(0, n),
    exchange: t.exchange.slice(0, n),
    condition: t.condition.subarray(0, n),
    suspicious: t.suspicious.subarray(0, n),
  };
}
