import type { BarKind, Interval } from '../data/interval.js';
import { boundToMs, loadBars, sourceSql, type TimeBound } from '../store/bar-query.js';
import { requireInstruments } from '../store/instruments.js';
import { readColumns } from '../store/read-columns.js';
import type { Store } from '../store/store.js';
import { computeFeatures, type FeatureFrame } from './compute-features.js';
import type { FeatureSet } from './feature-set.js';

export interface FeatureBlockQuery {
  set: FeatureSet;
  symbols: readonly string[];
  interval: Interval;
  kind?: BarKind;
  adjusted?: boolean;
}

export interface FeatureBuild {
  instrument: string;
  rows: number;
  /** True when the cached block matched the set hash and the bars' fingerprint */
  cached: boolean;
}

/**
 * Computes a feature set for instruments from their stored bars and caches it in DuckDB, keyed by
 * (set hash, instrument, interval, kind, adjusted, ts). A cached block is reused when the set hash
 * and the bars' fingerprint (count, time range, a hash of every bar's OHLCV) both match; otherwise it
 * is replaced in one transaction, so a failed build leaves the previous cache intact.
 */
export async function buildFeatures(store: Store, q: FeatureBlockQuery & { force?: boolean; onInstrument?: (b: FeatureBuild) => void }): Promise<FeatureBuild[]> {
  const kind = q.kind ?? 'trade';
  const adjusted = q.adjusted ?? false;
  const instruments = await requireInstruments(store, q.symbols);
  await store.run(`INSERT OR IGNORE INTO feature_sets (set_hash, name, spec, columns) VALUES ($1, $2, $3, $4::VARCHAR[])`, [
    q.set.hash,
    q.set.name,
    q.set.canonical,
    JSON.stringify(q.set.columns),
  ]);
  const out: FeatureBuild[] = [];
  for (const instrument of instruments) {
    const key = [q.set.hash, instrument.instrumentId, q.interval, kind, adjusted] as const;
    const fingerprint = await barsFingerprint(store, instrument.instrumentId, q.interval, kind, adjusted);
    const cached = await store.all<{ fp: string; rows: number }>(
      `SELECT bars_fingerprint AS fp, CAST(rows AS DOUBLE) AS rows FROM feature_builds WHERE set_hash = $1 AND instrument_id = $2 AND interval = $3 AND kind = $4 AND adjusted = $5`,
      [...key],
    );
    if (!q.force && cached[0]?.fp === fingerprint) {
      const b = { instrument: instrument.key, rows: cached[0].rows, cached: true };
      out.push(b);
      q.onInstrument?.(b);
      continue;
    }
    const [bars] = await loadBars(store, { symbols: [instrument.key], interval: q.interval, kind, adjusted });
    const frame = computeFeatures(q.set, bars!);
    const rows = Array.from(bars!.ts, (ts, i) => ({ ts: ts * 1000, v: frame.values.map((c) => (Number.isNaN(c[i]!) ? null : c[i]!)) }));
    await store.transaction(async () => {
      await store.run(`DELETE FROM feature_values WHERE set_hash = $1 AND instrument_id = $2 AND interval = $3 AND kind = $4 AND adjusted = $5`, [...key]);
      await store.run(`DELETE FROM feature_builds WHERE set_hash = $1 AND instrument_id = $2 AND interval = $3 AND kind = $4 AND adjusted = $5`, [...key]);
      // JSON in chunks: one statement per ~50k rows keeps the string size bounded
      for (let i = 0; i < rows.length; i += 50_000) {
        await store.run(
          `INSERT INTO feature_values SELECT $1, $2, $3, $4, $5, make_timestamp(ts), v
           FROM (SELECT unnest(from_json($6, '[{"ts":"BIGINT","v":"DOUBLE[]"}]'), recursive := true))`,
          [...key, JSON.stringify(rows.slice(i, i + 50_000))],
        );
      }
      await store.run(`INSERT INTO feature_builds (set_hash, instrument_id, interval, kind, adjusted, bars_fingerprint, rows) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
        ...key,
        fingerprint,
        rows.length,
      ]);
    });
    const b = { instrument: instrument.key, rows: rows.length, cached: false };
    out.push(b);
    q.onInstrument?.(b);
  }
  return out;
}

export interface InstrumentFeatures {
  instrument: string;
  /** Bar start times (epoch ms) */
  ts: Float64Array;
  frame: FeatureFrame;
}

/** Reads cached features (building what is missing or stale first), one frame per instrument. */
export async function loadFeatures(store: Store, q: FeatureBlockQuery & { from?: TimeBound; to?: TimeBound }): Promise<InstrumentFeatures[]> {
  await buildFeatures(store, q);
  const kind = q.kind ?? 'trade';
  const adjusted = q.adjusted ?? false;
  const instruments = await requireInstruments(store, q.symbols);
  const width = q.set.columns.length;
  const cols = Array.from({ length: width }, (_, j) => `"values"[${j + 1}]`).join(', ');
  const where: string[] = ['set_hash = $1', 'instrument_id = $2', 'interval = $3', 'kind = $4', 'adjusted = $5'];
  const params: (string | number | boolean)[] = [q.set.hash, 0, q.interval, kind, adjusted];
  const from = boundToMs(q.from, 'from');
  const to = boundToMs(q.to, 'to');
  if (from !== undefined) where.push(`ts >= make_timestamp(CAST(${Math.round(from * 1000)} AS BIGINT))`);
  if (to !== undefined) where.push(`ts <= make_timestamp(CAST(${Math.round(to * 1000)} AS BIGINT))`);
  const out: InstrumentFeatures[] = [];
  for (const instrument of instruments) {
    params[1] = instrument.instrumentId;
    const block = await readColumns(store, `SELECT CAST(epoch_ms(ts) AS DOUBLE), ${cols} FROM feature_values WHERE ${where.join(' AND ')} ORDER BY ts`, params, width + 1);
    out.push({
      instrument: instrument.key,
      ts: block.columns[0]!,
      frame: { length: block.length, columns: q.set.columns, values: block.columns.slice(1), lookback: q.set.lookback },
    });
  }
  return out;
}

/**
 * What a cached block was computed from: bar count, time range, and the exact (HUGEINT) sum of a hash
 * of every bar's time and OHLCV. Any changed field of any bar changes it (features read open, high
 * and low too, not only close and volume), and integer sums do not depend on aggregation order.
 */
async function barsFingerprint(store: Store, instrumentId: number, interval: Interval, kind: BarKind, adjusted: boolean): Promise<string> {
  const rows = await store.all<{ fp: string }>(
    `SELECT concat_ws('|', count(*), min(epoch_ms(ts)), max(epoch_ms(ts)), sum(hash(ts, open, high, low, close, volume))) AS fp
     FROM (${sourceSql(kind, adjusted)}) b WHERE instrument_id = $1 AND interval = $2`,
    [instrumentId, interval],
  );
  return rows[0]?.fp ?? '';
}
