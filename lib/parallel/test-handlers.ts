import { threadId } from 'node:worker_threads';
import { SeededRandom } from '../core/seeded-random.js';

/** Handler factories for worker-pool.test.ts and the pool demo (loaded by path in workers). */

export function createSquareHandler(init: { offset: number }): (task: number) => Promise<number> {
  return async (task) => task * task + init.offset;
}

/** Throws for task value `failOn`; other tasks echo their value after an optional busy delay. */
export function createFailingHandler(init: { failOn: number; delayMs?: number }): (task: number) => number {
  return (task) => {
    if (task === init.failOn) throw new RangeError(`refusing task value ${task}`);
    if (init.delayMs !== undefined) busyWait(init.delayMs);
    return task;
  };
}

/** Kills its worker thread on task value `crashOn`: with `process.exit(code)` or an uncaught async throw. */
export function createCrashingHandler(init: { crashOn: number; how: 'exit' | 'uncaught' }): (task: number) => Promise<number> {
  return (task) =>
    new Promise((resolve) => {
      if (task !== init.crashOn) return resolve(task);
      if (init.how === 'exit') process.exit(3);
      setTimeout(() => {
        throw new Error(`uncaught on task value ${task}`);
      }, 0);
    });
}

/** The factory itself fails (e.g. bad init data). */
export async function createBrokenHandler(init: { reason: string }): Promise<(task: unknown) => unknown> {
  await Promise.resolve();
  throw new Error(`cannot set up: ${init.reason}`);
}

/** Returns which thread ran the task (the main thread or a worker's) and the task. */
export function createThreadHandler(init: { delayMs: number }): (task: number) => { task: number; threadId: number } {
  return (task) => {
    busyWait(init.delayMs);
    return { task, threadId };
  };
}

export interface HeavyTask {
  seed: number;
  rounds: number;
}

export interface HeavyResult {
  seed: number;
  checksum: number;
  path: Float64Array;
}

/**
 * CPU-bound and deterministic: a seeded random walk of `init.length` steps, smoothed `rounds` times
 * (O(length * rounds)); returns the final series as a Float64Array and a checksum.
 */
export function createHeavyHandler(init: { length: number; window: number }): (task: HeavyTask) => HeavyResult {
  return ({ seed, rounds }) => {
    const random = new SeededRandom(seed);
    let path = new Float64Array(init.length);
    let level = 100;
    for (let i = 0; i < path.length; i++) {
      level += random.normal();
      path[i] = level;
    }
    let next = new Float64Array(init.length);
    for (let r = 0; r < rounds; r++) {
      let sum = 0;
      for (let i = 0; i < path.length; i++) {
        sum += path[i]!;
        if (i >= init.window) sum -= path[i - init.window]!;
        next[i] = sum / Math.min(i + 1, init.window) + 1e-3 * Math.sin(path[i]!);
      }
      [path, next] = [next, path];
    }
    let checksum = 0;
    for (let i = 0; i < path.length; i++) checksum = (checksum * 31 + path[i]!) % 1e9;
    return { seed, checksum, path };
  };
}

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin: a CPU-bound stand-in for a backtest
  }
}

/** Returns something structured clone refuses (a function). */
export function createUnclonableHandler(): (task: number) => { task: number; callback: () => number } {
  return (task) => ({ task, callback: () => task });
}
