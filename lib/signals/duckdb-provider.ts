/**
 * Signals in a DuckDB table: the store's `signals` table (migration 8) by default, the embedded
 * provider. Any table with the same columns works (`table` option):
 *
 *   ts TIMESTAMP, symbol VARCHAR, value DOUBLE, available_at TIMESTAMP, source VARCHAR
 *
 * Rows that break the signal contract (a malformed symbol, a NaN value) are skipped and reported
 * through `onRejected`, never delivered: a live runner must not stop on one bad row of a model.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { Store } from '../store/store.js';
import { pollRows, type SignalBatch, type SignalPollOptions, type SignalProvider, type SignalRows, type SignalWatermark } from './provider.js';
import { compareSignals, SignalError, signalKey, signalProblem, type Signal } from './signal.js';

export interface DuckDbSignalOptions {
  /** Default `signals` (the store's table); `schema.table` allowed */
  table?: string;
  /** A row skipped because it breaks the signal contract */
  onRejected?: (row: Signal, problem: string) => void;
  /** Extra condition (internal: the drop folder's files); `?` is bound to `value` */
  filter?: { sql: string; value: string };
}

const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

export class DuckDbSignalProvider implements SignalProvider, SignalRows {
  readonly name: string;
  private readonly table: string;

  constructor(
    private readonly store: Store,
    private readonly options: DuckDbSignalOptions = {},
  ) {
    this.table = options.table ?? 'signals';
    if (!IDENT_RE.test(this.table)) throw new SignalError('SIGNAL_PROVIDER', `table: expected an identifier like signals or main.signals, got '${this.table}'`);
    this.name = `duckdb:${this.table}`;
  }

  poll(since: SignalWatermark, options: SignalPollOptions): Promise<SignalBatch> {
    return pollRows(this, since, options, this.options.onRejected);
  }

  async after(since: SignalWatermark, until: number, limit: number): Promise<Signal[]> {
    const where: string[] = [];
    const params: DuckDBValue[] = [];
    const p = (v: DuckDBValue) => `$${params.push(v)}`;
    this.filter(where, p);
    if (Number.isFinite(until)) where.push(`available_at <= ${ts(p, until)}`);
    if (since.availableAt !== null) {
      const a = ts(p, since.availableAt);
      where.push(
        since.ts === undefined || since.symbol === undefined
          ? `available_at > ${a}`
          : `(available_at > ${a} OR (available_at = ${a} AND (ts > ${ts(p, since.ts)} OR (ts = ${ts(p, since.ts)} AND symbol > ${p(since.symbol)}))))`,
      );
    }
    return this.select(where, params, `ORDER BY available_at, ts, symbol LIMIT ${Math.floor(limit)}`);
  }

  async window(from: number, since: SignalWatermark): Promise<Signal[]> {
    if (since.availableAt === null) return [];
    const params: DuckDBValue[] = [];
    const p = (v: DuckDBValue) => `$${params.push(v)}`;
    const where = [`available_at > ${ts(p, from)}`, `available_at <= ${ts(p, since.availableAt)}`];
    this.filter(where, p);
    const rows = await this.select(where, params, '');
    return rows.sort(compareSignals);
  }

  private filter(where: string[], p: (v: DuckDBValue) => string): void {
    const f = this.options.filter;
    if (f !== undefined) where.push(f.sql.replace('?', p(f.value)));
  }

  private async select(where: string[], params: DuckDBValue[], tail: string): Promise<Signal[]> {
    const rows = await this.store.all<{ ts: number; symbol: string; value: number; available_at: number; source: string | null }>(
      `SELECT epoch_ms(ts) AS ts, symbol, value, epoch_ms(available_at) AS available_at, source FROM ${this.table}
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ${tail}`,
      params,
    );
    return rows.map((r) => ({ ts: Number(r.ts), symbol: r.symbol, value: r.value, availableAt: Number(r.available_at), ...(r.source !== null ? { source: r.source } : {}) }));
  }

  async close(): Promise<void> {
    // the store belongs to the caller
  }
}

function ts(p: (v: DuckDBValue) => string, ms: number): string {
  return `make_timestamp(CAST(${p(BigInt(Math.round(ms * 1000)))} AS BIGINT))`;
}

export interface InsertSignalsOptions {
  table?: string;
  /** The drop-folder file the rows come from (signal_files.file_id) */
  fileId?: number;
  /** Describes row i in error messages (a file's `path:line`); default `signal i` */
  where?: (i: number) => string;
}

const BATCH = 500;

/**
 * Writes signals in one transaction (a model's output, a test, the drop folder). Every row is
 * checked first: a broken row, a duplicate (symbol, ts) in the input or already in the table throws
 * a SignalError naming it, and nothing is written.
 */
export async function insertSignals(store: Store, signals: readonly Signal[], options: InsertSignalsOptions = {}): Promise<number> {
  const table = options.table ?? 'signals';
  if (!IDENT_RE.test(table)) throw new SignalError('SIGNAL_PROVIDER', `table: expected an identifier, got '${table}'`);
  const where = options.where ?? ((i: number) => `signal ${i + 1}`);
  const seen = new Map<string, number>();
  signals.forEach((s, i) => {
    const problem = signalProblem(s);
    if (problem !== undefined) throw new SignalError('SIGNAL_INVALID', `${where(i)}: ${problem}`);
    const k = signalKey(s);
    const first = seen.get(k);
    if (first !== undefined) throw new SignalError('SIGNAL_INVALID', `${where(i)}: duplicate signal ${s.symbol} at ${new Date(s.ts).toISOString()} (first at ${where(first)}); a signal is immutable: publish a revision with a later ts`);
    seen.set(k, i);
  });
  if (signals.length === 0) return 0;
  await store.transaction(async () => {
    await store.run(`CREATE TEMP TABLE IF NOT EXISTS signal_staging (i INTEGER, ts TIMESTAMP, symbol VARCHAR, value DOUBLE, available_at TIMESTAMP, source VARCHAR)`);
    await store.run('DELETE FROM signal_staging');
    for (let start = 0; start < signals.length; start += BATCH) {
      const params: DuckDBValue[] = [];
      const p = (v: DuckDBValue) => `$${params.push(v)}`;
      const values: string[] = [];
      for (let i = start; i < Math.min(signals.length, start + BATCH); i++) {
        const s = signals[i]!;
        values.push(`(${i}, ${ts(p, s.ts)}, ${p(s.symbol)}, ${p(s.value)}, ${ts(p, s.availableAt)}, ${p(s.source ?? null)})`);
      }
      await store.run(`INSERT INTO signal_staging VALUES ${values.join(', ')}`, params);
    }
    const dup = await store.all<{ i: number; source: string | null }>(`SELECT s.i, t.source FROM signal_staging s JOIN ${table} t ON t.symbol = s.symbol AND t.ts = s.ts ORDER BY s.i LIMIT 1`);
    if (dup.length > 0) {
      const s = signals[dup[0]!.i]!;
      throw new SignalError('SIGNAL_INVALID', `${where(dup[0]!.i)}: signal ${s.symbol} at ${new Date(s.ts).toISOString()} is already in ${table}${dup[0]!.source ? ` (from ${dup[0]!.source})` : ''}; a signal is immutable: publish a revision with a later ts`);
    }
    // file_id only when given: a table of the documented five columns need not have it
    const [col, val] = options.fileId === undefined ? ['', ''] : [', file_id', `, ${Math.floor(options.fileId)}`];
    await store.run(`INSERT INTO ${table} (ts, symbol, value, available_at, source${col}) SELECT ts, symbol, value, available_at, source${val} FROM signal_staging ORDER BY i`);
    await store.run('DELETE FROM signal_staging');
  });
  return signals.length;
}
