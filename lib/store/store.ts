import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DuckDBConnection, DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { StoreError } from '../core/errors.js';
import { MIGRATIONS, type Migration } from './migrations.js';

/** Default database file, relative to the working directory (the project root). */
export const DEFAULT_STORE_PATH = 'data/monger.duckdb';
/** Environment variable that overrides the default path; a --db flag overrides both. */
export const STORE_ENV = 'MONGER_DB';

export type Params = Record<string, DuckDBValue> | DuckDBValue[];

/**
 * The embedded DuckDB store: one file, one connection, schema migrated on open.
 * All writes of one logical operation go through `transaction` so a failure leaves the
 * store exactly as it was.
 */
export class Store {
  private inTransaction = false;

  private constructor(
    readonly path: string,
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  /** Opens (creating if needed) and migrates the store. `:memory:` gives a throwaway store. */
  static async open(path?: string, options: { migrate?: boolean } = {}): Promise<Store> {
    const resolved = resolveStorePath(path);
    if (resolved !== ':memory:') mkdirSync(dirname(resolved), { recursive: true });
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(resolved);
    } catch (e) {
      throw new StoreError('STORE_QUERY', `cannot open store ${resolved}: ${(e as Error).message}`, { cause: e });
    }
    const connection = await instance.connect();
    // timestamps are UTC everywhere; never let the machine's zone leak into casts
    await connection.run(`SET TimeZone = 'UTC'`);
    const store = new Store(resolved, instance, connection);
    if (options.migrate !== false) await store.migrate();
    return store;
  }

  /** Applies pending migrations; returns the versions applied. */
  async migrate(migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
    await this.run(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)`);
    const done = new Set((await this.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version));
    const known = Math.max(0, ...migrations.map((m) => m.version));
    const newest = Math.max(0, ...done);
    if (newest > known) {
      throw new StoreError('STORE_MIGRATION', `store ${this.path} has schema version ${newest}, newer than this code knows (${known}); update monger`);
    }
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await this.transaction(async () => {
        try {
          await this.connection.run(m.sql);
        } catch (e) {
          throw new StoreError('STORE_MIGRATION', `migration ${m.version} (${m.name}) failed: ${(e as Error).message}`, { cause: e });
        }
        await this.run('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      });
      applied.push(m.version);
    }
    return applied;
  }

  async schemaVersion(): Promise<number> {
    const rows = await this.all<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
    return rows[0]?.v ?? 0;
  }

  async run(sql: string, params?: Params): Promise<void> {
    try {
      await this.connection.run(sql, params);
    } catch (e) {
      throw new StoreError('STORE_QUERY', `${(e as Error).message}\n  in: ${sql.trim().slice(0, 200)}`, { cause: e });
    }
  }

  /** Runs a query and returns rows as plain objects (BIGINT as number when safe). */
  async all<T = Record<string, unknown>>(sql: string, params?: Params): Promise<T[]> {
    try {
      const reader = await this.connection.runAndReadAll(sql, params);
      return reader.getRowObjectsJS().map(normalizeRow) as T[];
    } catch (e) {
      throw new StoreError('STORE_QUERY', `${(e as Error).message}\n  in: ${sql.trim().slice(0, 200)}`, { cause: e });
    }
  }

  /** Runs `fn` in one transaction: commit on success, roll back on any error (then rethrow). */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn();
    await this.connection.run('BEGIN TRANSACTION');
    this.inTransaction = true;
    try {
      const result = await fn();
      await this.connection.run('COMMIT');
      return result;
    } catch (e) {
      await this.connection.run('ROLLBACK');
      throw e;
    } finally {
      this.inTransaction = false;
    }
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

export function resolveStorePath(path?: string): string {
  const p = path ?? process.env[STORE_ENV] ?? DEFAULT_STORE_PATH;
  return p === ':memory:' ? p : resolve(p);
}

function normalizeRow(row: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(row)) {
    const v = row[k];
    if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)) row[k] = Number(v);
  }
  return row;
}
