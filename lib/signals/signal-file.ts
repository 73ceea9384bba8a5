/**
 * Reading one signal file of a drop folder with DuckDB (read_csv / read_parquet) into checked
 * signals, every problem naming the file and line (CSV: the physical line; Parquet: the row, 1-based).
 *
 * Columns (by name, any order, extra columns ignored):
 *   ts            CSV: ISO time (`2024-03-04T15:00:00Z`, `2024-03-04 15:00:00` = UTC). Parquet: TIMESTAMP[TZ] or epoch ms integers
 *   symbol        ticker (`AAPL`, `BRK.B`)
 *   value         number
 *   available_at  optional, like ts: publication time (>= ts); empty = ts
 *   source        optional provenance; default `<file name>:<line>`
 */
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { DataError } from '../core/errors.js';
import type { Store } from '../store/store.js';
import { signalProblem, type Signal } from './signal.js';

export interface FileSignal extends Signal {
  /** CSV line / Parquet row (1-based) */
  line: number;
}

export const SIGNAL_FILE_RE = /\.(csv|csv\.gz|parquet)$/i;
const REQUIRED = ['ts', 'symbol', 'value'] as const;

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Reads and checks one file; throws a DataError naming file and line on the first problem */
export async function readSignalFile(store: Store, path: string): Promise<FileSignal[]> {
  const lower = path.toLowerCase();
  if (lower.endsWith('.parquet')) return readParquet(store, path);
  if (lower.endsWith('.csv') || lower.endsWith('.csv.gz')) return readCsv(store, path);
  throw new DataError('UNSUPPORTED_INPUT', { file: path }, 'expected a .csv, .csv.gz or .parquet signal file');
}

async function readCsv(store: Store, path: string): Promise<FileSignal[]> {
  const bytes = readFileSync(path);
  const text = (path.toLowerCase().endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  const lines = text.split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.trim().replace(/^"(.*)"$/, '$1').toLowerCase());
  if (header.length === 1 && header[0] === '') throw new DataError('EMPTY_INPUT', { file: path, line: 1 }, 'empty file: expected a header ts,symbol,value[,available_at][,source]');
  const missing = REQUIRED.filter((c) => !header.includes(c));
  if (missing.length > 0) throw new DataError('BAD_HEADER', { file: path, line: 1 }, `missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; expected a header ts,symbol,value[,available_at][,source], got ${header.join(',')}`);
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup !== undefined) throw new DataError('BAD_HEADER', { file: path, line: 1 }, `column '${dup}' appears twice`);
  const types: Record<string, string> = { ts: 'TIMESTAMPTZ', symbol: 'VARCHAR', value: 'DOUBLE', available_at: 'TIMESTAMPTZ', source: 'VARCHAR' };
  const columns = header.map((h) => `${sqlString(h)}: ${sqlString(types[h] ?? 'VARCHAR')}`).join(', ');
  const scan = `read_csv(${sqlString(path)}, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"', columns = {${columns}}, store_rejects = true, rejects_table = 'signal_rejects', rejects_scan = 'signal_rejects_scan')`;
  const has = (c: string) => header.includes(c);
  await dropRejects(store);
  try {
    const rows = await store.all<{ n: number; ts: number | null; symbol: string | null; value: number | null; available_at: number | null; source: string | null }>(
      `SELECT ordinality AS n, epoch_ms(ts) AS ts, symbol, value, ${has('available_at') ? 'epoch_ms(available_at)' : 'NULL'} AS available_at, ${has('source') ? 'source' : 'NULL'} AS source
       FROM ${scan} WITH ORDINALITY ORDER BY ordinality`,
    );
    const rejected = await store.all<{ line: number; column_name: string | null; error_message: string }>('SELECT line, column_name, error_message FROM signal_rejects ORDER BY line LIMIT 1');
    const r = rejected[0];
    if (r !== undefined) throw new DataError('BAD_ROW', { file: path, line: Number(r.line), ...(r.column_name ? { column: r.column_name } : {}) }, r.error_message);
    // DuckDB skips blank lines: map the n-th data row to its physical line
    const lineOf: number[] = [];
    for (let i = 1; i < lines.length; i++) if (lines[i]!.trim() !== '') lineOf.push(i + 1);
    return rows.map((row) => check(path, lineOf[Number(row.n) - 1] ?? Number(row.n) + 1, row));
  } finally {
    await dropRejects(store);
  }
}

async function dropRejects(store: Store): Promise<void> {
  await store.run('DROP TABLE IF EXISTS signal_rejects');
  await store.run('DROP TABLE IF EXISTS signal_rejects_scan');
}

async function readParquet(store: Store, path: string): Promise<FileSignal[]> {
  const described = await store.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet(${sqlString(path)})`);
  const type = new Map(described.map((d) => [d.column_name.toLowerCase(), { name: d.column_name, type: d.column_type.toUpperCase() }]));
  const missing = REQUIRED.filter((c) => !type.has(c));
  if (missing.length > 0) throw new DataError('BAD_HEADER', { file: path }, `missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; expected ts, symbol, value[, available_at][, source], got ${[...type.keys()].join(', ')}`);
  const time = (c: string): string => {
    const t = type.get(c);
    if (t === undefined) return 'NULL';
    const col = `"${t.name.replace(/"/g, '""')}"`;
    if (t.type.startsWith('TIMESTAMP') || t.type === 'DATE') return `epoch_ms(CAST(${col} AS TIMESTAMPTZ))`;
    if (/^(U?(BIG|SMALL|TINY|HUGE)?INT(EGER)?|INT\d+|UINT\d+)$/.test(t.type)) return `CAST(${col} AS DOUBLE)`;
    throw new DataError('BAD_HEADER', { file: path, column: c }, `column type ${t.type}: expected TIMESTAMP or epoch milliseconds (integers)`);
  };
  const col = (c: string) => {
    const t = type.get(c);
    return t === undefined ? 'NULL' : `"${t.name.replace(/"/g, '""')}"`;
  };
  const rows = await store.all<{ n: number; ts: number | null; symbol: string | null; value: number | null; available_at: number | null; source: string | null }>(
    `SELECT file_row_number + 1 AS n, ${time('ts')} AS ts, CAST(${col('symbol')} AS VARCHAR) AS symbol, TRY_CAST(${col('value')} AS DOUBLE) AS value,
            ${time('available_at')} AS available_at, CAST(${col('source')} AS VARCHAR) AS source
     FROM read_parquet(${sqlString(path)}, file_row_number = true) ORDER BY file_row_number`,
  );
  return rows.map((row) => check(path, Number(row.n), row));
}

function check(path: string, line: number, row: { ts: number | null; symbol: string | null; value: number | null; available_at: number | null; source: string | null }): FileSignal {
  const ts = row.ts === null ? NaN : Number(row.ts);
  const s: FileSignal = {
    ts,
    symbol: row.symbol ?? '',
    value: row.value ?? NaN,
    availableAt: row.available_at === null ? ts : Number(row.available_at),
    source: row.source ?? `${basename(path)}:${line}`,
    line,
  };
  const problem = row.symbol === null ? 'symbol: empty' : signalProblem(s);
  if (problem !== undefined) {
    const column = problem.slice(0, problem.indexOf(':'));
    throw new DataError('BAD_ROW', { file: path, line, ...(/^[a-z_]+$/.test(column) ? { column } : {}) }, problem);
  }
  return s;
}
