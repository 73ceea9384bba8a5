import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { DuckDBPreparedStatement } from '@duckdb/node-api';
import { WorkbenchError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { Environment } from '../engine/strategy.js';
import type { Store } from '../store/store.js';
import { IntentLog, intentLogPath, JOURNAL_INSERT_SQL, readIntentLog } from './intent-log.js';
import { IntentLogWriter } from './intent-log-writer.js';
import { replayIntentLog, type IntentLogReplay } from './intent-log-replay.js';

export type { IntentLogReplay } from './intent-log-replay.js';

/**
 * The run journal: an append-only record, in DuckDB, of everything a live run decides and learns
 * (decisions with their inputs, order intents, submissions, order events, fills, state snapshots,
 * reconciliations, alerts, halts). The rule it serves: a record is committed BEFORE the action it
 * describes is taken, so a `kill -9` at any instant leaves a journal from which `recover()`
 * (recovery.ts) plus broker reconciliation rebuilds the run with no duplicate and no lost order.
 *
 * Two ways to append:
 * - `appendDurable(kind, fields)` resolves only once the record is durable, together with every
 *   record appended before it. Use it for anything that must precede an action: `order_intent`
 *   before the order is sent, `decision` before acting on it, `snapshot` before trusting it.
 * - `append(kind, fields)` returns the record's seq at once and commits it with the next batch:
 *   within `flushMs`, or together with the next durable append (which makes everything before it
 *   durable, in seq order). Use it from synchronous code (bus handlers) for records whose loss in a
 *   crash is repaired by reconciliation (order events and fills the broker reports again).
 *
 * Durable means, for a journal on a DuckDB FILE, written to its write-ahead intent log
 * (intent-log.ts: one line per record, write + fdatasync, ~0.15 ms) and inserted into DuckDB
 * afterwards with the buffered records (within `flushMs`); a DuckDB commit costs milliseconds with a
 * long tail, too slow to sit between a decision and its order. Whatever the log holds that DuckDB
 * does not is inserted by `syncIntentLog` before anything reads the run: `resume()` and
 * `recover()` call it. With `intentLog: false` (and for in-memory stores) durable means committed to
 * DuckDB, as `flush()` always does.
 *
 * Group commit: every durable record appended in the same tick (before the microtask queue drains)
 * goes into one log write, and every record waiting for DuckDB into one INSERT = one commit; while
 * a commit is in flight, later records queue and go in the next one.
 *
 * Seq numbers start at 1, increase by one per record and are assigned at append time, so the
 * durable records of a run are always a contiguous prefix 1..n (a log write carries every record
 * before it that DuckDB does not hold yet). A durable seq never repeats: `resume()` continues after
 * max(seq) once the log is replayed. A buffered record lost in a crash is lost with its seq (the
 * next process reuses it); nothing may act on a seq before it is durable.
 *
 * The journal writes on its store's one connection: give it a store of its own (the runner keeps the
 * journal in its own DuckDB file) or never hold a `Store.transaction` open on the same store while
 * the journal may write, or its commits would join (and roll back with) that transaction.
 */

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
const KIND_SET: ReadonlySet<string> = new Set(JOURNAL_KINDS);

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

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface PendingRow {
  seq: number;
  /** One element of the JSON array the INSERT unnests */
  json: string;
}

const RUN_COLUMNS = `run_id, CAST(epoch_us(started_at) AS DOUBLE) / 1000 AS started_at, mode, strategy, strategy_version, config_hash, host, pid, restarts,
  CAST(epoch_us(ended_at) AS DOUBLE) / 1000 AS ended_at, end_reason`;

/** The select list `toRecord` reads; `payload` may be replaced by an expression (recovery skips payloads it never reads) */
export function journalRecordColumns(payload = 'payload'): string {
  return `run_id, seq, CAST(epoch_us(ts) AS DOUBLE) / 1000 AS ts, CAST(epoch_us(wall_ts) AS DOUBLE) / 1000 AS wall_ts, kind,
  decision_id, client_order_id, broker_order_id, instrument, ${payload} AS payload`;
}

/** Journals of this process with an open intent log, by log path: `syncIntentLog` must not replay under them */
const LIVE_LOGS = new Map<string, Journal>();

export class Journal {
  private lastSeq: number;
  private committedSeq: number;
  private pending: PendingRow[] = [];
  private waiters: Waiter[] = [];
  /** The intent log's writer (a journal on a DuckDB file) */
  private readonly intents: IntentLogWriter | undefined;
  /** A commit loop is running */
  private writing = false;
  /** The loop commits until this seq (raised by durable appends, flush, the timer, a full batch) */
  private commitTarget: number;
  private microtaskQueued = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failure: JournalError | undefined;
  private closed = false;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly clock: (() => number) | undefined;
  private readonly wallClock: () => number;
  private readonly onError: ((error: JournalError) => void) | undefined;
  private readonly maxLogBytes: number;
  private readonly log: Logger;
  private appendedCount = 0;
  private commitCount = 0;
  private commitMs = 0;

  private constructor(
    private readonly store: Store,
    private readonly insert: DuckDBPreparedStatement,
    private info: JournalRun,
    lastSeq: number,
    options: JournalOptions,
    logFile: IntentLog | undefined,
  ) {
    this.lastSeq = lastSeq;
    this.committedSeq = lastSeq;
    this.commitTarget = lastSeq;
    this.maxLogBytes = options.maxIntentLogBytes ?? 64 * 1024 * 1024;
    this.log = (options.logger ?? silentLogger).child({ component: 'journal', runId: info.runId });
    if (logFile !== undefined) {
      this.intents = new IntentLogWriter(logFile, lastSeq, {
        committedSeq: () => this.committedSeq,
        onWriteError: (e, first, last) => this.fail(new JournalError('JOURNAL_WRITE', `journal '${this.info.runId}': intent log write of seq ${first}..${last} failed: ${(e as Error).message}`, { cause: e })),
        afterWrite: () => this.armTimer(),
        fallback: (seq) => this.waitFor(seq),
      });
      LIVE_LOGS.set(logFile.path, this);
    }
    this.flushMs = options.flushMs ?? 25;
    this.maxBatch = Math.max(1, Math.floor(options.maxBatch ?? 1000));
    this.clock = options.clock;
    this.wallClock = options.wallClock ?? Date.now;
    this.onError = options.onError;
  }

  /** Starts a new run: writes its `journal_runs` row (JOURNAL_EXISTS if the id is taken) */
  static async open(store: Store, runInfo: JournalRunInfo, options: JournalOptions = {}): Promise<Journal> {
    const wall = (options.wallClock ?? Date.now)();
    const runId = runInfo.runId ?? defaultRunId(runInfo.strategy, wall);
    if ((await Journal.find(store, runId)) !== undefined) {
      throw new JournalError('JOURNAL_EXISTS', `journal run '${runId}' already exists: resume it or choose another run id`);
    }
    const run: JournalRun = {
      runId,
      startedAt: wall,
      mode: runInfo.mode,
      strategy: runInfo.strategy,
      strategyVersion: runInfo.strategyVersion,
      configHash: runInfo.configHash,
      host: runInfo.host ?? hostname(),
      pid: runInfo.pid ?? process.pid,
      restarts: 0,
      endedAt: null,
      endReason: null,
    };
    await writeQuery(store, () =>
      store.run(
        `INSERT INTO journal_runs (run_id, started_at, mode, strategy, strategy_version, config_hash, host, pid)
         VALUES ($1, make_timestamp(CAST($2 AS BIGINT)), $3, $4, $5, $6, $7, $8)`,
        [runId, Math.round(wall * 1000), run.mode, run.strategy, run.strategyVersion, run.configHash, run.host, run.pid],
      ),
    );
    const insert = await prepareInsert(store);
    let intents: IntentLog | undefined;
    if (usesIntentLog(store, options)) {
      const path = intentLogPath(store.path, runId);
      // the run is new to this database: a log under its name belongs to another database file
      const stale = readIntentLog(path);
      if (stale.bytes > 0) (options.logger ?? silentLogger).warn('journal: discarding an intent log of a run this database does not know', { path, records: stale.records.length });
      intents = createLog(path);
    }
    return new Journal(store, insert, run, 0, options, intents);
  }

  /**
   * Continues a run after a restart (crash or clean close): the run's intent log is replayed into
   * DuckDB (`syncIntentLog`), seq continues after the last durable record, `journal_runs` gets this
   * process's host/pid and restarts + 1 (ended_at cleared), and a `note` {event: 'restart'},
   * committed to DuckDB before this resolves, marks the restart in the journal. A journal of the same
   * run still open in this process is taken over: it is treated as crashed and refuses every append.
   */
  static async resume(store: Store, runId: string, options: JournalOptions & { host?: string; pid?: number } = {}): Promise<Journal> {
    const previous = await Journal.find(store, runId);
    if (previous === undefined) throw new JournalError('JOURNAL_NOT_FOUND', `no journal run '${runId}' to resume`);
    const path = store.path === ':memory:' ? undefined : intentLogPath(store.path, runId);
    if (path !== undefined) LIVE_LOGS.get(path)?.supersede();
    const replay = await syncIntentLog(store, runId, { logger: options.logger });
    const rows = await store.all<{ s: number | null }>('SELECT max(seq) AS s FROM journal WHERE run_id = $1', [runId]);
    const lastSeq = rows[0]?.s ?? 0;
    const host = options.host ?? hostname();
    const pid = options.pid ?? process.pid;
    await writeQuery(store, () =>
      store.run('UPDATE journal_runs SET restarts = restarts + 1, host = $2, pid = $3, ended_at = NULL, end_reason = NULL WHERE run_id = $1', [runId, host, pid]),
    );
    const run: JournalRun = { ...previous, host, pid, restarts: previous.restarts + 1, endedAt: null, endReason: null };
    const insert = await prepareInsert(store);
    const journal = new Journal(store, insert, run, lastSeq, options, path !== undefined && usesIntentLog(store, options) ? createLog(path) : undefined);
    journal.append('note', {
      payload: {
        event: 'restart',
        restarts: run.restarts,
        host,
        pid,
        lastSeq,
        previousEnd: previous.endedAt === null ? 'crash or still running' : previous.endReason,
        ...(replay.records > 0 || replay.problem ? { intentLog: { records: replay.records, inserted: replay.inserted, gap: replay.gap, problem: replay.problem } } : {}),
      },
    });
    // once per process: readers of the database see the restart at once
    await journal.flush();
    return journal;
  }

  /** The `journal_runs` row of a run, or undefined */
  static async find(store: Store, runId: string): Promise<JournalRun | undefined> {
    const rows = await store.all<Record<string, unknown>>(`SELECT ${RUN_COLUMNS} FROM journal_runs WHERE run_id = $1`, [runId]);
    return rows[0] === undefined ? undefined : toRun(rows[0]);
  }

  /** Runs, newest first */
  static async list(store: Store, limit = 20): Promise<JournalRun[]> {
    const rows = await store.all<Record<string, unknown>>(`SELECT ${RUN_COLUMNS} FROM journal_runs ORDER BY started_at DESC, run_id LIMIT $1`, [limit]);
    return rows.map(toRun);
  }

  get runId(): string {
    return this.info.runId;
  }

  get run(): Readonly<JournalRun> {
    return this.info;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The write failure that stopped the journal, if any */
  get error(): JournalError | undefined {
    return this.failure;
  }

  stats(): JournalStats {
    return {
      lastSeq: this.lastSeq,
      committedSeq: this.committedSeq,
      durableSeq: Math.max(this.committedSeq, this.intents?.loggedSeq ?? 0),
      appended: this.appendedCount,
      commits: this.commitCount,
      pending: this.pending.length,
      commitMs: this.commitMs,
      logWrites: this.intents?.writes ?? 0,
      logBytes: this.intents?.bytes ?? 0,
      logMs: this.intents?.ms ?? 0,
    };
  }

  /**
   * Buffers a record and returns its seq at once. It is committed within `flushMs` (or by `flush()`,
   * or with the next durable append without an intent log), after every record appended before it;
   * a durable append after it makes it durable first (its intent log write carries it).
   * Throws JOURNAL_INPUT (record refused, no seq used), JOURNAL_CLOSED or JOURNAL_WRITE synchronously.
   */
  append(kind: JournalKind, fields: JournalFields = {}): number {
    const seq = this.enqueue(kind, fields);
    if (this.pending.length >= this.maxBatch) this.requestCommit();
    else this.armTimer();
    return seq;
  }

  /**
   * Appends a record and resolves with its seq once it is durable (in the intent log, or committed
   * to DuckDB without one), together with every record appended before it. Records appended in the
   * same tick share one log write (or one commit).
   */
  appendDurable(kind: JournalKind, fields: JournalFields = {}): Promise<number> {
    let seq: number;
    try {
      seq = this.enqueue(kind, fields);
    } catch (e) {
      return Promise.reject(e);
    }
    const intents = this.intents;
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (intents === undefined || !intents.file.isOpen || intents.file.bytes >= this.maxLogBytes) return this.waitFor(seq).then(() => seq);
    return intents.wait(seq).then(() => seq);
  }

  /** A durable `snapshot` record (see JournalSnapshot for the shape recovery reads) */
  snapshot(state: JournalSnapshot, ts?: number): Promise<number> {
    return this.appendDurable('snapshot', { ts, payload: state });
  }

  /** Resolves once every record appended so far is committed to DuckDB */
  flush(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return this.waitFor(this.lastSeq);
  }

  /**
   * Commits what is pending and records the end of the run (`ended_at`, `end_reason`); the intent
   * log, all in DuckDB, is deleted. Idempotent. Rejects with the write failure if the journal failed
   * (records were lost; its intent log is kept for the next `resume`).
   */
  async close(reason = 'closed'): Promise<void> {
    if (this.closed) return;
    // refuse new records first, then commit everything appended before the close
    this.closed = true;
    try {
      await this.flush();
    } catch (e) {
      this.releaseLog(false);
      throw e;
    }
    this.releaseLog(true);
    const ended = this.wallClock();
    await writeQuery(this.store, () =>
      this.store.run('UPDATE journal_runs SET ended_at = make_timestamp(CAST($2 AS BIGINT)), end_reason = $3 WHERE run_id = $1', [this.info.runId, Math.round(ended * 1000), reason]),
    );
    this.info = { ...this.info, endedAt: ended, endReason: reason };
    try {
      this.insert.destroySync();
    } catch {
      // the statement dies with its connection anyway
    }
  }

  // ---- internals ----------------------------------------------------------------------------

  /** Validates and serializes a record, assigns its seq and queues it */
  private enqueue(kind: JournalKind, fields: JournalFields): number {
    if (this.failure !== undefined) throw this.failure;
    if (this.closed) throw new JournalError('JOURNAL_CLOSED', `journal '${this.info.runId}' is closed`);
    const json = this.serialize(kind, fields, this.lastSeq + 1);
    const seq = ++this.lastSeq;
    const row = { seq, json };
    this.pending.push(row);
    this.intents?.track(row);
    this.appendedCount++;
    return seq;
  }

  private serialize(kind: JournalKind, f: JournalFields, seq: number): string {
    if (!KIND_SET.has(kind)) throw new JournalError('JOURNAL_INPUT', `unknown journal kind '${String(kind)}' (one of ${JOURNAL_KINDS.join(', ')})`);
    const problem = recordProblem(kind, f);
    if (problem !== undefined) throw new JournalError('JOURNAL_INPUT', `${kind} record: ${problem}`);
    let payload: string | undefined;
    try {
      payload = JSON.stringify(f.payload ?? {});
    } catch (e) {
      throw new JournalError('JOURNAL_INPUT', `${kind} record: payload is not JSON: ${(e as Error).message}`, { cause: e });
    }
    if (payload === undefined) throw new JournalError('JOURNAL_INPUT', `${kind} record: payload is not JSON (${typeof f.payload})`);
    const ts = f.ts ?? this.clock?.();
    const t = ts !== undefined && Number.isFinite(ts) ? Math.round(ts * 1000) : null;
    const w = Math.round(this.wallClock() * 1000);
    const b = f.brokerOrderId === undefined ? null : String(f.brokerOrderId);
    // built by hand: the payload is already JSON and goes in as a JSON value, not a string
    return `{"s":${seq},"t":${t},"w":${w},"k":"${kind}","d":${str(f.decisionId)},"c":${str(f.clientOrderId)},"b":${str(b)},"i":${str(f.instrument)},"p":${payload}}`;
  }

  private waitFor(seq: number): Promise<void> {
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

  private requestCommit(): void {
    this.commitTarget = this.lastSeq;
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (!this.writing) void this.commitLoop();
  }

  private armTimer(): void {
    if (this.timer !== undefined || this.closed || this.failure !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.requestCommit();
    }, this.flushMs);
    this.timer.unref?.();
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
          this.insert.bind([this.info.runId, `[${batch.map((r) => r.json).join(',')}]`]);
          await this.insert.run();
        } catch (e) {
          this.fail(new JournalError('JOURNAL_WRITE', `journal '${this.info.runId}': commit of seq ${first}..${last} failed: ${(e as Error).message}`, { cause: e }));
          return;
        }
        this.commitMs += performance.now() - started;
        this.commitCount++;
        this.committedSeq = last;
        this.intents?.committed();
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

  private fail(error: JournalError): void {
    this.stop(error);
    this.onError?.(error);
  }

  /** Refuses every later append and rejects every waiter; the intent log stays on disk */
  private stop(error: JournalError): void {
    this.failure = error;
    this.pending = [];
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.reject(error);
    this.intents?.fail(error);
  }

  /** A resume of this run in this process takes over: this journal behaves as if its process died */
  private supersede(): void {
    if (this.failure === undefined) this.stop(new JournalError('JOURNAL_CLOSED', `journal '${this.info.runId}' was taken over by a resume of the run`));
    this.closed = true;
    this.releaseLog(false);
  }

  private releaseLog(remove: boolean): void {
    const file = this.intents?.file;
    if (file === undefined) return;
    if (LIVE_LOGS.get(file.path) === this) LIVE_LOGS.delete(file.path);
    try {
      file.close(remove);
    } catch (e) {
      this.log.warn('journal: cannot close the intent log', { path: file.path, error: (e as Error).message });
    }
  }
}

/**
 * Makes DuckDB hold every durable record of a run: what its intent log holds and DuckDB lacks (a
 * crash came before the batched insert) is inserted and the log deleted (`replayIntentLog`). When
 * the run's journal is open in this process, it commits its own pending records instead (`flush`).
 * `resume()` and `recover()` call this first; call it before reading a run another process wrote.
 */
export async function syncIntentLog(store: Store, runId: string, options: { logger?: Logger } = {}): Promise<IntentLogReplay> {
  if (store.path === ':memory:') return { path: undefined, live: false, records: 0, inserted: 0, gap: false };
  const path = intentLogPath(store.path, runId);
  const live = LIVE_LOGS.get(path);
  if (live !== undefined && live.error === undefined) {
    await live.flush();
    return { path, live: true, records: 0, inserted: 0, gap: false };
  }
  try {
    return await replayIntentLog(store, runId, path, options.logger ?? silentLogger);
  } catch (e) {
    throw new JournalError('JOURNAL_WRITE', `journal '${runId}': replay of the intent log ${path} failed: ${(e as Error).message}`, { cause: e });
  }
}

/** Records of a run in seq order (all, or from `fromSeq`, or of some kinds) */
export async function readJournal(store: Store, runId: string, options: { fromSeq?: number; kinds?: readonly JournalKind[] } = {}): Promise<JournalRecord[]> {
  const kinds = options.kinds ?? [];
  const rows = await store.all<Record<string, unknown>>(
    `SELECT ${journalRecordColumns()} FROM journal WHERE run_id = $1 AND seq >= $2 ${kinds.length > 0 ? `AND kind IN (SELECT unnest(from_json($3, '["VARCHAR"]')))` : ''} ORDER BY seq`,
    kinds.length > 0 ? [runId, options.fromSeq ?? 0, JSON.stringify(kinds)] : [runId, options.fromSeq ?? 0],
  );
  return rows.map(toRecord);
}

/** A stored row (`journalRecordColumns()`, payload as JSON text or null) as a JournalRecord */
export function toRecord(row: Record<string, unknown>): JournalRecord {
  const payload = row['payload'];
  return {
    runId: row['run_id'] as string,
    seq: Number(row['seq']),
    ts: (row['ts'] as number | null) ?? null,
    wallTs: row['wall_ts'] as number,
    kind: row['kind'] as JournalKind,
    decisionId: (row['decision_id'] as string | null) ?? null,
    clientOrderId: (row['client_order_id'] as string | null) ?? null,
    brokerOrderId: (row['broker_order_id'] as string | null) ?? null,
    instrument: (row['instrument'] as string | null) ?? null,
    payload: typeof payload === 'string' ? JSON.parse(payload) : (payload ?? null),
  };
}

/** What a record of `kind` lacks for recovery to use it, or undefined */
function recordProblem(kind: JournalKind, f: JournalFields): string | undefined {
  if (f.ts !== undefined && typeof f.ts !== 'number') return `ts must be a number (engine ms), was ${typeof f.ts}`;
  const needsOrder = kind === 'order_intent' || kind === 'order_submitted' || kind === 'order_event';
  if (needsOrder && !nonEmpty(f.clientOrderId)) return 'clientOrderId is required';
  if (kind === 'order_submitted' && (f.brokerOrderId === undefined || String(f.brokerOrderId) === '')) return 'brokerOrderId is required';
  const p = f.payload as Record<string, unknown> | null | undefined;
  if (kind === 'order_event') {
    if (typeof p !== 'object' || p === null || (typeof p['type'] !== 'string' && typeof p['status'] !== 'string')) return 'payload needs the event type or the order status';
  }
  if (kind === 'fill') {
    if (typeof p !== 'object' || p === null) return 'payload must be the fill';
    if (!nonEmpty(p['executionId'])) return 'payload.executionId is required (fills are deduplicated by it)';
    if (p['side'] !== 'BUY' && p['side'] !== 'SELL') return `payload.side must be BUY or SELL, was ${JSON.stringify(p['side'])}`;
    if (typeof p['quantity'] !== 'number' || !(p['quantity'] > 0)) return `payload.quantity must be a positive number, was ${JSON.stringify(p['quantity'])}`;
    if (!nonEmpty(f.instrument) && !nonEmpty(p['instrument'])) return 'instrument is required';
  }
  if (kind === 'snapshot' && (typeof p !== 'object' || p === null || Array.isArray(p))) return 'payload must be an object';
  return undefined;
}

function nonEmpty(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

function str(v: string | null | undefined): string {
  return v === undefined || v === null ? 'null' : JSON.stringify(v);
}

function usesIntentLog(store: Store, options: JournalOptions): boolean {
  return options.intentLog !== false && store.path !== ':memory:';
}

function createLog(path: string): IntentLog {
  try {
    return IntentLog.create(path);
  } catch (e) {
    throw new JournalError('JOURNAL_WRITE', `cannot create the journal's intent log ${path}: ${(e as Error).message}`, { cause: e });
  }
}

async function prepareInsert(store: Store): Promise<DuckDBPreparedStatement> {
  try {
    return await store.connection.prepare(JOURNAL_INSERT_SQL);
  } catch (e) {
    throw new JournalError('JOURNAL_WRITE', `cannot prepare the journal insert (is the store migrated to the journal schema?): ${(e as Error).message}`, { cause: e });
  }
}

async function writeQuery(store: Store, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    throw new JournalError('JOURNAL_WRITE', `journal: ${(e as Error).message}`, { cause: e });
  }
}

function toRun(r: Record<string, unknown>): JournalRun {
  return {
    runId: r['run_id'] as string,
    startedAt: r['started_at'] as number,
    mode: r['mode'] as string,
    strategy: r['strategy'] as string,
    strategyVersion: r['strategy_version'] as string,
    configHash: r['config_hash'] as string,
    host: r['host'] as string,
    pid: r['pid'] as number,
    restarts: r['restarts'] as number,
    endedAt: (r['ended_at'] as number | null) ?? null,
    endReason: (r['end_reason'] as string | null) ?? null,
  };
}

function defaultRunId(strategy: string, wall: number): string {
  const stamp = new Date(wall).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${strategy}-${stamp}-${randomBytes(3).toString('hex')}`;
}
