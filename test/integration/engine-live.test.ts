import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseCommissionModel } from '../../lib/backtest/commission.js';
import { MemoryDataClient } from '../../lib/backtest/memory-data-client.js';
import { ResultsRecorder } from '../../lib/backtest/results-recorder.js';
import { runBacktest } from '../../lib/backtest/run-backtest.js';
import { SimulatedVenue, type FillMode } from '../../lib/backtest/sim-venue.js';
import { StoreDataClient } from '../../lib/backtest/store-data-client.js';
import { ConfigError } from '../../lib/core/errors.js';
import type { BarColumns } from '../../lib/data/bar-series.js';
import { stockSpec, type InstrumentSpec } from '../../lib/data/instrument.js';
import type { SourceQueue } from '../../lib/engine/event-source.js';
import { SimulatedClock } from '../../lib/engine/clock.js';
import { Kernel } from '../../lib/engine/kernel.js';
import { PushDataClient } from '../../lib/engine/live-data-client.js';
import { LiveFeed, type LiveSubscription } from '../../lib/engine/live-feed.js';
import { ManualTime } from '../../lib/engine/manual-time.js';
import { defineStrategy, type Strategy, type StrategyContext } from '../../lib/engine/strategy.js';
import { importFiles } from '../../lib/ingest/import-files.js';
import { loadBars } from '../../lib/store/bar-query.js';
import { Store } from '../../lib/store/store.js';
import { smaCross } from '../../strategies/sma-cross/index.js';

// Real SPY minute trades of 2013-10-08 (LEAN, extended hours 04:00-20:00 New York, so the run also
// crosses the 17:00 trading-day roll), pushed bar by bar at their close times into a live kernel
const MIN = 60_000;
let spy: BarColumns;
let spySpec: InstrumentSpec;
let store: Store;

beforeAll(async () => {
  store = await Store.open(':memory:');
  await importFiles(store, ['data/lean/equity/usa/minute/spy/20131008_spy_minute_trade.csv']);
  spy = (await loadBars(store, { symbols: ['SPY'], interval: '1m' }))[0]!;
  spySpec = await new StoreDataClient(store).resolve('SPY');
});
afterAll(() => store.close());

const PARAMS = { fast: 5, slow: 20, size: 100 };
const CASH = 100_000;
/** Warm-up: the first 30 bars are history, the rest are the run */
const WARM = 30;

interface LiveSetup {
  time: ManualTime;
  feed: LiveFeed;
  data: PushDataClient;
  kernel: Kernel;
  recorder: ResultsRecorder;
}

function liveKernel(start: number, options: { fill?: FillMode; heartbeatMs?: number; history?: BarColumns; resolve?: (i: string) => Promise<InstrumentSpec> } = {}): LiveSetup {
  const time = new ManualTime(start);
  const feed = new LiveFeed({ clock: time, scheduler: time, heartbeatMs: options.heartbeatMs, capacity: 64 });
  const mem = options.history !== undefined ? new MemoryDataClient([{ instrument: spySpec, interval: '1m', bars: options.history }]) : undefined;
  const data = new PushDataClient({
    feed,
    resolve: options.resolve ?? (async (i) => (mem !== undefined ? mem.resolve(i) : stockSpec(i))),
    history: mem !== undefined ? (s, n, now) => mem.history(s, n, now) : undefined,
  });
  const kernel = new Kernel({
    environment: 'paper',
    clock: time,
    dataClient: data,
    executionClient: new SimulatedVenue({ fill: options.fill ?? 'close', commission: parseCommissionModel('ib-fixed'), slippageBps: 0 }),
    startingCash: CASH,
    seed: 1,
    liveFeed: feed,
  });
  return { time, feed, data, kernel, recorder: new ResultsRecorder(kernel) };
}

function probe(name: string, create: (ctx: StrategyContext) => Strategy) {
  return defineStrategy({ name, version: '0.0.0', description: '', params: z.object({}), create });
}

describe('live kernel: pushed bars take the backtest path', () => {
  const cases: { fill: FillMode; heartbeats: boolean }[] = [
    { fill: 'close', heartbeats: false },
    { fill: 'close', heartbeats: true },
    { fill: 'next-open', heartbeats: false },
    { fill: 'next-open', heartbeats: true },
  ];
  for (const { fill, heartbeats } of cases) {
    it(`sma-cross on SPY minute bars: orders, fills and equity identical to runBacktest (fill ${fill}${heartbeats ? ', heartbeats between bars' : ''})`, async () => {
      const closeOf = (i: number) => spy.ts[i]! + MIN;
      const from = closeOf(WARM - 1);
      const backtest = await runBacktest({
        strategy: smaCross as never,
        params: PARAMS,
        subscriptions: [{ instrument: 'SPY', interval: '1m' }],
        data: new MemoryDataClient([{ instrument: spySpec, interval: '1m', bars: spy }]),
        from,
        cash: CASH,
        fill,
        commission: 'ib-fixed',
      });
      expect(backtest.fills.length).toBeGreaterThan(10);

      const { time, feed, data, kernel, recorder } = liveKernel(from, { fill, heartbeatMs: 7_000, history: spy });
      kernel.addStrategy(smaCross as never, { params: PARAMS, subscriptions: [{ instrument: 'SPY', interval: '1m', kind: 'trade', history: PARAMS.slow }] });
      const run = kernel.run();
      await feed.whenIdle();
      const spyFeed = data.handle('SPY', '1m')!;
      for (let i = WARM; i < spy.length; i++) {
        // with heartbeats the clock runs through every wake-up (time moves, nothing happens)
        if (heartbeats) await time.advanceTo(closeOf(i));
        else time.set(closeOf(i));
        spyFeed.push(spy.ts[i]!, spy.open[i]!, spy.high[i]!, spy.low[i]!, spy.close[i]!, spy.volume[i]!);
        await feed.whenIdle();
      }
      kernel.requestStop();
      await run;
      if (heartbeats) expect(feed.heartbeats).toBeGreaterThan(spy.length);
      else expect(feed.heartbeats).toBe(0);

      expect(kernel.eventCount).toBe(backtest.bars);
      expect(recorder.orders()).toEqual(backtest.orders);
      expect(recorder.fills).toEqual(backtest.fills);
      expect(recorder.roundTrips.trades).toEqual(backtest.trades);
      expect(recorder.equityCurve()).toEqual(backtest.equity);
      expect(recorder.daily()).toEqual(backtest.daily);
      expect(kernel.portfolio.equity()).toBe(backtest.finalValue);
      // the day rolled at 17:00 New York inside the data
      expect(backtest.daily.ts.length).toBe(2);
    });
  }
});

describe('live kernel: time, timers and stopping', () => {
  const T = Date.UTC(2013, 9, 8, 19, 50); // 15:50 New York

  it('fires a timer at its wall time with no data flowing (flatten 5 minutes before the close)', async () => {
    const fired: [string, number, number][] = [];
    const def = probe('flatten', (ctx) => ({
      onStart: () => {
        ctx.setTimer('flatten', Date.UTC(2013, 9, 8, 19, 55) + 123);
        ctx.setTimer('every-minute', T + MIN, MIN);
      },
      onBar: (bar) => {
        if (ctx.portfolio.position('SPY') === 0) ctx.submit(ctx.orders.market(bar.instrument, 'BUY', 10));
      },
      onTimer: (name, ts) => {
        fired.push([name, ts, ctx.now()]);
        if (name === 'flatten' && ctx.portfolio.position('SPY') > 0) ctx.submit(ctx.orders.market('SPY', 'SELL', ctx.portfolio.position('SPY')));
      },
    }));
    const i = spy.ts.findIndex((ts) => ts + MIN > T);
    const { time, feed, data, kernel } = liveKernel(T, { history: spy, heartbeatMs: 60_000 });
    kernel.addStrategy(def, { subscriptions: [{ instrument: 'SPY', interval: '1m' }] });
    const run = kernel.run();
    await feed.whenIdle();
    // one bar, then silence
    time.set(spy.ts[i]! + MIN);
    data.handle('SPY', '1m')!.push(spy.ts[i]!, spy.open[i]!, spy.high[i]!, spy.low[i]!, spy.close[i]!, spy.volume[i]!);
    await feed.whenIdle();
    expect(kernel.portfolio.position('SPY')).toBe(10);
    await time.advanceTo(T + 8 * MIN);
    expect(kernel.eventCount).toBe(1);
    expect(fired.map(([n, ts]) => [n, (ts - T) / MIN])).toEqual([
      ['every-minute', 1],
      ['every-minute', 2],
      ['every-minute', 3],
      ['every-minute', 4],
      ['every-minute', 5],
      ['flatten', 5 + 123 / MIN],
      ['every-minute', 6],
      ['every-minute', 7],
      ['every-minute', 8],
    ]);
    // the clock is the wall clock: the timer ran at its own time, woken by its deadline, not the 60 s heartbeat
    for (const [, ts, now] of fired) expect(now).toBe(ts);
    expect(kernel.portfolio.position('SPY')).toBe(0);
    kernel.requestStop();
    await run;
  });

  it('moves time with heartbeats only: the trading day rolls at 17:00 New York with no data', async () => {
    const start = Date.UTC(2013, 9, 8, 20, 59, 30); // 16:59:30 New York
    const { time, feed, kernel } = liveKernel(start);
    const days: number[] = [];
    kernel.addObserver({ onDayEnd: (d) => void days.push(d) });
    kernel.addStrategy(probe('idle', () => ({})));
    const run = kernel.run();
    await feed.whenIdle();
    await time.advanceTo(start + 29_000);
    expect(days).toEqual([]);
    await time.advanceTo(start + 31_000);
    expect(days.map((d) => new Date(d).toISOString())).toEqual(['2013-10-08T00:00:00.000Z']);
    expect(feed.heartbeats).toBe(31);
    kernel.requestStop();
    await run;
  });

  it('requestStop() ends the run after the bars already received; the feed and its subscriptions close', async () => {
    const seen: number[] = [];
    let stopped = 0;
    const def = probe('rec', () => ({ onBar: (b) => void seen.push(b.close), onStop: () => void stopped++ }));
    const unsubscribed: string[] = [];
    const time = new ManualTime(Date.UTC(2024, 0, 2, 15));
    const feed = new LiveFeed({ clock: time, scheduler: time });
    const data = new PushDataClient({ feed, resolve: async (i) => stockSpec(i), onUnsubscribe: (h) => void unsubscribed.push(h.subscription.instrument) });
    const kernel = new Kernel({ environment: 'live', clock: time, dataClient: data, executionClient: new SimulatedVenue({ fill: 'close', commission: parseCommissionModel('none') }), startingCash: CASH, liveFeed: feed });
    kernel.addStrategy(def, { subscriptions: [{ instrument: 'AAA', interval: '1m' }] });
    let ended = false;
    const run = kernel.run().then(() => (ended = true));
    await feed.whenIdle();
    await time.advanceTo(time.now() + 10 * 60_000);
    expect(ended).toBe(false);
    const h = data.handle('AAA', '1m')!;
    const t = time.now() - 3 * MIN;
    h.push(t - MIN, 1, 1, 1, 1, 1);
    h.push(t, 1, 1, 1, 2, 1);
    h.push(t + MIN, 1, 1, 1, 3, 1);
    kernel.requestStop();
    await run;
    expect(ended).toBe(true);
    expect(seen).toEqual([1, 2, 3]);
    expect(stopped).toBe(1);
    expect(time.pending).toBe(0);
    expect(h.isActive).toBe(false);
    expect(unsubscribed).toEqual(['AAA']);
    h.push(t + 2 * MIN, 1, 1, 1, 4, 1);
    expect(feed.buffered).toBe(0);
  });

  it('requestStop() also ends a pull-driven run early (nothing more is pulled)', async () => {
    const seen: number[] = [];
    let stopped = 0;
    const kernel: Kernel = new Kernel({
      environment: 'backtest',
      clock: new SimulatedClock(spy.ts[WARM]!),
      dataClient: new MemoryDataClient([{ instrument: spySpec, interval: '1m', bars: spy }]),
      executionClient: new SimulatedVenue({ fill: 'close', commission: parseCommissionModel('none') }),
      startingCash: CASH,
    });
    const def = probe('early', () => ({
      onBar: (b) => {
        seen.push(b.closeTime);
        if (seen.length === 10) kernel.requestStop();
      },
      onStop: () => void stopped++,
    }));
    kernel.addStrategy(def, { subscriptions: [{ instrument: 'SPY', interval: '1m' }] });
    await kernel.run();
    expect(seen.length).toBe(10);
    expect(kernel.eventCount).toBe(10);
    expect(stopped).toBe(1);
  });

  it('ends by itself once `until` has passed', async () => {
    const { time, feed, kernel } = liveKernel(Date.UTC(2024, 0, 2, 15));
    kernel.addStrategy(probe('idle', () => ({})));
    let ended = false;
    const run = kernel.run(time.now() + 5_500).then(() => (ended = true));
    await feed.whenIdle();
    await time.advanceTo(time.now() + 5_000);
    expect(ended).toBe(false);
    await time.advanceTo(time.now() + 1_000);
    await run;
    expect(ended).toBe(true);
  });

  it('refuses a live subscription of another feed with a ConfigError', async () => {
    const time = new ManualTime(0);
    const other = new LiveFeed({ clock: time, scheduler: time });
    const kernel = new Kernel({ environment: 'paper', clock: time, dataClient: new PushDataClient({ feed: other, resolve: async (i) => stockSpec(i) }), executionClient: new SimulatedVenue({ fill: 'close', commission: parseCommissionModel('none') }), startingCash: 1, liveFeed: new LiveFeed({ clock: time, scheduler: time }) });
    kernel.addStrategy(probe('x', () => ({})), { subscriptions: [{ instrument: 'AAA', interval: '1m' }] });
    await expect(kernel.run()).rejects.toThrow(ConfigError);
    expect(other.subscriptions).toBe(0);
    expect(() => new Kernel({ environment: 'paper', clock: time, dataClient: new PushDataClient({ feed: other, resolve: async (i) => stockSpec(i) }), executionClient: new SimulatedVenue({ fill: 'close', commission: parseCommissionModel('none') }), startingCash: 1, liveFeed: new LiveFeed({ clock: new ManualTime(0) }) })).toThrow(ConfigError);
  });
});

describe('live kernel: producers at any time', () => {
  const T = Date.UTC(2024, 0, 2, 15);

  it('is safe against pushes from inside handlers (re-entrancy): they are delivered after the current event, in order', async () => {
    const log: string[] = [];
    let bbb: LiveSubscription | undefined;
    const def = probe('reentrant', (ctx) => ({
      onStart: () => {
        bbb!.push(T - 2 * MIN, 1, 1, 1, 100, 1);
        ctx.setTimer('t', T + 3 * MIN + 10);
      },
      onBar: (bar) => {
        log.push(`bar ${bar.instrument} ${bar.close}`);
        if (bar.instrument === 'AAA' && bar.close === 1) {
          bbb!.push(T - MIN, 1, 1, 1, 101, 1);
          ctx.submit(ctx.orders.market('AAA', 'BUY', 1));
          bbb!.push(T, 1, 1, 1, 102, 1);
        }
        log.push(`end ${bar.instrument} ${bar.close}`);
      },
      onOrderEvent: (e) => {
        log.push(`order ${e.type}`);
        if (e.type === 'filled') bbb!.push(T + MIN, 1, 1, 1, 103, 1);
      },
      onTimer: () => {
        log.push('timer');
        bbb!.push(T + 2 * MIN, 1, 1, 1, 104, 1);
      },
    }));
    const time = new ManualTime(T - 5 * MIN);
    const feed = new LiveFeed({ clock: time, scheduler: time, capacity: 1 });
    const data = new PushDataClient({
      feed,
      resolve: async (i) => stockSpec(i),
      onSubscribe: (h) => {
        if (h.subscription.instrument === 'BBB') bbb = h;
      },
    });
    const kernel = new Kernel({ environment: 'paper', clock: time, dataClient: data, executionClient: new SimulatedVenue({ fill: 'close', commission: parseCommissionModel('none') }), startingCash: CASH, liveFeed: feed });
    kernel.addStrategy(def, { subscriptions: [{ instrument: 'AAA', interval: '1m' }, { instrument: 'BBB', interval: '1m' }] });
    const run = kernel.run();
    await feed.whenIdle();
    expect(log).toEqual(['bar BBB 100', 'end BBB 100']);
    time.set(T + 3 * MIN);
    data.handle('AAA', '1m')!.push(T - 3 * MIN, 1, 1, 1, 1, 1);
    await feed.whenIdle();
    await time.advanceTo(T + 4 * MIN);
    kernel.requestStop();
    await run;
    expect(log).toEqual([
      'bar BBB 100', // pushed in onStart
      'end BBB 100',
      'bar AAA 1',
      'end AAA 1',
      // a venue report caused by a handler is applied after the handler returned, as in a backtest
      'order submitted',
      'order accepted',
      'order filled',
      'bar BBB 101', // pushed in onBar
      'end BBB 101',
      'bar BBB 102', // pushed in onBar after the submit
      'end BBB 102',
      'bar BBB 103', // pushed in onOrderEvent
      'end BBB 103',
      'timer', // at its wall time, no data flowing
      'bar BBB 104', // pushed in onTimer
      'end BBB 104',
    ]);
    expect(kernel.eventCount).toBe(6);
    expect(feed.reallocations).toBeGreaterThan(0);
    expect(kernel.history('BBB', '1m', 'trade').close(0)).toBe(104);
  });

  it('subscribes and unsubscribes symbols while running', async () => {
    const seen: string[] = [];
    const subscribed: LiveSubscription[] = [];
    const unsubscribed: string[] = [];
    const time = new ManualTime(T);
    const feed = new LiveFeed({ clock: time, scheduler: time, heartbeatMs: 3_600_000 });
    const data = new PushDataClient({ feed, resolve: async (i) => stockSpec(i), onSubscribe: (h) => void subscribed.push(h), onUnsubscribe: (h) => void unsubscribed.push(h.subscription.instrument) });
    const timers: number[] = [];
    const def = probe('dyn', (ctx) => ({
      onBar: (bar) => {
        seen.push(`${bar.instrument} ${bar.close}`);
        if (bar.instrument === 'AAA' && bar.close === 1) ctx.subscribe({ instrument: 'CCC', interval: '1m' });
        if (bar.instrument === 'AAA' && bar.close === 2) ctx.unsubscribe('CCC');
      },
      onTimer: (_, ts) => void timers.push(ts),
    }));
    const kernel = new Kernel({ environment: 'paper', clock: time, dataClient: data, executionClient: new SimulatedVenue({ fill: 'close', commission: parseCommissionModel('none') }), startingCash: CASH, liveFeed: feed });
    const rt = kernel.addStrategy(def, { subscriptions: [{ instrument: 'AAA', interval: '1m' }] });
    const run = kernel.run();
    await feed.whenIdle();
    const aaa = data.handle('AAA', '1m')!;
    time.set(T + MIN);
    aaa.push(T, 1, 1, 1, 1, 1);
    await feed.whenIdle();
    const ccc = data.handle('CCC', '1m')!;
    expect(subscribed.map((h) => h.subscription.instrument)).toEqual(['AAA', 'CCC']);
    time.set(T + 2 * MIN);
    ccc.push(T + MIN, 1, 1, 1, 10, 1);
    aaa.push(T + MIN, 1, 1, 1, 2, 1);
    ccc.push(T + MIN + 1, 1, 1, 1, 11, 1); // already buffered when CCC is removed: skipped
    await feed.whenIdle();
    ccc.push(T + 2 * MIN, 1, 1, 1, 12, 1);
    time.set(T + 3 * MIN);
    aaa.push(T + 2 * MIN, 1, 1, 1, 3, 1);
    await feed.whenIdle();
    expect(seen).toEqual(['AAA 1', 'CCC 10', 'AAA 2', 'AAA 3']);
    expect(unsubscribed).toEqual(['CCC']);
    expect(data.handle('CCC', '1m')).toBeUndefined();
    expect(ccc.dropped).toBe(1);
    expect(feed.subscriptions).toBe(1);
    // from outside the kernel's handlers (the runner adding and removing a symbol, setting a timer):
    // acted on at once, not at the next (hour-long) heartbeat
    rt.context.subscribe({ instrument: 'DDD', interval: '1m' });
    await feed.whenIdle();
    expect(data.handle('DDD', '1m')).toBeDefined();
    rt.context.unsubscribe('DDD');
    await feed.whenIdle();
    expect(data.handle('DDD', '1m')).toBeUndefined();
    expect(unsubscribed).toEqual(['CCC', 'DDD']);
    rt.context.setTimer('soon', T + 3 * MIN + 5_000);
    await feed.whenIdle(); // the kernel re-armed its wake-up for the timer
    expect(time.nextTimerAt()).toBe(T + 3 * MIN + 5_000);
    await time.advanceTo(T + 4 * MIN);
    expect(timers).toEqual([T + 3 * MIN + 5_000]);
    expect(time.now()).toBe(T + 4 * MIN);
    kernel.requestStop();
    await run;
  });

  it('500 instruments pushing concurrently: one heap entry, every bar delivered in arrival order', async () => {
    const N = 500;
    const BARS = 20;
    const time = new ManualTime(T);
    const feed = new LiveFeed({ clock: time, scheduler: time, capacity: 256 });
    const data = new PushDataClient({ feed, resolve: async (i) => stockSpec(i) });
    const delivered: number[] = [];
    let deliveredWhilePushing = 0;
    const def = probe('many', (ctx) => ({
      onBar: (bar) => {
        // the close carries the push id; the window holds what was delivered
        delivered.push(bar.close);
        if (feed.pushed < N * BARS) deliveredWhilePushing++;
        expect(ctx.history(bar.instrument).close(0)).toBe(bar.close);
      },
    }));
    const symbols = Array.from({ length: N }, (_, k) => `S${String(k).padStart(3, '0')}`);
    const kernel = new Kernel({ environment: 'paper', clock: time, dataClient: data, executionClient: new SimulatedVenue({ fill: 'close', commission: parseCommissionModel('none') }), startingCash: CASH, liveFeed: feed });
    kernel.addStrategy(def, { subscriptions: symbols.map((instrument) => ({ instrument, interval: '1m' as const })) });
    const run = kernel.run();
    await feed.whenIdle();
    expect(feed.subscriptions).toBe(N);
    expect((kernel as unknown as { queue: SourceQueue }).queue.size).toBe(1);
    time.set(T + (BARS + 1) * MIN);

    let seed = 42;
    const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const arrivals: number[] = [];
    // each producer is its own async task: they interleave with each other and with the kernel
    const producer = async (k: number) => {
      const h = data.handle(symbols[k]!, '1m')!;
      for (let m = 0; m < BARS; m++) {
        const r = rand();
        if (r < 0.3) await new Promise((res) => setImmediate(res));
        else if (r < 0.8) for (let y = Math.floor(rand() * 5); y >= 0; y--) await null;
        const id = k * BARS + m;
        arrivals.push(id);
        h.push(T + m * MIN, 1, 1, 1, id, 1);
      }
    };
    await Promise.all(symbols.map((_, k) => producer(k)));
    await feed.whenIdle();
    kernel.requestStop();
    await run;

    expect(arrivals.length).toBe(N * BARS);
    expect(delivered).toEqual(arrivals);
    for (let k = 0; k < N; k++) {
      const mine = delivered.filter((id) => Math.floor(id / BARS) === k);
      expect(mine).toEqual(Array.from({ length: BARS }, (_, m) => k * BARS + m));
    }
    expect(kernel.eventCount).toBe(N * BARS);
    // the producers really interleaved, and the kernel really ran while they were pushing
    let switches = 0;
    for (let i = 1; i < arrivals.length; i++) if (Math.floor(arrivals[i]! / BARS) !== Math.floor(arrivals[i - 1]! / BARS)) switches++;
    expect(switches).toBeGreaterThan(5 * N); // one producer after the other would switch N - 1 times
    expect(deliveredWhilePushing).toBeGreaterThan(N);
  });
});

describe('live kernel: warm start', () => {
  it('delivers the bars that closed while the warm-up history request was in flight (live bars start at the history cut)', async () => {
    // history is cut at bar WARM's start; the request takes 3 minutes, during which bars WARM..WARM+2 close
    const cut = spy.ts[WARM]!;
    const time = new ManualTime(cut);
    const feed = new LiveFeed({ clock: time, scheduler: time, capacity: 64 });
    const mem = new MemoryDataClient([{ instrument: spySpec, interval: '1m', bars: spy }]);
    const data = new PushDataClient({
      feed,
      resolve: (i) => mem.resolve(i),
      history: async (s, n, now) => {
        const bars = await mem.history(s, n, now);
        time.set(cut + 3 * MIN + 1_000);
        return bars;
      },
    });
    const kernel = new Kernel({ environment: 'paper', clock: time, dataClient: data, executionClient: new SimulatedVenue({ fill: 'close', commission: parseCommissionModel('ib-fixed'), slippageBps: 0 }), startingCash: CASH, seed: 1, liveFeed: feed });
    const seen: number[] = [];
    let lastHistoryTs = NaN;
    const def = probe('warm', (ctx) => ({
      onStart: () => void (lastHistoryTs = ctx.history('SPY').column('ts')[ctx.history('SPY').length - 1]!),
      onBar: (b) => void seen.push(b.ts),
    }));
    kernel.addStrategy(def, { subscriptions: [{ instrument: 'SPY', interval: '1m', kind: 'trade', history: 10 }] });
    const run = kernel.run();
    await feed.whenIdle();
    // the backfill a market-data client sends after subscribing: the three bars that closed meanwhile
    const handle = data.handle('SPY', '1m')!;
    for (let i = WARM; i < WARM + 3; i++) handle.push(spy.ts[i]!, spy.open[i]!, spy.high[i]!, spy.low[i]!, spy.close[i]!, spy.volume[i]!);
    await feed.whenIdle();
    kernel.requestStop();
    await run;
    // the history ends with the bar before the cut; every bar after it arrives, none twice
    expect(lastHistoryTs).toBe(spy.ts[WARM - 1]);
    expect(seen).toEqual([spy.ts[WARM]!, spy.ts[WARM + 1]!, spy.ts[WARM + 2]!]);
  });
});
