/**
 * The market-data feature without sockets: requests built by @stoqey/ib's real Encoder, answers
 * read back by its real Decoder (505 on any field miscount). Hand-made bars cover the real-time
 * bar builder's cases (second bars, 15 s bars, falling minute bars, synthesized sides); a stub
 * quote book drives depth updates and shows the push timer stops.
 */
import { SecType, type Contract } from '@stoqey/ib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { BarSeries } from '../../lib/data/bar-series.js';
import type { Interval } from '../../lib/data/interval.js';
import { upsertInstruments } from '../../lib/store/instruments.js';
import { writeBars } from '../../lib/store/bar-writer.js';
import { Store } from '../../lib/store/store.js';
import { marketDataFeature } from './market-data.js';
import { readMktData, roundTo, stepDecimals } from './md-request.js';
import { StoreQuoteBook } from './replay-quotes.js';
import { decodeMessages, dispatch, encodeRequest, FakeClock, FakeConnection, fakeContext } from './test-wire.js';
import { Fields } from './wire.js';
import type { QuoteBook, SimQuote } from './types.js';

const T0 = Date.parse('2024-03-04T15:00:00Z'); // 10:00 New York, a Monday
let store: Store;

/** Bars of one kind at `interval`: [open, high, low, close, volume] each. */
function series(key: string, interval: Interval, kind: 'trade' | 'bid' | 'ask', stepMs: number, rows: number[][]): BarSeries {
  const col = (k: number) => Float64Array.from(rows.map((r) => r[k]!));
  return { instrumentKey: key, interval, kind, file: 'test', length: rows.length, ts: Float64Array.from(rows.map((_, i) => T0 + i * stepMs)), open: col(0), high: col(1), low: col(2), close: col(3), volume: col(4) };
}

beforeAll(async () => {
  store = await Store.open(':memory:');
  const stock = (key: string) => ({ key, symbol: key, secType: 'STK' as const, exchange: 'NASDAQ', currency: 'USD', multiplier: 1, tickSize: 0.01 });
  const ids = await upsertInstruments(store, [stock('SECS'), stock('QTR'), stock('MINS')], 'test');
  await writeBars(
    store,
    [
      // ten 1 s bars: two 5 s buckets
      series('SECS', '1s', 'trade', 1000, Array.from({ length: 10 }, (_, i) => [10, 10.2, 9.9, 10.1, 100].map((p, k) => (k < 4 ? roundTo(p + i / 100, 2) : p + i)))),
      series('QTR', '15s', 'trade', 15_000, [[20, 20.5, 19.5, 20.25, 300]]),
      // a falling minute: open -> high -> low -> close
      series('MINS', '1m', 'trade', 60_000, [[50, 50.4, 49.2, 49.5, 1200]]),
    ],
    ids,
    'csv',
    0,
  );
});
afterAll(() => store.close());

const contract = (symbol: string): Contract => ({ symbol, secType: SecType.STK, exchange: 'SMART', currency: 'USD' });

type Bar = { time: number; open: number; high: number; low: number; close: number; volume: number; wap: number; count: number };

/**
 * Subscribes to 5 s bars at `at` and collects what is due once the clock reaches `until`: bars up
 * to `last` (a bar starting at T is due at T + max(5 s, source interval)).
 */
async function realtimeBars(symbol: string, what: string, at: number, until: number, last: number): Promise<Bar[]> {
  const feature = marketDataFeature({ quotes: new StoreQuoteBook(store), tickIntervalMs: 5 });
  const conn = new FakeConnection();
  const clock = new FakeClock(at);
  try {
    await dispatch(feature, conn, fakeContext(store, clock), (e) => e.reqRealTimeBars(1, contract(symbol), 5, what as never, false, []));
    clock.ms = until;
    const bars: Bar[] = [];
    await vi.waitFor(() => {
      const d = conn.decode();
      expect(d.errors).toEqual([]);
      for (const ev of d.events.filter((x) => x.name === 'realtimeBar')) {
        const [, time, open, high, low, close, volume, wap, count] = ev.args as number[];
        bars.push({ time: time!, open: open!, high: high!, low: low!, close: close!, volume: volume!, wap: wap!, count: count! });
      }
      expect(bars.at(-1)?.time).toBe(last / 1000);
    }, { timeout: 3000, interval: 5 });
    return bars;
  } finally {
    feature.close?.();
  }
}

describe('real-time bars from stored bars', () => {
  it('aggregates 1 s bars into 5 s buckets (open, max, min, close, summed volume in lots)', async () => {
    const bars = await realtimeBars('SECS', 'TRADES', T0 - 1000, T0 + 10_000, T0 + 5000);
    expect(bars.map((b) => b.time)).toEqual([T0 / 1000, T0 / 1000 + 5]);
    expect(bars[0]).toMatchObject({ open: 10, high: 10.24, low: 9.9, close: 10.14, count: -1 });
    expect(bars[0]!.volume).toBeCloseTo((100 + 101 + 102 + 103 + 104) / 100, 9);
    expect(bars[1]).toMatchObject({ open: 10.05, high: 10.29, low: 9.95, close: 10.19 });
  });

  it('spreads a 15 s bar over 3 slots: the first carries the range, the others the close', async () => {
    const bars = await realtimeBars('QTR', 'TRADES', T0, T0 + 25_000, T0 + 10_000);
    expect(bars.map((b) => [b.time - T0 / 1000, b.open, b.high, b.low, b.close])).toEqual([
      [0, 20, 20.5, 19.5, 20.25],
      [5, 20.25, 20.25, 20.25, 20.25],
      [10, 20.25, 20.25, 20.25, 20.25],
    ]);
    expect(bars.reduce((s, b) => s + b.volume, 0)).toBeCloseTo(3, 9);
  });

  it('walks a falling minute open -> high -> low -> close as flat bars on the tick grid', async () => {
    const bars = await realtimeBars('MINS', 'TRADES', T0, T0 + 115_000, T0 + 55_000);
    expect(bars.length).toBe(12);
    const path = bars.map((b) => b.close);
    expect(path[0]).toBe(50);
    expect(path[4]).toBe(50.4);
    expect(path[7]).toBe(49.2);
    expect(path[11]).toBe(49.5);
    for (const p of path) expect(roundTo(p * 100, 6) % 1).toBe(0);
    for (const b of bars) expect([b.open, b.high, b.low, b.wap]).toEqual([b.close, b.close, b.close, b.close]);
  });

  it('synthesizes BID bars half a tick under the trades when no quote bars are stored (no volume)', async () => {
    const bars = await realtimeBars('QTR', 'BID', T0, T0 + 25_000, T0 + 10_000);
    expect(bars[0]).toMatchObject({ open: 19.995, high: 20.495, low: 19.495, close: 20.245, volume: -1, wap: -1 });
  });

  it('refuses other bar sizes and unknown whatToShow with 321', async () => {
    const feature = marketDataFeature({ quotes: new StoreQuoteBook(store) });
    const ctx = fakeContext(store, new FakeClock(T0));
    const conn = new FakeConnection();
    await expect(dispatch(feature, conn, ctx, (e) => e.reqRealTimeBars(2, contract('SECS'), 10, 'TRADES' as never, false, []))).rejects.toMatchObject({ errorCode: 321 });
    await expect(dispatch(feature, conn, ctx, (e) => e.reqRealTimeBars(3, contract('SECS'), 5, 'BID_ASK' as never, false, []))).rejects.toMatchObject({ errorCode: 321 });
    feature.close?.();
  });
});

/** A quote book the test moves by hand, counting reads. */
class StubBook implements QuoteBook {
  reads = 0;
  constructor(public current: SimQuote) {}
  async quote(): Promise<SimQuote> {
    this.reads++;
    return this.current;
  }
}

const quote = (bid: number, ask: number, bidSize = 300, askSize = 200): SimQuote => ({ ts: T0, bid, ask, bidSize, askSize, last: bid, lastSize: 100, volume: 1000 });

describe('depth and push timers', () => {
  it('inserts every level once, then updates only the levels that changed', async () => {
    const book = new StubBook(quote(10, 10.01));
    const feature = marketDataFeature({ quotes: book, tickIntervalMs: 5 });
    const conn = new FakeConnection();
    await dispatch(feature, conn, fakeContext(store, new FakeClock(T0)), (e) => e.reqMktDepth(4, contract('SECS'), 3, false, []));
    const inserts = conn.decode().events.map((e) => e.args.slice(1, 6));
    expect(inserts).toEqual([
      [0, 0, 1, 10, 300],
      [0, 0, 0, 10.01, 200],
      [1, 0, 1, 9.99, 300],
      [1, 0, 0, 10.02, 200],
      [2, 0, 1, 9.98, 300],
      [2, 0, 0, 10.03, 200],
    ]);
    // only the ask size moves: three ask updates, no bid traffic
    book.current = quote(10, 10.01, 300, 500);
    await vi.waitFor(() => expect(conn.sent.length).toBe(3), { timeout: 2000, interval: 5 });
    expect(conn.decode().events.map((e) => e.args.slice(1, 6))).toEqual([
      [0, 1, 0, 10.01, 500],
      [1, 1, 0, 10.02, 500],
      [2, 1, 0, 10.03, 500],
    ]);
    feature.close?.();
  });

  it('stops reading quotes on cancel, on disconnect and on close()', async () => {
    const book = new StubBook(quote(10, 10.01));
    const feature = marketDataFeature({ quotes: book, tickIntervalMs: 5 });
    const ctx = fakeContext(store, new FakeClock(T0));
    /** Reads during a quiet spell: 0 once nothing is subscribed */
    const idle = async () => {
      const n = book.reads;
      await new Promise((r) => setTimeout(r, 40));
      return book.reads - n;
    };
    const reading = async () => {
      const n = book.reads;
      await vi.waitFor(() => expect(book.reads).toBeGreaterThan(n + 2), { timeout: 2000, interval: 5 });
      return true;
    };
    const a = new FakeConnection();
    await dispatch(feature, a, ctx, (e) => e.reqMktData(1, contract('SECS'), '', false, false));
    expect(await reading()).toBe(true);
    await dispatch(feature, a, ctx, (e) => e.cancelMktData(1));
    expect(await idle()).toBe(0);

    await dispatch(feature, a, ctx, (e) => e.reqMktData(2, contract('SECS'), '', false, false));
    expect(await reading()).toBe(true);
    a.close();
    expect(await idle()).toBe(0);

    const b = new FakeConnection(176, 2, 8);
    await dispatch(feature, b, ctx, (e) => e.reqMktDepth(3, contract('SECS'), 2, true, []));
    expect(await reading()).toBe(true);
    feature.close?.();
    expect(await idle()).toBe(0);
    // at v176 too every message decodes cleanly
    expect(b.decode().errors).toEqual([]);
  });

  it('answers a duplicate ticker id with 322 and an unknown cancel with 300', async () => {
    const feature = marketDataFeature({ quotes: new StubBook(quote(10, 10.01)), tickIntervalMs: 1000 });
    const conn = new FakeConnection();
    const ctx = fakeContext(store, new FakeClock(T0));
    await dispatch(feature, conn, ctx, (e) => e.reqMktData(1, contract('SECS'), '', false, false));
    await expect(dispatch(feature, conn, ctx, (e) => e.reqMktData(1, contract('SECS'), '', false, false))).rejects.toMatchObject({ errorCode: 322 });
    await dispatch(feature, conn, ctx, (e) => e.cancelMktData(9));
    const d = conn.decode();
    expect(d.errors.map((e) => [e.reqId, e.code])).toEqual([[9, 300]]);
    // what the live line sent decodes: tickReqParams, marketDataType, then the ticks
    expect(d.events.slice(0, 2).map((e) => e.name)).toEqual(['tickReqParams', 'marketDataType']);
    feature.close?.();
  });
});

describe('request parsing', () => {
  it('reads a BAG reqMktData with legs and a delta-neutral contract to its last field', () => {
    const bag: Contract = {
      symbol: 'SPY',
      secType: SecType.BAG,
      exchange: 'SMART',
      currency: 'USD',
      comboLegs: [
        { conId: 1, ratio: 1, action: 'BUY', exchange: 'SMART' },
        { conId: 2, ratio: 2, action: 'SELL', exchange: 'SMART' },
      ] as never,
      deltaNeutralContract: { conId: 3, delta: 0.5, price: 100 },
    };
    const { fields } = encodeRequest(193, (e) => e.reqMktData(5, bag, '233,236', true, false));
    const reader = new Fields(fields);
    const req = readMktData(reader, 193);
    expect(reader.remaining()).toBe(0);
    expect(req).toMatchObject({ reqId: 5, genericTickList: '233,236', snapshot: true, regulatorySnapshot: false });
    expect(req.contract.secType).toBe('BAG');
  });

  it('prints prices on the tick grid without binary noise', () => {
    expect([stepDecimals(0.01), stepDecimals(0.00005), stepDecimals(0.25), stepDecimals(0.005), stepDecimals(1)]).toEqual([2, 5, 2, 3, 0]);
    expect(roundTo(168.31 - 3 * 0.01, 3)).toBe(168.28);
    // decodeMessages is the real client decoder: a tickPrice of our shape decodes with its size
    const d = decodeMessages(193, [[1, 6, 1, 2, 10.01, 200, 1]]);
    expect(d.events.map((e) => e.name)).toEqual(['tickPrice', 'tickSize']);
  });
});
