import { describe, expect, it } from 'vitest';
import { ConfigError, InvariantError } from '../core/errors.js';
import type { Interval } from '../data/interval.js';
import type { Bar } from '../model/market.js';
import { LiveFeed } from './live-feed.js';
import { ManualTime } from './manual-time.js';
import type { ResolvedBarSubscription } from './ports.js';

const T0 = Date.UTC(2024, 2, 4, 15, 0);
const MIN = 60_000;

function bar(instrument: string, interval: Interval = '1m'): Bar {
  return { instrument, instrumentIndex: 0, interval, kind: 'trade', ts: NaN, closeTime: NaN, open: NaN, high: NaN, low: NaN, close: NaN, volume: NaN };
}

function sub(instrument: string, priority = 1, interval: Interval = '1m'): ResolvedBarSubscription {
  return { instrument, instrumentIndex: 0, interval, kind: 'trade', priority };
}

type Seen = [string, number, number, number];

/** A feed with subscriptions whose onBar records (instrument, ts, closeTime, close) */
function setup(options: { capacity?: number; heartbeatMs?: number } = {}) {
  const time = new ManualTime(T0);
  const feed = new LiveFeed({ clock: time, scheduler: time, ...options });
  const seen: Seen[] = [];
  const add = (instrument: string, onBar?: () => void) => {
    const target = bar(instrument);
    return feed.subscribe(sub(instrument), target, () => {
      seen.push([target.instrument, target.ts, target.closeTime, target.close]);
      onBar?.();
    }, T0 - MIN);
  };
  /** What a kernel does while the feed has buffered bars */
  const drainFeed = () => {
    const times: number[] = [];
    while (!feed.needsRefill && feed.nextTime < Infinity) {
      times.push(feed.nextTime);
      feed.dispatch();
    }
    return times;
  };
  return { time, feed, seen, add, drainFeed };
}

async function settled<T>(p: Promise<T>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('LiveFeed', () => {
  it('delivers pushed bars in arrival order, nextTime being the oldest arrival (not the smallest time)', async () => {
    const { time, feed, seen, add, drainFeed } = setup();
    const a = add('A');
    const b = add('B');
    expect(feed.needsRefill).toBe(true);
    time.set(T0 + 2 * MIN);
    b.push(T0 + MIN, 10, 11, 9, 10.5, 100); // closes T0+2m
    a.push(T0, 20, 21, 19, 20.5, 200); // closes T0+1m, arrives later
    a.push(T0 + MIN, 21, 22, 20, 21.5, 300);
    await feed.refill();
    expect(feed.needsRefill).toBe(false);
    expect(drainFeed()).toEqual([T0 + 2 * MIN, T0 + MIN, T0 + 2 * MIN]);
    expect(seen).toEqual([
      ['B', T0 + MIN, T0 + 2 * MIN, 10.5],
      ['A', T0, T0 + MIN, 20.5],
      ['A', T0 + MIN, T0 + 2 * MIN, 21.5],
    ]);
    expect(feed.needsRefill).toBe(true);
    expect(feed.nextTime).toBe(Infinity);
    expect([feed.pushed, feed.dispatched, feed.buffered]).toEqual([3, 3, 0]);
  });

  it('never puts an event after now: a bar pushed before its close time counts at its arrival', async () => {
    const { time, feed, seen, add } = setup();
    const a = add('A');
    time.set(T0 + 59_000);
    a.push(T0, 1, 1, 1, 1, 1); // closes at T0+60s, one second in the future
    await feed.refill();
    expect(feed.nextTime).toBe(T0 + 59_000);
    feed.dispatch();
    expect(seen[0]![2]).toBe(T0 + MIN); // the bar keeps its own close time
  });

  it('refill() resolves on a push, clearing its wake-up timer', async () => {
    const { time, feed, add } = setup();
    const a = add('A');
    const wait = feed.refill();
    expect(time.pending).toBe(1);
    expect(time.nextTimerAt()).toBe(T0 + 1000);
    expect(await settled(wait)).toBe(false);
    time.set(T0 + 400);
    a.push(T0 - 200, 1, 1, 1, 1, 1, T0 + 300);
    expect(await settled(wait)).toBe(true);
    expect(time.pending).toBe(0);
    expect(feed.needsRefill).toBe(false);
    expect(feed.nextTime).toBe(T0 + 300);
    expect(feed.heartbeats).toBe(0);
  });

  it('refill() resolves at the heartbeat with nothing pushed: nothing to dispatch, time may move', async () => {
    const { time, feed } = setup({ heartbeatMs: 250 });
    const wait = feed.refill();
    await time.advanceTo(T0 + 249);
    expect(await settled(wait)).toBe(false);
    await time.advanceTo(T0 + 250);
    expect(await settled(wait)).toBe(true);
    expect(time.now()).toBe(T0 + 250);
    expect(feed.needsRefill).toBe(true);
    expect(feed.nextTime).toBe(Infinity);
    expect(feed.heartbeats).toBe(1);
    // the next wait is one heartbeat from the new now
    void feed.refill();
    expect(time.nextTimerAt()).toBe(T0 + 500);
  });

  it("refill() resolves at the kernel's wake deadline (its next timer) when that comes before the heartbeat", async () => {
    const { time, feed } = setup({ heartbeatMs: 60_000 });
    feed.setWakeDeadline(() => T0 + 1234);
    const wait = feed.refill();
    expect(time.nextTimerAt()).toBe(T0 + 1234);
    await time.advanceTo(T0 + 1234);
    expect(await settled(wait)).toBe(true);
    // a deadline already passed wakes at once
    feed.setWakeDeadline(() => T0);
    void feed.refill();
    expect(time.nextTimerAt()).toBe(T0 + 1234);
  });

  it('wake() ends the current wait at once (requestStop)', async () => {
    const { time, feed } = setup();
    const wait = feed.refill();
    feed.wake();
    expect(await settled(wait)).toBe(true);
    expect(time.pending).toBe(0);
    expect(feed.heartbeats).toBe(0);
  });

  it('does not reallocate its ring for steady traffic; a burst doubles it once, keeping arrival order across the wrap', async () => {
    const { time, feed, seen, add, drainFeed } = setup({ capacity: 50 });
    expect(feed.capacity).toBe(64);
    const subs = Array.from({ length: 8 }, (_, k) => add(`S${k}`));
    let ts = T0;
    for (let round = 0; round < 5000; round++) {
      ts += MIN;
      time.set(ts + MIN);
      for (const s of subs) s.push(ts, 1, 1, 1, round, 1);
      await feed.refill();
      drainFeed();
    }
    expect(feed.reallocations).toBe(0);
    expect(feed.capacity).toBe(64);
    expect(seen.length).toBe(40_000);
    // head is mid-ring now (40,000 % 64 = 0, so offset it first)
    for (let k = 0; k < 5; k++) subs[k]!.push((ts += MIN), 1, 1, 1, -1, 1);
    feed.dispatch();
    feed.dispatch();
    seen.length = 0;
    for (let round = 0; round < 20; round++) {
      ts += MIN;
      for (const s of subs) s.push(ts, 1, 1, 1, round, 1);
    }
    expect(feed.reallocations).toBe(2);
    expect(feed.capacity).toBe(256);
    expect(feed.buffered).toBe(3 + 160);
    drainFeed();
    expect(seen.slice(0, 3).map((s) => s[0])).toEqual(['S2', 'S3', 'S4']);
    const rest = seen.slice(3);
    expect(rest.map((s) => s[3])).toEqual(Array.from({ length: 160 }, (_, i) => Math.floor(i / 8)));
    expect(rest.map((s) => s[0])).toEqual(Array.from({ length: 160 }, (_, i) => `S${i % 8}`));
  });

  it('shows bars pushed from inside onBar (re-entrancy) right after the current dispatch', async () => {
    const { time, feed, seen, add, drainFeed } = setup({ capacity: 2 });
    let b: ReturnType<typeof add> | undefined;
    let n = 0;
    const a = add('A', () => {
      // a burst from inside the handler: the ring grows while the bar being dispatched is in it
      if (n++ === 0) for (let i = 1; i <= 5; i++) b!.push(T0 + i * MIN, 1, 1, 1, i, 1);
    });
    b = add('B');
    time.set(T0 + 10 * MIN);
    a.push(T0, 1, 1, 1, 0, 1);
    a.push(T0 + MIN, 1, 1, 1, 0.5, 1);
    await feed.refill();
    feed.dispatch();
    expect(feed.needsRefill).toBe(false);
    expect(feed.buffered).toBe(6);
    drainFeed();
    expect(seen.map((s) => `${s[0]}${s[3]}`)).toEqual(['A0', 'A0.5', 'B1', 'B2', 'B3', 'B4', 'B5']);
    expect(feed.reallocations).toBe(2);
  });

  it('drops stale, duplicate and out-of-order pushes of a subscription, and skips bars of a closed one', async () => {
    const { time, feed, seen, add, drainFeed } = setup();
    time.set(T0 + 10 * MIN);
    const a = add('A');
    const b = add('B');
    a.push(T0 - 2 * MIN, 1, 1, 1, 1, 1); // closed before the subscription: history
    a.push(T0, 1, 1, 1, 2, 1);
    a.push(T0, 1, 1, 1, 3, 1); // duplicate
    a.push(T0 - MIN, 1, 1, 1, 4, 1); // out of order
    a.push(T0 + MIN, 1, 1, 1, 5, 1);
    b.push(T0, 1, 1, 1, 6, 1);
    b.push(T0 + MIN, 1, 1, 1, 7, 1);
    expect(a.dropped).toBe(3);
    expect(feed.subscriptions).toBe(2);
    b.close();
    b.push(T0 + 2 * MIN, 1, 1, 1, 8, 1);
    expect(b.dropped).toBe(1);
    expect(feed.subscriptions).toBe(1);
    await feed.refill();
    drainFeed();
    expect(seen.map((s) => s[3])).toEqual([2, 5]);
    expect(feed.discarded).toBe(2);
    expect(() => a.dispatch()).toThrow(InvariantError);
  });

  it('whenIdle() resolves once everything pushed was processed and the consumer waits again', async () => {
    const { time, feed, add, drainFeed } = setup();
    const a = add('A');
    time.set(T0 + 5 * MIN);
    a.push(T0, 1, 1, 1, 1, 1);
    const idle = feed.whenIdle();
    expect(await settled(idle)).toBe(false);
    await feed.refill();
    drainFeed();
    expect(await settled(idle)).toBe(false);
    void feed.refill(); // the consumer waits: idle
    expect(await settled(idle)).toBe(true);
    expect(await settled(feed.whenIdle())).toBe(true);
  });

  it('close() ends a wait, drops the buffer and ignores later pushes', async () => {
    const { time, feed, add } = setup();
    const a = add('A');
    const wait = feed.refill();
    const idle = feed.whenIdle();
    feed.close();
    expect(await settled(wait)).toBe(true);
    expect(await settled(idle)).toBe(true);
    expect(time.pending).toBe(0);
    a.push(T0, 1, 1, 1, 1, 1);
    expect(feed.buffered).toBe(0);
    expect(feed.needsRefill).toBe(false);
    expect(feed.nextTime).toBe(Infinity);
  });

  it('refuses a bad heartbeat or capacity with a ConfigError', () => {
    const time = new ManualTime(T0);
    expect(() => new LiveFeed({ clock: time, heartbeatMs: 0 })).toThrow(ConfigError);
    expect(() => new LiveFeed({ clock: time, heartbeatMs: Infinity })).toThrow(ConfigError);
    expect(() => new LiveFeed({ clock: time, capacity: 0 })).toThrow(ConfigError);
  });
});
