import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { noCommission } from '../backtest/commission.js';
import { MemoryDataClient } from '../backtest/memory-data-client.js';
import { SimulatedVenue } from '../backtest/sim-venue.js';
import { stockSpec } from '../data/instrument.js';
import { SimulatedClock } from '../engine/clock.js';
import { Kernel } from '../engine/kernel.js';
import { defineStrategy } from '../engine/strategy.js';
import { Store } from '../store/store.js';
import { Journal, readJournal } from './journal.js';
import { JournalObserver } from './journal-observer.js';
import { recover } from './recovery.js';

const MIN = 60_000;
const T0 = Date.UTC(2013, 9, 7, 14, 0); // 10:00 New York
const N = 60;

function series() {
  const ts = new Float64Array(N);
  const open = new Float64Array(N);
  const high = new Float64Array(N);
  const low = new Float64Array(N);
  const close = new Float64Array(N);
  const volume = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const p = 100 + Math.sin(i / 5) * 2 + i * 0.05;
    ts[i] = T0 + i * MIN;
    open[i] = p;
    high[i] = p + 0.5;
    low[i] = p - 0.5;
    close[i] = p + 0.1;
    // 10 shares a bar at 50% participation: the 10-share buy fills in two parts
    volume[i] = 10;
  }
  return [{ instrument: stockSpec('SPY'), interval: '1m' as const, bars: { length: N, ts, open, high, low, close, volume } }];
}

/** Buys 10 on bar 5, rests a far limit sell on bar 20 (never fills), sells 3 at market on bar 30 */
const probe = defineStrategy({
  name: 'probe',
  version: '0.1.0',
  description: 'trades on fixed bars and keeps state',
  params: z.object({}),
  create: (ctx) => {
    let n = 0;
    return {
      onBar(bar) {
        n++;
        ctx.state.set('bars', n);
        if (n === 5) ctx.submit(ctx.orders.market(bar.instrument, 'BUY', 10));
        if (n === 20) ctx.submit(ctx.orders.limit(bar.instrument, 'SELL', 4, 500));
        if (n === 30) ctx.submit(ctx.orders.market(bar.instrument, 'SELL', 3));
      },
      onFill(f) {
        ctx.state.set('fills', (ctx.state.get<number>('fills') ?? 0) + 1);
        ctx.state.set('lastFill', { side: f.side, quantity: f.quantity });
      },
    };
  },
});

let store: Store;
beforeEach(async () => {
  store = await Store.open(':memory:');
});
afterEach(() => store.close());

function kernel(): Kernel {
  return new Kernel({
    environment: 'backtest',
    clock: new SimulatedClock(T0 - MIN),
    dataClient: new MemoryDataClient(series()),
    executionClient: new SimulatedVenue({ fill: 'next-open', commission: noCommission(), participationRate: 0.5 }),
    startingCash: 100_000,
  });
}

describe('JournalObserver', () => {
  it('journals order events, fills (before their event) and snapshots; recovery matches the engine', async () => {
    const k = kernel();
    const journal = await Journal.open(store, { runId: 'obs', mode: 'backtest', strategy: 'probe', strategyVersion: '0.1.0', configHash: 'h' }, { clock: () => k.now() });
    const observer = JournalObserver.attach(k, journal, { snapshotEveryMs: 15 * MIN });
    const runtime = k.addStrategy(probe, { subscriptions: [{ instrument: 'SPY', interval: '1m' }] });
    await k.run();
    await journal.flush();

    const rows = await readJournal(store, 'obs');
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    expect(observer.records).toBe(rows.length);

    const fills = rows.filter((r) => r.kind === 'fill');
    expect(fills.map((f) => [f.clientOrderId, (f.payload as { side: string }).side, (f.payload as { quantity: number }).quantity])).toEqual([
      ['probe-1', 'BUY', 5],
      ['probe-1', 'BUY', 5],
      ['probe-3', 'SELL', 3],
    ]);
    // every fill is journaled once, just before the event that carries it
    for (const f of fills) {
      const next = rows[f.seq]!; // seq is 1-based: rows[seq] is the record after it
      expect(next.kind).toBe('order_event');
      expect((next.payload as { executionId: string }).executionId).toBe((f.payload as { executionId: string }).executionId);
    }
    const events = rows.filter((r) => r.kind === 'order_event').map((r) => `${r.clientOrderId}:${(r.payload as { type: string }).type}`);
    expect(events).toEqual([
      'probe-1:submitted',
      'probe-1:accepted',
      'probe-1:partially_filled',
      'probe-1:filled',
      'probe-2:submitted',
      'probe-2:accepted',
      'probe-3:submitted',
      'probe-3:accepted',
      'probe-3:filled',
    ]);
    const snapshots = rows.filter((r) => r.kind === 'snapshot');
    // after each fill (right after its event), periodically (any snapshot restarts the period), at the day end
    for (const f of fills) expect(rows[f.seq + 1]!.kind).toBe('snapshot');
    expect(snapshots.length).toBeGreaterThanOrEqual(3 + 2 + 1);
    expect(rows.at(-1)!.kind).toBe('snapshot');

    const r = await recover(store, 'obs');
    expect(r.contiguous).toBe(true);
    expect(r.positions).toEqual({ SPY: { quantity: 7, avgPrice: k.portfolio.averagePrice('SPY') } });
    expect(r.lastSnapshot!.state.positions).toEqual(r.positions);
    expect(r.lastSnapshot!.state.cash).toBeCloseTo(k.portfolio.cash(), 9);
    expect(r.strategyState).toEqual({ probe: Object.fromEntries(runtime.context.state.entries()) });
    expect(r.strategyState['probe']).toMatchObject({ bars: N, fills: 3, lastFill: { side: 'SELL', quantity: 3 } });
    expect(r.openOrders.map((o) => [o.clientOrderId, o.status, o.side, o.quantity])).toEqual([['probe-2', 'ACCEPTED', 'SELL', 4]]);
    expect(r.unconfirmed).toEqual([]);
    expect(r.orders.get('probe-1')).toMatchObject({ state: 'closed', status: 'FILLED', filledQuantity: 10 });
    expect(r.fillsSeen.size).toBe(3);
    expect(r.duplicateFills).toBe(0);
    await journal.close('end of data');
  });

  it('detach stops journaling; a refused append goes to onError instead of into the engine', async () => {
    const k = kernel();
    const journal = await Journal.open(store, { runId: 'obs2', mode: 'backtest', strategy: 'probe', strategyVersion: '0.1.0', configHash: 'h' });
    const errors: unknown[] = [];
    const observer = JournalObserver.attach(k, journal, { onError: (e) => errors.push(e), snapshotEveryMs: 0 });
    k.addStrategy(probe, { subscriptions: [{ instrument: 'SPY', interval: '1m' }] });
    await journal.close('closed early');
    await k.run();
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({ code: 'JOURNAL_CLOSED' });
    observer.detach();
    const count = errors.length;
    observer.snapshot();
    expect(errors.length).toBe(count + 1); // an explicit snapshot still tries (and reports)
    expect(await readJournal(store, 'obs2')).toEqual([]);
  });
});
