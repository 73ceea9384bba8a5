import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { SeededRandom } from '../core/seeded-random.js';
import { Backoff, backoffCeiling, DEFAULT_BACKOFF, resolveBackoffOptions } from './backoff.js';

const OPTIONS = { baseMs: 100, factor: 2, maxMs: 1000, resetAfterMs: 5000 };

describe('backoffCeiling', () => {
  it('grows by the factor from the base and stops at the max', () => {
    expect([0, 1, 2, 3, 4, 5, 50].map((n) => backoffCeiling(OPTIONS, n))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    // no overflow trouble far out
    expect(backoffCeiling(OPTIONS, 5000)).toBe(1000);
    expect(backoffCeiling({ ...OPTIONS, factor: 1 }, 7)).toBe(100);
  });
});

describe('Backoff (full jitter)', () => {
  it('draws each delay uniformly in [0, ceiling] from the injected random', () => {
    const b = new Backoff(OPTIONS, new SeededRandom(42));
    const r = new SeededRandom(42);
    const delays = Array.from({ length: 8 }, () => b.next());
    const expected = [100, 200, 400, 800, 1000, 1000, 1000, 1000].map((c) => Math.floor(r.next() * (c + 1)));
    expect(delays).toEqual(expected);
    expect(b.attempt).toBe(8);
    delays.forEach((d, i) => {
      expect(Number.isInteger(d)).toBe(true);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(backoffCeiling(OPTIONS, i));
    });
  });

  it('is reproducible for a seed and differs between seeds', () => {
    const run = (seed: number) => {
      const b = new Backoff(OPTIONS, new SeededRandom(seed));
      return Array.from({ length: 6 }, () => b.next());
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  it('spreads over the whole range (full jitter, not equal jitter)', () => {
    const b = new Backoff({ ...OPTIONS, factor: 1 }, new SeededRandom(1));
    const delays = Array.from({ length: 2000 }, () => b.next());
    expect(Math.min(...delays)).toBeLessThan(5);
    expect(Math.max(...delays)).toBeGreaterThan(95);
    const mean = delays.reduce((a, d) => a + d, 0) / delays.length;
    expect(mean).toBeGreaterThan(45);
    expect(mean).toBeLessThan(55);
  });

  it('resets the attempt after a connection stable for resetAfterMs, not after a short one', () => {
    const b = new Backoff(OPTIONS, new SeededRandom(3));
    b.next();
    b.next();
    b.next();
    b.connected(10_000);
    b.disconnected(10_000 + 4999); // flapping: keeps backing off
    expect(b.attempt).toBe(3);
    b.next();
    b.connected(20_000);
    b.disconnected(25_000); // stable for 5 s: start over
    expect(b.attempt).toBe(0);
    // a disconnect without a connection changes nothing
    b.next();
    b.disconnected(99_999);
    expect(b.attempt).toBe(1);
    b.reset();
    expect(b.attempt).toBe(0);
  });

  it('defaults and validation', () => {
    expect(resolveBackoffOptions()).toEqual(DEFAULT_BACKOFF);
    expect(resolveBackoffOptions({ baseMs: 10 })).toEqual({ ...DEFAULT_BACKOFF, baseMs: 10 });
    expect(() => new Backoff({ baseMs: 0, factor: 0.5, maxMs: -1, resetAfterMs: -1 }, new SeededRandom(1))).toThrow(ConfigError);
    try {
      resolveBackoffOptions({ baseMs: 0, factor: 0.5, maxMs: -1, resetAfterMs: -1 });
    } catch (e) {
      expect((e as ConfigError).problems).toHaveLength(4);
    }
  });
});
