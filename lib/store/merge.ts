import type { DuckDBValue } from '@duckdb/node-api';
import { StoreError } from '../core/errors.js';
import type { Store } from './store.js';

export interface MergeCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

export function zeroCounts(): MergeCounts {
  return { inserted: 0, updated: 0, unchanged: 0 };
}

/** Adds `c` into `into` (in place). */
export function addCounts(into: MergeCounts, c: MergeCounts): void {
  into.inserted += c.inserted;
  into.updated += c.updated;
  into.unchanged += c.unchanged;
}

export interface MergeSpec {
  target: string;
  staging: string;
  /** Columns fixed for the whole batch (e.g. instrument_id), with their values */
  fixed: Record<string, DuckDBValue>;
  /** Staged key columns (with `fixed`, they identify a row) */
  keys: readonly string[];
  /** Staged value columns compared to detect a change */
  values: readonly string[];
  /** Extra target columns written on insert, e.g. run_id, with their values */
  extra: Record<string, DuckDBValue>;
  /** SQL expression per staged column when it needs converting (e.g. ms -> TIMESTAMP) */
  convert?: Record<string, string>;
}

/**
 * Set-based upsert from a staging table: rows whose values differ are replaced, new rows
 * inserted, identical rows left alone, so re-importing the same data changes nothing.
 * Must run inside the caller's transaction.
 */
export async function mergeFromStaging(store: Store, m: MergeSpec, stagedRows: number): Promise<MergeCounts> {
  const params: DuckDBValue[] = [];
  const p = (v: DuckDBValue) => {
    params.push(v);
    return `$${params.length}`;
  };
  const conv = (c: string) => m.convert?.[c] ?? `s.${c}`;
  const fixedMatch = Object.entries(m.fixed).map(([c, v]) => `t.${c} = ${p(v)}`);
  const keyMatch = m.keys.map((k) => `t.${k} = ${conv(k)}`);
  const changed = m.values.map((c) => `t.${c} IS DISTINCT FROM ${conv(c)}`).join(' OR ');
  const where = [...fixedMatch, ...keyMatch].join(' AND ');
  const run = async (sql: string): Promise<number> => {
    try {
      return (await store.connection.run(sql, params)).rowsChanged;
    } catch (e) {
      throw new StoreError('STORE_QUERY', `merge into ${m.target} failed: ${(e as Error).message}`, { cause: e });
    }
  };
  const updated = await run(`DELETE FROM ${m.target} t USING ${m.staging} s WHERE ${where} AND (${changed})`);
  const fixedCols = Object.keys(m.fixed);
  const fixedVals = fixedCols.map((_, i) => `$${i + 1}`);
  const extraCols = Object.keys(m.extra);
  const extraVals = Object.values(m.extra).map((v) => p(v));
  const staged = [...m.keys, ...m.values];
  const inserted = await run(
    `INSERT INTO ${m.target} (${[...fixedCols, ...staged, ...extraCols].join(', ')})
     SELECT ${[...fixedVals, ...staged.map(conv), ...extraVals].join(', ')} FROM ${m.staging} s
     WHERE NOT EXISTS (SELECT 1 FROM ${m.target} t WHERE ${where})`,
  );
  return { inserted: inserted - updated, updated, unchanged: stagedRows - inserted };
}
