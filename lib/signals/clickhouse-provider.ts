/**
 * Signals in a ClickHouse table, polled over HTTP with `@clickhouse/client` by time watermark.
 * Table (times in epoch milliseconds, so any server version stores them exactly; 18.16, Debian's,
 * has no DateTime64):
 *
 *   CREATE TABLE signals (
 *     ts           UInt64,             -- epoch ms: the time the signal is about
 *     symbol       String,             -- ticker: AAPL, BRK.B
 *     value        Float64,
 *     available_at UInt64,             -- epoch ms when published (>= ts): visible from then on
 *     source       String DEFAULT ''   -- provenance (model name)
 *   ) ENGINE = MergeTree ORDER BY (available_at, ts, symbol)
 *
 * A poll reads the rows after the watermark in delivery order (ORDER BY available_at, ts, symbol:
 * the table's sort key, so the read is a range scan) with available_at <= until. Producers should
 * set available_at to the time they insert; rows inserted late behind the watermark are found with
 * `lateMs` (see provider.ts). Values are inlined into the SQL (numbers formatted here, the one
 * string escaped) because 18.16 does not know query parameters. Rows breaking the signal contract
 * are skipped and reported (`onRejected`).
 */
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { pollRows, type SignalBatch, type SignalPollOptions, type SignalProvider, type SignalRows, type SignalWatermark } from './provider.js';
import { compareSignals, SignalError, signalProblem, type Signal } from './signal.js';

export interface ClickHouseSignalOptions {
  /** `http://127.0.0.1:8123` */
  url: string;
  username?: string;
  password?: string;
  database?: string;
  /** Default `signals` */
  table?: string;
  requestTimeoutMs?: number;
  onRejected?: (row: Signal, problem: string) => void;
}

const IDENT_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

interface Row {
  ts: string | number;
  symbol: string;
  value: number | string;
  available_at: string | number;
  source: string;
}

export class ClickHouseSignalProvider implements SignalProvider, SignalRows {
  readonly name: string;
  private readonly client: ClickHouseClient;
  private readonly table: string;

  constructor(private readonly options: ClickHouseSignalOptions) {
    const database = options.database ?? 'default';
    const table = options.table ?? 'signals';
    for (const [what, v] of [['database', database], ['table', table]] as const) {
      if (!IDENT_RE.test(v)) throw new SignalError('SIGNAL_PROVIDER', `clickhouse ${what}: expected an identifier, got '${v}'`);
    }
    this.table = `${database}.${table}`;
    this.name = `clickhouse:${this.table}`;
    this.client = createClient({
      url: options.url,
      username: options.username ?? 'default',
      password: options.password ?? '',
      request_timeout: options.requestTimeoutMs ?? 30_000,
      // errors come back to the caller as SignalErrors; the client must not print them too
      log: { level: ClickHouseLogLevel.OFF },
    });
  }

  /** The documented table, created when missing (setup scripts, tests) */
  async createTable(): Promise<void> {
    await this.run('create table', () =>
      this.client.command({
        query: `CREATE TABLE IF NOT EXISTS ${this.table} (ts UInt64, symbol String, value Float64, available_at UInt64, source String DEFAULT '') ENGINE = MergeTree ORDER BY (available_at, ts, symbol)`,
      }),
    );
  }

  /** Inserts rows as JSONEachRow (a producer, tests); rows are checked first, nothing is sent on a problem */
  async insert(signals: readonly Signal[]): Promise<void> {
    signals.forEach((s, i) => {
      const problem = signalProblem(s);
      if (problem !== undefined) throw new SignalError('SIGNAL_INVALID', `signal ${i + 1}: ${problem}`);
    });
    if (signals.length === 0) return;
    await this.run('insert', () =>
      this.client.insert({
        table: this.table,
        format: 'JSONEachRow',
        values: signals.map((s) => ({ ts: ms(s.ts), symbol: s.symbol, value: s.value, available_at: ms(s.availableAt), source: s.source ?? '' })),
      }),
    );
  }

  poll(since: SignalWatermark, options: SignalPollOptions): Promise<SignalBatch> {
    return pollRows(this, since, options, this.options.onRejected);
  }

  async after(since: SignalWatermark, until: number, limit: number): Promise<Signal[]> {
    const where: string[] = [];
    if (Number.isFinite(until)) where.push(`available_at <= ${ms(Math.max(0, until))}`);
    if (since.availableAt !== null) {
      const a = ms(since.availableAt);
      where.push(
        since.ts === undefined || since.symbol === undefined
          ? `available_at > ${a}`
          : `(available_at > ${a} OR (available_at = ${a} AND (ts > ${ms(since.ts)} OR (ts = ${ms(since.ts)} AND symbol > ${quote(since.symbol)}))))`,
      );
    }
    return this.select(where, `ORDER BY available_at, ts, symbol LIMIT ${Math.floor(limit)}`);
  }

  async window(from: number, since: SignalWatermark): Promise<Signal[]> {
    if (since.availableAt === null) return [];
    const rows = await this.select([`available_at > ${ms(Math.max(0, from))}`, `available_at <= ${ms(since.availableAt)}`], '');
    return rows.sort(compareSignals);
  }

  private async select(where: string[], tail: string): Promise<Signal[]> {
    const query = `SELECT ts, symbol, value, available_at, source FROM ${this.table} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ${tail}`;
    const rows = await this.run('poll', async () => (await this.client.query({ query, format: 'JSONEachRow' })).json<Row>());
    // UInt64 come back as strings (JSON has no 64-bit integers); epoch ms fit a double exactly
    return rows.map((r) => ({ ts: Number(r.ts), symbol: r.symbol, value: Number(r.value), availableAt: Number(r.available_at), ...(r.source !== '' ? { source: r.source } : {}) }));
  }

  private async run<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      throw new SignalError('SIGNAL_PROVIDER', `clickhouse ${this.options.url} ${this.table} ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** An epoch-ms integer for the SQL text (UInt64: times before 1970 are not stored) */
function ms(t: number): string {
  if (!Number.isFinite(t)) throw new SignalError('SIGNAL_INVALID', `expected a time, got ${t}`);
  return String(Math.max(0, Math.round(t)));
}

/** A ClickHouse string literal (backslash escapes) */
function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
