import { WorkbenchError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Environment } from '../engine/strategy.js';

/** The journal's record kinds, its error and the shapes of its runs, records, options and stats (journal.ts) */

export const JOURNAL_KINDS = [
  'decision',
  'order_intent',
  'order_submitted',
  'order_event',
  'fill',
  'snapshot',
  'reconcile',
  'alert',
  'halt',
  'resume',
  'note',
] as const;
export type JournalKind = (typeof JOURNAL_KINDS)[number];

export type JournalErrorCode = 'JOURNAL_INPUT' | 'JOURNAL_WRITE' | 'JOURNAL_CLOSED' | 'JOURNAL_EXISTS' | 'JOURNAL_NOT_FOUND';

/**
 * JOURNAL_INPUT: a record the journal refuses (unknown kind, missing ids, payload not JSON);
 * JOURNAL_WRITE: a commit failed, the journal is failed and refuses every later append (halt);
 * JOURNAL_CLOSED: append after close; JOURNAL_EXISTS / JOURNAL_NOT_FOUND: open / resume of a run id.
 */
export class JournalError extends WorkbenchError {
  readonly code: JournalErrorCode;
  constructor(code: JournalErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** What a run is: written once to `journal_runs` by `Journal.open` */
export interface JournalRunInfo {
  /** Kept across restarts; default `<strategy>-<UTC start, compact>-<6 hex>` */
  runId?: string;
  mode: Environment;
  strategy: string;
  strategyVersion: string;
  configHash: string;
  /** Default: this machine's hostname and this process's pid */
  host?: string;
  pid?: number;
}

/** A `journal_runs` row */
export interface JournalRun {
  runId: string;
  /** ms since epoch (wall clock) */
  startedAt: number;
  mode: string;
  strategy: string;
  strategyVersion: string;
  configHash: string;
  host: string;
  pid: number;
  /** Times the run was resumed by a new process */
  restarts: number;
  /** Set by a clean close only: null after a crash (or while running) */
  endedAt: number | null;
  endReason: string | null;
}

/** The columns of a record besides run, seq, kind and wall time. Every field is optional. */
export interface JournalFields {
  /** Engine time (ms); default the journal's `clock()`, or none */
  ts?: number;
  decisionId?: string;
  clientOrderId?: string;
  brokerOrderId?: string | number;
  instrument?: string;
  /**
   * The record's body, serialized at append time (later mutation of the object does not change
   * the record). JSON values only: NaN and ±Infinity become null. Default `{}`.
   */
  payload?: unknown;
}

/** A record as stored */
export interface JournalRecord {
  runId: string;
  seq: number;
  /** Engine time (ms) or null */
  ts: number | null;
  /** Wall clock at append (ms) */
  wallTs: number;
  kind: JournalKind;
  decisionId: string | null;
  clientOrderId: string | null;
  brokerOrderId: string | null;
  instrument: string | null;
  payload: unknown;
}

/**
 * The body of a `snapshot` record as the journal observer writes it and `recover()` reads it.
 * Extra keys are kept.
 */
export interface JournalSnapshot {
  /** Strategy id -> its `ctx.state` entries */
  strategies?: Record<string, Record<string, unknown>>;
  /** Instrument -> signed quantity and average cost; flat instruments may be left out */
  positions?: Record<string, { quantity: number; avgPrice: number }>;
  cash?: number;
  equity?: number;
  /** Working orders at the snapshot (informational; recovery rebuilds orders from their records) */
  openOrders?: { clientOrderId: string; instrument: string; side: string; quantity: number; filledQuantity: number; status: string }[];
  [key: string]: unknown;
}

export interface JournalOptions {
  /** A buffered record is committed at most this many ms after it was appended (or logged); default 25 */
  flushMs?: number;
  /**
   * Durable appends go to the write-ahead intent log `<db>.<runId>.intents` (default true for a
   * store in a file; in-memory stores have none); false: a durable append waits for its DuckDB commit
   */
  intentLog?: boolean;
  /** While the log is this large (DuckDB fell behind), durable appends wait for DuckDB instead; default 64 MiB */
  maxIntentLogBytes?: number;
  /** Warnings (a torn intent log line at resume, a log that could not be emptied); default silent */
  logger?: Logger;
  /** Rows per INSERT (a larger backlog is written as several commits, in seq order); default 1000 */
  maxBatch?: number;
  /** Engine time for records appended without `ts` */
  clock?: () => number;
  /** Wall clock (ms); default Date.now */
  wallClock?: () => number;
  /** Called once when a commit fails; the journal then refuses every append (the runner must halt) */
  onError?: (error: JournalError) => void;
}

export interface JournalStats {
  /** Seq of the last record appended (committed or not) */
  lastSeq: number;
  /** Seq of the last record committed to DuckDB */
  committedSeq: number;
  /** Seq of the last durable record: committed to DuckDB or written to the intent log */
  durableSeq: number;
  /** Records appended by this Journal object (not counting earlier processes) */
  appended: number;
  /** INSERT statements committed */
  commits: number;
  /** Records waiting for a commit */
  pending: number;
  /** Total ms spent in commits */
  commitMs: number;
  /** Intent log writes (one write + fdatasync each), their bytes and the ms they took, on this thread */
  logWrites: number;
  logBytes: number;
  logMs: number;
}
