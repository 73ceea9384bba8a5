import { intentLine, type IntentLog } from './intent-log.js';

/** A record as the journal queues it: its seq and the JSON element of the journal's INSERT */
export interface LogRow {
  seq: number;
  json: string;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export interface IntentLogWriterHooks {
  /** Seq of the last record DuckDB committed */
  committedSeq(): number;
  /** A write failed: the journal fails (and calls `fail` here) */
  onWriteError(error: unknown, first: number, last: number): void;
  /** A write made records durable: DuckDB should follow */
  afterWrite(): void;
  /** The log closed with waiters left: DuckDB's commit decides for them */
  fallback(seq: number): Promise<void>;
}

/**
 * The journal's side of its intent log (intent-log.ts): which records are not durable yet, and who
 * waits for them. Every record the journal queues is tracked until DuckDB commits it; a durable
 * append waits until its record is in the log. The waits of one turn share one write: the write
 * carries every record DuckDB does not hold yet, in seq order, so the durable records are always a
 * contiguous prefix (DuckDB's rows plus the log's lines).
 *
 * The write and its fdatasync run on this thread, in a microtask at the end of the turn: a trip
 * through the thread pool costs 0.2-2 ms more when DuckDB's commits occupy it (measured), more
 * than the fdatasync itself on a quiet disk.
 */
export class IntentLogWriter {
  /** Records neither logged nor committed yet, in seq order */
  private unlogged: LogRow[] = [];
  private waiters: Waiter[] = [];
  private queued = false;
  /** Last seq written to the log (and synced: durable) */
  loggedSeq: number;
  writes = 0;
  bytes = 0;
  ms = 0;

  constructor(
    readonly file: IntentLog,
    lastSeq: number,
    private readonly hooks: IntentLogWriterHooks,
  ) {
    this.loggedSeq = lastSeq;
  }

  /** Every record the journal queues, in seq order */
  track(row: LogRow): void {
    this.unlogged.push(row);
  }

  /** Resolves once the record `seq` is durable (logged, or committed to DuckDB) */
  wait(seq: number): Promise<void> {
    if (seq <= this.loggedSeq || seq <= this.hooks.committedSeq()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject });
      // same-turn durable appends share one write + fdatasync
      if (!this.queued) {
        this.queued = true;
        queueMicrotask(() => {
          this.queued = false;
          this.write();
        });
      }
    });
  }

  /** DuckDB committed up to `committedSeq`: forget those records, start the log over once it holds nothing else */
  committed(): void {
    const committedSeq = this.hooks.committedSeq();
    let k = 0;
    while (k < this.unlogged.length && this.unlogged[k]!.seq <= committedSeq) k++;
    if (k > 0) this.unlogged.splice(0, k);
    if (this.file.isOpen && this.file.bytes > 0 && committedSeq >= this.loggedSeq) this.file.rewind();
    this.release();
  }

  /** The journal failed or was taken over: every waiter gets the error, nothing more is written */
  fail(error: unknown): void {
    this.unlogged = [];
    for (const w of this.waiters.splice(0)) w.reject(error);
  }

  private write(): void {
    if (this.waiters.length === 0) return;
    if (!this.file.isOpen) {
      for (const w of this.waiters.splice(0)) this.hooks.fallback(w.seq).then(w.resolve, w.reject);
      return;
    }
    this.committed();
    if (this.unlogged.length > 0) {
      const started = performance.now();
      const first = this.unlogged[0]!.seq;
      const last = this.unlogged[this.unlogged.length - 1]!.seq;
      let lines = '';
      for (const r of this.unlogged) lines += intentLine(r.json);
      try {
        this.bytes += this.file.append(lines);
      } catch (e) {
        this.hooks.onWriteError(e, first, last);
        return;
      }
      this.loggedSeq = last;
      this.unlogged = [];
      this.writes++;
      this.ms += performance.now() - started;
    }
    this.release();
    this.hooks.afterWrite();
  }

  private release(): void {
    if (this.waiters.length === 0) return;
    const durable = Math.max(this.loggedSeq, this.hooks.committedSeq());
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) {
      if (w.seq <= durable) w.resolve();
      else this.waiters.push(w);
    }
  }
}
