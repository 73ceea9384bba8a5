import { beforeEach, describe, expect, it } from 'vitest';
import { OrderBook, type BookEvent } from './order-book.js';
import { contractOf, ES_ROW, FakeQuoteBook, orderRequest, SPY_ROW } from './order-test-kit.js';
import type { SimOrderRequest } from './place-order.js';

// Friday 2026-01-02, 10:00 New York: NYSE and CME are open
const T0 = Date.UTC(2026, 0, 2, 15, 0);
const NYSE_CLOSE = Date.UTC(2026, 0, 2, 21, 0);
const C1 = 11;
const C2 = 12;

let quotes: FakeQuoteBook;
let book: OrderBook;
const SPY = contractOf(SPY_ROW, T0);
const ES = contractOf(ES_ROW, T0);

beforeEach(() => {
  quotes = new FakeQuoteBook();
  quotes.set('SPY', { bid: 450, ask: 450.05, bidSize: 1000, askSize: 1000, last: 450.02 });
  quotes.set('ES-202603', { bid: 4999.75, ask: 5000, bidSize: 50, askSize: 50, last: 5000 });
  book = new OrderBook({ account: 'DU1234567', quotes });
});

const place = (over: Partial<SimOrderRequest> & { orderId: number }, clientId = C1, now = T0, contract = SPY) => book.place(clientId, orderRequest(over), contract, now);

/** A compact trace: order statuses, fills, commissions, positions and errors in event order. */
function trace(ev: BookEvent[]): string[] {
  return ev.map((e) => {
    switch (e.kind) {
      case 'order':
        return `order ${e.order.orderId} ${e.order.status} ${e.order.filled}/${e.order.totalQuantity}`;
      case 'execution':
        return `exec ${e.execution.orderId} ${e.execution.side} ${e.execution.shares}@${e.execution.price}`;
      case 'commission':
        return `commission ${e.execution.orderId} ${e.execution.commission}`;
      case 'position':
        return `position ${e.position.contract.instrument.key} ${e.position.qty}`;
      case 'error':
        return `error ${e.orderId} ${e.code}`;
    }
  });
}

describe('market and limit orders', () => {
  it('fills a market buy at the ask in TWS order: execDetails, Filled, commission, position', async () => {
    expect(trace(place({ orderId: 1 }))).toEqual(['order 1 Submitted 0/100']);
    const ev = await book.tick(T0);
    expect(trace(ev)).toEqual(['exec 1 BOT 100@450.05', 'order 1 Filled 100/100', 'commission 1 1', 'position SPY 100']);
    const exec = book.executions()[0]!;
    expect(exec).toMatchObject({ execId: '0000e1a2.3b9aca01.01.01', permId: 1_000_000_001, cumQty: 100, avgPrice: 450.05, liquidity: 2, realizedPnl: undefined, currency: 'USD' });
    expect(book.order(C1, 1)).toMatchObject({ status: 'Filled', avgFillPrice: 450.05, lastFillPrice: 450.05 });
  });

  it('fills a market sell at the bid', async () => {
    place({ orderId: 1, action: 'SELL', totalQuantity: 10 });
    expect(trace(await book.tick(T0))).toContain('exec 1 SLD 10@450');
  });

  it('fills a marketable limit at the touch, not the limit', async () => {
    place({ orderId: 1, orderType: 'LMT', lmtPrice: 451 });
    await book.tick(T0);
    expect(book.executions()[0]).toMatchObject({ price: 450.05, liquidity: 2 });
  });

  it('rests a limit until the quote reaches it, then fills as liquidity added', async () => {
    place({ orderId: 1, orderType: 'LMT', lmtPrice: 449 });
    expect(await book.tick(T0)).toEqual([]);
    expect(book.openOrders().map((o) => o.status)).toEqual(['Submitted']);
    quotes.set('SPY', { bid: 448.8, ask: 448.9 });
    expect(trace(await book.tick(T0 + 1000))).toContain('exec 1 BOT 100@448.9');
    expect(book.executions()[0]!.liquidity).toBe(1);
    expect(book.openOrders()).toEqual([]);
  });

  it('waits for the regular session unless outsideRth', async () => {
    const early = Date.UTC(2026, 0, 2, 13, 0); // 08:00 New York
    place({ orderId: 1 }, C1, early);
    place({ orderId: 2, outsideRth: true }, C1, early);
    expect(trace(await book.tick(early))).toEqual(['exec 2 BOT 100@450.05', 'order 2 Filled 100/100', 'commission 2 1', 'position SPY 100']);
    expect(trace(await book.tick(T0))).toContain('exec 1 BOT 100@450.05');
  });
});

describe('stops', () => {
  it('holds a buy stop PreSubmitted until the last trade reaches it, then fills at the ask', async () => {
    expect(trace(place({ orderId: 1, orderType: 'STP', auxPrice: 451 }))).toEqual(['order 1 PreSubmitted 0/100']);
    expect(await book.tick(T0)).toEqual([]);
    quotes.set('SPY', { last: 451.1, bid: 451.05, ask: 451.15 });
    expect(trace(await book.tick(T0 + 1))).toEqual(['order 1 Submitted 0/100', 'exec 1 BOT 100@451.15', 'order 1 Filled 100/100', 'commission 1 1', 'position SPY 100']);
  });

  it('elects a stop-limit and rests it as a limit until marketable', async () => {
    place({ orderId: 1, action: 'SELL', orderType: 'STP LMT', auxPrice: 449, lmtPrice: 448.5 });
    quotes.set('SPY', { last: 448.9, bid: 448.4, ask: 448.95 });
    expect(trace(await book.tick(T0 + 1))).toEqual(['order 1 Submitted 0/100']);
    quotes.set('SPY', { last: 448.6, bid: 448.6, ask: 448.7 });
    expect(trace(await book.tick(T0 + 2))).toContain('exec 1 SLD 100@448.6');
  });
});

describe('partial fills', () => {
  it('fills up to the displayed size; the rest works against later quotes', async () => {
    quotes.set('SPY', { askSize: 100 });
    place({ orderId: 1, totalQuantity: 300 });
    expect(trace(await book.tick(T0))).toEqual(['exec 1 BOT 100@450.05', 'order 1 Submitted 100/300', 'commission 1 1', 'position SPY 100']);
    // the same displayed quote is used up
    expect(await book.tick(T0 + 100)).toEqual([]);
    quotes.set('SPY', { askSize: 500 });
    expect(trace(await book.tick(T0 + 200))).toContain('order 1 Filled 300/300');
    // IB's per-order minimum is charged once: 1.00 for the first 100, 0.005/share after
    expect(book.executions().map((e) => e.commission)).toEqual([1, 0.5]);
    expect(book.executions().map((e) => e.execId.slice(-2))).toEqual(['01', '02']);
  });

  it('shares one displayed quote between orders in time priority', async () => {
    quotes.set('SPY', { askSize: 150 });
    place({ orderId: 1 });
    place({ orderId: 2 });
    await book.tick(T0);
    expect(book.order(C1, 1)!.filled).toBe(100);
    expect(book.order(C1, 2)!.filled).toBe(50);
  });
});

describe('brackets and OCA', () => {
  it('holds an untransmitted bracket, releases the children when the parent fills, and a filled take-profit cancels the stop', async () => {
    place({ orderId: 10, orderType: 'LMT', lmtPrice: 450.1, transmit: false });
    place({ orderId: 11, action: 'SELL', orderType: 'LMT', lmtPrice: 455, parentId: 10, transmit: false });
    expect(await book.tick(T0)).toEqual([]);
    expect(book.openOrders().map((o) => o.status)).toEqual(['PreSubmitted', 'PreSubmitted']);
    const ev = place({ orderId: 12, action: 'SELL', orderType: 'STP', auxPrice: 445, parentId: 10, transmit: true });
    expect(trace(ev)).toEqual(['order 12 PreSubmitted 0/100', 'order 10 Submitted 0/100']);
    expect(trace(await book.tick(T0))).toEqual(['exec 10 BOT 100@450.05', 'order 10 Filled 100/100', 'commission 10 1', 'position SPY 100', 'order 11 Submitted 0/100']);
    quotes.set('SPY', { bid: 455.2, ask: 455.3, last: 455.2 });
    expect(trace(await book.tick(T0 + 1))).toEqual(['exec 11 SLD 100@455.2', 'order 11 Filled 100/100', 'commission 11 1', 'position SPY 0', 'order 12 Cancelled 0/100', 'error 12 202']);
    expect(book.positions()[0]).toMatchObject({ qty: 0, avgCost: 0 });
  });

  it('does not release children while the parent is only partly filled, and cancelling the parent cancels them', async () => {
    quotes.set('SPY', { askSize: 40 });
    place({ orderId: 1, transmit: false });
    place({ orderId: 2, action: 'SELL', orderType: 'LMT', lmtPrice: 400, parentId: 1 });
    await book.tick(T0);
    expect(book.order(C1, 2)).toMatchObject({ status: 'PreSubmitted', filled: 0 });
    expect(trace(book.cancel(C1, 1))).toEqual(['order 1 Cancelled 40/100', 'error 1 202', 'order 2 Cancelled 0/100', 'error 2 202']);
  });

  it('OCA type 1 cancels the other members on a fill', async () => {
    place({ orderId: 1, action: 'SELL', orderType: 'LMT', lmtPrice: 452, ocaGroup: 'g', ocaType: 1 });
    place({ orderId: 2, action: 'SELL', orderType: 'STP', auxPrice: 440, ocaGroup: 'g', ocaType: 1 });
    quotes.set('SPY', { bid: 452.1, ask: 452.2, last: 452.1 });
    expect(trace(await book.tick(T0))).toEqual(['exec 1 SLD 100@452.1', 'order 1 Filled 100/100', 'commission 1 1', 'position SPY -100', 'order 2 Cancelled 0/100', 'error 2 202']);
  });

  it('OCA type 3 reduces the other members by the fill', async () => {
    quotes.set('SPY', { bidSize: 30 });
    place({ orderId: 1, action: 'SELL', ocaGroup: 'r', ocaType: 3 });
    place({ orderId: 2, action: 'SELL', orderType: 'LMT', lmtPrice: 470, ocaGroup: 'r', ocaType: 3 });
    await book.tick(T0);
    expect(book.order(C1, 2)).toMatchObject({ status: 'Submitted', totalQuantity: 70 });
  });
});

describe('time in force', () => {
  it('IOC fills what the quote offers and cancels the rest at once', async () => {
    quotes.set('SPY', { askSize: 60 });
    place({ orderId: 1, tif: 'IOC' });
    expect(trace(await book.tick(T0))).toEqual(['exec 1 BOT 60@450.05', 'order 1 Submitted 60/100', 'commission 1 1', 'position SPY 60', 'order 1 Cancelled 60/100', 'error 1 202']);
  });

  it('IOC that is not marketable is cancelled unfilled', async () => {
    place({ orderId: 1, orderType: 'LMT', lmtPrice: 440, tif: 'IOC' });
    expect(trace(await book.tick(T0))).toEqual(['order 1 Cancelled 0/100', 'error 1 202']);
  });

  it('DAY orders expire at the session close without a 202; GTC orders keep working', async () => {
    place({ orderId: 1, orderType: 'LMT', lmtPrice: 440 });
    place({ orderId: 2, orderType: 'LMT', lmtPrice: 440, tif: 'GTC' });
    expect(book.order(C1, 1)!.expiresAt).toBe(NYSE_CLOSE);
    expect(await book.tick(NYSE_CLOSE - 1)).toEqual([]);
    expect(trace(await book.tick(NYSE_CLOSE))).toEqual(['order 1 Cancelled 0/100']);
    expect(book.openOrders().map((o) => o.orderId)).toEqual([2]);
  });

  it('a DAY futures order expires at the CME close (16:00 Chicago)', () => {
    place({ orderId: 1, orderType: 'LMT', lmtPrice: 4000, contract: { ...orderRequest({ orderId: 0 }).contract, symbol: 'ES', secType: 'FUT' } }, C1, T0, ES);
    expect(book.order(C1, 1)!.expiresAt).toBe(Date.UTC(2026, 0, 2, 22, 0));
  });
});

describe('modify, cancel, global cancel, ids', () => {
  it('modifies price and quantity of a working order by re-placing its id', async () => {
    place({ orderId: 1, orderType: 'LMT', lmtPrice: 449 });
    expect(trace(place({ orderId: 1, orderType: 'LMT', lmtPrice: 450.05, totalQuantity: 50 }))).toEqual(['order 1 Submitted 0/50']);
    expect(trace(await book.tick(T0))).toContain('exec 1 BOT 50@450.05');
  });

  it("refuses to modify a filled order (104), a reused id for a different order (103) and a lower new id (103)", async () => {
    place({ orderId: 5 });
    await book.tick(T0);
    expect(trace(place({ orderId: 5, totalQuantity: 200 }))).toEqual(['error 5 104']);
    expect(trace(place({ orderId: 5, action: 'SELL' }))).toEqual(['error 5 103']);
    expect(trace(place({ orderId: 4 }))).toEqual(['error 4 103']);
    // another client has its own id sequence
    expect(trace(place({ orderId: 4 }, C2))).toEqual(['order 4 Submitted 0/100']);
  });

  it('cancels a working order (202), answers 10147 for an unknown id and 10148 for a filled one', async () => {
    place({ orderId: 1, orderType: 'LMT', lmtPrice: 440 });
    expect(trace(book.cancel(C1, 1))).toEqual(['order 1 Cancelled 0/100', 'error 1 202']);
    expect(book.cancel(C1, 99)).toEqual([{ kind: 'error', clientId: C1, orderId: 99, code: 10147, message: 'OrderId 99 that needs to be cancelled is not found.' }]);
    // another client's order is not found either
    place({ orderId: 2, orderType: 'LMT', lmtPrice: 440 });
    expect(trace(book.cancel(C2, 2))).toEqual(['error 2 10147']);
    place({ orderId: 3 });
    await book.tick(T0);
    expect(trace(book.cancel(C1, 3))).toEqual(['error 3 10148']);
  });

  it('global cancel cancels every working order of every client', () => {
    place({ orderId: 1, orderType: 'LMT', lmtPrice: 440 });
    place({ orderId: 7, orderType: 'LMT', lmtPrice: 440 }, C2);
    expect(trace(book.globalCancel())).toEqual(['order 1 Cancelled 0/100', 'error 1 202', 'order 7 Cancelled 0/100', 'error 7 202']);
    expect(book.openOrders()).toEqual([]);
  });

  it('rejects invalid requests with 201 and the reason', () => {
    const reasons = [
      place({ orderId: 1, totalQuantity: 0 }),
      place({ orderId: 2, orderType: 'TRAIL' }),
      place({ orderId: 3, orderType: 'LMT' }),
      place({ orderId: 4, tif: 'GTD' }),
      place({ orderId: 5, account: 'U999' }),
      place({ orderId: 6, parentId: 77 }),
      place({ orderId: 7, conditionCount: 1 }),
      book.place(C1, orderRequest({ orderId: 8 }), 'No security definition has been found for the request', T0),
    ].map((ev) => (ev[0]?.kind === 'error' ? `${ev[0].code} ${ev[0].message}` : 'accepted'));
    expect(reasons).toEqual([
      '201 Order rejected - reason:Order quantity must be positive',
      "201 Order rejected - reason:Order type 'TRAIL' is not supported by the simulator",
      '201 Order rejected - reason:Limit price is required',
      "201 Order rejected - reason:Time in force 'GTD' is not supported by the simulator",
      "201 Order rejected - reason:The account 'U999' is not the simulated account DU1234567",
      '201 Order rejected - reason:Parent order 77 is not found',
      '201 Order rejected - reason:Conditional orders are not supported by the simulator',
      '201 Order rejected - reason:No security definition has been found for the request',
    ]);
    expect(book.openOrders()).toEqual([]);
  });

  it('reports a rejected order it can describe as Inactive after the 201', () => {
    expect(trace(place({ orderId: 1, totalQuantity: 0 }))).toEqual(['error 1 201', 'order 1 Inactive 0/0']);
    // an unsupported order type or an unknown contract gets the 201 alone
    expect(trace(place({ orderId: 2, orderType: 'TRAIL' }))).toEqual(['error 2 201']);
    expect(trace(book.place(C1, orderRequest({ orderId: 3 }), 'unknown', T0))).toEqual(['error 3 201']);
    // the Inactive order's id is used up
    expect(trace(place({ orderId: 1 }))).toEqual(['error 1 103']);
  });
});

describe('commissions, positions and P&L', () => {
  it('tracks IB-style average cost, realized and unrealized P&L and net liquidation for stocks', async () => {
    place({ orderId: 1 });
    await book.tick(T0);
    expect(book.positions()[0]).toMatchObject({ qty: 100, avgCost: 450.06 });
    quotes.set('SPY', { bid: 451, ask: 451.05, last: 451 });
    place({ orderId: 2, action: 'SELL', totalQuantity: 50 });
    await book.tick(T0 + 1);
    const exec = book.executions()[1]!;
    // (451 - 450.06) * 50 - 1.00 commission
    expect(exec.realizedPnl).toBeCloseTo(46, 8);
    expect(book.positions()[0]).toMatchObject({ qty: 50, avgCost: 450.06 });
    quotes.set('SPY', { last: 452, bid: 451.95, ask: 452.05 });
    await book.mark(T0 + 2);
    const v = book.accountValues();
    expect(v.totalCashValue).toBeCloseTo(1_000_000 - 45_005 - 1 + 22_550 - 1, 6);
    expect(v.realizedPnl).toBeCloseTo(46, 8);
    expect(v.unrealizedPnl).toBeCloseTo(50 * (452 - 450.06), 6);
    expect(v.netLiquidation).toBeCloseTo(1_000_000 + 46 + 97, 6);
    expect(v.grossPositionValue).toBeCloseTo(22_600, 6);
    expect(book.portfolio()[0]).toMatchObject({ marketPrice: 452, marketValue: 22_600 });
  });

  it('charges futures per contract and books variation, not notional, in cash', async () => {
    const fut = { ...orderRequest({ orderId: 0 }).contract, symbol: 'ES', secType: 'FUT' };
    place({ orderId: 1, totalQuantity: 2, contract: fut }, C1, T0, ES);
    await book.tick(T0);
    expect(book.executions()[0]).toMatchObject({ price: 5000, commission: 4.46 });
    expect(book.positions()[0]).toMatchObject({ qty: 2, avgCost: 250_002.23 });
    quotes.set('ES-202603', { last: 5010, bid: 5009.75, ask: 5010.25 });
    await book.mark(T0 + 1);
    let v = book.accountValues();
    expect(v.totalCashValue).toBeCloseTo(1_000_000 - 4.46, 6);
    expect(v.unrealizedPnl).toBeCloseTo(2 * 50 * 10 - 4.46, 6);
    expect(v.netLiquidation).toBeCloseTo(1_000_000 - 4.46 + 1000, 6);
    expect(v.grossPositionValue).toBe(0);
    place({ orderId: 2, action: 'SELL', totalQuantity: 3, contract: fut }, C1, T0 + 2, ES);
    await book.tick(T0 + 2);
    // closes 2 at 5009.75 (realized net of both commissions) and opens 1 short
    expect(book.executions()[1]!.realizedPnl).toBeCloseTo(2 * 50 * 9.75 - 4.46 - 4.46, 6);
    expect(book.positions()[0]).toMatchObject({ qty: -1 });
    expect(book.positions()[0]!.avgCost).toBeCloseTo(5009.75 * 50 + 2.23, 6);
    v = book.accountValues();
    expect(v.realizedPnl).toBeCloseTo(975 - 8.92, 6);
  });
});
