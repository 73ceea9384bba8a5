/**
 * A drop folder of signal files (CSV, CSV.gz, Parquet; columns in signal-file.ts): each poll imports
 * the files not processed yet into the store's `signals` table (one transaction per file, tracked in
 * `signal_files`), then answers from the table like the DuckDB provider, restricted to this folder's
 * files.
 *
 * - A file is processed once: imported files are never read again (drop a new file to add signals);
 *   a failed file (its error names file and line; nothing of it is written) is retried only after
 *   its size or modification time changed. Files are taken in name order.
 * - Rows of a file dropped late (published before the watermark: written after the fact) were never
 *   delivered: the poll returns them first, as late rows, whatever `lateMs` says, because the
 *   provider knows exactly which rows the file brought.
 * - A file still being written is not read: names starting with '.' or ending in `.tmp`/`.partial`
 *   are ignored (write to such a name, then rename), and a file is taken only once it is settled:
 *   its size and mtime unchanged since the previous scan, or its mtime already `settleMs` old when
 *   first seen (a folder written before a backtest). Otherwise one torn last line would be imported
 *   for good as a truncated value (an imported file is never read again).
 * - `onError: 'throw'` (default: a backtest must not run on a silently skipped file) throws the
 *   file's DataError from poll; `'skip'` (a live runner) records it and reports it to `onFile`.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { DuckDBValue } from '@duckdb/node-api';
import type { Store } from '../store/store.js';
import { DuckDbSignalProvider, insertSignals } from './duckdb-provider.js';
import { isAfter, type SignalBatch, type SignalPollOptions, type SignalProvider, type SignalWatermark } from './provider.js';
import { compareSignals, type Signal } from './signal.js';
import { readSignalFile, SIGNAL_FILE_RE } from './signal-file.js';

export interface DropFolderOptions {
  folder: string;
  onError?: 'throw' | 'skip';
  /** Every file processed: imported (rows) or failed (error) */
  onFile?: (result: SignalFileResult) => void;
  /**
   * A file whose mtime is at least this old (wall clock: mtimes are) is taken on the scan that first
   * sees it; a younger one only when a later scan finds its size and mtime unchanged. Default 2000
   */
  settleMs?: number;
}

/** Names a writer uses while a file is incomplete: never read */
const IN_PROGRESS_RE = /^\.|\.(tmp|partial)$/i;

export interface SignalFileResult {
  path: string;
  fileId: number;
  status: 'imported' | 'failed';
  rows: number;
  error?: Error;
}

export class DropFolderSignalProvider implements SignalProvider {
  readonly name: string;
  readonly folder: string;
  private readonly table: DuckDbSignalProvider;
  /** size/mtime of files seen but not yet settled, by path */
  private readonly unsettled = new Map<string, string>();

  constructor(
    private readonly store: Store,
    private readonly options: DropFolderOptions,
  ) {
    this.folder = resolve(options.folder);
    this.name = `folder:${this.folder}`;
    this.table = new FolderRows(store, this.folder + sep);
  }

  /** Imports the files not processed yet; returns what happened to each */
  async scan(): Promise<SignalFileResult[]> {
    const names = readdirSync(this.folder).filter((n) => SIGNAL_FILE_RE.test(n) && !IN_PROGRESS_RE.test(n)).sort();
    const done = await this.processed();
    const results: SignalFileResult[] = [];
    const settleMs = this.options.settleMs ?? 2000;
    const now = Date.now();
    const seen = new Set<string>();
    for (const name of names) {
      const path = join(this.folder, name);
      let st;
      try {
        st = statSync(path);
      } catch {
        continue; // renamed or removed since readdir
      }
      if (!st.isFile()) continue;
      const prior = done.get(path);
      if (prior !== undefined && (prior.status === 'imported' || (prior.size === st.size && prior.mtime === Math.floor(st.mtimeMs)))) continue;
      seen.add(path);
      const stamp = `${st.size}/${st.mtimeMs}`;
      if (now - st.mtimeMs < settleMs && this.unsettled.get(path) !== stamp) {
        this.unsettled.set(path, stamp); // still moving (or new): look again next scan
        continue;
      }
      this.unsettled.delete(path);
      const result = await this.importFile(path, st.size, Math.floor(st.mtimeMs));
      results.push(result);
      this.options.onFile?.(result);
      if (result.error !== undefined && (this.options.onError ?? 'throw') === 'throw') throw result.error;
    }
    for (const path of this.unsettled.keys()) if (!seen.has(path)) this.unsettled.delete(path);
    return results;
  }

  async poll(since: SignalWatermark, options: SignalPollOptions): Promise<SignalBatch> {
    const imported = (await this.scan()).filter((r) => r.status === 'imported').map((r) => r.fileId);
    const batch = await this.table.poll(since, options);
    if (imported.length === 0 || since.availableAt === null) return batch;
    // rows of the files just imported that sort before the watermark: late, never delivered
    const late = (await this.rowsOf(imported)).filter((s) => s.availableAt <= options.until && !isAfter(s, since)).sort(compareSignals);
    return late.length === 0 ? batch : { ...batch, signals: [...late, ...batch.signals] };
  }

  async close(): Promise<void> {
    // the store belongs to the caller
  }

  private async processed(): Promise<Map<string, { status: string; size: number; mtime: number }>> {
    const rows = await this.store.all<{ path: string; status: string; size: number; mtime: number }>(
      `SELECT path, status, size, epoch_ms(mtime) AS mtime FROM signal_files WHERE starts_with(path, $1) ORDER BY file_id`,
      [this.folder + sep],
    );
    const out = new Map<string, { status: string; size: number; mtime: number }>();
    for (const r of rows) if (out.get(r.path)?.status !== 'imported') out.set(r.path, { status: r.status, size: Number(r.size), mtime: Number(r.mtime) });
    return out;
  }

  private async importFile(path: string, size: number, mtime: number): Promise<SignalFileResult> {
    const record = async (status: 'imported' | 'failed', rows: number, error: string | null): Promise<number> => {
      const r = await this.store.all<{ file_id: number }>(
        `INSERT INTO signal_files (path, size, mtime, status, rows, error) VALUES ($1, $2, make_timestamp(CAST($3 AS BIGINT)), $4, $5, $6) RETURNING file_id`,
        [path, size, BigInt(mtime) * 1000n, status, rows, error] as DuckDBValue[],
      );
      return Number(r[0]!.file_id);
    };
    try {
      const signals = await readSignalFile(this.store, path);
      const fileId = await this.store.transaction(async () => {
        const id = await record('imported', signals.length, null);
        await insertSignals(this.store, signals, { fileId: id, where: (i) => `${path}:${signals[i]!.line}` });
        return id;
      });
      return { path, fileId, status: 'imported', rows: signals.length };
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      const fileId = await record('failed', 0, error.message);
      return { path, fileId, status: 'failed', rows: 0, error };
    }
  }

  private async rowsOf(fileIds: number[]): Promise<Signal[]> {
    const rows = await this.store.all<{ ts: number; symbol: string; value: number; available_at: number; source: string | null }>(
      `SELECT epoch_ms(ts) AS ts, symbol, value, epoch_ms(available_at) AS available_at, source FROM signals WHERE file_id IN (${fileIds.map((n) => Math.floor(n)).join(', ')})`,
    );
    return rows.map((r) => ({ ts: Number(r.ts), symbol: r.symbol, value: r.value, availableAt: Number(r.available_at), ...(r.source !== null ? { source: r.source } : {}) }));
  }
}

/** The store's signals restricted to one folder's files */
class FolderRows extends DuckDbSignalProvider {
  constructor(store: Store, folder: string) {
    super(store, { table: 'signals', filter: { sql: `file_id IN (SELECT file_id FROM signal_files WHERE status = 'imported' AND starts_with(path, ?))`, value: folder } });
  }
}
