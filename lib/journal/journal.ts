import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { DuckDBPreparedStatement } from '@duckdb/node-api';
import { silentLogger, type Logger } from '../core/logger.js';
import type { Store } from '../store/store.js';
import { IntentLog, intentLogPath, JOURNAL_INSERT_SQL, readIntentLog } from './intent-log.js';
import { IntentLogWriter } from './intent-log-writer.js';
import { replayIntentLog, type IntentLogReplay } from './intent-log-replay.js';
import { JournalCommitter } from './journal-commit.js';
import { findRun, listRuns } from './journal-read.js';
import { serializeRecord } from './journal-record.js';
import { JournalError, type JournalFields, type JournalKind, type JournalOptions, type JournalRun, type JournalRunInfo, type JournalSnapshot, type JournalStats } from './journal-types.js';

export type { IntentLogReplay } from './intent-log-replay.js';
export { journalRecordColumns, readJournal, toRecord } from './journal-read.js';
export { JOURNAL_KINDS, JournalError } from './journal-types.js';
export type { JournalErrorCode, JournalFields, JournalKind, JournalOptions, JournalRecord, JournalRun, JournalRunInfo, JournalSnapshot, JournalStats } from './journal-types.js';

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

/** Journals of this process with an open intent log, by log path: `syncIntentLog` must not replay under them */
const LIVE_LOGS = new Map<string, Journal>();

export class Journal {
  /** Seqs, the DuckDB commit queue and its failure */
  private readonly committer: JournalCommitter;
  /** The intent log's writer (a journal on a DuckDB file) */
  private readonly intents: IntentLogWriter | undefined;
  private closed = false;
  private readonly clock: (() => number) | undefined;
  private readonly wallClock: () => number;
  private readonly onError: ((error: JournalError) => void) | undefined;
  private readonly maxLogBytes: number;
  private readonly log: Logger;
  private appendedCount = 0;

  private constructor(
    private readonly store: Store,
    private readonly insert: DuckDBPreparedStatement,
    private info: JournalRun,
    lastSeq: number,
    options: JournalOptions,
    logFile: IntentLog | undefined,
  ) {
    this.committer = new JournalCommitter(insert, info.runId, lastSeq, options.flushMs ?? 25, Math.max(1, Math.floor(options.maxBatch ?? 1000)), {
      isClosed: () => this.closed,
      onCommitError: (e, first, last) => this.fail(new JournalError('JOURNAL_WRITE', `journal '${this.info.runId}': commit of seq ${first}..${last} failed: ${(e as Error).message}`, { cause: e })),
      afterCommit: () => this.intents?.committed(),
    });
    this.maxLogBytes = options.maxIntentLogBytes ?? 64 * 1024 * 1024;
    this.log = (options.logger ?? silentLogger).child({ component: 'journal', runId: info.runId });
    if (logFile !== undefined) {
      this.intents = new IntentLogWriter(logFile, lastSeq, {
        committedSeq: () => this.committer.committedSeq,
        onWriteError: (e, first, last) => this.fail(new JournalError('JOURNAL_WRITE', `journal '${this.info.runId}': intent log write of seq ${first}..${last} failed: ${(e as Error).message}`, { cause: e })),
        afterWrite: () => this.committer.armTimer(),
        fallback: (seq) => this.committer.waitFor(seq),
      });
      LIVE_LOGS.set(logFile.path, this);
    }
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
  static find(store: Store, runId: string): Promise<JournalRun | undefined> {
    return findRun(store, runId);
  }

  /** Runs, newest first */
  static list(store: Store, limit = 20): Promise<JournalRun[]> {
    return listRuns(store, limit);
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
    return this.committer.failure;
  }

  stats(): JournalStats {
    return {
      lastSeq: this.committer.lastSeq,
      committedSeq: this.committer.committedSeq,
      durableSeq: Math.max(this.committer.committedSeq, this.intents?.loggedSeq ?? 0),
      appended: this.appendedCount,
      commits: this.committer.commits,
      pending: this.committer.pendingCount,
      commitMs: this.committer.commitMs,
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
    if (this.committer.pendingCount >= this.committer.maxBatch) this.committer.requestCommit();
    else this.committer.armTimer();
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
    if (this.committer.failure !== undefined) return Promise.reject(this.committer.failure);
    if (intents === undefined || !intents.file.isOpen || intents.file.bytes >= this.maxLogBytes) return this.committer.waitFor(seq).then(() => seq);
    return intents.wait(seq).then(() => seq);
  }

  /** A durable `snapshot` record (see JournalSnapshot for the shape recovery reads) */
  snapshot(state: JournalSnapshot, ts?: number): Promise<number> {
    return this.appendDurable('snapshot', { ts, payload: state });
  }

  /** Resolves once every record appended so far is committed to DuckDB */
  flush(): Promise<void> {
    if (this.committer.failure !== undefined) return Promise.reject(this.committer.failure);
    return this.committer.waitFor(this.committer.lastSeq);
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
    if (this.committer.failure !== undefined) throw this.committer.failure;
    if (this.closed) throw new JournalError('JOURNAL_CLOSED', `journal '${this.info.runId}' is closed`);
    const json = serializeRecord(kind, fields, this.committer.lastSeq + 1, this.clock, this.wallClock);
    const row = this.committer.push(json);
    this.intents?.track(row);
    this.appendedCount++;
    return row.seq;
  }

  private fail(error: JournalError): void {
    this.stop(error);
    this.onError?.(error);
  }

  /** Refuses every later append and rejects every waiter; the intent log stays on disk */
  private stop(error: JournalError): void {
    this.committer.stop(error);
    this.intents?.fail(error);
  }

  /** A resume of this run in this process takes over: this journal behaves as if its process died */
  private supersede(): void {
    if (this.committer.failure === undefined) this.stop(new JournalError('JOURNAL_CLOSED', `journal '${this.info.runId}' was taken over by a resume of the run`));
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

function defaultRunId(strategy: string, wall: number): string {
  const stamp = new Date(wall).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${strategy}-${stamp}-${randomBytes(3).toString('hex')}`;
}
