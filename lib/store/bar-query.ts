import type { BarColumns } from '../data/bar-series.js';
import type { BarKind, Interval } from '../data/interval.js';
import { StoreError } from '../core/errors.js';
import { requireInstruments, type InstrumentRow } from './instruments.js';
import { readColumns } from './read-columns.js';
import type { Store } from './store.js';

/** A time bound: epoch ms, an ISO timestamp, or a date (a `to` date includes that whole day). */
export type TimeBound = number | string;

export interface BarQuery {
  /** Instrument keys: `SPY`, `ES-201312` */
  symbols: readonly string[];
  interval: Interval;
  kind?: BarKind;
  from?: TimeBound;
  to?: TimeBound;
  /** Apply split and price factors (equities); default raw */
  adjusted?: boolean;
}

export interface InstrumentBars extends BarColumns {
  instrument: InstrumentRow;
}

const DAY_MS = 86_400_000;

export function boundToMs(b: TimeBound | undefined, side: 'from' | 'to'): number | undefined {
  if (b === undefined) return undefined;
  if (typeof b === 'number') return b;
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(b);
  const ms = Date.parse(dateOnly ? `${b}T00:00:00Z` : /[zZ]|[+-]\d\d:\d\d$/.test(b) ? b : `${b}Z`);
  if (Number.isNaN(ms)) throw new StoreError('STORE_QUERY', `expected ${side} as a date (YYYY-MM-DD), ISO timestamp or epoch ms, was '${b}'`);
  return dateOnly && side === 'to' ? ms + DAY_MS - 1 : ms;
}

export function sourceSql(kind: BarKind, adjusted: boolean): string {
  const table = adjusted ? 'bars_adjusted' : 'bars';
  if (kind !== 'mid') return `SELECT * FROM ${table} WHERE kind = '${kind}'`;
  // mid bars are the average of the bid and ask bars of the same start
  return `SELECT b.instrument_id, b.interval, 'mid' AS kind, b.ts,
    (b.open + a.open) / 2 AS open, (b.high + a.high) / 2 AS high, (b.low + a.low) / 2 AS low, (b.close + a.close) / 2 AS close,
    b.volume + a.volume AS volume
    FROM ${table} b JOIN ${table} a ON a.instrument_id = b.instrument_id AND a.interval = b.interval AND a.ts = b.ts AND a.kind = 'ask'
    WHERE b.kind = 'bid'`;
}

/**
 * Loads bars as columnar typed arrays, one block per instrument (in the order asked),
 * sorted by time. Unknown instruments are an error naming them.
 */
export async function loadBars(store: Store, q: BarQuery): Promise<InstrumentBars[]> {
  const instruments = await requireInstruments(store, q.symbols);
  const from = boundToMs(q.from, 'from');
  const to = boundToMs(q.to, 'to');
  const out: InstrumentBars[] = [];
  for (const instrument of instruments) {
    const block = await readColumns(
      store,
      `SELECT CAST(epoch_ms(ts) AS DOUBLE), open, high, low, close, volume FROM (${sourceSql(q.kind ?? 'trade', q.adjusted ?? false)}) x
       WHERE instrument_id = $1 AND interval = $2
         AND ts >= make_timestamp(CAST($3 AS BIGINT)) AND ts <= make_timestamp(CAST($4 AS BIGINT))
       ORDER BY ts`,
      [instrument.instrumentId, q.interval, Math.round((from ?? -62135596800000) * 1000), Math.round((to ?? 253402300799000) * 1000)],
      6,
    );
    const [ts, open, high, low, close, volume] = block.columns;
    out.push({ instrument, length: block.length, ts: ts!, open: open!, high: high!, low: low!, close: close!, volume: volume! });
  }
  return out;
}

/** Bars of several instruments on one time index; missing bars are NaN. */
export interface AlignedBars {
  ts: Float64Array;
  symbols: string[];
  open: Float64Array[];
  high: Float64Array[];
  low: Float64Array[];
  close: Float64Array[];
  volume: Float64Array[];
}

/**
 * Loads bars and aligns them on a common index: `union` (every timestamp any instrument has)
 * or `intersection` (only timestamps all instruments have).
 */
export async function loadAlignedBars(store: Store, q: BarQuery & { align?: 'union' | 'intersection' }): Promise<AlignedBars> {
  const blocks = await loadBars(store, q);
  const ts = alignIndex(blocks.map((b) => b.ts), q.align ?? 'union');
  const fields = ['open', 'high', 'low', 'close', 'volume'] as const;
  const result: AlignedBars = { ts, symbols: blocks.map((b) => b.instrument.key), open: [], high: [], low: [], close: [], volume: [] };
  for (const b of blocks) {
    const outs = fields.map(() => new Float64Array(ts.length).fill(NaN));
    // both sides sorted: one merge pass
    let j = 0;
    for (let i = 0; i < ts.length && j < b.length; i++) {
      while (j < b.length && b.ts[j]! < ts[i]!) j++;
      if (j < b.length && b.ts[j] === ts[i]) fields.forEach((f, k) => (outs[k]![i] = b[f][j]!));
    }
    fields.forEach((f, k) => result[f].push(outs[k]!));
  }
  return result;
}

/** Union or intersection of sorted timestamp arrays. */
export function alignIndex(series: readonly Float64Array[], mode: 'union' | 'intersection'): Float64Array {
  if (series.length === 0) return new Float64Array(0);
  const counts = new Map<number, number>();
  for (const s of series) for (let i = 0; i < s.length; i++) counts.set(s[i]!, (counts.get(s[i]!) ?? 0) + 1);
  const keep: number[] = [];
  for (const [t, c] of counts) if (mode === 'union' || c === series.length) keep.push(t);
  return Float64Array.from(keep).sort();
}
