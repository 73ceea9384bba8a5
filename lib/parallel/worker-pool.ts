import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { ConfigError, WorkbenchError } from '../core/errors.js';
import { locateProjectFile, locateTsxEsmApi } from './project-files.js';
import { describeError, loadHandler } from './worker-main.js';
import type { ErrorDescription, TaskMessage, TaskReply, WorkerInput } from './worker-main.js';

/**
 * A small deterministic task pool on worker_threads for CPU-bound work (walk-forward folds,
 * parameter sweep points). Each worker imports a handler module once, builds its handler from a
 * factory and an init payload, then runs one task at a time. Results come back in task order
 * whatever the completion order, so the output never depends on the worker count.
 *
 * Workers load TypeScript through tsx: each one registers tsx's ESM hooks with
 * `tsx/esm/api`'s `register()` before importing worker-main.ts. (`--import tsx` in the worker's
 * execArgv is not enough: tsx 4.23 registers its ESM hooks only in the main thread on Node
 * versions before 22.22.3 / 24.11.1, so Node 20 workers would fail on `.ts` files.)
 */

export interface TaskPoolOptions<I> {
  /** Absolute path of the module that defines the handler (.ts or .js) */
  module: string;
  /** Name of the exported factory: (init: I) => Promise<(task) => Promise<result>> | (task) => ... */
  factory: string;
  /** Structured-clonable init payload, sent once to each worker (e.g. data, config) */
  init: I;
  /** 0 = run in this thread (same handler code, no worker); default: min(tasks, os.availableParallelism()) */
  workers?: number;
  /** Called with each result as it completes (completion order), with the task's index */
  onResult?: (index: number, result: unknown) => void;
  /** Default true. False: results only go to onResult and runTasks returns [] (bounded memory for huge sweeps) */
  keepResults?: boolean;
}

/** A task (index >= 0) or a worker's handler setup (index undefined) failed, or a worker died. */
export class TaskError extends WorkbenchError {
  readonly code = 'TASK_FAILED';
  /** Index of the failed task; undefined when the module import or factory failed */
  readonly index: number | undefined;
  /** Message, stack, name and code of the original error, as seen in the thread that ran it */
  readonly original: ErrorDescription;
  constructor(index: number | undefined, summary: string, original: ErrorDescription) {
    super(`${summary}: ${original.message}\n  original stack:\n${indent(original.stack)}`);
    this.index = index;
    this.original = original;
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

/** Default worker count: one per task, at most os.availableParallelism(), at least 1. */
export function defaultWorkerCount(taskCount: number): number {
  return Math.max(1, Math.min(taskCount, availableParallelism()));
}

let liveWorkers = 0;

/** Worker threads started by runTasks and not yet exited, over all pools (diagnostics and tests). */
export function activeWorkerCount(): number {
  return liveWorkers;
}

/**
 * Runs `factory(init)`'s handler over every task and returns the results in task order.
 *
 * - At most `workers` tasks are in flight; an iterable is pulled lazily, one task per free worker,
 *   so tasks can be streamed without materializing them.
 * - Tasks, init and results cross threads by structured clone (typed arrays are fine, functions and
 *   class prototypes are not); in-thread runs (`workers: 0`) clone the same way, so all worker
 *   counts give deep-equal results.
 * - The first failure (handler error, factory error, dead worker, throwing iterator or onResult)
 *   rejects with a {@link TaskError} naming the task index and carrying the original message and
 *   stack; remaining tasks are not started and the iterator is closed.
 * - Workers are always terminated before the promise settles.
 *
 * @throws ConfigError for a bad worker count or a missing handler module
 */
export async function runTasks<T, R, I>(tasks: readonly T[] | Iterable<T>, options: TaskPoolOptions<I>): Promise<R[]> {
  const problems: string[] = [];
  if (!isAbsolute(options.module)) problems.push(`module must be an absolute path, got '${options.module}'`);
  else if (!existsSync(options.module)) problems.push(`module ${options.module} does not exist`);
  if (options.factory === '') problems.push('factory must name an exported function');
  const workers = options.workers ?? defaultWorkerCount(Array.isArray(tasks) ? tasks.length : Infinity);
  if (!Number.isInteger(workers) || workers < 0) problems.push(`workers must be an integer >= 0, got ${workers}`);
  if (problems.length > 0) throw new ConfigError('runTasks', problems);

  const input: WorkerInput = { module: options.module, factory: options.factory, init: options.init };
  const keepResults = options.keepResults ?? true;
  const iterator = (tasks as Iterable<T>)[Symbol.iterator]();
  try {
    const results =
      workers === 0
        ? await runInThread<T, R>(iterator, input, keepResults, options.onResult)
        : await runInWorkers<T, R>(iterator, input, workers, keepResults, options.onResult);
    return keepResults ? results : [];
  } catch (error) {
    try {
      iterator.return?.(); // close a generator early (its finally blocks run)
    } catch {
      // the first error is the one to report
    }
    throw error;
  }
}

function taskFailure(index: number, where: string, original: ErrorDescription): TaskError {
  return new TaskError(index, `task ${index} failed ${where}`, original);
}

function setupFailure(input: WorkerInput, where: string, original: ErrorDescription): TaskError {
  return new TaskError(undefined, `handler setup (${input.factory} in ${input.module}) failed ${where}`, original);
}

async function runInThread<T, R>(
  iterator: Iterator<T>,
  input: WorkerInput,
  keepResults: boolean,
  onResult: ((index: number, result: unknown) => void) | undefined,
): Promise<R[]> {
  let handler: (task: unknown) => unknown;
  try {
    handler = await loadHandler({ ...input, init: structuredClone(input.init) });
  } catch (error) {
    throw setupFailure(input, 'in this thread', describeError(error));
  }
  const results: R[] = [];
  for (let index = 0; ; index++) {
    const next = iterator.next();
    if (next.done === true) break;
    let result: unknown;
    try {
      result = structuredClone(await handler(structuredClone(next.value)));
    } catch (error) {
      throw taskFailure(index, 'in this thread', describeError(error));
    }
    if (keepResults) results.push(result as R);
    onResult?.(index, result);
  }
  return results;
}

/** Eval'd (CommonJS script) entry of every worker: register tsx, then start worker-main.ts */
function workerBootstrap(): string {
  const tsxApi = locateTsxEsmApi();
  const main = pathToFileURL(locateProjectFile('lib/parallel/worker-main.ts')).href;
  return [
    `import(${JSON.stringify(tsxApi)})`,
    `  .then((tsx) => { tsx.register(); return import(${JSON.stringify(main)}); })`,
    '  .then((entry) => entry.startWorker())',
    '  .catch((error) => require("node:worker_threads").parentPort.postMessage({',
    '    index: -1, ok: false, message: String((error && error.message) || error), stack: String((error && error.stack) || error),',
    '  }));',
  ].join('\n');
}

async function runInWorkers<T, R>(
  iterator: Iterator<T>,
  input: WorkerInput,
  maxWorkers: number,
  keepResults: boolean,
  onResult: ((index: number, result: unknown) => void) | undefined,
): Promise<R[]> {
  const bootstrap = workerBootstrap();
  const results: R[] = [];
  const workers: Worker[] = [];
  let settled = false;
  try {
    await new Promise<void>((resolve, reject) => {
      const idle: Worker[] = [];
      const running = new Map<Worker, number>();
      let nextIndex = 0;
      let exhausted = false;

      const fail = (error: unknown): void => {
        if (settled) return;
        settled = true;
        reject(error);
      };

      const threadIds = new Map<Worker, number>(); // worker.threadId becomes -1 once it exited
      const where = (worker: Worker): string => `in worker thread ${threadIds.get(worker)}`;

      const spawn = (): Worker => {
        const worker = new Worker(bootstrap, { eval: true, execArgv: [], workerData: input });
        workers.push(worker);
        threadIds.set(worker, worker.threadId);
        liveWorkers++;
        worker.on('message', (reply: TaskReply) => {
          if (settled) return;
          if (reply.index < 0 && reply.ok === false) return fail(setupFailure(input, where(worker), reply));
          running.delete(worker);
          if (reply.ok === false) return fail(taskFailure(reply.index, where(worker), reply));
          if (keepResults) results[reply.index] = reply.result as R;
          try {
            onResult?.(reply.index, reply.result);
          } catch (error) {
            return fail(error);
          }
          idle.push(worker);
          pump();
        });
        worker.on('messageerror', (error) => {
          const index = running.get(worker);
          fail(new TaskError(index, `result of task ${index} could not be deserialized ${where(worker)}`, describeError(error)));
        });
        worker.on('error', (error) => {
          const index = running.get(worker);
          const thread = `worker thread ${threadIds.get(worker)}`;
          const summary = index === undefined ? `${thread} died` : `task ${index} failed: ${thread} died`;
          fail(new TaskError(index, summary, describeError(error)));
        });
        worker.on('exit', (exitCode) => {
          liveWorkers--;
          const index = running.get(worker);
          const thread = `worker thread ${threadIds.get(worker)}`;
          const summary = index === undefined ? thread : `task ${index} failed: ${thread}`;
          fail(new TaskError(index, `${summary} exited unexpectedly`, { message: `exit code ${exitCode}`, stack: '(no stack: the thread exited)' }));
        });
        return worker;
      };

      const pump = (): void => {
        try {
          while (!settled && !exhausted && (idle.length > 0 || workers.length < maxWorkers)) {
            const next = iterator.next();
            if (next.done === true) {
              exhausted = true;
              break;
            }
            const index = nextIndex++;
            const worker = idle.pop() ?? spawn();
            running.set(worker, index);
            try {
              worker.postMessage({ index, task: next.value } satisfies TaskMessage);
            } catch (error) {
              throw new TaskError(index, `task ${index} could not be sent to a worker`, describeError(error));
            }
          }
        } catch (error) {
          return fail(error);
        }
        if (exhausted && running.size === 0 && !settled) {
          settled = true;
          resolve();
        }
      };

      pump();
    });
    return results;
  } finally {
    settled = true; // exits caused by terminate() are expected
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
