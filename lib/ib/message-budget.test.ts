import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { MessageBudget } from './message-budget.js';

function budget(options: ConstructorParameters<typeof MessageBudget>[0] = {}, start = 0) {
  const clock = { t: start };
  return { clock, b: new MessageBudget<number>(options, () => clock.t) };
}

describe('MessageBudget', () => {
  it('defaults to 45/s with a burst of 3', () => {
    const { b } = budget();
    expect(b.ratePerSecond).toBe(45);
    expect(b.burst).toBe(3);
    expect(b.available()).toBe(3);
  });

  it('lets the burst go at once, keeps FIFO order and says when the next may go', () => {
    const { b, clock } = budget({ ratePerSecond: 10, burst: 3 });
    for (let i = 0; i < 6; i++) expect(b.enqueue(i)).toBe(true);
    expect(b.take()).toEqual([0, 1, 2]);
    expect(b.size).toBe(3);
    expect(b.msUntilNext()).toBe(100);
    clock.t = 99;
    expect(b.take()).toEqual([]);
    expect(b.msUntilNext()).toBe(1);
    clock.t = 100;
    expect(b.take()).toEqual([3]);
    clock.t = 350; // 2.5 tokens accrued
    expect(b.take()).toEqual([4, 5]);
    expect(b.msUntilNext()).toBeUndefined();
    expect(b.available()).toBeCloseTo(0.5, 9);
  });

  it('refills no higher than the burst', () => {
    const { b, clock } = budget({ ratePerSecond: 10, burst: 3 });
    clock.t = 60_000;
    expect(b.available()).toBe(3);
    for (let i = 0; i < 5; i++) b.enqueue(i);
    expect(b.take()).toEqual([0, 1, 2]);
  });

  it('never lets more than burst + rate through in any one-second window (IB counts 50/s)', () => {
    const { b, clock } = budget({}, 1_000_000);
    for (let i = 0; i < 1000; i++) b.enqueue(i);
    const sentAt: number[] = [];
    // a caller that polls every millisecond, as the session's timer would
    for (let t = 1_000_000; t < 1_010_000; t++) {
      clock.t = t;
      for (const _ of b.take()) sentAt.push(t);
    }
    let worst = 0;
    let lo = 0;
    for (let hi = 0; hi < sentAt.length; hi++) {
      while (sentAt[lo]! <= sentAt[hi]! - 1000) lo++;
      worst = Math.max(worst, hi - lo + 1);
    }
    expect(worst).toBeLessThanOrEqual(48);
    expect(worst).toBeGreaterThanOrEqual(45);
    // long-run rate is the configured one: 3 at once, then 45 per second for 10 s
    expect(sentAt.length).toBeGreaterThanOrEqual(3 + 449);
    expect(sentAt.length).toBeLessThanOrEqual(3 + 450);
  });

  it('msUntilNext is exact enough that waiting for it always frees the head', () => {
    const { b, clock } = budget({ ratePerSecond: 45, burst: 1 });
    for (let i = 0; i < 200; i++) b.enqueue(i);
    let taken = b.take().length;
    let wakeups = 0;
    while (b.size > 0) {
      clock.t += b.msUntilNext()!;
      const got = b.take().length;
      expect(got).toBeGreaterThanOrEqual(1);
      taken += got;
      wakeups++;
    }
    expect(taken).toBe(200);
    expect(wakeups).toBe(199);
    // 199 tokens at 45/s: about 4.42 s, never faster
    expect(clock.t).toBeGreaterThanOrEqual(Math.floor((199 * 1000) / 45));
    expect(clock.t).toBeLessThanOrEqual(Math.ceil((199 * 1000) / 45) + 199);
  });

  it('a clock stepping back takes no tokens and gives none', () => {
    const { b, clock } = budget({ ratePerSecond: 10, burst: 2 }, 5000);
    b.enqueue(1);
    b.enqueue(2);
    b.enqueue(3);
    expect(b.take()).toEqual([1, 2]);
    clock.t = 4000;
    expect(b.take()).toEqual([]);
    clock.t = 4100;
    expect(b.take()).toEqual([3]);
  });

  it('bounds the queue and clears it', () => {
    const { b } = budget({ maxQueue: 2, burst: 1 });
    expect(b.enqueue(1)).toBe(true);
    expect(b.enqueue(2)).toBe(true);
    expect(b.enqueue(3)).toBe(false);
    expect(b.clear()).toEqual([1, 2]);
    expect(b.size).toBe(0);
    expect(b.msUntilNext()).toBeUndefined();
  });

  it('rejects bad options with ConfigError', () => {
    expect(() => budget({ ratePerSecond: 0 })).toThrow(ConfigError);
    expect(() => budget({ ratePerSecond: 45, burst: 0 })).toThrow(ConfigError);
    expect(() => budget({ ratePerSecond: 45, burst: 1.5 })).toThrow(ConfigError);
    expect(() => budget({ maxQueue: -1 })).toThrow(ConfigError);
  });
});
