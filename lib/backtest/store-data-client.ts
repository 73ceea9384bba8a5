import { DataError } from '../core/errors.js';
import type { BarColumns } from '../data/bar-series.js';
import type { InstrumentSpec } from '../data/instrument.js';
import type { EventSource } from '../engine/event-source.js';
import type { DataClient, ResolvedBarSubscription } from '../engine/ports.js';
import type { Bar } from '../model/market.js';
import { sourceSql } from '../store/bar-query.js';
import { findInstruments, type InstrumentRow } from '../store/instruments.js';
import { readColumns } from '../store/read-columns.js';
import type { Store } from '../store/store.js';
import { closeTimeFunction } from './bar-close-time.js';
import { BarStream } from './bar-stream.js';
import { calendarOrUndefined } from './calendar-lookup.js';

export interface StoreDataClientOptions {
  /** Deliver nothing closing after this time (the run's end) */
  until?: number;
  /** Split/dividend-adjusted prices (equities); default raw, as traded */
  adjusted?: boolean;
  chunkSize?: number;
}

const MIN_MICROS = -62135596800000000n;

/**
 * Historical bars from the DuckDB store, streamed in chunks (the run never materializes a whole
 * history). The same client serves warm-up history and the event stream.
 */
export class StoreDataClient implements DataClient {
  readonly name = 'store';
  private readonly rows = new Map<string, InstrumentRow>();

  constructor(
    private readonly store: Store,
    private readonly options: StoreDataClientOptions = {},
  ) {}

  async resolve(instrument: string): Promise<InstrumentSpec> {
    return this.row(instrument);
  }

  private async row(instrument: string): Promise<InstrumentRow> {
    const known = this.rows.get(instrument);
    if (known !== undefined) return known;
    const found = (await findInstruments(this.store, [instrument])).get(instrument);
    if (found === undefined) {
      throw new DataError('UNKNOWN_SYMBOL', { file: this.store.path }, `no instrument '${instrument}' in the store; import its data first (monger data import)`);
    }
    this.rows.set(instrument, found);
    return found;
  }

  async history(sub: ResolvedBarSubscription, count: number, now: number): Promise<BarColumns> {
    if (count <= 0 || now === -Infinity) return emptyColumns();
    const row = await this.row(sub.instrument);
    const closeTime = closeTimeFunction(sub.interval, calendarOrUndefined(row));
    // the newest bars that started by `now`, then keep those already closed
    const block = await this.query(
      row,
      sub,
      `ts <= make_timestamp(CAST($3 AS BIGINT)) ORDER BY ts DESC LIMIT ${Math.floor(count) + 2}`,
      BigInt(Math.round(now * 1000)),
    );
    const idx: number[] = [];
    for (let i = block.length - 1; i >= 0; i--) if (closeTime(block.ts[i]!) <= now) idx.push(i);
    const keep = idx.slice(Math.max(0, idx.length - count));
    return pick(block, keep);
  }

  async subscribeBars(sub: ResolvedBarSubscription, now: number, target: Bar, onBar: () => void): Promise<EventSource> {
    const row = await this.row(sub.instrument);
    const stream = new BarStream({
      loader: (afterTs, limit) =>
        this.query(row, sub, `ts > make_timestamp(CAST($3 AS BIGINT)) ORDER BY ts LIMIT ${limit}`, afterTs === -Infinity ? MIN_MICROS : BigInt(Math.round(afterTs * 1000))),
      closeTime: closeTimeFunction(sub.interval, calendarOrUndefined(row)),
      after: now,
      until: this.options.until ?? Infinity,
      priority: sub.priority,
      target,
      onBar,
      chunkSize: this.options.chunkSize,
    });
    await stream.refill();
    return stream;
  }

  private async query(row: InstrumentRow, sub: ResolvedBarSubscription, tail: string, bound: bigint): Promise<BarColumns> {
    const block = await readColumns(
      this.store,
      `SELECT CAST(epoch_ms(ts) AS DOUBLE), open, high, low, close, volume FROM (${sourceSql(sub.kind, this.options.adjusted ?? false)}) x
       WHERE instrument_id = $1 AND interval = $2 AND ${tail}`,
      [row.instrumentId, sub.interval, bound],
      6,
    );
    const [ts, open, high, low, close, volume] = block.columns;
    return { length: block.length, ts: ts!, open: open!, high: high!, low: low!, close: close!, volume: volume! };
  }
}

function emptyColumns(): BarColumns {
  const z = new Float64Array(0);
  return { length: 0, ts: z, open: z, high: z, low: z, close: z, volume: z };
}

function pick(c: BarColumns, idx: readonly number[]): BarColumns {
  const f = (a: Float64Array): Float64Array => Float64Array.from(idx, (i) => a[i]!);
  return { length: idx.length, ts: f(c.ts), open: f(c.open), high: f(c.high), low: f(c.low), close: f(c.close), volume: f(c.volume) };
}
