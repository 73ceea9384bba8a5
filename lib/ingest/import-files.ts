import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { DataError } from '../core/errors.js';
import type { InstrumentSpec } from '../data/instrument.js';
import { stockSpec } from '../data/instrument.js';
import type { ParsedFile } from '../data/parsed-file.js';
import { writeBars } from '../store/bar-writer.js';
import { writeCorporateActions } from '../store/corporate-actions.js';
import { findInstruments, setInstrumentValidity, upsertInstruments } from '../store/instruments.js';
import { finishRun, recordFailedRun, startRun } from '../store/ingest-runs.js';
import { addCounts, zeroCounts, type MergeCounts } from '../store/merge.js';
import type { BarSource } from '../store/migrations.js';
import type { Store } from '../store/store.js';
import { writeTicks } from '../store/tick-writer.js';
import { detectFormat, type ImportFormat } from './detect-format.js';
import { parseLeanFile, type MapFileCache } from './lean/lean-file.js';
import { parseGenericFile } from './generic-file.js';
import type { ImportOptions } from './import-options.js';
import { silentProgress } from './progress.js';

export type { ImportOptions } from './import-options.js';

export interface SeriesSummary {
  instrument: string;
  interval: string;
  kind: string;
  rows: number;
  from: string;
  to: string;
}

export interface ImportResult {
  runId: number;
  files: number;
  rowsRead: number;
  bars: MergeCounts;
  ticks: MergeCounts;
  corporateActions: MergeCounts;
  instruments: string[];
  series: SeriesSummary[];
  notes: string[];
  durationMs: number;
}

const DATA_FILE = /\.(csv|txt|parquet)$/i;

/** Expands directories into their data files (recursively, sorted for a stable order). */
export function expandPaths(paths: readonly string[]): string[] {
  return expandPathsMarked(paths).map((f) => f.path);
}

/** Like expandPaths, marking files found inside a folder (as opposed to named on their own). */
function expandPathsMarked(paths: readonly string[]): { path: string; inFolder: boolean }[] {
  const out: { path: string; inFolder: boolean }[] = [];
  const walk = (p: string, inFolder: boolean) => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) throw new DataError('EMPTY_INPUT', { file: p }, 'no such file or directory');
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) walk(join(p, e), true);
    } else if (DATA_FILE.test(p) || !inFolder) out.push({ path: p, inFolder });
  };
  for (const p of paths) walk(p, false);
  return out;
}

/**
 * Imports files into the store as ONE transaction: every file is parsed and validated,
 * then written; any error rolls everything back, leaves the store as it was, and records
 * a failed ingest run naming the cause.
 */
export async function importFiles(store: Store, paths: readonly string[], options: ImportOptions = {}): Promise<ImportResult> {
  const started = performance.now();
  const marked = expandPathsMarked(paths);
  const files = marked.map((f) => f.path);
  if (files.length === 0) throw new DataError('EMPTY_INPUT', { file: paths.join(', ') }, 'expected .csv, .txt or .parquet files, found none');
  const format = options.format ?? 'auto';
  const progress = options.progress ?? silentProgress;
  const startedAt = new Date();
  const displayFiles = files.map((f) => relative(process.cwd(), f) || f);
  const sizes = files.map((f) => statSync(f).size);
  progress.start(sizes.reduce((a, b) => a + b, 0), 'import');
  try {
    const result = await store.transaction(async () => {
      const runId = await startRun(store, format, displayFiles, startedAt);
      const acc = newResult(runId, files.length);
      const mapFiles: MapFileCache = new Map();
      let bytes = 0;
      for (let i = 0; i < files.length; i++) {
        const file = files[i]!;
        const buf = readFileSync(file);
        const detected = detectFormat(file, buf.subarray(0, 4096), format);
        let parsed: ParsedFile;
        if (detected.format === 'lean') parsed = parseLeanFile(buf, displayFiles[i]!, detected.lean, mapFiles);
        else if (detected.format === 'unknown') throw new DataError('UNSUPPORTED_INPUT', { file: displayFiles[i]! }, detected.why);
        else if (detected.format === 'csv' && marked[i]!.inFolder && format === 'auto' && !options.interval) {
          // a folder may hold other CSVs (calendars, watchlists): without --interval they are not bars
          acc.notes.push(`${displayFiles[i]}: skipped (not LEAN or Yahoo; pass --interval to import generic CSVs found in folders)`);
          continue;
        }
        else parsed = await parseGenericFile(store, buf, file, displayFiles[i]!, detected.format, options);
        await writeParsed(store, parsed, runId, options, acc);
        bytes += sizes[i]!;
        progress.update(bytes, { file: basename(file), rows: acc.rowsRead });
      }
      acc.durationMs = performance.now() - started;
      await finishRun(store, acc);
      return acc;
    });
    return result;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    await recordFailedRun(store, format, displayFiles, startedAt, message);
    throw e;
  } finally {
    progress.stop();
  }
}

function newResult(runId: number, files: number): ImportResult {
  return { runId, files, rowsRead: 0, bars: zeroCounts(), ticks: zeroCounts(), corporateActions: zeroCounts(), instruments: [], series: [], notes: [], durationMs: 0 };
}

async function writeParsed(store: Store, parsed: ParsedFile, runId: number, options: ImportOptions, acc: ImportResult): Promise<void> {
  const ids = await resolveInstruments(store, parsed, options);
  await setInstrumentValidity(store, ids, parsed.validity);
  addCounts(acc.bars, await writeBars(store, parsed.bars, ids, parsed.source as BarSource, runId));
  addCounts(acc.ticks, await writeTicks(store, parsed.ticks, ids, runId));
  addCounts(acc.corporateActions, await writeCorporateActions(store, parsed.corporateActions, ids, runId));
  acc.rowsRead += parsed.rowsRead;
  acc.notes.push(...parsed.notes);
  for (const k of ids.keys()) if (!acc.instruments.includes(k)) acc.instruments.push(k);
  for (const s of parsed.bars) {
    if (s.length === 0) continue;
    acc.series.push({ instrument: s.instrumentKey, interval: s.interval, kind: s.kind, rows: s.length, from: new Date(s.ts[0]!).toISOString(), to: new Date(s.ts[s.length - 1]!).toISOString() });
  }
}

/**
 * Instruments named by the file's own layout (LEAN paths, --symbol) are registered; symbols
 * that merely appear in a symbol column must already be known, unless --register.
 */
async function resolveInstruments(store: Store, parsed: ParsedFile, options: ImportOptions): Promise<Map<string, number>> {
  const explicit = parsed.instruments;
  const referenced = new Set<string>([...parsed.bars.map((b) => b.instrumentKey), ...parsed.ticks.map((t) => t.instrumentKey), ...parsed.corporateActions.map((c) => c.instrumentKey)]);
  for (const s of explicit) referenced.delete(s.key);
  const known = await findInstruments(store, [...referenced]);
  const toCreate: InstrumentSpec[] = [...explicit];
  for (const key of referenced) {
    if (known.has(key)) continue;
    if (!options.register) {
      const line = parsed.bars.find((b) => b.instrumentKey === key)?.line?.[0];
      throw new DataError('UNKNOWN_SYMBOL', { file: parsed.file, line, column: 'symbol' }, `unknown symbol '${key}': expected an instrument in the store (see monger data ls), or pass --register to add it as a US stock`);
    }
    toCreate.push(stockSpec(key));
  }
  const ids = await upsertInstruments(store, toCreate, parsed.file);
  for (const [k, v] of known) ids.set(k, v.instrumentId);
  return ids;
}
