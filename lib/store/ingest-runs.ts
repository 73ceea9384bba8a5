import type { ImportResult } from '../ingest/import-files.js';
import type { Store } from './store.js';

export async function startRun(store: Store, format: string, files: string[], startedAt: Date): Promise<number> {
  const rows = await store.all<{ id: number }>(
    `INSERT INTO ingest_runs (run_id, started_at, format, files, status) VALUES (nextval('run_id_seq'), CAST($1 AS TIMESTAMP), $2, from_json($3, '["VARCHAR"]'), 'ok') RETURNING run_id AS id`,
    [startedAt.toISOString(), format, JSON.stringify(files)],
  );
  return rows[0]!.id;
}

export async function finishRun(store: Store, r: ImportResult): Promise<void> {
  await store.run(
    `UPDATE ingest_runs SET finished_at = current_timestamp, rows_read = $1, rows_inserted = $2, rows_updated = $3, rows_unchanged = $4, notes = from_json($5, '["VARCHAR"]') WHERE run_id = $6`,
    [
      r.rowsRead,
      r.bars.inserted + r.ticks.inserted + r.corporateActions.inserted,
      r.bars.updated + r.ticks.updated + r.corporateActions.updated,
      r.bars.unchanged + r.ticks.unchanged + r.corporateActions.unchanged,
      JSON.stringify(r.notes),
      r.runId,
    ],
  );
}

/** Records a failed import after its transaction rolled back, so the failure is on file. */
export async function recordFailedRun(store: Store, format: string, files: string[], startedAt: Date, error: string): Promise<void> {
  await store.run(
    `INSERT INTO ingest_runs (run_id, started_at, finished_at, format, files, status, error) VALUES (nextval('run_id_seq'), CAST($1 AS TIMESTAMP), current_timestamp, $2, from_json($3, '["VARCHAR"]'), 'failed', $4)`,
    [startedAt.toISOString(), format, JSON.stringify(files), error],
  );
}

export interface IngestRunRow {
  run_id: number;
  started_at: Date;
  finished_at: Date | null;
  format: string;
  files: string[];
  rows_read: number;
  rows_inserted: number;
  rows_updated: number;
  rows_unchanged: number;
  status: 'ok' | 'failed';
  error: string | null;
}

export async function listRuns(store: Store, limit = 20): Promise<IngestRunRow[]> {
  return store.all<IngestRunRow>('SELECT * FROM ingest_runs ORDER BY run_id DESC LIMIT $1', [limit]);
}
