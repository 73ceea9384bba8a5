import { DOUBLE, type DuckDBType } from '@duckdb/node-api';
import type { BarSeries } from '../data/bar-series.js';
import { BAR_KINDS, INTERVALS } from '../data/interval.js';
import { appendColumns, msToMicros } from './column-appender.js';
import { addCounts, mergeFromStaging, zeroCounts, type MergeCounts } from './merge.js';
import { BAR_SOURCES, type BarSource } from './migrations.js';
import type { Store } from './store.js';

/**
 * Writes bar series into `bars`. A series that overlaps nothing stored is appended straight
 * into the table (the bulk path: typed arrays memcpy'd into appender chunks); one that
 * overlaps is staged and merged so that identical bars stay untouched and changed ones are
 * replaced. Runs inside the caller's transaction.
 */
export async function writeBars(store: Store, series: readonly BarSeries[], ids: Map<string, number>, source: BarSource, runId: number): Promise<MergeCounts> {
  const total = zeroCounts();
  for (const s of series) {
    if (s.length === 0) continue;
    const id = ids.get(s.instrumentKey)!;
    const overlap = await store.all<{ n: number }>(
      `SELECT count(*) AS n FROM bars WHERE instrument_id = $1 AND interval = $2 AND kind = $3 AND ts BETWEEN make_timestamp($4::BIGINT) AND make_timestamp($5::BIGINT)`,
      [id, s.interval, s.kind, Math.round(s.ts[0]! * 1000), Math.round(s.ts[s.length - 1]! * 1000)],
    );
    const counts = overlap[0]!.n === 0 ? await appendSeries(store, s, id, source, runId) : await mergeSeries(store, s, id, source, runId);
    addCounts(total, counts);
  }
  return total;
}

async function appendSeries(store: Store, s: BarSeries, id: number, source: BarSource, runId: number): Promise<MergeCounts> {
  const n = s.length;
  const appender = await store.connection.createAppender('bars');
  try {
    const types: DuckDBType[] = [];
    for (let c = 0; c < appender.columnCount; c++) types.push(appender.columnType(c));
    const code = (list: readonly string[], v: string) => new Uint8Array(n).fill(list.indexOf(v));
    appendColumns(
      appender,
      types,
      [
        new Int32Array(n).fill(id),
        code(INTERVALS, s.interval),
        code(BAR_KINDS, s.kind),
        msToMicros(s.ts),
        s.open,
        s.high,
        s.low,
        s.close,
        s.volume,
        code(BAR_SOURCES, source),
        new Int32Array(n).fill(runId),
      ],
      n,
    );
  } finally {
    appender.closeSync();
  }
  return { inserted: n, updated: 0, unchanged: 0 };
}

async function mergeSeries(store: Store, s: BarSeries, id: number, source: BarSource, runId: number): Promise<MergeCounts> {
  await store.run('CREATE TEMP TABLE IF NOT EXISTS bars_staging (ts DOUBLE, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE)');
  await store.run('DELETE FROM bars_staging');
  const appender = await store.connection.createAppender('bars_staging', 'main', 'temp');
  try {
    appendColumns(appender, [DOUBLE, DOUBLE, DOUBLE, DOUBLE, DOUBLE, DOUBLE], [s.ts, s.open, s.high, s.low, s.close, s.volume], s.length);
  } finally {
    appender.closeSync();
  }
  return mergeFromStaging(
    store,
    {
      target: 'bars',
      staging: 'bars_staging',
      fixed: { instrument_id: id, interval: s.interval, kind: s.kind },
      keys: ['ts'],
      values: ['open', 'high', 'low', 'close', 'volume'],
      extra: { source, run_id: runId },
      convert: { ts: 'make_timestamp(CAST(round(s.ts * 1000) AS BIGINT))' },
    },
    s.length,
  );
}

