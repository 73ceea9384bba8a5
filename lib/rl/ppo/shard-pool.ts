import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { ConfigError, WorkbenchError } from '../../core/errors.js';
import { locateProjectFile, locateTsxEsmApi } from '../../parallel/project-files.js';
import type { ErrorDescription } from '../../parallel/worker-main.js';
import type { PolicySpec } from '../policy/policy-spec.js';
import { LearnerShard, type CollectSummary, type GradResult, type ShardEnvInfo, type ShardInit, type UpdatePlan } from './learner-shard.js';
import { CTRL, CTRL_COUNT, CTRL_DONE, CTRL_EPOCH, CTRL_ERROR, CTRL_INDEX, CTRL_OP, CTRL_SEQ, OP_END, OP_GRAD, type SharedUpdate, type ShardRequest } from './shard-worker.js';

/** A shard worker failed (env construction, a step, a gradient) or its thread died */
export class ShardError extends WorkbenchError {
  readonly code = 'PPO_WORKER_FAILED';
}

/** One update's minibatch steps: every shard's gradient at the given parameters, in shard order */
export interface UpdateSession {
  step(params: Float32Array, epoch: number, index: number): Promise<GradResult[]>;
  end(): Promise<void>;
}

/** The shards of a training run: in this thread (workers 0) or one per worker thread */
export interface ShardPool {
  readonly info: ShardEnvInfo;
  readonly workers: number;
  /** Every shard's rollout with these parameters, in env order */
  collect(spec: PolicySpec, params: Float32Array, rewardScale: number): Promise<CollectSummary[]>;
  rescale(rewardScale: number): Promise<CollectSummary[]>;
  /** Starts an update over the kept rollouts; `size` = parameter count */
  update(plan: UpdatePlan, size: number): Promise<UpdateSession>;
  close(): Promise<void>;
}

/** Env blocks [start, start + count) for `workers` shards: as even as possible, earlier blocks one larger */
export function splitEnvs(numEnvs: number, workers: number): { start: number; count: number }[] {
  const blocks: { start: number; count: number }[] = [];
  const base = Math.floor(numEnvs / workers);
  const extra = numEnvs % workers;
  let start = 0;
  for (let w = 0; w < workers; w++) {
    const count = base + (w < extra ? 1 : 0);
    blocks.push({ start, count });
    start += count;
  }
  return blocks;
}

type PoolInit = Omit<ShardInit, 'settings'> & { settings: Omit<ShardInit['settings'], 'envStart'> };

/**
 * Opens the shards: one in this thread (workers 0) or one per worker thread, each with a
 * contiguous block of envs it keeps between rollouts (episodes continue across updates).
 */
export async function openShards(init: PoolInit, workers: number): Promise<ShardPool> {
  if (!Number.isInteger(workers) || workers < 0) throw new ConfigError('--workers', [`expected an integer >= 0, got ${workers}`]);
  if (workers > init.numEnvs) throw new ConfigError('--workers', [`${workers} workers for ${init.numEnvs} envs: each worker needs at least one env (raise numEnvs or lower --workers)`]);
  if (workers === 0) return inThread(await LearnerShard.create({ ...init, settings: { ...init.settings, envStart: 0 } }));
  const threads = splitEnvs(init.numEnvs, workers).map((b) => new ShardThread({ ...init, numEnvs: b.count, settings: { ...init.settings, envStart: b.start } }));
  try {
    const infos = await Promise.all(threads.map((t) => t.ready));
    const key = (i: ShardEnvInfo) => JSON.stringify({ ...i, observationShape: undefined });
    if (infos.some((i) => key(i) !== key(infos[0]!))) throw new ShardError('workers built envs with different observation sizes or action spaces');
    return new ThreadPool(threads, infos[0]!);
  } catch (error) {
    await Promise.all(threads.map((t) => t.close()));
    throw error;
  }
}

function inThread(shard: LearnerShard): ShardPool {
  return {
    info: shard.info(),
    workers: 0,
    collect: async (spec, params, rewardScale) => [shard.collect(spec, params, rewardScale)],
    rescale: async (rewardScale) => [shard.rescale(rewardScale)],
    update: async (plan) => {
      await shard.beginUpdate(plan);
      return { step: async (params, epoch, index) => [shard.gradStep(params, epoch, index)], end: async () => undefined };
    },
    close: async () => shard.close(),
  };
}

/**
 * Worker shards. Rollouts go by message; an update's minibatch steps go through shared memory:
 * each step the parameters are written once to a SharedArrayBuffer, every worker is woken with
 * Atomics.notify, computes its gradient into its own region and signals back. A message round trip
 * per step (structured clone, two event-loop turns per worker) cost a third of the update; this
 * costs a memcpy and a futex wake.
 */
class ThreadPool implements ShardPool {
  private shared: SharedUpdate | undefined;

  constructor(
    private readonly threads: ShardThread[],
    readonly info: ShardEnvInfo,
  ) {}

  get workers(): number {
    return this.threads.length;
  }

  collect(spec: PolicySpec, params: Float32Array, rewardScale: number): Promise<CollectSummary[]> {
    return Promise.all(this.threads.map((t) => t.request<CollectSummary>({ type: 'collect', spec, params, rewardScale })));
  }

  rescale(rewardScale: number): Promise<CollectSummary[]> {
    return Promise.all(this.threads.map((t) => t.request<CollectSummary>({ type: 'rescale', rewardScale })));
  }

  async update(plan: UpdatePlan, size: number): Promise<UpdateSession> {
    const K = this.threads.length;
    if (this.shared?.size !== size) {
      this.shared = {
        size,
        ctrl: new Int32Array(new SharedArrayBuffer(4 * K * CTRL)),
        params: new Float32Array(new SharedArrayBuffer(4 * size)),
        out: new Float32Array(new SharedArrayBuffer(4 * K * (size + 5))),
      };
    }
    const sh = this.shared;
    await Promise.all(this.threads.map((t, slot) => t.request({ type: 'begin', plan, shared: sh, slot })));
    const { ctrl } = sh;
    const expected = new Int32Array(K);
    let ended = false;
    const signal = (slot: number, op: number) => {
      const b = slot * CTRL;
      ctrl[b + CTRL_OP] = op;
      expected[slot] = Atomics.add(ctrl, b + CTRL_SEQ, 1) + 1;
      Atomics.notify(ctrl, b + CTRL_SEQ);
    };
    const end = async () => {
      if (ended) return;
      ended = true;
      for (let w = 0; w < K; w++) signal(w, OP_END);
    };
    return {
      step: async (params, epoch, index) => {
        sh.params.set(params);
        for (let w = 0; w < K; w++) {
          ctrl[w * CTRL + CTRL_EPOCH] = epoch;
          ctrl[w * CTRL + CTRL_INDEX] = index;
          signal(w, OP_GRAD);
        }
        const results: GradResult[] = [];
        for (let w = 0; w < K; w++) {
          const b = w * CTRL;
          const deadline = performance.now() + 300_000;
          // this thread has nothing else to do until every gradient is in: a blocking wait is the fastest wake-up
          for (let done = Atomics.load(ctrl, b + CTRL_DONE); done !== expected[w]; done = Atomics.load(ctrl, b + CTRL_DONE)) {
            if (performance.now() > deadline) {
              await end();
              throw new ShardError(`${this.threads[w]!.where}: no gradient within 300 s`);
            }
            Atomics.wait(ctrl, b + CTRL_DONE, done, 1000);
          }
          if (ctrl[b + CTRL_ERROR] !== 0) {
            await end();
            throw await this.threads[w]!.failureDetails();
          }
          const at = w * (size + 5);
          results.push({ grad: sh.out.slice(at, at + size), stats: Float64Array.from(sh.out.subarray(at + size, at + size + 5)), count: ctrl[b + CTRL_COUNT]! });
        }
        return results;
      },
      end,
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.close()));
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Reply = { type: 'ready'; info: ShardEnvInfo } | { id: number; type: 'ok'; result: unknown } | ({ id?: number; type: 'error' } & ErrorDescription);

/** Eval'd entry of a shard worker: register tsx (workers load .ts), then start shard-worker.ts */
function bootstrap(): string {
  const main = pathToFileURL(locateProjectFile('lib/rl/ppo/shard-worker.ts')).href;
  return [
    `import(${JSON.stringify(locateTsxEsmApi())})`,
    `  .then((tsx) => { tsx.register(); return import(${JSON.stringify(main)}); })`,
    '  .then((entry) => entry.startShardWorker())',
    '  .catch((error) => require("node:worker_threads").parentPort.postMessage({',
    '    type: "error", message: String((error && error.message) || error), stack: String((error && error.stack) || error),',
    '  }));',
  ].join('\n');
}

class ShardThread {
  readonly ready: Promise<ShardEnvInfo>;
  readonly where: string;
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private nextId = 1;
  private failure: Error | undefined;
  private failed: Promise<Error>;
  private onFailure!: (e: Error) => void;
  private closed = false;
  private onReady: { resolve: (i: ShardEnvInfo) => void; reject: (e: unknown) => void } | undefined;

  constructor(init: ShardInit) {
    this.where = `PPO worker for envs ${init.settings.envStart}..${init.settings.envStart + init.numEnvs - 1}`;
    this.ready = new Promise((resolve, reject) => (this.onReady = { resolve, reject }));
    this.ready.catch(() => undefined); // awaited by openShards
    this.failed = new Promise((resolve) => (this.onFailure = resolve));
    this.worker = new Worker(bootstrap(), { eval: true, execArgv: [], workerData: init });
    this.worker.on('message', (reply: Reply) => {
      if (reply.type === 'ready') return this.onReady?.resolve(reply.info);
      if (reply.type === 'error') {
        const error = new ShardError(`${this.where} failed: ${reply.message}\n  original stack:\n    ${reply.stack.split('\n').join('\n    ')}`);
        if (reply.id === undefined) return this.fail(error);
        this.settle(reply.id, (p) => p.reject(error));
        return;
      }
      this.settle(reply.id, (p) => p.resolve(reply.result));
    });
    this.worker.on('error', (error) => this.fail(new ShardError(`${this.where} died: ${error.message}`, { cause: error })));
    this.worker.on('exit', (code) => {
      if (!this.closed) this.fail(new ShardError(`${this.where} exited unexpectedly (exit code ${code})`));
    });
  }

  private settle(id: number, f: (p: { resolve: (v: unknown) => void; reject: (e: unknown) => void }) => void): void {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (p !== undefined) f(p);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.onFailure(this.failure);
    this.onReady?.reject(error);
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  /** The worker's own description of a failure it flagged in shared memory (its message follows the flag) */
  failureDetails(): Promise<Error> {
    const timeout = new Promise<Error>((resolve) => setTimeout(() => resolve(new ShardError(`${this.where} failed during an update`)), 5000).unref());
    return Promise.race([this.failed, timeout]);
  }

  request<T>(message: DistributiveOmit<Exclude<ShardRequest, { type: 'close' }>, 'id'>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...message, id });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.fail(new ShardError(`${this.where} closed`));
    // let the worker close its env (files, store handles), but never wait long for it
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    try {
      this.worker.postMessage({ type: 'close' });
    } catch {
      // already gone
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)))]);
    clearTimeout(timer);
    await this.worker.terminate();
  }
}
