import { parentPort, workerData } from 'node:worker_threads';
import { describeError } from '../../parallel/worker-main.js';
import type { PolicySpec } from '../policy/policy-spec.js';
import { LearnerShard, type ShardInit, type UpdatePlan } from './learner-shard.js';

/**
 * Entry of a learner-shard worker thread (see shard-pool.ts). workerData is a ShardInit.
 *   worker -> parent  { type: 'ready', info } once the env is built, or { type: 'error', … }
 *   parent -> worker  { id, type: 'collect', spec, params, rewardScale } | { id, type: 'rescale', rewardScale }
 *                     | { id, type: 'begin', plan, shared, slot } | { type: 'close' }
 *   worker -> parent  { id, type: 'ok', result } | { id, type: 'error', … }
 * After answering 'begin' the worker serves the update's minibatch steps through shared memory
 * (SharedUpdate) until the parent signals OP_END, then returns to messages. Importing this module
 * has no side effects; the bootstrap calls startShardWorker().
 */

/** Shared memory of an update: a control block per worker, the parameters, and a gradient region per worker */
export interface SharedUpdate {
  size: number;
  /** CTRL int32 per worker slot */
  ctrl: Int32Array;
  params: Float32Array;
  /** (size + 5) floats per worker slot: the gradient, then the 5 loss statistics */
  out: Float32Array;
}

export const CTRL = 8;
/** Incremented by the parent for each command */
export const CTRL_SEQ = 0;
/** Set by the worker to the command's sequence number once done */
export const CTRL_DONE = 1;
export const CTRL_OP = 2;
export const CTRL_EPOCH = 3;
export const CTRL_INDEX = 4;
/** Rows of the minibatch this worker held */
export const CTRL_COUNT = 5;
/** 1 when the step failed (the error follows as a message) */
export const CTRL_ERROR = 6;
export const OP_GRAD = 0;
export const OP_END = 1;

export type ShardRequest =
  | { id: number; type: 'collect'; spec: PolicySpec; params: Float32Array; rewardScale: number }
  | { id: number; type: 'rescale'; rewardScale: number }
  | { id: number; type: 'begin'; plan: UpdatePlan; shared: SharedUpdate; slot: number }
  | { type: 'close' };

/** Serves gradient steps until OP_END; a failure is flagged, reported by message, and ends the loop */
function serveUpdate(shard: LearnerShard, sh: SharedUpdate, slot: number, seq: number, report: (error: unknown) => void): void {
  const { ctrl, params, out, size } = sh;
  const b = slot * CTRL;
  const at = slot * (size + 5);
  for (;;) {
    Atomics.wait(ctrl, b + CTRL_SEQ, seq);
    seq = Atomics.load(ctrl, b + CTRL_SEQ);
    if (ctrl[b + CTRL_OP] === OP_END) return;
    let failed = false;
    try {
      const r = shard.gradStep(params, ctrl[b + CTRL_EPOCH]!, ctrl[b + CTRL_INDEX]!);
      out.set(r.grad, at);
      for (let k = 0; k < 5; k++) out[at + size + k] = r.stats[k]!;
      ctrl[b + CTRL_COUNT] = r.count;
    } catch (error) {
      failed = true;
      ctrl[b + CTRL_ERROR] = 1;
      report(error);
    }
    Atomics.store(ctrl, b + CTRL_DONE, seq);
    Atomics.notify(ctrl, b + CTRL_DONE);
    if (failed) return;
  }
}

export function startShardWorker(): void {
  const port = parentPort;
  if (port === null) throw new Error('startShardWorker() must run in a worker thread');
  LearnerShard.create(workerData as ShardInit).then(
    (shard) => {
      port.postMessage({ type: 'ready', info: shard.info() });
      // requests are answered strictly in order (the trainer sends one at a time per shard)
      let queue = Promise.resolve();
      port.on('message', (message: ShardRequest) => {
        if (message.type === 'close') {
          shard.close();
          process.exit(0); // in a worker thread this ends the thread only
        }
        queue = queue.then(async () => {
          try {
            if (message.type === 'collect' || message.type === 'rescale') {
              const result = message.type === 'collect' ? shard.collect(message.spec, message.params, message.rewardScale) : shard.rescale(message.rewardScale);
              port.postMessage({ id: message.id, type: 'ok', result }, [result.rewardSums.buffer as ArrayBuffer]);
            } else {
              await shard.beginUpdate(message.plan);
              const sh = message.shared;
              sh.ctrl[message.slot * CTRL + CTRL_ERROR] = 0;
              // read the sequence before answering: the parent's first command may come right after
              const seq = Atomics.load(sh.ctrl, message.slot * CTRL + CTRL_SEQ);
              port.postMessage({ id: message.id, type: 'ok', result: null });
              serveUpdate(shard, sh, message.slot, seq, (error) => port.postMessage({ type: 'error', ...describeError(error) }));
            }
          } catch (error) {
            port.postMessage({ id: message.id, type: 'error', ...describeError(error) });
          }
        });
      });
    },
    (error: unknown) => port.postMessage({ type: 'error', ...describeError(error) }),
  );
}
