import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { threadId as mainThreadId } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { locateProjectFile, locateTsxEsmApi, locateTsxLoader } from './project-files.js';
import type { HeavyResult, HeavyTask } from './test-handlers.js';
import { activeWorkerCount, defaultWorkerCount, runTasks, TaskError } from './worker-pool.js';

const handlers = locateProjectFile('lib/parallel/test-handlers.ts');
const heavyTasks: HeavyTask[] = Array.from({ length: 6 }, (_, i) => ({ seed: 1000 + i, rounds: 3 + (i % 3) }));
const heavyInit = { length: 5_000, window: 20 };

async function rejection(promise: Promise<unknown>): Promise<TaskError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TaskError);
  return error as TaskError;
}

describe('project files', () => {
  it('finds project files and tsx entry points', () => {
    expect(existsSync(handlers)).toBe(true);
    const loader = locateTsxLoader();
    expect(loader).toMatch(/^file:\/\/.*\/node_modules\/tsx\/dist\/loader\.mjs$/);
    expect(existsSync(fileURLToPath(loader))).toBe(true);
    expect(locateTsxEsmApi()).toMatch(/\/node_modules\/tsx\/dist\/esm\/api\/index\.mjs$/);
  });

  it('names every searched folder when a file is missing', () => {
    let error: unknown;
    try {
      locateProjectFile('no/such/file.ts');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(process.cwd());
    expect((error as ConfigError).message).toContain('no/such/file.ts');
  });
});

describe('runTasks', () => {
  it('returns the same results in task order for 0, 1 and 2 workers', async () => {
    const squares = [3, 1, 4, 1, 5, 9, 2, 6];
    const runs = await Promise.all(
      [0, 1, 2].map((workers) =>
        runTasks<number, number, { offset: number }>(squares, { module: handlers, factory: 'createSquareHandler', init: { offset: 7 }, workers }),
      ),
    );
    for (const result of runs) expect(result).toEqual(squares.map((x) => x * x + 7));

    const heavy: HeavyResult[][] = [];
    for (const workers of [0, 1, 2]) {
      heavy.push(await runTasks<HeavyTask, HeavyResult, typeof heavyInit>(heavyTasks, { module: handlers, factory: 'createHeavyHandler', init: heavyInit, workers }));
    }
    expect(heavy[0]!.map((r) => r.seed)).toEqual(heavyTasks.map((t) => t.seed));
    expect(heavy[0]![0]!.path).toBeInstanceOf(Float64Array);
    expect(heavy[0]![0]!.path.length).toBe(heavyInit.length);
    expect(heavy[1]).toEqual(heavy[0]);
    expect(heavy[2]).toEqual(heavy[0]);
    expect(activeWorkerCount()).toBe(0);
  });

  it('calls onResult once per task with its index', async () => {
    for (const workers of [0, 2]) {
      const seen = new Map<number, unknown>();
      const tasks = [10, 20, 30, 40, 50];
      const results = await runTasks<number, number, { offset: number }>(tasks, {
        module: handlers,
        factory: 'createSquareHandler',
        init: { offset: 0 },
        workers,
        onResult: (index, result) => {
          expect(seen.has(index)).toBe(false);
          seen.set(index, result);
        },
      });
      expect([...seen.keys()].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
      for (const [index, result] of seen) expect(result).toBe(results[index]);
    }
  });

  it('keepResults: false returns [] but reports every result', async () => {
    for (const workers of [0, 2]) {
      const seen: number[] = [];
      const results = await runTasks<number, number, { offset: number }>([1, 2, 3, 4, 5, 6, 7], {
        module: handlers,
        factory: 'createSquareHandler',
        init: { offset: 1 },
        workers,
        keepResults: false,
        onResult: (index, result) => (seen[index] = result as number),
      });
      expect(results).toEqual([]);
      expect(seen).toEqual([2, 5, 10, 17, 26, 37, 50]);
    }
  });

  it('rejects naming the failed task, with the original message and stack', async () => {
    const tasks = [0, 1, 2, 3, 4, 5, 6, 7];
    for (const workers of [0, 2]) {
      const error = await rejection(runTasks(tasks, { module: handlers, factory: 'createFailingHandler', init: { failOn: 5, delayMs: 5 }, workers }));
      expect(error.index).toBe(5);
      expect(error.message).toMatch(/^task 5 failed/);
      expect(error.message).toContain('refusing task value 5');
      expect(error.message).toContain('test-handlers.ts'); // the stack from where it was thrown
      expect(error.original.name).toBe('RangeError');
      expect(error.code).toBe('TASK_FAILED');
      expect(activeWorkerCount()).toBe(0);
    }
  });

  it('rejects when the factory fails', async () => {
    for (const workers of [0, 1]) {
      const error = await rejection(runTasks([1, 2, 3], { module: handlers, factory: 'createBrokenHandler', init: { reason: 'no data' }, workers }));
      expect(error.index).toBeUndefined();
      expect(error.message).toContain('createBrokenHandler');
      expect(error.message).toContain('cannot set up: no data');
    }
    const missing = await rejection(runTasks([1], { module: handlers, factory: 'noSuchFactory', init: {}, workers: 1 }));
    expect(missing.message).toContain("no exported function 'noSuchFactory'");
  });

  it('rejects a result that cannot be structured-cloned, in-thread and in workers alike', async () => {
    for (const workers of [0, 1]) {
      const error = await rejection(runTasks([7], { module: handlers, factory: 'createUnclonableHandler', init: null, workers }));
      expect(error.index).toBe(0);
      expect(error.message).toMatch(/^task 0 failed/);
      expect(error.message).toMatch(/could not be cloned/);
    }
  });

  it('rejects when a worker dies (process.exit or uncaught exception)', async () => {
    const exited = await rejection(runTasks([0, 1, 2, 3], { module: handlers, factory: 'createCrashingHandler', init: { crashOn: 2, how: 'exit' }, workers: 2 }));
    expect(exited.index).toBe(2);
    expect(exited.message).toMatch(/^task 2 failed: worker thread \d+ exited unexpectedly: exit code 3/);

    const uncaught = await rejection(runTasks([0, 1, 2, 3], { module: handlers, factory: 'createCrashingHandler', init: { crashOn: 1, how: 'uncaught' }, workers: 1 }));
    expect(uncaught.index).toBe(1);
    expect(uncaught.message).toContain('uncaught on task value 1');
    expect(activeWorkerCount()).toBe(0);
  });

  it('pulls tasks from an iterable lazily and closes it on failure', async () => {
    const workers = 2;
    let pulled = 0;
    let completed = 0;
    function* count(limit: number): Generator<number> {
      for (let i = 0; i < limit; i++) {
        pulled++;
        yield i;
      }
    }
    const results = await runTasks<number, number, { offset: number }>(count(20), {
      module: handlers,
      factory: 'createSquareHandler',
      init: { offset: 0 },
      workers,
      onResult: () => {
        completed++;
        expect(pulled).toBeLessThanOrEqual(completed - 1 + workers);
      },
    });
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i * i));

    let closed = false;
    pulled = 0;
    function* endless(): Generator<number> {
      try {
        for (let i = 0; ; i++) {
          pulled++;
          yield i;
        }
      } finally {
        closed = true;
      }
    }
    // other workers keep finishing tasks until the failure reaches this thread (how many depends on
    // the machine's load), but each pull still waits for a free worker: pulled <= finished + workers
    let finished = 0;
    const error = await rejection(runTasks(endless(), { module: handlers, factory: 'createFailingHandler', init: { failOn: 3 }, workers, onResult: () => finished++ }));
    expect(error.index).toBe(3);
    expect(closed).toBe(true);
    expect(pulled).toBeLessThanOrEqual(finished + 1 + workers);
  });

  it('spreads tasks over at most `workers` threads, runs in-thread for 0 and terminates its workers', async () => {
    const tasks = [0, 1, 2, 3, 4, 5];
    const inThread = await runTasks<number, { task: number; threadId: number }, { delayMs: number }>(tasks, { module: handlers, factory: 'createThreadHandler', init: { delayMs: 1 }, workers: 0 });
    expect(new Set(inThread.map((r) => r.threadId))).toEqual(new Set([mainThreadId]));

    const first = await runTasks<number, { task: number; threadId: number }, { delayMs: 1 }>(tasks, { module: handlers, factory: 'createThreadHandler', init: { delayMs: 1 }, workers: 2 });
    expect(activeWorkerCount()).toBe(0);
    const second = await runTasks<number, { task: number; threadId: number }, { delayMs: 1 }>(tasks, { module: handlers, factory: 'createThreadHandler', init: { delayMs: 1 }, workers: 2 });
    expect(activeWorkerCount()).toBe(0);
    const firstIds = new Set(first.map((r) => r.threadId));
    const secondIds = new Set(second.map((r) => r.threadId));
    expect(first.map((r) => r.task)).toEqual(tasks);
    expect(firstIds.size).toBeLessThanOrEqual(2);
    expect(firstIds.has(mainThreadId)).toBe(false);
    // fresh threads for the second run: the first run's were terminated
    for (const id of secondIds) expect(firstIds.has(id)).toBe(false);
  });

  it('never starts more workers than tasks, and handles no tasks', async () => {
    let live = -1;
    expect(await runTasks([], { module: handlers, factory: 'createSquareHandler', init: { offset: 0 }, workers: 4 })).toEqual([]);
    const one = await runTasks<number, { task: number; threadId: number }, { delayMs: number }>(
      (function* () {
        yield 42;
      })(),
      { module: handlers, factory: 'createThreadHandler', init: { delayMs: 0 }, workers: 8, onResult: () => (live = activeWorkerCount()) },
    );
    expect(live).toBe(1);
    expect(one.map((r) => r.task)).toEqual([42]);
  });

  it('validates its options', async () => {
    await expect(runTasks([1], { module: handlers, factory: 'createSquareHandler', init: {}, workers: -1 })).rejects.toBeInstanceOf(ConfigError);
    await expect(runTasks([1], { module: 'relative/path.ts', factory: 'createSquareHandler', init: {} })).rejects.toThrow(/absolute path/);
    expect(defaultWorkerCount(1)).toBe(1);
    expect(defaultWorkerCount(0)).toBe(1);
    expect(defaultWorkerCount(1_000)).toBeGreaterThanOrEqual(1);
  });
});
