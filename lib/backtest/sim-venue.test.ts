import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { stockSpec, type InstrumentSpec } from '../data/instrument.js';
import type { ExecutionReport } from '../model/order-events.js';
import type { Order } from '../model/orders.js';
import { ibFixed, noCommission } from './commission.js';
import { SimulatedVenue } from './sim-venue.js';
import { bar, MIN, order, setup, T } from './sim-venue-fixtures.js';

const SPY = stockSpec('SPY');
const ES: InstrumentSpec = { key: 'ES-201312', symbol: 'ES', secType: 'FUT', exchange: 'CME', currency: 'USD', multiplier: 50, tickSize: 0.25 };




function fills(reports: ExecutionReport[]): Extract<ExecutionReport, { type: 'filled' }>[] {
  return reports.filter((r): r is Extract<ExecutionReport, { type: 'filled' }> => r.type === 'filled');
}

describe('next-open fills', () => {
  it('fills a market order at the open of the first bar starting at or after it, stamped at the bar close', () => {
    const { venue, reports } = setup();
    venue.submit(order(1), SPY);
    venue.onBar(bar(T - MIN, 99, 99, 99, 99)); // started before the order: ignored
    venue.onBar(bar(T, 100, 101, 99.5, 100.5));
    expect(reports[0]).toEqual({ type: 'accepted', orderId: 1, ts: T });
    expect(fills(reports)).toEqual([
      { type: 'filled', orderId: 1, ts: T + MIN, quantity: 100, price: 100, commission: 0, executionId: 'sim-1', liquidity: 'taker' },
    ]);
  });

  it('fills a buy limit as maker at its price, a gapped one as taker at the open', () => {
    const { venue, reports } = setup();
    venue.submit(order(1, { type: 'LIMIT', limitPrice: 99.5 }), SPY);
    venue.submit(order(2, { type: 'LIMIT', limitPrice: 101 }), SPY);
    venue.onBar(bar(T, 100, 100.2, 99.4, 100));
    expect(fills(reports).map((f) => [f.orderId, f.price, f.liquidity])).toEqual([
      [1, 99.5, 'maker'],
      [2, 100, 'taker'],
    ]);
  });

  it('fills a sell stop at the open when the bar gaps through it', () => {
    const { venue, reports } = setup();
    venue.submit(order(1, { side: 'SELL', type: 'STOP', stopPrice: 99 }), SPY);
    venue.onBar(bar(T, 97.5, 98, 97, 97.8));
    expect(fills(reports)[0]).toMatchObject({ price: 97.5, liquidity: 'taker' });
  });

  it('needs the low to trade below a buy limit in through mode', () => {
    const { venue, reports } = setup({ limitFill: 'through' });
    venue.submit(order(1, { type: 'LIMIT', limitPrice: 99.5 }), SPY);
    venue.onBar(bar(T, 100, 100.2, 99.5, 100));
    venue.onBar(bar(T + MIN, 100, 100.2, 99.49, 100));
    expect(fills(reports).map((f) => [f.ts, f.price])).toEqual([[T + 2 * MIN, 99.5]]);
  });

  it('never gives an order a second chance on overlapping bars of another interval', () => {
    const { venue, reports } = setup();
    venue.submit(order(1, { type: 'LIMIT', limitPrice: 99 }), SPY);
    for (let i = 0; i < 5; i++) venue.onBar(bar(T + i * MIN, 100, 100.5, 99.5, 100));
    // The 5-minute bar covers the same minutes (its low is inconsistent on purpose): already used
    venue.onBar(bar(T, 100, 100.5, 98, 100, 50_000, 'trade', '5m'));
    expect(fills(reports)).toEqual([]);
    venue.onBar(bar(T + 5 * MIN, 99.5, 99.8, 98.9, 99));
    expect(fills(reports).map((f) => f.price)).toEqual([99]);
  });

  it('fills on trade prints as one-price bars, capped by participation of the print size', () => {
    const { venue, reports } = setup({ participationRate: 0.5 });
    venue.submit(order(1, { type: 'LIMIT', limitPrice: 100 }), SPY);
    const print = (ts: number, price: number, size: number) => ({ instrument: 'SPY', instrumentIndex: 0, ts, price, size });
    venue.onTrade(print(T - 1, 99, 1000)); // before the order
    venue.onTrade(print(T + 1, 100.01, 1000));
    venue.onTrade(print(T + 2, 99.98, 120)); // cap 60
    venue.onTrade(print(T + 3, 100, 1000));
    expect(fills(reports).map((f) => [f.ts, f.quantity, f.price, f.liquidity])).toEqual([
      [T + 2, 60, 99.98, 'taker'],
      [T + 3, 40, 100, 'maker'],
    ]);
  });

  it('ignores bid and ask bars for fills outside quote mode', () => {
    const { venue, reports } = setup();
    venue.submit(order(1), SPY);
    venue.onBar(bar(T, 100, 100, 100, 100, 0, 'ask'));
    expect(fills(reports)).toEqual([]);
  });
});

describe('close fills', () => {
  it('fills a market order at the last close at once, with the order time', () => {
    const { venue, reports } = setup({ fill: 'close' });
    venue.onBar(bar(T - MIN, 100, 101, 99, 100.5));
    venue.submit(order(1), SPY);
    expect(fills(reports)).toEqual([
      { type: 'filled', orderId: 1, ts: T, quantity: 100, price: 100.5, commission: 0, executionId: 'sim-1', liquidity: 'taker' },
    ]);
  });

  it('fills a marketable limit at once and leaves a non-marketable one for the next bar', () => {
    const { venue, reports } = setup({ fill: 'close' });
    venue.onBar(bar(T - MIN, 100, 101, 99, 100.5));
    venue.submit(order(1, { type: 'LIMIT', limitPrice: 101 }), SPY);
    venue.submit(order(2, { type: 'LIMIT', limitPrice: 100 }), SPY);
    expect(fills(reports).map((f) => [f.orderId, f.price, f.liquidity])).toEqual([[1, 100.5, 'taker']]);
    venue.onBar(bar(T, 100.4, 100.6, 99.9, 100.2));
    expect(fills(reports).map((f) => [f.orderId, f.price, f.liquidity])).toEqual([
      [1, 100.5, 'taker'],
      [2, 100, 'maker'],
    ]);
  });

  it('waits for the next open when no price is known yet', () => {
    const { venue, reports } = setup({ fill: 'close' });
    venue.submit(order(1), SPY);
    venue.onBar(bar(T, 100, 101, 99, 100.5));
    expect(fills(reports)[0]).toMatchObject({ price: 100, ts: T + MIN });
  });

  it('decides an IOC at once: unfilled limit cancelled', () => {
    const { venue, reports } = setup({ fill: 'close' });
    venue.onBar(bar(T - MIN, 100, 101, 99, 100.5));
    venue.submit(order(1, { type: 'LIMIT', limitPrice: 100, tif: 'IOC' }), SPY);
    expect(reports.at(-1)).toMatchObject({ type: 'cancelled', orderId: 1, ts: T });
  });
});

describe('quote fills', () => {
  it('fills market orders at the latest ask (buy) and bid (sell) at once', () => {
    const { venue, reports } = setup({ fill: 'quote' });
    venue.onQuote({ instrument: 'SPY', instrumentIndex: 0, ts: T - 1000, bid: 99.98, ask: 100.02, bidSize: 5, askSize: 5 });
    venue.submit(order(1), SPY);
    venue.submit(order(2, { side: 'SELL' }), SPY);
    expect(fills(reports).map((f) => [f.orderId, f.price, f.ts])).toEqual([
      [1, 100.02, T],
      [2, 99.98, T],
    ]);
  });

  it('fills a resting buy limit when the ask falls to it, at the ask', () => {
    const { venue, reports } = setup({ fill: 'quote' });
    venue.onQuote({ instrument: 'SPY', instrumentIndex: 0, ts: T - 1000, bid: 99.98, ask: 100.02, bidSize: 5, askSize: 5 });
    venue.submit(order(1, { type: 'LIMIT', limitPrice: 99.95 }), SPY);
    venue.onQuote({ instrument: 'SPY', instrumentIndex: 0, ts: T + 1000, bid: 99.9, ask: 99.96, bidSize: 5, askSize: 5 });
    venue.onQuote({ instrument: 'SPY', instrumentIndex: 0, ts: T + 2000, bid: 99.9, ask: 99.94, bidSize: 5, askSize: 5 });
    expect(fills(reports).map((f) => [f.price, f.ts, f.liquidity])).toEqual([[99.94, T + 2000, 'taker']]);
  });

  it('takes the quote from ask and bid bar closes', () => {
    const { venue, reports } = setup({ fill: 'quote' });
    venue.submit(order(1, { type: 'LIMIT', limitPrice: 100 }), SPY);
    venue.onBar(bar(T, 100.2, 100.3, 99.9, 100, 0, 'ask'));
    expect(fills(reports).map((f) => [f.price, f.ts, f.liquidity])).toEqual([[100, T + MIN, 'maker']]);
  });

  it('falls back to the next open (with slippageBps) while no quote is known', () => {
    const { venue, reports } = setup({ fill: 'quote', slippageBps: 10 });
    venue.submit(order(1), SPY);
    venue.onBar(bar(T, 100, 101, 99, 100.5));
    expect(fills(reports)[0]!.price).toBeCloseTo(100.1, 10);
  });
});

describe('slippage', () => {
  it('fills market buys above and sells below the open by slippageBps, limits without slippage', () => {
    const { venue, reports } = setup({ slippageBps: 10 });
    venue.submit(order(1), SPY);
    venue.submit(order(2, { side: 'SELL' }), SPY);
    venue.submit(order(3, { type: 'LIMIT', limitPrice: 99.5 }), SPY);
    venue.onBar(bar(T, 100, 101, 99, 100.5));
    const prices = fills(reports).map((f) => f.price);
    // 100 * 1.001 and 100 * 0.999
    expect(prices[0]).toBeCloseTo(100.1, 10);
    expect(prices[1]).toBeCloseTo(99.9, 10);
    expect(prices[2]).toBe(99.5);
  });

  it('fills market orders on mid bars half the latest spread away', () => {
    const { venue, reports } = setup({ slippageBps: 10 });
    venue.onQuote({ instrument: 'SPY', instrumentIndex: 0, ts: T - 1000, bid: 99.9, ask: 100.1, bidSize: 5, askSize: 5 });
    venue.submit(order(1), SPY);
    venue.onBar(bar(T, 100, 100.5, 99.5, 100.2, 0, 'mid'));
    expect(fills(reports)[0]!.price).toBeCloseTo(100.1, 10);
  });
});

describe('participation', () => {
  it('fills partially across bars, capping all orders of the instrument at floor(rate * volume) per bar', () => {
    const { venue, reports } = setup({ participationRate: 0.1 });
    venue.submit(order(1, { quantity: 50 }), SPY);
    venue.submit(order(2, { quantity: 30 }), SPY);
    venue.onBar(bar(T, 100, 101, 99, 100, 305)); // cap 30
    venue.onBar(bar(T + MIN, 101, 102, 100, 101, 400)); // cap 40
    venue.onBar(bar(T + 2 * MIN, 102, 103, 101, 102, 1000));
    expect(fills(reports).map((f) => [f.orderId, f.quantity, f.price])).toEqual([
      [1, 30, 100],
      [1, 20, 101],
      [2, 20, 101],
      [2, 10, 102],
    ]);
  });

  it('cancels the unfilled remainder of an IOC after its first chance', () => {
    const { venue, reports } = setup({ participationRate: 0.1 });
    venue.submit(order(1, { quantity: 100, tif: 'IOC' }), SPY);
    venue.onBar(bar(T, 100, 101, 99, 100, 300));
    expect(reports.slice(1)).toEqual([
      { type: 'filled', orderId: 1, ts: T + MIN, quantity: 30, price: 100, commission: 0, executionId: 'sim-1', liquidity: 'taker' },
      { type: 'cancelled', orderId: 1, ts: T + MIN, reason: 'IOC: unfilled quantity cancelled' },
    ]);
  });
});

describe('commission and ids', () => {
  it('reports the model commission per fill, the per-order minimum charged once', () => {
    const { venue, reports } = setup({ participationRate: 0.1, commission: ibFixed() });
    venue.submit(order(1, { quantity: 300 }), SPY);
    venue.onBar(bar(T, 100, 101, 99, 100, 1000)); // 100 sh: 0.50 -> minimum 1.00
    venue.onBar(bar(T + MIN, 100, 101, 99, 100, 1000)); // 200 sh: raw 1.00 total -> +0.00
    venue.onBar(bar(T + 2 * MIN, 100, 101, 99, 100, 1000)); // 300 sh: raw 1.50 total -> +0.50
    expect(fills(reports).map((f) => [f.executionId, f.commission])).toEqual([
      ['sim-1', 1],
      ['sim-2', 0],
      ['sim-3', 0.5],
    ]);
  });
});

describe('validation', () => {
  it.each([
    ['a zero quantity', order(1, { quantity: 0 }), SPY, /quantity must be a positive number/],
    ['fractional futures', order(1, { quantity: 1.5, instrument: 'ES-201312' }), ES, /whole contracts/],
    ['a limit without a price', order(1, { type: 'LIMIT' }), SPY, /limitPrice must be a finite number/],
    ['a stop-limit without a stop', order(1, { type: 'STOP_LIMIT', limitPrice: 100 }), SPY, /stopPrice/],
    ['a trailing stop without a distance', order(1, { type: 'TRAILING_STOP' }), SPY, /exactly one of trailingAmount/],
    ['an unknown type', order(1, { type: 'PEG' as Order['type'] }), SPY, /unknown order type 'PEG'/],
    ['a DAY order on a future without a calendar', order(1, { tif: 'DAY' }), { ...ES, symbol: 'ZZ' }, /needs a trading calendar/],
  ] as const)('rejects %s with a reason', (_name, o, spec, reason) => {
    const { venue, reports } = setup();
    venue.submit(o, spec);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ type: 'rejected', orderId: 1 });
    expect((reports[0] as { reason: string }).reason).toMatch(reason);
  });

  it('throws a ConfigError for an invalid configuration', () => {
    expect(() => new SimulatedVenue({ fill: 'close', commission: noCommission(), participationRate: 1.5 })).toThrow(ConfigError);
  });
});

describe('modify and cancel', () => {
  it('reports modified and fills on the new limit only with bars after the change', () => {
    const { venue, reports } = setup();
    venue.submit(order(1, { type: 'LIMIT', limitPrice: 98, quantity: 100 }), SPY);
    venue.onBar(bar(T, 100, 100.5, 99, 100));
    venue.onTime(T + 2 * MIN);
    venue.modify(order(1), { limitPrice: 99.5, quantity: 200 });
    venue.onBar(bar(T + MIN, 100, 100.5, 99, 100)); // started before the change: not used
    venue.onBar(bar(T + 2 * MIN, 100, 100.5, 99.2, 100));
    expect(reports.slice(1)).toEqual([
      { type: 'modified', orderId: 1, ts: T + 2 * MIN, quantity: 200, limitPrice: 99.5, stopPrice: NaN },
      { type: 'filled', orderId: 1, ts: T + 3 * MIN, quantity: 200, price: 99.5, commission: 0, executionId: 'sim-1', liquidity: 'maker' },
    ]);
  });

  it('rejects a modify below the filled quantity, of a missing price, or of an unknown order', () => {
    const { venue, reports } = setup({ participationRate: 0.1 });
    venue.submit(order(1, { type: 'LIMIT', limitPrice: 100 }), SPY);
    venue.onBar(bar(T, 100, 100.5, 99, 100, 500)); // fills 50
    venue.modify(order(1), { quantity: 40 });
    venue.modify(order(1), { stopPrice: 99 });
    venue.modify(order(9), { quantity: 10 });
    expect(reports.slice(2).map((r) => [r.type, r.orderId, (r as { reason?: string }).reason])).toEqual([
      ['modify_rejected', 1, 'quantity 40 must exceed the filled quantity 50'],
      ['modify_rejected', 1, 'a LIMIT order has no stop price'],
      ['modify_rejected', 9, 'order is not working at the venue'],
    ]);
  });

  it('reports cancelled, then cancel_rejected for the finished order', () => {
    const { venue, reports } = setup();
    venue.submit(order(1, { type: 'LIMIT', limitPrice: 90 }), SPY);
    venue.cancel(order(1));
    venue.cancel(order(1));
    venue.onBar(bar(T, 89, 90, 88, 89));
    expect(reports.slice(1).map((r) => r.type)).toEqual(['cancelled', 'cancel_rejected']);
  });
});
