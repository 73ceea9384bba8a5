import type { DuckDBPreparedStatement } from '@duckdb/node-api';
import type { LogRow } from './intent-log-writer.js';
import type { JournalError } from './journal-types.js';

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface JournalCommitterHooks {
  /** The journal refuses new records: no flush timer is armed any more */
  isClosed(): boolean;
  /** An INSERT failed: the journal fails (and calls `stop` here) */
  onCommitError(error: unknown, first: number, last: number): void;
  /** DuckDB committed every record up to `committedSeq` */
  afterCommit(): void;
}

/**
 * The journal's DuckDB side (journal.ts): assigns seqs, queues serialized records and commits them
 * in seq order with one INSERT per batch. Group commit: every waiter of the same tick starts one
 * commit (after the microtasks drain), records appended while a commit is in flight ride along with
 * the next one, and buffered records wait at most `flushMs` for their timer.
 */
export class JournalCommitter {
  /** Seq of the last record queued (committed or not) */
  lastSeq: number;
  /** Seq of the last record committed to DuckDB */
  committedSeq: number;
  /** The failure that stopped the journal: every later wait rejects with it */
  failure: JournalError | undefined;
  /** INSERT statements committed and the ms they took */
  commits = 0;
  commitMs = 0;
  private pending: LogRow[] = [];
  private waiters: Waiter[] = [];
  /** A commit loop is running */
  private writing = false;
  /** The loop commits until this seq (raised by durable appends, flush, the timer, a full batch) */
  private commitTarget: number;
  private microtaskQueued = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly insert: DuckDBPreparedStatement,
    private readonly runId: string,
    lastSeq: number,
    private readonly flushMs: number,
    readonly maxBatch: number,
    private readonly hooks: JournalCommitterHooks,
  ) {
    this.lastSeq = lastSeq;
    this.committedSeq = lastSeq;
    this.commitTarget = lastSeq;
  }

  /** Records waiting for a commit */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Queues a serialized record under the next seq (`lastSeq + 1`) */
  push(json: string): LogRow {
    const row = { seq: ++this.lastSeq, json };
    this.pending.push(row);
    return row;
  }

  /** Resolves once `seq` is committed to DuckDB; starts a commit at the end of this tick */
  waitFor(seq: number): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (seq <= this.committedSeq) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject });
      // same-tick appends join this commit: start it once the current microtasks have run
      if (!this.microtaskQueued) {
        this.microtaskQueued = true;
        queueMicrotask(() => {
          this.microtaskQueued = false;
          this.requestCommit();
        });
      }
    });
  }

  /** Commits everything queued so far, now */
  requestCommit(): void {
    this.commitTarget = this.lastSeq;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.writing) void this.commitLoop();
  }

  /** Commits what is queued within `flushMs` (unless a commit is requested sooner) */
  armTimer(): void {
    if (this.timer !== undefined || this.hooks.isClosed() || this.failure !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.requestCommit();
    }, this.flushMs);
    this.timer.unref?.();
  }

  /** Refuses every later wait and rejects every waiter; queued records are dropped */
  stop(error: JournalError): void {
    this.failure = error;
    this.pending = [];
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(error);
  }

  /**
   * One loop at a time: commits pending rows, oldest first, up to `commitTarget`. Rows appended
   * while a commit is in flight ride along with the next one (group commit).
   */
  private async commitLoop(): Promise<void> {
    this.writing = true;
    try {
      while (this.committedSeq < this.commitTarget && this.pending.length > 0 && this.failure === undefined) {
        const batch = this.pending.length <= this.maxBatch ? this.pending.splice(0) : this.pending.splice(0, this.maxBatch);
        const first = batch[0]!.seq;
        const last = batch[batch.length - 1]!.seq;
        const started = performance.now();
        try {
          this.insert.bind([this.runId, `[${batch.map((r) => r.json).join(',')}]`]);
          await this.insert.run();
        } catch (e) {
          this.hooks.onCommitError(e, first, last);
          return;
        }
        this.commitMs += performance.now() - started;
        this.commits++;
        this.committedSeq = last;
        this.hooks.afterCommit();
        this.release();
      }
    } finally {
      this.writing = false;
    }
    // what is left was appended buffered after the last request: it waits for its timer
    if (this.pending.length > 0) this.armTimer();
  }

  private release(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.seq <= this.committedSeq) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }
}
