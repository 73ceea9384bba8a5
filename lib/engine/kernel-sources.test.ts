/**
 * The kernel's merging of extra sources (signals), held async work, awaitable subscriptions, and
 * two heap regressions (a pull source out of loaded data; a removal while the dispatched source was
 * out of place).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryDataClient } from '../backtest/memory-data-client.js';
import { runBacktest } from '../backtest/run-backtest.js';
import { SimulatedVenue } from '../backtest/sim-venue.js';
import { noCommission } from '../backtest/commission.js';
import { stockSpec } from '../data/instrument.js';
import type { Bar } from '../model/market.js';
import { MemorySignalProvider } from '../signals/memory-provider.js';
import type { RoutedSignal, Signal } from '../signals/signal.js';
import { ProviderSignalSource, PushSignalSource } from '../signals/signal-source.js';
import { memoryData, minuteBars, MIN, OPEN, sig } from '../universe/universe-fixtures.js';
import { SimulatedClock } from './clock.js';
import { Kernel } from './kernel.js';
import { PushDataClient } from './live-data-client.js';
import { LiveFeed } from './live-feed.js';
import { ManualTime } from './manual-time.js';
import { defineStrategy, type Strategy, type StrategyContext } from './strategy.js';
import type { StrategyRuntime } from './strategy-runtime.js';

function probe(create: (ctx: StrategyContext) => Strategy, name = 'probe') {
  return defineStrategy({ name, version: '0.0.0', description: '', params: z.object({}), create });
}

function backtestKernel(data: MemoryDataClient, start = OPEN): Kernel {
  return new Kernel({ environment: 'backtest', clock: new SimulatedClock(start), dataClient: data, executionClient: new SimulatedVenue({ fill: 'next-open', commission: noCommission() }), startingCash: 1e6 });
}

/** Bars and signals in the order a strategy saw them, with the clock at each */
function recorder(out: string[]) {
  return (ctx: StrategyContext): Strategy => ({
    onBar: (b: Readonly<Bar>) => void out.push(`${(b.closeTime - OPEN) / MIN} bar ${b.instrument} @${(ctx.now() - OPEN) / MIN}`),
    onSignal: (s: Readonly<RoutedSignal>) => void out.push(`${(s.availableAt - OPEN) / MIN} signal ${s.symbol} @${(ctx.now() - OPEN) / MIN}`),
  });
}

describe('kernel sources', () => {
  it('merges a signal stream in time order, a signal after the bars closing at its time', async () => {
    const kernel = backtestKernel(memoryData(['AAA', 'BBB'], 4));
    const seen: string[] = [];
    const runtime = kernel.addStrategy(probe(recorder(seen)), { subscriptions: [{ instrument: 'AAA', interval: '1m' }, { instrument: 'BBB', interval: '1m' }] });
    const signals = new MemorySignalProvider([sig('BBB', 1, 0.5, 1), sig('AAA', 0, -1, 1), sig('AAA', 3, 1, 5)]);
    // chunk of 1: every signal is a refill, which must come before anything later
    const source = new ProviderSignalSource({ provider: signals, after: OPEN, until: Infinity, chunkSize: 1, onSignal: (s) => kernel.deliverSignal({ ...s, instrument: s.symbol }, runtime) });
    kernel.addSource(source);
    await kernel.run();
    expect(seen).toEqual([
      '1 bar AAA @1',
      '1 bar BBB @1',
      '1 signal AAA @1',
      '2 bar AAA @2',
      '2 bar BBB @2',
      '2 signal BBB @2',
      '3 bar AAA @3',
      '3 bar BBB @3',
      '4 bar AAA @4',
      '4 bar BBB @4',
      // published at minute 8, after the last bar: time moves on to it
      '8 signal AAA @8',
    ]);
    expect(source.dispatched).toBe(3);
  });

  it('delivers every bar in time order across chunk boundaries of pull sources (regression: a source out of loaded data sank in the heap)', async () => {
    const data = new MemoryDataClient(['AAA', 'BBB'].map((s) => ({ instrument: stockSpec(s), interval: '1m' as const, bars: minuteBars(s, 100) })), { chunkSize: 16 });
    const closes: number[] = [];
    await runBacktest({
      strategy: probe(() => ({ onBar: (b) => void closes.push(b.closeTime) })),
      data,
      cash: 1e6,
      subscriptions: [{ instrument: 'AAA', interval: '1m' }, { instrument: 'BBB', interval: '1m' }],
    });
    expect(closes).toHaveLength(200);
    expect(closes.every((t, i) => i === 0 || t >= closes[i - 1]!)).toBe(true);
  });

  it('keeps bars in time and subscription order when a strategy drops another instrument mid-run (regression: the removal lifted a source over the dispatched one)', async () => {
    const symbols = ['A1', 'A2', 'A3', 'A4', 'A5', 'A6'];
    const seen: [string, number, number][] = [];
    await runBacktest({
      strategy: probe((ctx) => ({
        onBar(b) {
          seen.push([b.instrument, b.closeTime, ctx.now()]);
          if (b.instrument === 'A6' && b.closeTime === OPEN + 5 * MIN) ctx.unsubscribe('A2', 'immediate');
        },
      })),
      data: memoryData(symbols, 20),
      cash: 1e6,
      subscriptions: symbols.map((instrument) => ({ instrument, interval: '1m' as const })),
    });
    // a bar is never dispatched after the clock moved past its close, and bars closing together
    // come in subscription order
    expect(seen.filter(([, close, now]) => close !== now)).toEqual([]);
    for (let m = 1; m <= 20; m++) {
      const at = seen.filter(([, close]) => close === OPEN + m * MIN).map(([s]) => s);
      expect(at).toEqual(m <= 5 ? symbols : symbols.filter((s) => s !== 'A2'));
    }
  });

  it('holds the run for async work (attaching what it subscribes meanwhile); an attach error rejects only the caller; a failed hold ends the run', async () => {
    const kernel = backtestKernel(memoryData(['AAA', 'BBB'], 10));
    const log: string[] = [];
    let runtime!: StrategyRuntime;
    const def = probe((ctx) => ({
      onBar(b) {
        log.push(`${(b.closeTime - OPEN) / MIN} ${b.instrument}`);
        if (b.instrument !== 'AAA' || b.closeTime !== OPEN + 3 * MIN) return;
        kernel.hold(
          (async () => {
            // a real macrotask: without the hold, bars would run on meanwhile
            await new Promise((r) => setTimeout(r, 20));
            await kernel.attachSubscription(runtime, { instrument: 'BBB', interval: '1m', history: 2 });
            log.push(`BBB attached @${(ctx.now() - OPEN) / MIN} window ${ctx.history('BBB').length}`);
            const e = await kernel.attachSubscription(runtime, { instrument: 'NOPE', interval: '1m' }).catch((x: Error) => x);
            log.push(`NOPE: ${(e as Error).message}`);
          })(),
        );
      },
    }));
    runtime = kernel.addStrategy(def, { subscriptions: [{ instrument: 'AAA', interval: '1m' }] });
    await kernel.run(OPEN + 5 * MIN);
    expect(log).toEqual(['1 AAA', '2 AAA', '3 AAA', 'BBB attached @3 window 2', "NOPE: (memory): no data for instrument 'NOPE'", '4 AAA', '4 BBB', '5 AAA', '5 BBB']);

    const failing = backtestKernel(memoryData(['AAA'], 10));
    failing.addStrategy(probe(() => ({ onBar: () => failing.hold(Promise.reject(new Error('resolver exploded'))) })), { subscriptions: [{ instrument: 'AAA', interval: '1m' }] });
    await expect(failing.run()).rejects.toThrow('resolver exploded');
  });

  it('a hold that fails while the run awaits a subscription still ends the run with its error', async () => {
    // the handler requests a subscription (the run awaits its attach first) and holds work that
    // fails during that attach: once it settles no hold is left, but its error must still surface
    const kernel = backtestKernel(memoryData(['AAA', 'BBB'], 10));
    const seen: number[] = [];
    let runtime!: StrategyRuntime;
    runtime = kernel.addStrategy(
      probe(() => ({
        onBar(b) {
          seen.push((b.closeTime - OPEN) / MIN);
          if (b.instrument !== 'AAA' || b.closeTime !== OPEN + 2 * MIN) return;
          void kernel.attachSubscription(runtime, { instrument: 'BBB', interval: '1m' });
          kernel.hold(Promise.reject(new Error('resolver exploded')));
        },
      })),
      { subscriptions: [{ instrument: 'AAA', interval: '1m' }] },
    );
    await expect(kernel.run()).rejects.toThrow('resolver exploded');
    // no later bar was processed after the failure
    expect(seen).toEqual([1, 2]);
  });

  it('live: signals pushed from outside reach onSignal at their arrival, the kernel waking for them', async () => {
    const time = new ManualTime(OPEN);
    const feed = new LiveFeed({ clock: time, scheduler: time, heartbeatMs: 60_000 });
    const data = new PushDataClient({ feed, resolve: async (i) => stockSpec(i) });
    const kernel = new Kernel({ environment: 'paper', clock: time, dataClient: data, executionClient: new SimulatedVenue({ fill: 'close', commission: noCommission() }), startingCash: 1e6, liveFeed: feed });
    const seen: string[] = [];
    const runtime = kernel.addStrategy(probe(recorder(seen)), { subscriptions: [{ instrument: 'AAA', interval: '1m' }] });
    const push = new PushSignalSource({ clock: time, onSignal: (s: Signal) => kernel.deliverSignal({ ...s, instrument: s.symbol }, runtime), changed: (s, refresh) => kernel.sourceChanged(s, refresh) });
    kernel.addSource(push);
    const run = kernel.run();
    await feed.whenIdle();
    time.set(OPEN + MIN);
    data.handle('AAA', '1m')!.push(OPEN, 10, 11, 9, 10.5, 100);
    await feed.whenIdle();
    // published 30 s ago, polled now; one from the future (producer clock ahead) counts now
    time.set(OPEN + 90_000);
    push.push([{ ts: OPEN, symbol: 'AAA', value: 1, availableAt: OPEN + 60_000 }, { ts: OPEN + 100_000, symbol: 'BBB', value: -1, availableAt: OPEN + 100_000 }]);
    await feed.whenIdle();
    expect(seen).toEqual(['1 bar AAA @1', '1 signal AAA @1.5', '1.6666666666666667 signal BBB @1.5']);
    expect([push.pushed, push.dispatched, push.buffered]).toEqual([2, 2, 0]);
    kernel.requestStop();
    await run;
  });
});
