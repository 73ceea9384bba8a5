import { BOOLEAN, DOUBLE, INTEGER, VARCHAR } from '@duckdb/node-api';
import type { TickSeries } from '../data/tick-series.js';
import { appendColumns } from './column-appender.js';
import { addCounts, mergeFromStaging, zeroCounts, type MergeCounts } from './merge.js';
import type { Store } from './store.js';

/** Writes tick series through a staging table and an idempotent merge keyed by (ts, seq). */
export async function writeTicks(store: Store, series: readonly TickSeries[], ids: Map<string, number>, runId: number): Promise<MergeCounts> {
  const total = zeroCounts();
  await store.run(`CREATE TEMP TABLE IF NOT EXISTS ticks_staging (ts DOUBLE, seq INTEGER, price DOUBLE, size DOUBLE, bid DOUBLE, bid_size DOUBLE,
    ask DOUBLE, ask_size DOUBLE, exchange VARCHAR, condition DOUBLE, suspicious BOOLEAN)`);
  for (const t of series) {
    if (t.length === 0) continue;
    await store.run('DELETE FROM ticks_staging');
    const appender = await store.connection.createAppender('ticks_staging', 'main', 'temp');
    try {
      appendColumns(
        appender,
        [DOUBLE, INTEGER, DOUBLE, DOUBLE, DOUBLE, DOUBLE, DOUBLE, DOUBLE, VARCHAR, DOUBLE, BOOLEAN],
        [t.ts, t.seq, t.price, t.size, t.bid, t.bidSize, t.ask, t.askSize, t.exchange, t.condition, Array.from(t.suspicious, (x) => x === 1)],
        t.length,
      );
    } finally {
      appender.closeSync();
    }
    // NaN means "no value on this side": store NULL so SQL aggregates skip it
    const nullIfNaN = (c: string) => `CASE WHEN isnan(s.${c}) THEN NULL ELSE s.${c} END`;
    const c = await mergeFromStaging(
      store,
      {
        target: 'ticks',
        staging: 'ticks_staging',
        fixed: { instrument_id: ids.get(t.instrumentKey)!, kind: t.kind },
        keys: ['ts', 'seq'],
        values: ['price', 'size', 'bid', 'bid_size', 'ask', 'ask_size', 'exchange', 'condition', 'suspicious'],
        extra: { run_id: runId },
        convert: {
          ts: 'make_timestamp(CAST(round(s.ts * 1000) AS BIGINT))',
          price: nullIfNaN('price'),
          size: nullIfNaN('size'),
          bid: nullIfNaN('bid'),
          bid_size: nullIfNaN('bid_size'),
          ask: nullIfNaN('ask'),
          ask_size: nullIfNaN('ask_size'),
        },
      },
      t.length,
    );
    addCounts(total, c);
  }
  return total;
}
