import type { Logger } from '../core/logger.js';
import type { Store } from '../store/store.js';
import { JOURNAL_INSERT_SQL, readIntentLog, removeIntentLog, type IntentLogContents } from './intent-log.js';

/** What `syncIntentLog` (journal.ts) found in a run's intent log */
export interface IntentLogReplay {
  /** The log's path (undefined: the store is in memory, there is none) */
  path: string | undefined;
  /** The run's journal is open in this process: it committed its log to DuckDB instead (nothing read) */
  live: boolean;
  /** Valid records in the log, and how many of them DuckDB did not have (now inserted) */
  records: number;
  inserted: number;
  /** After the replay the run's seqs are not 1..n (records are missing: a damaged log, or a log of another database) */
  gap: boolean;
  /**
   * A bad line: `torn` when nothing after it is newer than DuckDB (a write a crash cut short, never
   * reported durable), else damage (the records after it were replayed as found)
   */
  problem?: IntentLogContents['problem'];
}

/**
 * Inserts the records of the intent log at `path` that DuckDB lacks (a crash came before their
 * batched insert), in seq order, then deletes the log. Every checksum-valid line counts, also past a
 * bad one: lines there are normally old ones DuckDB holds (a rewound log), and a record DuckDB lacks
 * is a durable record whatever the damage before it. A torn line (a write a crash cut short, never
 * reported durable) is reported with a warning. Throws on I/O or database errors; the log stays.
 */
export async function replayIntentLog(store: Store, runId: string, path: string, log: Logger): Promise<IntentLogReplay> {
  const { records, later, problem: found } = readIntentLog(path);
  const all = [...records, ...later];
  let problem = found;
  let inserted = 0;
  let gap = false;
  if (all.length > 0) {
    const first = Math.min(...all.map((r) => r.seq));
    const have = await store.all<{ seq: number }>('SELECT seq FROM journal WHERE run_id = $1 AND seq >= $2', [runId, first]);
    const present = new Set(have.map((r) => Number(r.seq)));
    const missing = new Map<number, string>();
    for (const r of all) if (!present.has(r.seq) && !missing.has(r.seq)) missing.set(r.seq, r.json);
    // torn unless a line past the bad one is newer than the valid prefix and missing from DuckDB
    const lastGood = records.at(-1)?.seq ?? 0;
    if (problem !== undefined) problem = { ...problem, torn: later.every((r) => !missing.has(r.seq) || r.seq <= lastGood) };
    const seqs = [...missing.keys()].sort((a, b) => a - b);
    if (seqs.length > 0) {
      for (let i = 0; i < seqs.length; i += 1000) {
        const batch = seqs.slice(i, i + 1000);
        await store.run(JOURNAL_INSERT_SQL, [runId, `[${batch.map((s) => missing.get(s)!).join(',')}]`]);
      }
      inserted = seqs.length;
      log.info('journal: intent log replayed', { path, runId, records: all.length, inserted });
      const [c] = await store.all<{ n: number; m: number }>('SELECT CAST(count(*) AS DOUBLE) AS n, CAST(max(seq) AS DOUBLE) AS m FROM journal WHERE run_id = $1', [runId]);
      gap = c !== undefined && c.n !== c.m;
      if (gap) log.warn('journal: the run is not contiguous after the intent log replay (records are missing)', { path, runId, records: c!.n, lastSeq: c!.m });
    }
  }
  if (problem !== undefined) {
    const what = problem.torn ? 'a torn last line (a write cut by a crash) ignored' : `damaged at line ${problem.line}: records after it replayed as found`;
    log.warn(`journal: intent log ${what}`, { path, runId, ...problem });
  }
  // DuckDB holds everything the log held (each INSERT is committed when it returns)
  try {
    removeIntentLog(path);
  } catch (e) {
    log.warn('journal: cannot delete the replayed intent log', { path, error: (e as Error).message });
  }
  return { path, live: false, records: all.length, inserted, gap, ...(problem ? { problem } : {}) };
}
