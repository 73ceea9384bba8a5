/**
 * The simulated broker's 'backtest' fill model against the backtest's own venue: the same orders on
 * the same minute bars must fill at the same prices, times and commissions in both (the golden
 * numbers are the SimulatedVenue's, computed here, not typed in). Then the model's own rules:
 * bars that started before the order never fill it, fills wait for the bar to close and carry its
 * close time, one late tick walks every closed bar in order, IOC and DAY end as in the backtest.
 */
import { describe, expect, it } from 'vitest';
import { ibFixed } from '../../lib/backtest/commission.js';
import { bar, MIN, order, setup, T } from '../../lib/backtest/sim-venue-fixtures.js';
import type { InstrumentSpec } from '../../lib/data/instrument.js';
import type { Order } from '../../lib/model/orders.js';
import { OrderBook, type BookEvent } from './order-book.js';
import { contractOf, FakeQuoteBook, orderRequest, SPY_ROW } from './order-test-kit.js';
import type { SimOrderRequest } from './place-order.js';
import type { ReplayBars } from './replay-quotes.js';

// four SPY minutes from 10:00 New York: a quiet one, a rising one, a gap down, a recovery
const ROWS: [number, number, number, number][] = [
  [100, 101, 99, 100.5],
  [100.6, 101.5, 100.2, 101],
  [99.0, 99.5, 98.5, 99.2],
  [99.3, 102, 99.1, 101.8],
];
const BARS: ReplayBars = {
  length: ROWS.length,
  ts: Float64Array.from(ROWS.map((_, i) => T + i * MIN)),
  open: Float64Array.from(ROWS.map((r) => r[0])),
  high: Float64Array.from(ROWS.map((r) => r[1])),
  low: Float64Array.from(ROWS.map((r) => r[2])),
  close: Float64Array.from(ROWS.map((r) => r[3])),
  volume: Float64Array.from(ROWS.map(() => 10_000)),
  interval: '1m',
  intervalMs: MIN,
};
const SPY_SPEC: InstrumentSpec = { key: 'SPY', symbol: 'SPY', secType: 'STK', exchange: 'ARCA', currency: 'USD', multiplier: 1, tickSize: 0.01 };
const SLIPPAGE = 10;

function simBook(slippageBps = SLIPPAGE): OrderBook {
  const quotes = new FakeQuoteBook();
  quotes.set('SPY', { bid: 100, ask: 100.01, last: 100 });
  return new OrderBook({ account: 'DU1234567', quotes, fillModel: 'backtest', slippageBps, commission: ibFixed(), series: async () => ({ instrument: SPY_ROW, trade: BARS }) });
}

const placeAt = (book: OrderBook, now: number, over: Partial<SimOrderRequest> & { orderId: number }) => book.place(1, orderRequest({ tif: 'GTC', ...over }), contractOf(SPY_ROW, now), now);

function fills(ev: readonly BookEvent[]): { orderId: number; price: number; ts: number; commission: number; qty: number; maker: boolean }[] {
  return ev.flatMap((e) => (e.kind === 'execution' ? [{ orderId: e.execution.orderId, price: e.execution.price, ts: e.execution.time, commission: e.execution.commission, qty: e.execution.shares, maker: e.execution.liquidity === 1 }] : []));
}

/** The same orders through the backtest's SimulatedVenue (next-open, IB fixed, the same slippage) */
function venueFills(orders: Order[]): ReturnType<typeof fills> {
  const { venue, reports } = setup({ commission: ibFixed(), slippageBps: SLIPPAGE });
  venue.onBar(bar(BARS.ts[0]!, ...ROWS[0]!));
  for (const o of orders) venue.submit(o, SPY_SPEC);
  for (let i = 1; i < ROWS.length; i++) venue.onBar(bar(BARS.ts[i]!, ...ROWS[i]!));
  return reports.flatMap((r) => (r.type === 'filled' ? [{ orderId: r.orderId, price: r.price, ts: r.ts, commission: r.commission, qty: r.quantity, maker: r.liquidity === 'maker' }] : []));
}

describe("the simulator's backtest fill model", () => {
  it('fills market, limit, stop and stop-limit orders exactly as the backtest venue does', async () => {
    // decided at the close of the first bar, as a strategy's onBar would
    const at = T + MIN;
    const orders = [
      order(1, { createdAt: at, updatedAt: at }),
      order(2, { type: 'LIMIT', limitPrice: 99.4, createdAt: at, updatedAt: at }),
      order(3, { side: 'SELL', type: 'STOP', stopPrice: 99.5, createdAt: at, updatedAt: at }),
      order(4, { type: 'STOP_LIMIT', stopPrice: 101.2, limitPrice: 101.3, createdAt: at, updatedAt: at }),
      order(5, { side: 'SELL', type: 'LIMIT', limitPrice: 101.9, createdAt: at, updatedAt: at }),
    ];
    const expected = venueFills(orders);
    expect(expected.map((f) => f.orderId).sort()).toEqual([1, 2, 3, 4, 5]);

    const book = simBook();
    const ib = { MARKET: 'MKT', LIMIT: 'LMT', STOP: 'STP', STOP_LIMIT: 'STP LMT' } as const;
    for (const o of orders) {
      placeAt(book, at, { orderId: o.id, action: o.side, orderType: ib[o.type as keyof typeof ib], lmtPrice: Number.isNaN(o.limitPrice) ? undefined : o.limitPrice, auxPrice: Number.isNaN(o.stopPrice) ? undefined : o.stopPrice });
    }
    const got: ReturnType<typeof fills> = [];
    // a lock-step replay ticks at every minute
    for (let t = at; t <= T + 4 * MIN; t += MIN) got.push(...fills(await book.tick(t)));
    const byId = (a: ReturnType<typeof fills>) => [...a].sort((x, y) => x.orderId - y.orderId);
    expect(byId(got)).toEqual(byId(expected));
    // what the rules say, for the reader: the market order paid bar 2's open plus 10 bps at its close
    expect(got.find((f) => f.orderId === 1)).toEqual({ orderId: 1, price: 100.6 * 1.001, ts: T + 2 * MIN, commission: 1, qty: 100, maker: false });
    // the limit gapped through at bar 3's open (price improvement, no slippage)
    expect(got.find((f) => f.orderId === 2)).toMatchObject({ price: 99, ts: T + 3 * MIN });
    // the sell limit reached by bar 4's high fills at its limit, adding liquidity
    expect(got.find((f) => f.orderId === 5)).toMatchObject({ price: 101.9, ts: T + 4 * MIN, maker: true });
  });

  it('never fills on a bar that started before the order, and stamps fills with the bar close even when ticked late', async () => {
    const book = simBook(0);
    // placed in the middle of the first bar: that bar is not eligible
    placeAt(book, T + 30_000, { orderId: 1 });
    expect(fills(await book.tick(T + MIN))).toEqual([]);
    // one late tick walks the closed bars in order: the fill is bar 2's open at bar 2's close
    placeAt(book, T + MIN, { orderId: 2, orderType: 'LMT', lmtPrice: 99.4 });
    const ev = await book.tick(T + 10 * MIN);
    expect(fills(ev).map((f) => [f.orderId, f.price, f.ts])).toEqual([
      [1, 100.6, T + 2 * MIN],
      [2, 99, T + 3 * MIN],
    ]);
  });

  it('cancels an IOC after its first bar and expires a DAY order at the close, after the last bar counted', async () => {
    const book = simBook(0);
    placeAt(book, T + MIN, { orderId: 1, orderType: 'LMT', lmtPrice: 99.4, tif: 'IOC' });
    const ev = await book.tick(T + 2 * MIN);
    expect(fills(ev)).toEqual([]);
    expect(book.order(1, 1)?.status).toBe('Cancelled');
    // a DAY limit that never fills: cancelled (IB reports a DAY expiry as a cancel) once the session closed
    placeAt(book, T + MIN, { orderId: 2, orderType: 'LMT', lmtPrice: 50, tif: 'DAY' });
    await book.tick(T + 4 * MIN);
    expect(book.order(1, 2)?.status).toBe('Submitted');
    await book.tick(Date.UTC(2013, 9, 7, 20, 0));
    expect(book.order(1, 2)?.status).toBe('Cancelled');
  });
});
