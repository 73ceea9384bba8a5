/**
 * The contract resolver's persistence: answers in `ib_contracts` (keyed by the canonical query
 * key, JSON answer, fetched_at) and error 200 records in `ib_invalid_symbols` (reason, code, time).
 * Store operations run one at a time (one DuckDB connection is shared); writes log instead of
 * failing the resolution. Without a store, reads find nothing and writes do nothing.
 *
 * Times are epoch ms from the resolver's injected clock; nothing here reads the wall clock.
 */
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/store.js';
import type { InvalidSymbolRecord, ResolvedContract } from './contract-types.js';

/** One cached answer. */
export interface CacheEntry {
  contracts: ResolvedContract[];
  fetchedAt: number;
}

/** One persisted answer; `contracts` is undefined when its JSON is unreadable. */
export interface StoredAnswer {
  key: string;
  contracts: ResolvedContract[] | undefined;
  fetchedAt: number;
}

export class ContractCacheStore {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly store: Store | undefined,
    private readonly log: Logger,
  ) {}

  /** The answers fetched at or after `since` (epoch ms), newest first, at most `limit`. Rejects when the store fails. */
  async loadAnswers(since: number, limit: number): Promise<StoredAnswer[]> {
    const store = this.store;
    if (!store) return [];
    const freshSince = since * 1000;
    const rows = await this.serial(() =>
      store.all<{ query_key: string; answer: string; fetched_at: number }>(
        `SELECT query_key, CAST(answer AS VARCHAR) AS answer, epoch_ms(fetched_at) AS fetched_at FROM ib_contracts
         WHERE fetched_at >= make_timestamp(CAST($1 AS BIGINT)) ORDER BY fetched_at DESC, query_key LIMIT $2`,
        [freshSince, limit],
      ),
    );
    return rows.map((row) => ({ key: row.query_key, contracts: parseAnswer(row.answer), fetchedAt: Number(row.fetched_at) }));
  }

  /** The invalid records made at or after `since` (epoch ms). Rejects when the store fails. */
  async loadInvalid(since: number): Promise<InvalidSymbolRecord[]> {
    const store = this.store;
    if (!store) return [];
    const invalidSince = since * 1000;
    const invalid = await this.serial(() =>
      store.all<{ query_key: string; symbol: string; sec_type: string; code: number | null; reason: string; recorded_at: number }>(
        `SELECT query_key, symbol, sec_type, code, reason, epoch_ms(recorded_at) AS recorded_at FROM ib_invalid_symbols
         WHERE recorded_at >= make_timestamp(CAST($1 AS BIGINT))`,
        [invalidSince],
      ),
    );
    return invalid.map((r) => ({ key: r.query_key, symbol: r.symbol, secType: r.sec_type, code: r.code ?? undefined, reason: r.reason, recordedAt: Number(r.recorded_at) }));
  }

  /** The persisted answer of a query key, whatever its age; undefined when none, unreadable or the store fails (logged). */
  async getAnswer(key: string): Promise<CacheEntry | undefined> {
    const store = this.store;
    if (!store) return undefined;
    try {
      const rows = await this.serial(() =>
        store.all<{ answer: string; fetched_at: number }>(`SELECT CAST(answer AS VARCHAR) AS answer, epoch_ms(fetched_at) AS fetched_at FROM ib_contracts WHERE query_key = $1`, [key]),
      );
      const row = rows[0];
      if (!row) return undefined;
      const contracts = parseAnswer(row.answer);
      return contracts ? { contracts, fetchedAt: Number(row.fetched_at) } : undefined;
    } catch (e) {
      this.log.error('cannot read persisted contracts', { key, error: e instanceof Error ? e.message : String(e) });
      return undefined;
    }
  }

  saveAnswer(key: string, contracts: ResolvedContract[], fetchedAt: number): Promise<void> {
    return this.write('save contracts', (store) =>
      store.run(`INSERT OR REPLACE INTO ib_contracts (query_key, answer, fetched_at) VALUES ($1, $2, make_timestamp(CAST($3 AS BIGINT)))`, [
        key,
        JSON.stringify(contracts),
        fetchedAt * 1000,
      ]),
    );
  }

  /** Records the query as invalid and drops its persisted answer. */
  saveInvalid(record: InvalidSymbolRecord): Promise<void> {
    const { key, code, reason } = record;
    return this.write('record invalid symbol', async (store) => {
      await store.run(
        `INSERT OR REPLACE INTO ib_invalid_symbols (query_key, symbol, sec_type, code, reason, recorded_at) VALUES ($1, $2, $3, $4, $5, make_timestamp(CAST($6 AS BIGINT)))`,
        [key, record.symbol, record.secType, code ?? null, reason, record.recordedAt * 1000],
      );
      await store.run('DELETE FROM ib_contracts WHERE query_key = $1', [key]);
    });
  }

  deleteInvalid(key: string): Promise<void> {
    return this.write('forget invalid symbol', (store) => store.run('DELETE FROM ib_invalid_symbols WHERE query_key = $1', [key]));
  }

  /** Settles when the store operations queued so far have (never rejects). */
  flush(): Promise<unknown> {
    return this.chain.catch(() => undefined);
  }

  /** A store write that logs instead of failing the resolution. */
  private async write(what: string, write: (store: Store) => Promise<void>): Promise<void> {
    const store = this.store;
    if (!store) return;
    try {
      await this.serial(() => write(store));
    } catch (e) {
      this.log.error(`cannot ${what}`, { error: e instanceof Error ? e.message : String(e) });
    }
  }

  /** Runs store operations one at a time (one DuckDB connection is shared). */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.chain.then(op, op);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

function parseAnswer(json: string): ResolvedContract[] | undefined {
  try {
    const value = JSON.parse(json) as unknown;
    return Array.isArray(value) ? (value as ResolvedContract[]) : undefined;
  } catch {
    return undefined;
  }
}
