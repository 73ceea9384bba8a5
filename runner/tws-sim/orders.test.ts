/**
 * The orders feature through the real @stoqey/ib encoder (requests) and decoder (answers), without
 * sockets: every message the feature sends must decode with no 505 at v193 and v176.
 */
import { OrderAction, OrderType, SecType, type Contract, type Order } from '@stoqey/ib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { upsertInstruments } from '../../lib/store/instruments.js';
import { Store } from '../../lib/store/store.js';
import { ES_ROW, FakeQuoteBook, SPY_ROW } from './order-test-kit.js';
import { ordersFeature, type OrdersFeature } from './orders.js';
import { dispatch, FakeClock, FakeConnection, type Decoded } from './test-wire.js';
import type { OrderIdSource, SimContext } from './types.js';

const T0 = Date.UTC(2026, 0, 2, 15, 0);
const SPY: Contract = { symbol: 'SPY', secType: SecType.STK, exchange: 'SMART', currency: 'USD' };
const ES: Contract = { symbol: 'ES', secType: SecType.FUT, exchange: 'CME', currency: 'USD', lastTradeDateOrContractMonth: '202603' };
const mkt = (qty: number, action = OrderAction.BUY): Order => ({ action, orderType: OrderType.MKT, totalQuantity: qty, transmit: true });

let store: Store;
let feature: OrdersFeature;
let quotes: FakeQuoteBook;
let ctx: SimContext;
let observed: number[];

beforeAll(async () => {
  store = await Store.open(':memory:');
  await upsertInstruments(store, [SPY_ROW, ES_ROW], 'test');
});
afterAll(() => store.close());
afterEach(() => feature?.close?.());

function setup(): void {
  quotes = new FakeQuoteBook();
  quotes.set('SPY', { bid: 450, ask: 450.05, bidSize: 1000, askSize: 1000, last: 450.02 });
  quotes.set('ES-202603', { bid: 4999.75, ask: 5000, bidSize: 50, askSize: 50, last: 5000 });
  feature = ordersFeature({ quotes, matchIntervalMs: 60_000 });
  observed = [];
  const orderIds: OrderIdSource = { next: () => 1, peek: () => 1, observe: (id) => observed.push(id) };
  ctx = { store, clock: new FakeClock(T0), account: 'DU1234567', orderIds };
}

const names = (d: Decoded): string[] => d.events.map((e) => e.name);
const noDecoderErrors = (d: Decoded) => expect(d.errors.filter((e) => e.code === 505)).toEqual([]);

describe('injected rejections (fault injection)', () => {
  it('rejects the next order with 201 and the injected reason, then trades normally', async () => {
    setup();
    const reasons = ['Margin requirement not met'];
    feature = ordersFeature({ quotes, matchIntervalMs: 60_000, faults: { takeRejection: () => reasons.shift() } });
    const conn = new FakeConnection(193, 1, 7);
    await dispatch(feature, conn, ctx, (e) => e.placeOrder(1_000_000, SPY, mkt(100)));
    const rejected = conn.decode();
    noDecoderErrors(rejected);
    expect(rejected.errors.map((e) => [e.code, e.reqId])).toEqual([[201, 1_000_000]]);
    expect(rejected.errors[0]!.message).toContain('Margin requirement not met');
    await dispatch(feature, conn, ctx, (e) => e.placeOrder(1_000_001, SPY, mkt(100)));
    const filled = conn.decode();
    expect(filled.errors).toEqual([]);
    expect(names(filled)).toContain('execDetails');
  });
});

describe.each([193, 176])('orders feature at v%i', (v) => {
  it('places and fills a market order with decodable openOrder/orderStatus/execDetails/commissionReport', async () => {
    setup();
    const conn = new FakeConnection(v, 1, 7);
    await dispatch(feature, conn, ctx, (e) => e.placeOrder(1_000_000, SPY, { ...mkt(100), orderRef: 'r1' }));
    const counts = conn.sent.map((m) => m.length);
    const d = conn.decode();
    noDecoderErrors(d);
    expect(d.errors).toEqual([]);
    expect(observed).toEqual([1_000_000]);
    expect(names(d)).toEqual(['openOrder', 'orderStatus', 'execDetails', 'openOrder', 'orderStatus', 'commissionReport']);
    expect(counts[0]).toBe(v === 193 ? 133 : 128);
    const [open, status, exec, , filled, commission] = d.events.map((e) => e.args);
    expect(open![0]).toBe(1_000_000);
    expect(open![1]).toMatchObject({ symbol: 'SPY', secType: 'STK', exchange: 'SMART', currency: 'USD' });
    expect(open![2]).toMatchObject({ action: 'BUY', totalQuantity: 100, orderType: 'MKT', orderRef: 'r1', clientId: 7, permId: 1_000_000_001, account: 'DU1234567' });
    expect(open![3]).toMatchObject({ status: 'Submitted' });
    expect(status).toEqual([1_000_000, 'Submitted', 0, 100, 0, 1_000_000_001, 0, 0, 7, '', 0]);
    expect(exec![0]).toBe(-1);
    expect(exec![2]).toMatchObject({ orderId: 1_000_000, side: 'BOT', shares: 100, price: 450.05, cumQty: 100, avgPrice: 450.05, acctNumber: 'DU1234567', clientId: 7, time: '20260102 10:00:00 US/Eastern', exchange: 'ARCA', execId: '0000e1a2.3b9aca01.01.01' });
    expect(filled).toEqual([1_000_000, 'Filled', 100, 0, 450.05, 1_000_000_001, 0, 450.05, 7, '', 0]);
    expect(commission![0]).toMatchObject({ execId: '0000e1a2.3b9aca01.01.01', commission: 1, currency: 'USD', realizedPNL: undefined });
  });

  it('answers open orders, executions, positions, account summary and account updates', async () => {
    setup();
    const conn = new FakeConnection(v, 1, 7);
    await dispatch(feature, conn, ctx, (e) => e.placeOrder(10, ES, mkt(2)));
    await dispatch(feature, conn, ctx, (e) => e.placeOrder(11, SPY, { action: OrderAction.BUY, orderType: OrderType.LMT, lmtPrice: 440, totalQuantity: 10, transmit: true }));
    conn.decode();

    await dispatch(feature, conn, ctx, (e) => e.reqAllOpenOrders());
    let d = conn.decode();
    noDecoderErrors(d);
    expect(names(d)).toEqual(['openOrder', 'orderStatus', 'openOrderEnd']);
    expect(d.events[0]!.args[0]).toBe(11);

    await dispatch(feature, conn, ctx, (e) => e.reqExecutions(5, { symbol: 'ES', side: 'BUY' }));
    d = conn.decode();
    noDecoderErrors(d);
    expect(names(d)).toEqual(['execDetails', 'commissionReport', 'execDetailsEnd']);
    expect(d.events[0]!.args[0]).toBe(5);
    expect(d.events[0]!.args[1]).toMatchObject({ symbol: 'ES', secType: 'FUT', multiplier: 50, lastTradeDateOrContractMonth: '20260320', localSymbol: 'ESH6' });
    expect(d.events[1]!.args[0]).toMatchObject({ commission: 4.46 });
    await dispatch(feature, conn, ctx, (e) => e.reqExecutions(6, { symbol: 'ES', side: 'SELL' }));
    expect(names(conn.decode())).toEqual(['execDetailsEnd']);

    await dispatch(feature, conn, ctx, (e) => e.reqPositions());
    d = conn.decode();
    noDecoderErrors(d);
    expect(names(d)).toEqual(['position', 'positionEnd']);
    expect(d.events[0]!.args).toEqual(['DU1234567', expect.objectContaining({ symbol: 'ES', conId: expect.any(Number) }), 2, 250_002.23]);

    await dispatch(feature, conn, ctx, (e) => e.reqAccountSummary(8, 'All', 'NetLiquidation,TotalCashValue,BuyingPower,GrossPositionValue,RealizedPnL,UnrealizedPnL,AvailableFunds'));
    d = conn.decode();
    noDecoderErrors(d);
    const summary = Object.fromEntries(d.events.filter((e) => e.name === 'accountSummary').map((e) => [e.args[2], e.args[3]]));
    expect(summary).toEqual({
      NetLiquidation: '999995.54',
      TotalCashValue: '999995.54',
      BuyingPower: '1899991.08',
      GrossPositionValue: '0.00',
      RealizedPnL: '0.00',
      UnrealizedPnL: '-4.46',
      AvailableFunds: '949995.54',
    });
    expect(names(d).at(-1)).toBe('accountSummaryEnd');

    await dispatch(feature, conn, ctx, (e) => e.reqAccountUpdates(true, 'DU1234567'));
    d = conn.decode();
    noDecoderErrors(d);
    expect(names(d).filter((n) => n !== 'updateAccountValue')).toEqual(['updateAccountTime', 'updatePortfolio', 'accountDownloadEnd']);
    const portfolio = d.events.find((e) => e.name === 'updatePortfolio')!.args;
    expect(portfolio.slice(1, 7)).toEqual([2, 5000, 500_000, 250_002.23, -4.46, 0]);
    expect(d.events.find((e) => e.name === 'updateAccountTime')!.args).toEqual(['10:00']);
  });
});

describe('orders feature routing and errors', () => {
  it('sends order messages to the placing client and to client 0, errors to the placing client only', async () => {
    setup();
    const owner = new FakeConnection(193, 1, 7);
    const master = new FakeConnection(193, 2, 0);
    const other = new FakeConnection(193, 3, 9);
    await dispatch(feature, master, ctx, (e) => e.reqPositions());
    await dispatch(feature, other, ctx, (e) => e.reqPositions());
    master.decode();
    other.decode();
    await dispatch(feature, owner, ctx, (e) => e.placeOrder(20, SPY, mkt(5)));
    // client 0 also subscribed to positions
    expect(names(master.decode())).toEqual(['openOrder', 'orderStatus', 'execDetails', 'openOrder', 'orderStatus', 'commissionReport', 'position']);
    // other clients hear only about the position
    expect(names(other.decode())).toEqual(['position']);
    await dispatch(feature, owner, ctx, (e) => e.cancelOrder(20, {}));
    expect(owner.decode().errors.at(-1)).toMatchObject({ code: 10148, reqId: 20 });
    expect(master.decode().errors).toEqual([]);
  });

  it('rejects CONTFUT and unknown contracts with 201, and cancels with 202 / 10147', async () => {
    setup();
    const conn = new FakeConnection(193, 1, 7);
    await dispatch(feature, conn, ctx, (e) => e.placeOrder(30, { symbol: 'ES', secType: SecType.CONTFUT, exchange: 'CME' }, mkt(1)));
    await dispatch(feature, conn, ctx, (e) => e.placeOrder(31, { symbol: 'NOPE', secType: SecType.STK, exchange: 'SMART' }, mkt(1)));
    await dispatch(feature, conn, ctx, (e) => e.placeOrder(32, SPY, { action: OrderAction.BUY, orderType: OrderType.LMT, lmtPrice: 400, totalQuantity: 1, transmit: true }));
    await dispatch(feature, conn, ctx, (e) => e.cancelOrder(32, {}));
    await dispatch(feature, conn, ctx, (e) => e.cancelOrder(33, {}));
    await dispatch(feature, conn, ctx, (e) => e.placeOrder(34, SPY, mkt(-5)));
    const d = conn.decode();
    noDecoderErrors(d);
    expect(d.errors.map((e) => [e.reqId, e.code])).toEqual([
      [30, 201],
      [31, 201],
      [32, 202],
      [33, 10147],
      [34, 201],
    ]);
    expect(d.errors[0]!.message).toContain('CONTFUT');
    expect(d.errors[1]!.message).toBe('Order rejected - reason:No security definition has been found for the request');
    expect(d.errors[4]!.message).toBe('Order rejected - reason:Order quantity must be positive');
    expect(names(d)).toEqual(['openOrder', 'orderStatus', 'openOrder', 'orderStatus', 'openOrder', 'orderStatus']);
    expect(d.events.filter((e) => e.name === 'orderStatus').map((e) => e.args[1])).toEqual(['Submitted', 'Cancelled', 'Inactive']);
  });

  it('global cancel cancels every client’s working orders', async () => {
    setup();
    const a = new FakeConnection(193, 1, 7);
    const b = new FakeConnection(193, 2, 8);
    const lmt: Order = { action: OrderAction.BUY, orderType: OrderType.LMT, lmtPrice: 400, totalQuantity: 1, transmit: true };
    await dispatch(feature, a, ctx, (e) => e.placeOrder(40, SPY, lmt));
    await dispatch(feature, b, ctx, (e) => e.placeOrder(41, SPY, lmt));
    a.decode();
    b.decode();
    await dispatch(feature, a, ctx, (e) => e.reqGlobalCancel({}));
    expect(a.decode().errors.map((e) => [e.reqId, e.code])).toEqual([[40, 202]]);
    expect(b.decode().errors.map((e) => [e.reqId, e.code])).toEqual([[41, 202]]);
    expect(feature.book!.openOrders()).toEqual([]);
  });

  it('matches resting orders when the quote moves (tick)', async () => {
    setup();
    const conn = new FakeConnection(193, 1, 7);
    await dispatch(feature, conn, ctx, (e) => e.placeOrder(50, SPY, { action: OrderAction.BUY, orderType: OrderType.LMT, lmtPrice: 449, totalQuantity: 10, transmit: true }));
    conn.decode();
    quotes.set('SPY', { bid: 448.8, ask: 448.9 });
    await feature.tick();
    const d = conn.decode();
    expect(names(d)).toEqual(['execDetails', 'openOrder', 'orderStatus', 'commissionReport']);
    expect(d.events[0]!.args[2]).toMatchObject({ price: 448.9, shares: 10 });
  });
});
