/**
 * The TWS simulator's market-data feature against the REAL @stoqey/ib client over TCP, replaying
 * real SPY minute trade and quote bars and CME 6E minute trade bars from an in-memory store:
 * L1 ticks (streaming and snapshot), delayed data, depth, 5 s real-time bars, IB's line and depth
 * limits, contract errors and cancels. The replay clock's real time is driven by the test
 * (`real`), so every tick's simulated instant is known exactly.
 */
import { EventName, IBApi, IBApiNext, IBApiTickType, SecType, type Contract, type MarketDataUpdate, type OrderBook } from '@stoqey/ib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { importFiles } from '../../lib/ingest/import-files.js';
import { loadBars, type InstrumentBars } from '../../lib/store/bar-query.js';
import { Store } from '../../lib/store/store.js';
import { marketDataFeature } from '../../runner/tws-sim/market-data.js';
import { StoreQuoteBook } from '../../runner/tws-sim/replay-quotes.js';
import { TwsSimulator } from '../../runner/tws-sim/server.js';
import { replayClock } from '../../runner/tws-sim/sim-clock.js';
import { tradingDate } from '../../runner/tws-sim/trading-hours.js';

const WAIT = { timeout: 5000, interval: 10 };
const MIN = 60_000;
const SPY_START = Date.parse('2013-10-07T14:45:00Z'); // 10:45 New York, a minute boundary
const EURO_START = Date.parse('2024-01-10T15:00:00Z');
const SPY: Contract = { symbol: 'SPY', secType: SecType.STK, exchange: 'SMART', currency: 'USD' };
const EURO: Contract = { symbol: '6E', secType: SecType.FUT, exchange: 'CME', currency: 'USD', lastTradeDateOrContractMonth: '202403' };

let store: Store;
let spy: Record<'trade' | 'bid' | 'ask', InstrumentBars>;
let euro: InstrumentBars;
let sim: TwsSimulator | undefined;
/** The replay clock's real time: simulated = start + real * 60 */
let real = 0;
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  store = await Store.open(':memory:');
  await importFiles(store, ['data/lean/equity/usa/minute/spy']);
  await importFiles(store, ['data/cme/6EH4.XCME_1min_bars_20240101_20240131.csv'], { symbol: '6E', contractMonth: '202403', interval: '1m' });
  const load = async (key: string, kind: 'trade' | 'bid' | 'ask') => (await loadBars(store, { symbols: [key], interval: '1m', kind }))[0]!;
  spy = { trade: await load('SPY', 'trade'), bid: await load('SPY', 'bid'), ask: await load('SPY', 'ask') };
  euro = await load('6E-202403', 'trade');
});
afterAll(() => store.close());
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await sim?.stop();
  sim = undefined;
});

async function startSim(start: number): Promise<number> {
  real = 0;
  sim = new TwsSimulator({
    store,
    port: 0,
    clock: replayClock({ start, speed: 60, now: () => real }),
    maxMessagesPerSecond: 5000,
    features: [marketDataFeature({ quotes: new StoreQuoteBook(store), tickIntervalMs: 50 })],
  });
  return (await sim.start()).port;
}

/** Simulated now of the running sim. */
const simNow = (start: number) => start + real * 60;

/** Index of the last bar closed by `now` (start + 1 min <= now), the slow way. */
function closedBy(b: InstrumentBars, now: number): number {
  let i = -1;
  for (let k = 0; k < b.length && b.ts[k]! + MIN <= now; k++) i = k;
  return i;
}

function expectedSpy(now: number) {
  const [t, b, a] = [closedBy(spy.trade, now), closedBy(spy.bid, now), closedBy(spy.ask, now)];
  const day = tradingDate({ secType: 'STK', symbol: 'SPY' }, spy.trade.ts[t]!);
  let volume = 0;
  for (let k = 0; k <= t; k++) if (tradingDate({ secType: 'STK', symbol: 'SPY' }, spy.trade.ts[k]!) === day) volume += spy.trade.volume[k]!;
  return { bid: spy.bid.close[b]!, bidSize: spy.bid.volume[b]!, ask: spy.ask.close[a]!, askSize: spy.ask.volume[a]!, last: spy.trade.close[t]!, lastSize: spy.trade.volume[t]!, volume, lastBarClose: spy.trade.ts[t]! + MIN };
}

type Tick = { id: number; type: number; value: number | string | undefined };

/** An IBApi client recording the market-data events it receives. */
function client(port: number, clientId: number) {
  const api = new IBApi({ host: '127.0.0.1', port, clientId, maxReqPerSec: 1000 });
  const rec = {
    api,
    nextValidId: 0,
    currentTime: [] as number[],
    prices: [] as Tick[],
    sizes: [] as Tick[],
    strings: [] as Tick[],
    snapshotEnds: [] as number[],
    dataTypes: [] as [number, number][],
    reqParams: [] as [number, number, string, number][],
    bars: [] as { id: number; time: number; open: number; high: number; low: number; close: number; volume: number; wap: number; count: number }[],
    depth: [] as { id: number; position: number; op: number; side: number; price: number; size: number; mm?: string }[],
    errors: [] as { code: number; message: string; reqId: number }[],
    decoder: [] as string[],
  };
  api.on(EventName.nextValidId, () => rec.nextValidId++);
  api.on(EventName.currentTime, (t: number) => rec.currentTime.push(t));
  api.on(EventName.tickPrice, (id: number, type: number, value: number) => rec.prices.push({ id, type, value }));
  api.on(EventName.tickSize, (id: number, type: number | undefined, value: number | undefined) => rec.sizes.push({ id, type: type ?? -1, value }));
  api.on(EventName.tickString, (id: number, type: number, value: string) => rec.strings.push({ id, type, value }));
  api.on(EventName.tickSnapshotEnd, (id: number) => rec.snapshotEnds.push(id));
  api.on(EventName.marketDataType, (id: number, t: number) => rec.dataTypes.push([id, t]));
  api.on(EventName.tickReqParams, (id: number, minTick: number, bbo: string, perms: number) => rec.reqParams.push([id, minTick, bbo, perms]));
  api.on(EventName.realtimeBar, (id: number, time: number, open: number, high: number, low: number, close: number, volume: number, wap: number, count: number) =>
    rec.bars.push({ id, time, open, high, low, close, volume, wap, count }),
  );
  api.on(EventName.updateMktDepth, (id: number, position: number, op: number, side: number, price: number, size: number) => rec.depth.push({ id, position, op, side, price, size }));
  api.on(EventName.updateMktDepthL2, (id: number, position: number, mm: string, op: number, side: number, price: number, size: number) =>
    rec.depth.push({ id, position, op, side, price, size, mm }),
  );
  api.on(EventName.error, (e: Error, code: number, reqId: number) => rec.errors.push({ code, message: e.message, reqId }));
  api.on(EventName.info, (message: string, code: number) => code === 505 && rec.decoder.push(message));
  cleanups.push(() => api.disconnect());
  return rec;
}
type Client = ReturnType<typeof client>;

async function connected(port: number, clientId = 1): Promise<Client> {
  const c = client(port, clientId);
  c.api.connect();
  await vi.waitFor(() => expect(c.nextValidId).toBe(1), WAIT);
  return c;
}

/** The latest value of a tick type on a ticker. */
function latest(list: Tick[], id: number, type: number): number | string | undefined {
  for (let k = list.length - 1; k >= 0; k--) if (list[k]!.id === id && list[k]!.type === type) return list[k]!.value;
  return undefined;
}

/** Waits until the server has handled every request sent so far (it serves them in order). */
async function settled(c: Client): Promise<void> {
  const n = c.currentTime.length;
  c.api.reqCurrentTime();
  await vi.waitFor(() => expect(c.currentTime.length).toBe(n + 1), WAIT);
}

function expectClean(c: Client): void {
  expect(c.errors.filter((e) => e.code === 505)).toEqual([]);
  expect(c.decoder).toEqual([]);
}

describe('reqMktData over TCP', () => {
  it('streams bid, ask and last equal to the stored bars at the sim time, with sizes and session volume', async () => {
    const c = await connected(await startSim(SPY_START));
    c.api.reqMktData(7, SPY, '', false, false);
    const e = expectedSpy(SPY_START);
    await vi.waitFor(() => {
      expect(latest(c.prices, 7, 1)).toBe(e.bid);
      expect(latest(c.prices, 7, 2)).toBe(e.ask);
      expect(latest(c.prices, 7, 4)).toBe(e.last);
      expect(latest(c.sizes, 7, 8)).toBeCloseTo(e.volume / 100, 6);
    }, WAIT);
    // tickReqParams then marketDataType (live) came first; sizes were synthesized from tickPrice
    expect(c.reqParams).toEqual([[7, 0, 'SMART', 3]]);
    expect(c.dataTypes).toEqual([[7, 1]]);
    expect([latest(c.sizes, 7, 0), latest(c.sizes, 7, 3), latest(c.sizes, 7, 5)]).toEqual([e.bidSize, e.askSize, e.lastSize]);
    expect(latest(c.strings, 7, 45)).toBe(String(e.lastBarClose / 1000));
    for (const t of [6, 7, 9, 14]) expect(latest(c.prices, 7, t)).toEqual(expect.any(Number));

    // one real second is one simulated minute: the next bars become visible and stream
    real += 1000;
    const e2 = expectedSpy(simNow(SPY_START));
    expect(e2.last).not.toBe(e.last);
    await vi.waitFor(() => {
      expect(latest(c.prices, 7, 4)).toBe(e2.last);
      expect(latest(c.prices, 7, 1)).toBe(e2.bid);
      expect(latest(c.prices, 7, 2)).toBe(e2.ask);
      expect(latest(c.sizes, 7, 8)).toBeCloseTo(e2.volume / 100, 6);
    }, WAIT);
    expect(c.errors).toEqual([]);
    expectClean(c);
  });

  it('answers a snapshot with the current ticks, then tickSnapshotEnd, and frees the line', async () => {
    const c = await connected(await startSim(SPY_START));
    c.api.reqMktData(3, SPY, '', true, false);
    await vi.waitFor(() => expect(c.snapshotEnds).toEqual([3]), WAIT);
    const e = expectedSpy(SPY_START);
    expect([latest(c.prices, 3, 1), latest(c.prices, 3, 2), latest(c.prices, 3, 4)]).toEqual([e.bid, e.ask, e.last]);
    const count = c.prices.length;
    real += 2000;
    await new Promise((r) => setTimeout(r, 200));
    expect(c.prices.length).toBe(count);
    // the line is gone: cancelling it is TWS's "Can't find EId"
    c.api.cancelMktData(3);
    await vi.waitFor(() => expect(c.errors.map((x) => [x.code, x.reqId])).toEqual([[300, 3]]), WAIT);
    expectClean(c);
  });

  it('serves delayed data (type 3) with the delayed tick ids, 15 minutes behind', async () => {
    const c = await connected(await startSim(SPY_START));
    c.api.reqMarketDataType(3);
    c.api.reqMktData(4, SPY, '', false, false);
    const e = expectedSpy(SPY_START - 15 * MIN);
    await vi.waitFor(() => {
      expect([latest(c.prices, 4, 66), latest(c.prices, 4, 67), latest(c.prices, 4, 68)]).toEqual([e.bid, e.ask, e.last]);
      expect(latest(c.sizes, 4, 74)).toBeCloseTo(e.volume / 100, 6);
    }, WAIT);
    expect(c.dataTypes).toEqual([[4, 3]]);
    expect(c.prices.filter((p) => p.type < 66)).toEqual([]);
    expectClean(c);
  });

  it('synthesizes a quote half a tick around the last trade for trade-only futures bars (6E)', async () => {
    const c = await connected(await startSim(EURO_START));
    c.api.reqMktData(5, EURO, '', false, false);
    const i = closedBy(euro, EURO_START);
    await vi.waitFor(() => expect(latest(c.prices, 5, 4)).toBe(euro.close[i]), WAIT);
    expect(latest(c.prices, 5, 1)).toBeCloseTo(euro.close[i]! - 0.000025, 10);
    expect(latest(c.prices, 5, 2)).toBeCloseTo(euro.close[i]! + 0.000025, 10);
    // futures volume is in contracts
    expect(typeof latest(c.sizes, 5, 8)).toBe('number');
    expectClean(c);
  });

  it('answers 200 for an unknown contract and for CONTFUT', async () => {
    const c = await connected(await startSim(SPY_START));
    c.api.reqMktData(8, { symbol: 'NOPE', secType: SecType.STK, exchange: 'SMART', currency: 'USD' }, '', false, false);
    c.api.reqMktData(9, { symbol: '6E', secType: SecType.CONTFUT, exchange: 'CME', currency: 'USD' }, '', false, false);
    await vi.waitFor(() => expect(c.errors.length).toBe(2), WAIT);
    expect(c.errors.map((e) => [e.reqId, e.code]).sort((a, b) => a[0]! - b[0]!)).toEqual([
      [8, 200],
      [9, 200],
    ]);
    expect(c.errors.find((e) => e.reqId === 9)!.message).toMatch(/CONTFUT/);
    expect(c.prices).toEqual([]);
    expectClean(c);
  });

  it('stops a line on cancel', async () => {
    const c = await connected(await startSim(SPY_START));
    c.api.reqMktData(11, SPY, '', false, false);
    c.api.reqMktData(12, SPY, '', false, false);
    await vi.waitFor(() => expect(latest(c.prices, 11, 4)).toBeDefined(), WAIT);
    c.api.cancelMktData(11);
    await settled(c);
    await new Promise((r) => setTimeout(r, 100));
    const before = c.prices.filter((p) => p.id === 11).length;
    real += 3000;
    const e = expectedSpy(simNow(SPY_START));
    await vi.waitFor(() => expect(latest(c.prices, 12, 4)).toBe(e.last), WAIT);
    await new Promise((r) => setTimeout(r, 150));
    expect(c.prices.filter((p) => p.id === 11).length).toBe(before);
    expect(c.errors).toEqual([]);
    expectClean(c);
  });
});

describe('IBApiNext', () => {
  function next(port: number) {
    const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
    const api = new IBApiNext({ host: '127.0.0.1', port, logger: quiet, maxReqPerSec: 1000 });
    cleanups.push(() => api.disconnect());
    api.connect(31);
    return api;
  }

  it('getMarketData emits the replayed quote and getMarketDataSnapshot completes', async () => {
    const api = next(await startSim(SPY_START));
    const e = expectedSpy(SPY_START);
    const seen: MarketDataUpdate[] = [];
    const sub = api.getMarketData(SPY, '', false, false).subscribe({ next: (u) => seen.push(u) });
    cleanups.push(() => sub.unsubscribe());
    await vi.waitFor(() => {
      const all = seen.at(-1)?.all;
      expect(all?.get(IBApiTickType.BID)?.value).toBe(e.bid);
      expect(all?.get(IBApiTickType.ASK)?.value).toBe(e.ask);
      expect(all?.get(IBApiTickType.LAST)?.value).toBe(e.last);
      expect(all?.get(IBApiTickType.BID_SIZE)?.value).toBe(e.bidSize);
    }, WAIT);
    const snap = await api.getMarketDataSnapshot(SPY, '', false);
    expect(snap.get(IBApiTickType.LAST)?.value).toBe(e.last);
  });

  it('getMarketDepth builds a book of numRows levels, bids below asks, around the quote', async () => {
    const api = next(await startSim(SPY_START));
    const e = expectedSpy(SPY_START);
    let book: OrderBook | undefined;
    const sub = api.getMarketDepth({ ...SPY, exchange: 'ARCA' }, 5, false).subscribe({ next: (u) => (book = u.all) });
    cleanups.push(() => sub.unsubscribe());
    await vi.waitFor(() => {
      expect(book?.bids.size).toBe(5);
      expect(book?.asks.size).toBe(5);
    }, WAIT);
    const bids = [...book!.bids.values()].map((r) => r.price!);
    const asks = [...book!.asks.values()].map((r) => r.price!);
    expect(bids[0]).toBe(e.bid);
    expect(asks[0]).toBe(e.ask);
    expect(Math.max(...bids)).toBeLessThan(Math.min(...asks));
    bids.slice(1).forEach((p, k) => expect(p).toBeCloseTo(bids[k]! - 0.01, 9));
    asks.slice(1).forEach((p, k) => expect(p).toBeCloseTo(asks[k]! + 0.01, 9));
    expect(book!.bids.get(0)?.size).toBe(e.bidSize);
    // the book follows the quote
    real += 1000;
    const e2 = expectedSpy(simNow(SPY_START));
    await vi.waitFor(() => {
      expect(book!.bids.get(0)?.price).toBe(e2.bid);
      expect(book!.asks.get(0)?.price).toBe(e2.ask);
    }, WAIT);
    expect(book!.bids.size).toBe(5);
  });
});

describe('reqMktDepth and reqRealTimeBars with IBApi', () => {
  it('sends marketDepthL2 for SMART depth and refuses the 4th book with 309', async () => {
    const c = await connected(await startSim(SPY_START));
    c.api.reqMktDepth(21, SPY, 3, true, []);
    c.api.reqMktDepth(22, SPY, 3, false, []);
    c.api.reqMktDepth(23, SPY, 3, false, []);
    c.api.reqMktDepth(24, SPY, 3, false, []);
    await vi.waitFor(() => {
      expect(c.errors.map((e) => [e.reqId, e.code]).sort((a, b) => a[0]! - b[0]!)).toEqual([[24, 309]]);
      for (const id of [21, 22, 23]) expect(c.depth.filter((d) => d.id === id && d.op === 0).length).toBe(6);
    }, WAIT);
    expect(c.errors[0]!.message).toBe('Max number (3) of market depth requests has been reached');
    expect(c.depth.filter((d) => d.id === 21).every((d) => d.mm === 'ARCA')).toBe(true);
    expect(c.depth.filter((d) => d.id === 22).every((d) => d.mm === undefined)).toBe(true);
    // a cancelled book frees its place
    c.api.cancelMktDepth(21, true);
    c.api.reqMktDepth(25, SPY, 2, false, []);
    await vi.waitFor(() => expect(c.depth.filter((d) => d.id === 25).length).toBe(4), WAIT);
    expect(c.errors.length).toBe(1);
    expectClean(c);
  });

  it('emits one 5 s bar per 5 simulated seconds that add up to the stored minute bars, never ahead of the clock', async () => {
    const c = await connected(await startSim(SPY_START));
    c.api.reqRealTimeBars(31, SPY, 5, 'TRADES' as never, false);
    await settled(c);
    await new Promise((r) => setTimeout(r, 100));
    expect(c.bars).toEqual([]);
    real += 2000; // sim 14:47:00: bars up to 14:46:00 are due (their minute has closed)
    await vi.waitFor(() => expect(c.bars.at(-1)?.time).toBe(Date.parse('2013-10-07T14:46:00Z') / 1000), WAIT);
    const times = c.bars.map((b) => b.time);
    expect(times[0]).toBe(Date.parse('2013-10-07T14:44:05Z') / 1000);
    times.slice(1).forEach((t, k) => expect(t - times[k]!).toBe(5));
    for (const b of c.bars) expect(b.time * 1000 + MIN).toBeLessThanOrEqual(simNow(SPY_START));
    // the twelve bars of 14:45 carry exactly that minute's OHLCV
    const m = Date.parse('2013-10-07T14:45:00Z') / 1000;
    const twelve = c.bars.filter((b) => b.time >= m && b.time < m + 60);
    expect(twelve.length).toBe(12);
    const i = spy.trade.ts.indexOf(m * 1000);
    expect(twelve[0]!.open).toBe(spy.trade.open[i]);
    expect(Math.max(...twelve.map((b) => b.high))).toBe(spy.trade.high[i]);
    expect(Math.min(...twelve.map((b) => b.low))).toBe(spy.trade.low[i]);
    expect(twelve[11]!.close).toBe(spy.trade.close[i]);
    expect(twelve.reduce((s, b) => s + b.volume, 0)).toBeCloseTo(spy.trade.volume[i]! / 100, 6);
    for (const b of twelve) expect([b.open, b.high, b.low]).toEqual([b.close, b.close, b.close]);

    // cancel stops the flow
    c.api.cancelRealTimeBars(31);
    await settled(c);
    await new Promise((r) => setTimeout(r, 100));
    const count = c.bars.length;
    real += 2000;
    await new Promise((r) => setTimeout(r, 200));
    expect(c.bars.length).toBe(count);
    expect(c.errors).toEqual([]);
    expectClean(c);
  });

  it('counts real-time bars as lines: the 101st line gets 101, a freed line can be reused', async () => {
    const c = await connected(await startSim(SPY_START));
    c.api.reqRealTimeBars(1000, SPY, 5, 'MIDPOINT' as never, false);
    for (let id = 1; id <= 99; id++) c.api.reqMktData(id, SPY, '', false, false);
    await vi.waitFor(() => expect(new Set(c.prices.filter((p) => p.type === 4).map((p) => p.id)).size).toBe(99), WAIT);
    c.api.reqMktData(101, SPY, '', false, false);
    c.api.reqRealTimeBars(1001, SPY, 5, 'TRADES' as never, false);
    await vi.waitFor(() => expect(c.errors.length).toBe(2), WAIT);
    expect(c.errors.map((e) => [e.reqId, e.code, e.message])).toEqual([
      [101, 101, 'Max number of tickers has been reached'],
      [1001, 101, 'Max number of tickers has been reached'],
    ]);
    expect(latest(c.prices, 101, 4)).toBeUndefined();
    c.api.cancelMktData(1);
    c.api.reqMktData(102, SPY, '', false, false);
    await vi.waitFor(() => expect(latest(c.prices, 102, 4)).toBe(expectedSpy(SPY_START).last), WAIT);
    expect(c.errors.length).toBe(2);
    expectClean(c);
  });
});
