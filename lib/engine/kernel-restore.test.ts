/**
 * A resumed live run's start: Kernel.restore seeds positions and cash and adopts an order of the
 * previous process without sending it; fills reported for it before run() reach the portfolio at
 * once (applyPendingReports) and the strategy once, after its onStart; strategy state comes back
 * through addStrategy; new orders carry the process's client order id prefix.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { stockSpec, type InstrumentSpec } from '../data/instrument.js';
import type { ExecutionReport, Fill } from '../model/order-events.js';
import type { Order } from '../model/orders.js';
import { Kernel } from './kernel.js';
import { PushDataClient } from './live-data-client.js';
import { LiveFeed } from './live-feed.js';
import { ManualTime } from './manual-time.js';
import type { ExecutionClient, ExecutionReportSink } from './ports.js';
import { defineStrategy } from './strategy.js';

class FakeVenue implements ExecutionClient {
  readonly name = 'fake';
  sink: ExecutionReportSink = () => undefined;
  readonly submitted: string[] = [];
  attach(sink: ExecutionReportSink): void {
    this.sink = sink;
  }
  submit(order: Readonly<Order>, _spec: InstrumentSpec): void {
    this.submitted.push(order.clientOrderId);
  }
  modify(): void {}
  cancel(): void {}
}

describe('Kernel.restore', () => {
  it('seeds positions and cash, adopts an order without sending it, applies its recovered fill once', async () => {
    const time = new ManualTime(Date.UTC(2013, 9, 8, 15));
    const feed = new LiveFeed({ clock: time, scheduler: time });
    const venue = new FakeVenue();
    const unknown = new Set(['XYZ']);
    const data = new PushDataClient({
      feed,
      resolve: async (i) => {
        if (unknown.has(i)) throw new Error(`no contract for ${i}`);
        return stockSpec(i);
      },
    });
    const kernel = new Kernel({ environment: 'paper', clock: time, dataClient: data, executionClient: venue, startingCash: 1_000_000, liveFeed: feed, clientOrderIdPrefix: 'a1b2c3.1' });
    const seen: { atStart?: { position: number; cash: number; open: string[]; state: unknown }; fills: Fill[]; events: string[] } = { fills: [], events: [] };
    const probe = defineStrategy({
      name: 'probe',
      version: '1',
      description: '',
      params: z.object({}),
      create: (ctx) => ({
        onStart() {
          seen.atStart = { position: ctx.portfolio.position('SPY'), cash: ctx.portfolio.cash(), open: ctx.openOrders().map((o) => o.clientOrderId), state: ctx.state.get('crosses') };
          ctx.submit(ctx.orders.market('SPY', 'SELL', 10));
        },
        onOrderEvent: (e) => seen.events.push(`${e.order.clientOrderId} ${e.type}`),
        onFill: (f) => seen.fills.push(f),
      }),
    });
    kernel.addStrategy(probe, { subscriptions: [{ instrument: 'SPY', interval: '1m' }], state: { crosses: 7 } });

    const restored = await kernel.restore({
      positions: { SPY: { quantity: 100, avgPrice: 150 }, XYZ: { quantity: 5, avgPrice: 1 } },
      cash: 985_000,
      orders: [
        {
          clientOrderId: 'probe-ffffff.0-3',
          strategyId: 'probe',
          request: { instrument: 'SPY', side: 'BUY', type: 'LIMIT', quantity: 50, limitPrice: 151, tif: 'DAY' },
          status: 'SUBMITTED',
          filledQuantity: 0,
          avgFillPrice: NaN,
          createdAt: time.now(),
        },
      ],
    });
    expect(restored.unresolved).toEqual(['XYZ: no contract for XYZ']);
    const [adopted] = restored.orders;
    expect(adopted).toMatchObject({ id: 1, clientOrderId: 'probe-ffffff.0-3', status: 'SUBMITTED', limitPrice: 151, quantity: 50 });
    expect(venue.submitted).toEqual([]);
    expect(kernel.portfolio.position('SPY')).toBe(100);
    expect(kernel.portfolio.averagePrice('SPY')).toBe(150);
    expect(kernel.portfolio.cash()).toBe(985_000);
    // marked at its average cost until the first price: equity is cash + 100 x 150
    expect(kernel.portfolio.equity()).toBe(1_000_000);

    // the broker reports the adopted order filled (a reconciliation before run())
    const fill: ExecutionReport = { type: 'filled', orderId: 1, ts: time.now(), quantity: 50, price: 151, commission: 1, executionId: 'x1', liquidity: 'taker' };
    venue.sink({ type: 'accepted', orderId: 1, ts: time.now() });
    venue.sink(fill);
    expect(kernel.portfolio.position('SPY')).toBe(100); // queued until applied
    kernel.applyPendingReports();
    // 150 avg on 100, 50 more at 151: (15000 + 7550) / 150; cash 985000 - 7550 - 1
    expect(kernel.portfolio.position('SPY')).toBe(150);
    expect(kernel.portfolio.averagePrice('SPY')).toBeCloseTo(22_550 / 150, 12);
    expect(kernel.portfolio.cash()).toBe(977_449);
    expect(adopted!.status).toBe('FILLED');
    expect(seen.events).toEqual([]); // strategies hear it after onStart

    kernel.requestStop();
    await kernel.run();
    expect(seen.atStart).toEqual({ position: 150, cash: 977_449, open: [], state: 7 });
    expect(seen.fills.map((f) => [f.clientOrderId, f.executionId, f.quantity])).toEqual([['probe-ffffff.0-3', 'x1', 50]]);
    expect(seen.events.slice(0, 2)).toEqual(['probe-ffffff.0-3 accepted', 'probe-ffffff.0-3 filled']);
    // a new decision gets the next engine id with this process's prefix
    expect(venue.submitted).toEqual(['probe-a1b2c3.1-2']);
    await expect(kernel.restore({})).rejects.toThrow(/after run/);
  });
});
