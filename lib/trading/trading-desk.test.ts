/**
 * The trading rules on the real kernel and simulated venue (next-open fills, no commission):
 * signals through Traders, exits of positions opened by signals and by a strategy's own orders,
 * the same backtest without exit rules unchanged.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryDataClient } from '../backtest/memory-data-client.js';
import { runBacktest } from '../backtest/run-backtest.js';
import { noCommission } from '../backtest/commission.js';
import { SimulatedVenue } from '../backtest/sim-venue.js';
import { ConfigError } from '../core/errors.js';
import { stockSpec } from '../data/instrument.js';
import { SimulatedClock } from '../engine/clock.js';
import { Kernel } from '../engine/kernel.js';
import { defineStrategy } from '../engine/strategy.js';
import { smaCross } from '../../strategies/sma-cross/index.js';
import type { TradingRules } from './trading-params.js';

const MIN = 60_000;
/** 2013-10-07 14:00 UTC = 10:00 New York: every bar below is inside the session */
const T0 = Date.UTC(2013, 9, 7, 14, 0);

/** Minute bars with these closes; each opens at the previous close (the first at its own close) */
function data(closes: readonly number[]) {
  const n = closes.length;
  const cols = { length: n, ts: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const c = closes[i]!;
    const o = i === 0 ? c : closes[i - 1]!;
    cols.ts[i] = T0 + i * MIN;
    cols.open[i] = o;
    cols.high[i] = Math.max(o, c);
    cols.low[i] = Math.min(o, c);
    cols.close[i] = c;
    cols.volume[i] = 1e6;
  }
  return new MemoryDataClient([{ instrument: stockSpec('SPY'), interval: '1m', bars: cols }]);
}

/** Sends values[k] as the signal on its k-th bar */
const signals = defineStrategy({
  name: 'signals',
  version: '0.1.0',
  description: 'replays a list of signal values',
  params: z.object({ values: z.array(z.number()) }),
  create: (ctx) => {
    let k = 0;
    return {
      onBar(bar) {
        const v = ctx.params.values[k++];
        if (v !== undefined) ctx.signal(bar.instrument, v);
      },
    };
  },
});

/** Buys `size` with its own market order on bar `at`, then only watches */
const buyer = defineStrategy({
  name: 'buyer',
  version: '0.1.0',
  description: 'one market buy',
  params: z.object({ at: z.number().int(), size: z.number() }),
  create: (ctx) => {
    let k = 0;
    return {
      onBar(bar) {
        if (k++ === ctx.params.at) ctx.submit(ctx.orders.market(bar.instrument, 'BUY', ctx.params.size));
      },
    };
  },
});

function run(strategy: typeof signals | typeof buyer, params: Record<string, unknown>, closes: number[], trading?: TradingRules, allowShort = true) {
  return runBacktest({
    strategy,
    params,
    subscriptions: [{ instrument: 'SPY', interval: '1m', history: 1 }],
    data: data(closes),
    cash: 1_000_000,
    fill: 'next-open',
    trading,
    risk: { allowShort },
  });
}

/** The strategy in a client order id (`<strategy>-<id>`) */
const owner = (clientOrderId: string) => clientOrderId.slice(0, clientOrderId.indexOf('-'));
const flat = (n: number, price = 100) => Array.from({ length: n }, () => price);
/** Running position after each fill */
const positions = (fills: readonly { side: string; quantity: number }[]) => {
  let p = 0;
  return fills.map((f) => (p += f.side === 'BUY' ? f.quantity : -f.quantity));
};

describe('signals through Traders', () => {
  const sizes: TradingRules = { defaults: { unitSize: 100, maxPosition: 250, tradeThreshold: 0.3 }, symbols: {} };

  it('threshold, one unit per signal up to maxPosition, close before reversing', async () => {
    // bar:     0    1    2    3    4    5     6     7    8
    const values = [0.1, 0.5, 0.9, 0.4, 0.7, -0.2, -0.6, -0.8, 0];
    const r = await run(signals, { values }, flat(10), sizes);
    // no quotes in a bar backtest: market orders, filled at the next bar's open
    expect(r.orders.every((o) => o.type === 'MARKET' && o.tag === 'signal')).toBe(true);
    // 0.1: no view; 0.5, 0.9: +100 each; 0.4: +50 (clipped at 250); 0.7: at the cap, nothing;
    // -0.2: no view; -0.6: close the long; -0.8: open one unit short
    expect(r.orders.map((o) => `${o.side} ${o.quantity}`)).toEqual(['BUY 100', 'BUY 100', 'BUY 50', 'SELL 250', 'SELL 100']);
    expect(positions(r.fills)).toEqual([100, 200, 250, 0, -100]);
    expect(r.openPositions).toEqual([{ instrument: 'SPY', quantity: -100, averagePrice: 100, lastPrice: 100 }]);
  });

  it('invertSignals trades the other way; without shorting a sell signal only closes', async () => {
    const inverted = await run(signals, { values: [-0.5, -0.5, 0.5] }, flat(5), { ...sizes, defaults: { ...sizes.defaults, invertSignals: true } });
    expect(positions(inverted.fills)).toEqual([100, 200, 0]);
    const longOnly = await run(signals, { values: [-0.5, 0.5, -0.5, -0.5] }, flat(6), sizes, false);
    expect(positions(longOnly.fills)).toEqual([100, 0]);
    expect(longOnly.orders.filter((o) => o.status === 'REJECTED')).toEqual([]);
  });

  it('without trading rules ctx.signal is a ConfigError naming what to configure', async () => {
    await expect(run(signals, { values: [1] }, flat(3))).rejects.toThrow(ConfigError);
    await expect(run(signals, { values: [1] }, flat(3))).rejects.toThrow(/ctx\.signal needs trading rules/);
  });

  it('prices limit orders from the last quote and keeps one order working', async () => {
    const quote = { bid: 99.9, ask: 100.2 };
    const kernel = new Kernel({
      environment: 'backtest',
      clock: new SimulatedClock(T0 - MIN),
      dataClient: data(flat(6, 100)),
      executionClient: new SimulatedVenue({ fill: 'next-open', commission: noCommission() }),
      startingCash: 1_000_000,
      trading: { rules: { defaults: { unitSize: 100, maxPosition: 300, spread: 'offset', offsetTicks: 2 }, symbols: { SPY: {} } }, quotes: () => quote },
    });
    // the bars trade at 100 and never reach the bid + 2 ticks buy limit (99.92): it rests
    kernel.addStrategy(signals, { params: { values: [1, 1, 1, -1] }, subscriptions: [{ instrument: 'SPY', interval: '1m' }] });
    const seen: number[] = [];
    kernel.bus.subscribe('order.event', (e) => {
      if (e.type === 'modified') seen.push(e.order.limitPrice);
    });
    const prices = [99.9, 99.95, 99.97];
    kernel.bus.subscribe('data.bar', () => {
      const p = prices.shift();
      if (p !== undefined) quote.bid = p;
    });
    await kernel.run();
    const orders = [...kernel.orders.all()];
    // one order: the next two signals re-price it at the new bid + 2 ticks; the sell signal cancels it
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ side: 'BUY', type: 'LIMIT', quantity: 100, limitPrice: 99.99, status: 'CANCELLED' });
    expect(seen).toEqual([99.97, 99.99]);
    expect(kernel.trading!.signals).toMatchObject({ submitted: 1, repriced: 2, cancelled: 1 });
  });
});

describe('exits protect every position', () => {
  it('a trailing stop closes a position the strategy opened with its own order, as that strategy', async () => {
    // bought at the open of bar 2 (100); the peak close is 110 (bar 5); the 5 % trailing stop is
    // then 104.5, first reached by the close of bar 7 (104); the exit fills at bar 8's open (104)
    const closes = [100, 100, 100, 104, 108, 110, 106, 104, 103, 103];
    const r = await run(buyer, { at: 1, size: 100 }, closes, { defaults: { stop: 'trailing', stopLossPct: 5 }, symbols: {} });
    expect(r.orders.map((o) => [owner(o.clientOrderId), o.side, o.quantity, o.tag])).toEqual([
      ['buyer', 'BUY', 100, ''],
      ['buyer', 'SELL', 100, 'exit:trailing-stop'],
    ]);
    expect(r.orders[1]!.createdAt).toBe(T0 + 8 * MIN);
    expect(r.fills.map((f) => f.price)).toEqual([100, 104]);
    expect(r.openPositions).toEqual([]);
  });

  it('a static stop stays at the entry price minus stopLossPct', async () => {
    // entry 100, stop 98: the rise to 110 does not move it; the close of 97.5 (bar 7) does
    const closes = [100, 100, 100, 105, 110, 104, 99, 97.5, 97, 97];
    const r = await run(buyer, { at: 1, size: 100 }, closes, { defaults: { stopLossPct: 2 }, symbols: {} });
    expect(r.orders.map((o) => o.tag)).toEqual(['', 'exit:stop-loss']);
    expect(r.orders[1]!.createdAt).toBe(T0 + 8 * MIN);
  });

  it('take-profit at entry plus takeProfitPct', async () => {
    const closes = [100, 100, 100, 101, 102.9, 103, 104, 104];
    const r = await run(buyer, { at: 1, size: 100 }, closes, { defaults: { takeProfitPct: 3 }, symbols: {} });
    expect(r.orders.map((o) => o.tag)).toEqual(['', 'exit:take-profit']);
    // the close of bar 5 (103) reaches 100 x 1.03
    expect(r.orders[1]!.createdAt).toBe(T0 + 6 * MIN);
    expect(r.fills[1]!.price).toBe(103);
  });

  it('max hold: a timer closes the position at the deadline, not at the next bar', async () => {
    // the entry fills at bar 2's open, known at that bar's close (T0 + 3 min): the position's
    // age counts from there; the deadline 7.5 minutes later falls between bars
    const r = await run(buyer, { at: 1, size: 100 }, flat(14), { defaults: { maxHoldMinutes: 7.5 }, symbols: {} });
    expect(r.fills[0]!.ts).toBe(T0 + 3 * MIN);
    expect(r.orders.map((o) => o.tag)).toEqual(['', 'exit:max-hold']);
    expect(r.orders[1]!.createdAt).toBe(T0 + 3 * MIN + 7.5 * MIN);
    // filled at the open of the next bar (bar 11, T0 + 11 min), known at its close
    expect(r.fills[1]!.ts).toBe(T0 + 12 * MIN);
  });

  it('exits also protect positions opened by signals', async () => {
    const closes = [100, 100, 100, 96, 95, 95];
    const r = await run(signals, { values: [1] }, closes, { defaults: { unitSize: 10, maxPosition: 10, stopLossPct: 3 }, symbols: {} });
    expect(r.orders.map((o) => [owner(o.clientOrderId), o.side, o.tag])).toEqual([
      ['signals', 'BUY', 'signal'],
      ['signals', 'SELL', 'exit:stop-loss'],
    ]);
  });
});

describe('an exit and a signal on the same bar close the position once', () => {
  // bought 100 at bar 1's open (100); bar 3 closes at 90: the 5 % stop fires AND the strategy
  // sends a sell signal on that bar. Both used to size on the held +100: SELL 100 twice -> -100.
  const rules: TradingRules = { defaults: { unitSize: 100, maxPosition: 100, stopLossPct: 5 }, symbols: {} };
  const closes = [100, 100, 100, 90, 90, 90];
  for (const allowShort of [false, true]) {
    it(`exit first, then the signal holds (allowShort ${allowShort})`, async () => {
      const r = await run(signals, { values: [1, 0, 0, -1] }, closes, rules, allowShort);
      expect(r.orders.map((o) => `${o.side} ${o.quantity} ${o.tag} ${o.status}`)).toEqual(['BUY 100 signal FILLED', 'SELL 100 exit:stop-loss FILLED']);
      expect(positions(r.fills)).toEqual([100, 0]);
      expect(r.openPositions).toEqual([]);
    });
  }

  it('the exit closes only what closing orders already working do not cover', async () => {
    const kernel = new Kernel({
      environment: 'backtest',
      clock: new SimulatedClock(T0 - MIN),
      dataClient: data(closes),
      executionClient: new SimulatedVenue({ fill: 'next-open', commission: noCommission() }),
      startingCash: 1_000_000,
      risk: { allowShort: false },
      trading: { rules },
    });
    // buys 100 on bar 0, then rests a SELL 60 limit far above (150) from bar 2: it is working
    // when the stop fires at bar 3's close (90 < 95)
    const seller = defineStrategy({
      name: 'seller',
      version: '0.1.0',
      description: 'a buy, then a resting sell limit',
      params: z.object({}),
      create: (ctx) => {
        let k = 0;
        return {
          onBar(bar) {
            if (k === 0) ctx.submit(ctx.orders.market(bar.instrument, 'BUY', 100));
            if (k === 2) ctx.submit(ctx.orders.limit(bar.instrument, 'SELL', 60, 150));
            k++;
          },
        };
      },
    });
    kernel.addStrategy(seller, { subscriptions: [{ instrument: 'SPY', interval: '1m' }] });
    await kernel.run();
    const orders = [...kernel.orders.all()];
    expect(orders.map((o) => `${o.side} ${o.quantity} ${o.tag}`)).toEqual(['BUY 100 ', 'SELL 60 ', 'SELL 40 exit:stop-loss']);
    expect(orders[2]!.status).toBe('FILLED');
    // the 60 the limit would sell stay held: the exit did not sell them a second time
    expect(kernel.portfolio.quantityAt(0)).toBe(60);
  });
});

describe('without exit rules the backtest is unchanged', () => {
  it('sma-cross with sizes-only rules gives the same orders, fills and value as without rules', async () => {
    const closes = Array.from({ length: 300 }, (_, i) => 100 + 5 * Math.sin(i / 9) + 2 * Math.sin(i / 3.7));
    const base = { strategy: smaCross, params: { fast: 3, slow: 8, size: 10 }, subscriptions: [{ instrument: 'SPY', interval: '1m' as const }], cash: 100_000, fill: 'next-open' as const };
    const plain = await runBacktest({ ...base, data: data(closes) });
    const ruled = await runBacktest({ ...base, data: data(closes), trading: { defaults: { unitSize: 10, maxPosition: 10 }, symbols: {} } });
    expect(plain.orders.length).toBeGreaterThan(10);
    expect(ruled.orders).toEqual(plain.orders);
    expect(ruled.fills).toEqual(plain.fills);
    expect(ruled.finalValue).toBe(plain.finalValue);
    // the rules are part of the run's identity
    expect(ruled.configHash).not.toBe(plain.configHash);
  });
});
