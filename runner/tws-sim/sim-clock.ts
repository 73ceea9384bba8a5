/** Simulated time for the TWS simulator: the wall clock, or an accelerated replay from a chosen start. */
import { ConfigError } from '../../lib/core/errors.js';
import type { SimClock } from './types.js';

/** Real time, speed 1. */
export function wallClock(): SimClock {
  return { now: () => Date.now(), speed: 1 };
}

/**
 * Replay from `start` (epoch ms): simulated = start + (real elapsed since creation) * speed.
 * `now` is the real clock, injectable so tests need no timers.
 */
export function replayClock(options: { start: number; speed: number; now?: () => number }): SimClock {
  const { start, speed } = options;
  const real = options.now ?? Date.now;
  const problems: string[] = [];
  if (!Number.isFinite(start)) problems.push(`start must be an epoch-ms number, was ${start}`);
  if (!Number.isFinite(speed) || speed <= 0) problems.push(`speed must be a positive number, was ${speed}`);
  if (problems.length) throw new ConfigError('replay clock', problems);
  const origin = real();
  return { now: () => start + (real() - origin) * speed, speed };
}
