import type { Store } from '../store/store.js';
import type { JournalKind, JournalRecord, JournalRun } from './journal-types.js';

/** Reading runs and records back from DuckDB (the journal's writes are in journal.ts) */

const RUN_COLUMNS = `run_id, CAST(epoch_us(started_at) AS DOUBLE) / 1000 AS started_at, mode, strategy, strategy_version, config_hash, host, pid, restarts,
  CAST(epoch_us(ended_at) AS DOUBLE) / 1000 AS ended_at, end_reason`;

/** The select list `toRecord` reads; `payload` may be replaced by an expression (recovery skips payloads it never reads) */
export function journalRecordColumns(payload = 'payload'): string {
  return `run_id, seq, CAST(epoch_us(ts) AS DOUBLE) / 1000 AS ts, CAST(epoch_us(wall_ts) AS DOUBLE) / 1000 AS wall_ts, kind,
  decision_id, client_order_id, broker_order_id, instrument, ${payload} AS payload`;
}

/** The `journal_runs` row of a run, or undefined */
export async function findRun(store: Store, runId: string): Promise<JournalRun | undefined> {
  const rows = await store.all<Record<string, unknown>>(`SELECT ${RUN_COLUMNS} FROM journal_runs WHERE run_id = $1`, [runId]);
  return rows[0] === undefined ? undefined : toRun(rows[0]);
}

/** Runs, newest first */
export async function listRuns(store: Store, limit = 20): Promise<JournalRun[]> {
  const rows = await store.all<Record<string, unknown>>(`SELECT ${RUN_COLUMNS} FROM journal_runs ORDER BY started_at DESC, run_id LIMIT $1`, [limit]);
  return rows.map(toRun);
}

/** Records of a run in seq order (all, or from `fromSeq`, or of some kinds) */
export async function readJournal(store: Store, runId: string, options: { fromSeq?: number; kinds?: readonly JournalKind[] } = {}): Promise<JournalRecord[]> {
  const kinds = options.kinds ?? [];
  const rows = await store.all<Record<string, unknown>>(
    `SELECT ${journalRecordColumns()} FROM journal WHERE run_id = $1 AND seq >= $2 ${kinds.length > 0 ? `AND kind IN (SELECT unnest(from_json($3, '["VARCHAR"]')))` : ''} ORDER BY seq`,
    kinds.length > 0 ? [runId, options.fromSeq ?? 0, JSON.stringify(kinds)] : [runId, options.fromSeq ?? 0],
  );
  return rows.map(toRecord);
}

/** A stored row (`journalRecordColumns()`, payload as JSON text or null) as a JournalRecord */
export function toRecord(row: Record<string, unknown>): JournalRecord {
  const payload = row['payload'];
  return {
    runId: row['run_id'] as string,
    seq: Number(row['seq']),
    ts: (row['ts'] as number | null) ?? null,
    wallTs: row['wall_ts'] as number,
    kind: row['kind'] as JournalKind,
    decisionId: (row['decision_id'] as string | null) ?? null,
    clientOrderId: (row['client_order_id'] as string | null) ?? null,
    brokerOrderId: (row['broker_order_id'] as string | null) ?? null,
    instrument: (row['instrument'] as string | null) ?? null,
    payload: typeof payload === 'string' ? JSON.parse(payload) : (payload ?? null),
  };
}

function toRun(r: Record<string, unknown>): JournalRun {
  return {
    runId: r['run_id'] as string,
    startedAt: r['started_at'] as number,
    mode: r['mode'] as string,
    strategy: r['strategy'] as string,
    strategyVersion: r['strategy_version'] as string,
    configHash: r['config_hash'] as string,
    host: r['host'] as string,
    pid: r['pid'] as number,
    restarts: r['restarts'] as number,
    endedAt: (r['ended_at'] as number | null) ?? null,
    endReason: (r['end_reason'] as string | null) ?? null,
  };
}
