import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/core/errors.js';
import { replayClock, wallClock } from './sim-clock.js';

describe('sim clocks', () => {
  it('replayClock advances from start at speed times real elapsed time', () => {
    let real = 1_000_000;
    const c = replayClock({ start: Date.UTC(2024, 0, 2, 14, 30), speed: 60, now: () => real });
    expect(c.now()).toBe(Date.UTC(2024, 0, 2, 14, 30));
    real += 1000;
    expect(c.now()).toBe(Date.UTC(2024, 0, 2, 14, 31));
    expect(c.speed).toBe(60);
  });

  it('replayClock refuses a non-positive speed', () => {
    expect(() => replayClock({ start: 0, speed: 0 })).toThrow(ConfigError);
  });

  it('wallClock is real time at speed 1', () => {
    const c = wallClock();
    expect(Math.abs(c.now() - Date.now())).toBeLessThan(50);
    expect(c.speed).toBe(1);
  });
});
