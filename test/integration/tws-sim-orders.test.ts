/**
 * The simulator's orders feature against the REAL @stoqey/ib client over TCP: IBApi events
 * (openOrder, orderStatus, execDetails, commissionReport, error) and IBApiNext's order and
 * account functions. No decoder complaint (505) may appear anywhere.
 */
import { EventName, IBApi, IBApiNext, OrderAction, OrderType, SecType, type Contract, type Order } from '@stoqey/ib';
import { firstValueFrom } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { importFiles } from '../../lib/ingest/import-files.js';
import { upsertInstruments } from '../../lib/store/instruments.js';
import { Store } from '../../lib/store/store.js';
import { FakeQuoteBook, SPY_ROW } from '../../runner/tws-sim/order-test-kit.js';
import { ordersFeature } from '../../runner/tws-sim/orders.js';
import { StoreQuoteBook } from '../../runner/tws-sim/replay-quotes.js';
import { TwsSimulator } from '../../runner/tws-sim/server.js';
import { replayClock } from '../../runner/tws-sim/sim-clock.js';
import type { QuoteBook } from '../../runner/tws-sim/types.js';

const WAIT = { timeout: 5000, interval: 10 };
const ACCOUNT = 'DU1234567';
const SIM_START = Date.UTC(2026, 0, 2, 15, 0); // Friday 10:00 New York: NYSE open
const SPY: Contract = { symbol: 'SPY', secType: SecType.STK, exchange: 'SMART', currency: 'USD' };
const lmt = (action: OrderAction, qty: number, price: number, extra: Partial<Order> = {}): Order => ({ action, orderType: OrderType.LMT, totalQuantity: qty, lmtPrice: price, tif: 'DAY', transmit: true, ...extra });
const mkt = (action: OrderAction, qty: number): Order => ({ action, orderType: OrderType.MKT, totalQuantity: qty, transmit: true });

let store: Store;
let sim: TwsSimulator | undefined;
let quotes: FakeQuoteBook;
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  store = await Store.open(':memory:');
  await upsertInstruments(store, [SPY_ROW], 'test');
  await importFiles(store, ['data/cme/6EH4.XCME_1min_bars_20240101_20240131.csv'], { symbol: '6E', contractMonth: '202403', interval: '1m' });
});
afterAll(() => store.close());
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await sim?.stop();
  sim = undefined;
});

async function startSim(book?: QuoteBook, start = SIM_START, serverVersion: 193 | 176 = 193): Promise<number> {
  quotes = new FakeQuoteBook();
  quotes.set('SPY', { bid: 450, ask: 450.05, bidSize: 1000, askSize: 1000, last: 450.02 });
  sim = new TwsSimulator({ store, port: 0, serverVersion, clock: replayClock({ start, speed: 1 }), features: [ordersFeature({ quotes: book ?? quotes, matchIntervalMs: 20 })] });
  return (await sim.start()).port;
}

/** An IBApi client recording the order events and every error/info. */
function client(port: number, clientId: number) {
  const api = new IBApi({ host: '127.0.0.1', port, clientId });
  const rec = {
    api,
    nextValidId: [] as number[],
    openOrders: [] as { orderId: number; status: string; order: Order }[],
    statuses: [] as { orderId: number; status: string; filled: number; remaining: number; avgFillPrice: number; lastFillPrice: number }[],
    execs: [] as { reqId: number; orderId: number; price: number; shares: number; execId: string; side: string }[],
    commissions: [] as { execId: string; commission: number }[],
    errors: [] as { code: number; message: string; reqId: number }[],
    info: [] as { code: number; message: string }[],
  };
  api.on(EventName.nextValidId, (id: number) => rec.nextValidId.push(id));
  api.on(EventName.openOrder, (orderId: number, _c: Contract, order: Order, state: { status: string }) => rec.openOrders.push({ orderId, status: state.status, order }));
  api.on(EventName.orderStatus, (orderId, status, filled, remaining, avgFillPrice, _permId, _parentId, lastFillPrice) =>
    rec.statuses.push({ orderId, status, filled, remaining, avgFillPrice, lastFillPrice: lastFillPrice ?? 0 }),
  );
  api.on(EventName.execDetails, (reqId, _c, e) => rec.execs.push({ reqId, orderId: e.orderId!, price: e.price!, shares: e.shares!, execId: e.execId!, side: e.side! }));
  api.on(EventName.commissionReport, (r) => rec.commissions.push({ execId: r.execId!, commission: r.commission! }));
  api.on(EventName.error, (e: Error, code: number, reqId: number) => rec.errors.push({ code, message: e.message, reqId }));
  api.on(EventName.info, (message: string, code: number) => rec.info.push({ code, message }));
  cleanups.push(() => api.disconnect());
  return rec;
}
type Client = ReturnType<typeof client>;

async function connected(c: Client): Promise<void> {
  c.api.connect();
  await vi.waitFor(() => expect(c.nextValidId.length).toBe(1), WAIT);
}

function expectNoDecoderErrors(c: Client): void {
  expect(c.errors.filter((e) => e.code === 505)).toEqual([]);
  expect(c.info.filter((i) => i.code === 505)).toEqual([]);
}

const lastStatus = (c: Client, id: number) => c.statuses.filter((s) => s.orderId === id).at(-1);

function withTimeout<T>(p: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

describe('TWS simulator orders with the real IBApi client', () => {
  it('fills a market order at the quote ask with the TWS event sequence', async () => {
    const c = client(await startSim(), 31);
    await connected(c);
    c.api.placeOrder(1_000_000, SPY, { ...mkt(OrderAction.BUY, 100), orderRef: 'mkt-1' });
    await vi.waitFor(() => expect(c.commissions.length).toBe(1), WAIT);
    expect(c.openOrders.map((o) => o.status)).toEqual(['Submitted', 'Filled']);
    expect(c.openOrders[0]!.order).toMatchObject({ orderRef: 'mkt-1', clientId: 31, account: ACCOUNT });
    expect(c.statuses.map((s) => s.status)).toEqual(['Submitted', 'Filled']);
    expect(c.execs).toEqual([{ reqId: -1, orderId: 1_000_000, price: 450.05, shares: 100, execId: c.commissions[0]!.execId, side: 'BOT' }]);
    expect(lastStatus(c, 1_000_000)).toMatchObject({ filled: 100, remaining: 0, avgFillPrice: 450.05, lastFillPrice: 450.05 });
    expect(c.commissions[0]!.commission).toBe(1);
    // later order ids from the server stay above the one the client used
    c.api.reqIds();
    await vi.waitFor(() => expect(c.nextValidId.length).toBe(2), WAIT);
    expect(c.nextValidId[1]).toBeGreaterThan(1_000_000);
    expectNoDecoderErrors(c);
    expect(c.errors).toEqual([]);
  });

  it('speaks the v176 (TWS 10.19) layouts as well: fill, executions, positions', async () => {
    const c = client(await startSim(undefined, SIM_START, 176), 38);
    await connected(c);
    c.api.placeOrder(1_500_000, SPY, mkt(OrderAction.SELL, 20));
    await vi.waitFor(() => expect(c.commissions.length).toBe(1), WAIT);
    expect(c.execs[0]).toMatchObject({ price: 450, side: 'SLD', shares: 20 });
    const positions: number[] = [];
    c.api.on(EventName.position, (_a, _c, pos) => positions.push(pos));
    c.api.reqPositions();
    c.api.reqExecutions(77, {});
    await vi.waitFor(() => {
      expect(positions).toEqual([-20]);
      expect(c.execs.map((e) => e.reqId)).toEqual([-1, 77]);
    }, WAIT);
    expectNoDecoderErrors(c);
    expect(c.errors).toEqual([]);
  });

  it('fills a resting limit once the quote moves through it', async () => {
    const c = client(await startSim(), 32);
    await connected(c);
    c.api.placeOrder(2_000_000, SPY, lmt(OrderAction.BUY, 50, 449));
    await vi.waitFor(() => expect(lastStatus(c, 2_000_000)?.status).toBe('Submitted'), WAIT);
    await new Promise((r) => setTimeout(r, 100));
    expect(c.execs).toEqual([]);
    quotes.set('SPY', { bid: 448.85, ask: 448.9, last: 448.9 });
    await vi.waitFor(() => expect(lastStatus(c, 2_000_000)?.status).toBe('Filled'), WAIT);
    expect(c.execs[0]).toMatchObject({ price: 448.9, shares: 50 });
    expectNoDecoderErrors(c);
  });

  it('runs a bracket end to end: children held until the parent fills, the take-profit cancels the stop', async () => {
    const c = client(await startSim(), 33);
    await connected(c);
    const p = 3_000_000;
    c.api.placeOrder(p, SPY, lmt(OrderAction.BUY, 100, 450.1, { transmit: false }));
    c.api.placeOrder(p + 1, SPY, lmt(OrderAction.SELL, 100, 455, { parentId: p, transmit: false }));
    c.api.placeOrder(p + 2, SPY, { action: OrderAction.SELL, orderType: OrderType.STP, auxPrice: 445, totalQuantity: 100, parentId: p, transmit: true });
    await vi.waitFor(() => {
      expect(lastStatus(c, p)?.status).toBe('Filled');
      expect(lastStatus(c, p + 1)?.status).toBe('Submitted');
      expect(lastStatus(c, p + 2)?.status).toBe('PreSubmitted');
    }, WAIT);
    quotes.set('SPY', { bid: 455.1, ask: 455.2, last: 455.1 });
    await vi.waitFor(() => {
      expect(lastStatus(c, p + 1)?.status).toBe('Filled');
      expect(lastStatus(c, p + 2)?.status).toBe('Cancelled');
    }, WAIT);
    expect(c.execs.map((e) => [e.orderId, e.side, e.price])).toEqual([
      [p, 'BOT', 450.05],
      [p + 1, 'SLD', 455.1],
    ]);
    expect(c.errors).toEqual([{ code: 202, reqId: p + 2, message: 'Order Canceled - reason:' }]);
    expectNoDecoderErrors(c);
  });

  it('cancels the other OCA members when one fills', async () => {
    const c = client(await startSim(), 34);
    await connected(c);
    const oca = { ocaGroup: 'exit-1', ocaType: 1 };
    c.api.placeOrder(4_000_000, SPY, lmt(OrderAction.SELL, 10, 452, oca));
    c.api.placeOrder(4_000_001, SPY, lmt(OrderAction.SELL, 10, 453, oca));
    await vi.waitFor(() => expect(lastStatus(c, 4_000_001)?.status).toBe('Submitted'), WAIT);
    quotes.set('SPY', { bid: 452.2, ask: 452.3, last: 452.2 });
    await vi.waitFor(() => {
      expect(lastStatus(c, 4_000_000)?.status).toBe('Filled');
      expect(lastStatus(c, 4_000_001)?.status).toBe('Cancelled');
    }, WAIT);
    expect(c.errors.map((e) => [e.code, e.reqId])).toEqual([[202, 4_000_001]]);
    expectNoDecoderErrors(c);
  });

  it('sends fills to client 0 as well, and answers 10147 / 103 / 201', async () => {
    const port = await startSim();
    const owner = client(port, 35);
    const master = client(port, 0);
    await connected(owner);
    await connected(master);
    master.api.reqAllOpenOrders(); // any orders request makes client 0 known to the feature
    await new Promise((r) => setTimeout(r, 50));
    owner.api.placeOrder(5_000_000, SPY, mkt(OrderAction.BUY, 10));
    await vi.waitFor(() => expect(master.commissions.length).toBe(1), WAIT);
    owner.api.cancelOrder(5_999_999, {});
    owner.api.placeOrder(4_999_999, SPY, mkt(OrderAction.BUY, 10));
    owner.api.placeOrder(5_000_001, { ...SPY, secType: SecType.CONTFUT }, mkt(OrderAction.BUY, 1));
    await vi.waitFor(() => expect(owner.errors.map((e) => [e.code, e.reqId])).toEqual([
      [10147, 5_999_999],
      [103, 4_999_999],
      [201, 5_000_001],
    ]), WAIT);
    expect(master.errors).toEqual([]);
    expectNoDecoderErrors(owner);
    expectNoDecoderErrors(master);
  });
});

describe('TWS simulator orders with IBApiNext', () => {
  it('places, lists, fills, reports and cancels through the IBApiNext functions', async () => {
    const port = await startSim();
    const warnings: unknown[][] = [];
    const logger = { debug: () => undefined, info: () => undefined, warn: (...a: unknown[]) => warnings.push(a), error: (...a: unknown[]) => warnings.push(a) };
    const next = new IBApiNext({ host: '127.0.0.1', port, logger });
    cleanups.push(() => next.disconnect());
    const decodeErrors: unknown[] = [];
    const api = (next as unknown as { api: IBApi }).api;
    api.on(EventName.error, (_e: Error, code: number) => code === 505 && decodeErrors.push(code));
    api.on(EventName.info, (_m: string, code: number) => code === 505 && decodeErrors.push(code));
    next.connect(36);
    await withTimeout(next.getCurrentTime());

    // order ids start high so order errors never hit IBApiNext request ids (tws-protocol.md §4)
    next.placeOrder(1_000_000, SPY, lmt(OrderAction.BUY, 5, 400));
    const buyId = await withTimeout(next.placeNewOrder(SPY, mkt(OrderAction.BUY, 100)));
    expect(buyId).toBeGreaterThan(1_000_000);
    const restingId = await withTimeout(next.placeNewOrder(SPY, lmt(OrderAction.BUY, 10, 440)));

    await vi.waitFor(async () => {
      const execs = await withTimeout(next.getExecutionDetails({}));
      expect(execs.map((e) => e.execution.orderId)).toEqual([buyId]);
      expect(execs[0]!.execution).toMatchObject({ price: 450.05, shares: 100, side: 'BOT' });
    }, WAIT);
    const reports = await withTimeout(next.getCommissionReport({}));
    expect(reports).toEqual([expect.objectContaining({ commission: 1, currency: 'USD' })]);

    const open = await withTimeout(next.getAllOpenOrders());
    expect(open.map((o) => o.orderId).sort()).toEqual([1_000_000, restingId]);
    expect(open.every((o) => o.orderState.status === 'Submitted')).toBe(true);

    const positions = await withTimeout(firstValueFrom(next.getPositions()));
    const spy = positions.all.get(ACCOUNT)!.find((p) => p.contract.symbol === 'SPY')!;
    expect(spy.pos).toBe(100);
    expect(spy.avgCost).toBeCloseTo(450.06, 8);

    const summary = await withTimeout(firstValueFrom(next.getAccountSummary('All', 'NetLiquidation,TotalCashValue,GrossPositionValue')));
    const tags = summary.all.get(ACCOUNT)!;
    expect(tags.get('TotalCashValue')!.get('USD')!.value).toBe('954994.00');
    expect(tags.get('GrossPositionValue')!.get('USD')!.value).toBe('45002.00');

    next.cancelOrder(restingId);
    await vi.waitFor(async () => expect((await withTimeout(next.getAllOpenOrders())).map((o) => o.orderId)).toEqual([1_000_000]), WAIT);
    next.cancelAllOrders();
    await vi.waitFor(async () => expect(await withTimeout(next.getAllOpenOrders())).toEqual([]), WAIT);
    expect(decodeErrors).toEqual([]);
    expect(warnings.filter((w) => String(w[1]).includes('non existent order'))).toEqual([]);
  });
});

describe('TWS simulator orders against the replayed store (StoreQuoteBook)', () => {
  it('fills a 6E market order at the replayed ask', async () => {
    const start = Date.UTC(2024, 0, 10, 15, 0, 5); // Wednesday 09:00 Chicago
    const replay = new StoreQuoteBook(store);
    const c = client(await startSim(replay, start), 37);
    await connected(c);
    const expected = await replay.quote('6E-202403', start);
    expect(expected).toBeDefined();
    c.api.placeOrder(7_000_000, { symbol: '6E', secType: SecType.FUT, exchange: 'CME', currency: 'USD', lastTradeDateOrContractMonth: '202403' }, mkt(OrderAction.BUY, 1));
    await vi.waitFor(() => expect(c.commissions.length).toBe(1), WAIT);
    expect(c.execs[0]!.price).toBe(expected!.ask);
    expect(c.commissions[0]!.commission).toBe(2.45);
    expectNoDecoderErrors(c);
  });
});
