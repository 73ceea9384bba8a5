/**
 * The one interface every signal source implements (DuckDB table, drop folder, ClickHouse), and the
 * watermark logic they share.
 *
 * Polling: `poll(since, { until, limit, lateMs })` returns the signals after the watermark `since`
 * whose publication time is at or before `until`, in delivery order (availableAt, ts, symbol), and
 * the watermark to pass next time. The watermark is the position of the last delivered signal, a
 * JSON value the runner can journal and resume from. Backtests poll with `until` = the run's end and
 * deliver each signal at its availableAt (the kernel merges it in time order: no lookahead); live
 * runs poll with `until` = now.
 *
 * Late rows: a live producer may insert a row whose availableAt is already behind the watermark
 * (clock skew, a slow insert). With `lateMs` > 0 a poll also returns rows published within lateMs
 * before the watermark that were not delivered yet (the watermark remembers the keys it delivered
 * in that window); they come first in the batch and a live kernel delivers them at once. Backtests
 * use lateMs 0: history has no late rows.
 */
import { compareSignals, signalKey, signalProblem, type Signal } from './signal.js';

/** Where a consumer stands: everything in delivery order up to this position was delivered */
export interface SignalWatermark {
  /** Publication time of the last delivered signal; null: nothing delivered yet */
  availableAt: number | null;
  /** ts and symbol of the last delivered signal; absent: every signal published at availableAt counts as delivered */
  ts?: number;
  symbol?: string;
  /** [key `SYM@ts`, availableAt] of signals delivered within lateMs before availableAt: late arrivals are matched against them */
  recent?: [string, number][];
}

export const START_WATERMARK: SignalWatermark = Object.freeze({ availableAt: null });

/** A watermark at which every signal published at or before `time` counts as delivered (a backtest's start) */
export function watermarkAt(time: number): SignalWatermark {
  return Number.isFinite(time) ? { availableAt: time } : { availableAt: null };
}

export interface SignalPollOptions {
  /** Publication time bound (inclusive): the run's end in a backtest, now live */
  until: number;
  /** Most signals after the watermark in one batch (late ones come on top); default 10,000 */
  limit?: number;
  /** Window before the watermark searched for late rows; default 0 (none) */
  lateMs?: number;
}

export interface SignalBatch {
  /** Late rows first (publication order), then the signals after the watermark in delivery order */
  signals: Signal[];
  watermark: SignalWatermark;
  /** More signals up to `until` remain after this batch (the limit was hit) */
  more: boolean;
}

export interface SignalProvider {
  /** For logs and config hashes: `duckdb:signals`, `folder:/data/drop`, `clickhouse:db.signals` */
  readonly name: string;
  poll(since: SignalWatermark, options: SignalPollOptions): Promise<SignalBatch>;
  close(): Promise<void>;
}

export const DEFAULT_POLL_LIMIT = 10_000;

/** The two queries a watermarked table answers (DuckDB, ClickHouse); rows as stored, checked by pollRows */
export interface SignalRows {
  /** At most `limit` signals strictly after the watermark's position with availableAt <= until, in delivery order */
  after(since: SignalWatermark, until: number, limit: number): Promise<Signal[]>;
  /** Signals with availableAt in (from, since.availableAt] at or before the watermark's position, any order */
  window(from: number, since: SignalWatermark): Promise<Signal[]>;
}

/** True when `s` comes after the watermark's position in delivery order */
export function isAfter(s: Pick<Signal, 'availableAt' | 'ts' | 'symbol'>, w: SignalWatermark): boolean {
  if (w.availableAt === null) return true;
  if (s.availableAt !== w.availableAt) return s.availableAt > w.availableAt;
  if (w.ts === undefined || w.symbol === undefined) return false;
  return compareSignals(s, { availableAt: w.availableAt, ts: w.ts, symbol: w.symbol }) > 0;
}

/** A row skipped because it breaks the signal contract (reported once: the watermark moves past it) */
export type RejectedRow = (row: Signal, problem: string) => void;

/**
 * The shared poll over a table's two queries (see the file comment). Rows that break the signal
 * contract are reported to `onRejected` and left out, but count for the watermark, so a bad row is
 * reported once and never blocks the rows behind it.
 */
export async function pollRows(rows: SignalRows, since: SignalWatermark, options: SignalPollOptions, onRejected?: RejectedRow): Promise<SignalBatch> {
  const limit = options.limit ?? DEFAULT_POLL_LIMIT;
  const lateMs = options.lateMs ?? 0;
  if (!(Number.isInteger(limit) && limit > 0)) throw new RangeError(`limit must be a positive integer, was ${limit}`);
  if (!(lateMs >= 0)) throw new RangeError(`lateMs must be >= 0, was ${lateMs}`);
  let late: Signal[] = [];
  if (lateMs > 0 && since.availableAt !== null) {
    const seen = new Set((since.recent ?? []).map((r) => r[0]));
    late = (await rows.window(since.availableAt - lateMs, since)).filter((s) => s.availableAt <= options.until && !seen.has(signalKey(s)) && !isAfter(s, since));
    late.sort(compareSignals);
  }
  const main = await rows.after(since, options.until, limit + 1);
  const more = main.length > limit;
  if (more) main.length = limit;
  const last = main[main.length - 1];
  const watermark: SignalWatermark = last === undefined ? { availableAt: since.availableAt, ...(since.ts !== undefined ? { ts: since.ts, symbol: since.symbol } : {}) } : { availableAt: last.availableAt, ts: last.ts, symbol: last.symbol };
  if (lateMs > 0 && watermark.availableAt !== null) {
    // the next poll's window starts here: what was published at or before it can no longer be late
    const from = watermark.availableAt - lateMs;
    const recent = new Map<string, number>();
    for (const [k, a] of since.recent ?? []) if (a > from) recent.set(k, a);
    for (const s of late) if (s.availableAt > from) recent.set(signalKey(s), s.availableAt);
    for (const s of main) if (s.availableAt > from) recent.set(signalKey(s), s.availableAt);
    watermark.recent = [...recent].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
  const valid = (s: Signal): boolean => {
    const problem = signalProblem(s);
    if (problem !== undefined) onRejected?.(s, problem);
    return problem === undefined;
  };
  return { signals: [...late, ...main].filter(valid), watermark, more };
}
