import { DOUBLE, VARCHAR } from '@duckdb/node-api';
import type { CorporateActionRow } from '../data/parsed-file.js';
import { appendColumns } from './column-appender.js';
import { addCounts, mergeFromStaging, zeroCounts, type MergeCounts } from './merge.js';
import type { Store } from './store.js';

/** Upserts factor rows per instrument (idempotent: identical rows are left alone). */
export async function writeCorporateActions(store: Store, rows: readonly CorporateActionRow[], ids: Map<string, number>, runId: number): Promise<MergeCounts> {
  const total = zeroCounts();
  const byKey = new Map<string, CorporateActionRow[]>();
  for (const r of rows) {
    const list = byKey.get(r.instrumentKey) ?? [];
    list.push(r);
    byKey.set(r.instrumentKey, list);
  }
  await store.run('CREATE TEMP TABLE IF NOT EXISTS ca_staging (date VARCHAR, price_factor DOUBLE, split_factor DOUBLE, reference_price DOUBLE)');
  for (const [key, list] of byKey) {
    await store.run('DELETE FROM ca_staging');
    const appender = await store.connection.createAppender('ca_staging', 'main', 'temp');
    try {
      appendColumns(
        appender,
        [VARCHAR, DOUBLE, DOUBLE, DOUBLE],
        [list.map((r) => r.date), Float64Array.from(list, (r) => r.priceFactor), Float64Array.from(list, (r) => r.splitFactor), Float64Array.from(list, (r) => r.referencePrice)],
        list.length,
      );
    } finally {
      appender.closeSync();
    }
    const c = await mergeFromStaging(
      store,
      {
        target: 'corporate_actions',
        staging: 'ca_staging',
        fixed: { instrument_id: ids.get(key)! },
        keys: ['date'],
        values: ['price_factor', 'split_factor', 'reference_price'],
        extra: { run_id: runId },
        convert: { date: 'CAST(s.date AS DATE)' },
      },
      list.length,
    );
    addCounts(total, c);
  }
  return total;
}
