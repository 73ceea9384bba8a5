import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SimulatedClock } from '../../lib/engine/clock.js';
import { Kernel } from '../../lib/engine/kernel.js';
import { defineStrategy, type StrategyContext } from '../../lib/engine/strategy.js';
import { StoreDataClient } from '../../lib/backtest/store-data-client.js';
import { SimulatedVenue } from '../../lib/backtest/sim-venue.js';
import { noCommission } from '../../lib/backtest/commission.js';
import { importFiles } from '../../lib/ingest/import-files.js';
import { Store } from '../../lib/store/store.js';
import type { Bar } from '../../lib/model/market.js';
import type { OrderEvent } from '../../lib/model/order-events.js';

// Real LEAN minute and daily bars: SPY/IBM/AIG minute trades 2013-10-07..11 and SPY daily
let store: Store;
beforeAll(async () => {
  store = await Store.open(':memory:');
  await importFiles(store, [
    'data/lean/equity/usa/minute/spy',
    'data/lean/equity/usa/minute/ibm',
    'data/lean/equity/usa/minute/aig',
    'data/lean/equity/usa/daily/spy.csv',
  ]);
});
afterAll(() => store.close());

function kernelOn(from: number, to: number) {
  return new Kernel({
    environment: 'backtest',
    clock: new SimulatedClock(from),
    dataClient: new StoreDataClient(store, { until: to }),
    executionClient: new SimulatedVenue({ fill: 'next-open', commission: noCommission() }),
    startingCash: 1_000_000,
  });
}

type Seen = { instrument: string; interval: string; ts: number; closeTime: number; now: number; historyLatest: number };

function recorder(onBar?: (ctx: StrategyContext, bar: Readonly<Bar>) => void) {
  const seen: Seen[] = [];
  const events: OrderEvent[] = [];
  const def = defineStrategy({
    name: 'probe',
    version: '0.0.0',
    description: 'records what it sees',
    params: z.object({}),
    create: (ctx) => ({
      onBar(bar) {
        const w = ctx.history(bar.instrument, bar.interval, bar.kind);
        seen.push({ instrument: bar.instrument, interval: bar.interval, ts: bar.ts, closeTime: bar.closeTime, now: ctx.now(), historyLatest: w.ts(0) });
        onBar?.(ctx, bar);
      },
      onOrderEvent: (e) => void events.push(e),
    }),
  });
  return { def, seen, events };
}

/** Bars whose close (start + 1 minute) lies in (from, to], counted by SQL independently of the engine */
async function minuteBarsClosingIn(symbol: string, from: number, to: number): Promise<number> {
  const rows = await store.all<{ n: number }>(
    `SELECT CAST(count(*) AS INTEGER) AS n FROM bars JOIN instruments USING (instrument_id)
     WHERE key = $1 AND interval = '1m' AND kind = 'trade' AND epoch_ms(ts) + 60000 > $2 AND epoch_ms(ts) + 60000 <= $3`,
    [symbol, from, to],
  );
  return rows[0]!.n;
}

const T0 = Date.UTC(2013, 9, 7, 13, 30);
const T1 = Date.UTC(2013, 9, 8, 21, 0);

describe('Kernel event ordering', () => {
  it('delivers bars of many instruments and intervals in time order, each at its close, with no lookahead', async () => {
    const k = kernelOn(T0, T1);
    const { def, seen } = recorder();
    k.addStrategy(def, {
      subscriptions: [
        { instrument: 'SPY', interval: '1m' },
        { instrument: 'IBM', interval: '1m' },
        { instrument: 'SPY', interval: '1d' },
      ],
    });
    await k.run(T1);
    // LEAN minute files include extended hours; the daily bars of 10-07 and 10-08
    expect(seen.length).toBe((await minuteBarsClosingIn('SPY', T0, T1)) + (await minuteBarsClosingIn('IBM', T0, T1)) + 2);
    for (let i = 0; i < seen.length; i++) {
      const s = seen[i]!;
      expect(s.closeTime).toBe(s.now);
      expect(s.historyLatest).toBe(s.ts);
      if (i > 0) expect(s.now).toBeGreaterThanOrEqual(seen[i - 1]!.now);
    }
    // the daily bar of 2013-10-07 arrives at that session's close, after the 15:59 minute bars
    const daily = seen.findIndex((s) => s.interval === '1d');
    expect(new Date(seen[daily]!.now).toISOString()).toBe('2013-10-07T20:00:00.000Z');
    expect(seen[daily - 1]!.interval).toBe('1m');
    expect(seen[daily - 1]!.closeTime).toBe(seen[daily]!.closeTime);
    expect(k.eventCount).toBe(seen.length);
  });
});

describe('Kernel subscriptions at run time', () => {
  it('adds a symbol mid-run with history up to now and merges its bars without disturbing the others', async () => {
    const base = recorder();
    const kBase = kernelOn(T0, T1);
    kBase.addStrategy(base.def, { subscriptions: [{ instrument: 'SPY', interval: '1m' }] });
    await kBase.run(T1);

    const addAt = Date.UTC(2013, 9, 7, 15, 0);
    let historyAtAdd: number[] = [];
    const k = kernelOn(T0, T1);
    const withAdd = recorder((ctx, bar) => {
      if (bar.instrument === 'SPY' && bar.closeTime === addAt) ctx.subscribe({ instrument: 'IBM', interval: '1m', history: 30 });
      if (bar.instrument === 'IBM' && historyAtAdd.length === 0) historyAtAdd = Array.from(ctx.history('IBM').column('ts'));
    });
    k.addStrategy(withAdd.def, { subscriptions: [{ instrument: 'SPY', interval: '1m' }] });
    await k.run(T1);

    const spy = withAdd.seen.filter((s) => s.instrument === 'SPY');
    expect(spy).toEqual(base.seen);
    const ibm = withAdd.seen.filter((s) => s.instrument === 'IBM');
    expect(ibm[0]!.closeTime).toBe(addAt + 60_000);
    expect(ibm.length).toBe(await minuteBarsClosingIn('IBM', addAt, T1));
    // 30 bars of warm-up ending with the bar that closed at the moment of the add, then the first live bar
    expect(historyAtAdd.length).toBe(30);
    expect(historyAtAdd[28]! + 60_000).toBe(addAt);
    for (let i = 1; i < withAdd.seen.length; i++) expect(withAdd.seen[i]!.now).toBeGreaterThanOrEqual(withAdd.seen[i - 1]!.now);
  });

  it('removes a symbol immediately: its bars stop, its working orders are cancelled as events', async () => {
    const removeAt = Date.UTC(2013, 9, 7, 15, 0);
    const k = kernelOn(T0, T1);
    const probe = recorder((ctx, bar) => {
      if (bar.instrument === 'IBM' && bar.closeTime === removeAt - 60_000) ctx.submit(ctx.orders.limit('IBM', 'BUY', 10, 1));
      if (bar.instrument === 'SPY' && bar.closeTime === removeAt) ctx.unsubscribe('IBM', 'immediate');
    });
    k.addStrategy(probe.def, { subscriptions: [{ instrument: 'SPY', interval: '1m' }, { instrument: 'IBM', interval: '1m' }] });
    await k.run(T1);
    const ibm = probe.seen.filter((s) => s.instrument === 'IBM');
    expect(Math.max(...ibm.map((s) => s.closeTime))).toBeLessThanOrEqual(removeAt);
    expect(probe.events.map((e) => e.type)).toEqual(['submitted', 'accepted', 'pending_cancel', 'cancelled']);
  });

  it('removes a symbol gracefully: data keeps flowing until the position is closed', async () => {
    const k = kernelOn(T0, T1);
    const leaveAt = Date.UTC(2013, 9, 7, 15, 0);
    const exitAt = Date.UTC(2013, 9, 7, 16, 0);
    const probe = recorder((ctx, bar) => {
      if (bar.instrument !== 'IBM') return;
      if (bar.closeTime === leaveAt - 60_000) ctx.submit(ctx.orders.market('IBM', 'BUY', 10));
      if (bar.closeTime === leaveAt) ctx.unsubscribe('IBM', 'graceful');
      if (bar.closeTime === exitAt) ctx.submit(ctx.orders.market('IBM', 'SELL', 10));
    });
    k.addStrategy(probe.def, { subscriptions: [{ instrument: 'IBM', interval: '1m' }] });
    await k.run(T1);
    const last = probe.seen[probe.seen.length - 1]!;
    // the sell fills at the next bar's open; that bar is the last one delivered
    expect(last.closeTime).toBe(exitAt + 60_000);
    expect(k.portfolio.position('IBM')).toBe(0);
  });
});

describe('Kernel order flow', () => {
  it('turns a risk denial into a rejected event, not an exception', async () => {
    const k = new Kernel({
      environment: 'backtest',
      clock: new SimulatedClock(T0),
      dataClient: new StoreDataClient(store, { until: T0 + 10 * 60_000 }),
      executionClient: new SimulatedVenue({ fill: 'next-open', commission: noCommission() }),
      startingCash: 1_000_000,
      risk: { maxOrderQuantity: 100 },
    });
    const probe = recorder((ctx, bar) => {
      if (bar.closeTime === T0 + 60_000) ctx.submit(ctx.orders.market('SPY', 'BUY', 1000));
    });
    k.addStrategy(probe.def, { subscriptions: [{ instrument: 'SPY', interval: '1m' }] });
    await k.run(T0 + 10 * 60_000);
    expect(probe.events).toHaveLength(1);
    expect(probe.events[0]!.type).toBe('rejected');
    expect(probe.events[0]!.reason).toMatch(/maxOrderQuantity 100/);
  });

  it('fires timers in time order between bars with the clock at the timer time', async () => {
    const fired: [string, number, number][] = [];
    const def = defineStrategy({
      name: 'timers',
      version: '0.0.0',
      description: '',
      params: z.object({}),
      create: (ctx) => ({
        onStart: () => {
          ctx.setTimer('every-15m', T0 + 15 * 60_000, 15 * 60_000);
          ctx.setTimer('once', T0 + 20 * 60_000 + 30_000);
        },
        onTimer: (name, ts) => void fired.push([name, ts, ctx.now()]),
      }),
    });
    const k = kernelOn(T0, T0 + 60 * 60_000);
    k.addStrategy(def, { subscriptions: [{ instrument: 'SPY', interval: '1m' }] });
    await k.run(T0 + 60 * 60_000);
    expect(fired.map(([n, ts]) => [n, (ts - T0) / 60_000])).toEqual([
      ['every-15m', 15],
      ['once', 20.5],
      ['every-15m', 30],
      ['every-15m', 45],
      ['every-15m', 60],
    ]);
    for (const [, ts, now] of fired) expect(now).toBe(ts);
  });
});
