import { DataError } from '../../core/errors.js';
import { NEW_YORK, zonedWallToUtc, utcOffsetMs } from '../../core/time-zone.js';
import { BarBuffer, type BarSeries } from '../../data/bar-series.js';
import { CsvCursor } from '../../data/csv/csv-cursor.js';
import { parseDigits } from '../../data/csv/fast-number.js';
import type { Interval } from '../../data/interval.js';
import { validateBars } from '../../data/validate-bars.js';
import type { LeanResolution } from './lean-path.js';

const TRADE_COLUMNS = ['time', 'open', 'high', 'low', 'close', 'volume'];
const QUOTE_COLUMNS = ['time', 'bid_open', 'bid_high', 'bid_low', 'bid_close', 'bid_size', 'ask_open', 'ask_high', 'ask_low', 'ask_close', 'ask_size'];

export const LEAN_INTERVAL: Record<LeanResolution, Interval | undefined> = { tick: undefined, second: '1s', minute: '1m', hour: '1h', daily: '1d' };

export interface LeanBarOptions {
  file: string;
  instrumentKey: string;
  resolution: LeanResolution;
  data: 'trade' | 'quote';
  /** Equities: integer prices x 10000, New York wall time. Futures: plain prices, UTC. */
  assetClass: 'equity' | 'future';
  /** YYYYMMDD from the file name, for minute/second files whose rows hold ms since midnight */
  date?: string;
  /** Rows dated before this (YYYY-MM-DD) belong to another company and are dropped, with a note */
  validFrom?: string;
}

export interface LeanBarsResult {
  series: BarSeries[];
  rowsRead: number;
  notes: string[];
}

const RTH_OPEN_MINUTE = 9 * 60 + 30;

/**
 * Parses a LEAN trade-bar or quote-bar CSV. Quote bars become two series (bid and ask);
 * a side with all four prices empty is absent for that bar (no quote on that side).
 * Daily bars are stamped 00:00 UTC of the session date (the session label); LEAN's equity
 * `09:00` hour bar covers 09:30-10:00 and is stamped 09:30.
 */
export function parseLeanBars(buf: Uint8Array, o: LeanBarOptions): LeanBarsResult {
  const cur = new CsvCursor(buf);
  const columns = o.data === 'trade' ? TRADE_COLUMNS : QUOTE_COLUMNS;
  // divide (not multiply by 1e-4) so 973100 becomes exactly the double nearest 97.31
  const divisor = o.assetClass === 'equity' ? 10_000 : 1;
  const intraday = o.resolution === 'minute' || o.resolution === 'second';
  const interval = LEAN_INTERVAL[o.resolution];
  if (!interval) throw new DataError('UNSUPPORTED_INPUT', { file: o.file }, 'expected a bar file; tick files go through the tick importer');
  const validFromMs = o.validFrom ? Date.parse(`${o.validFrom}T00:00:00Z`) : -Infinity;
  let dayStart = 0;
  if (intraday) {
    if (!o.date) throw new DataError('UNSUPPORTED_INPUT', { file: o.file }, 'expected a YYYYMMDD date in the file name');
    dayStart = Date.UTC(Number(o.date.slice(0, 4)), Number(o.date.slice(4, 6)) - 1, Number(o.date.slice(6, 8)));
  }
  const sides = o.data === 'trade' ? [new BarBuffer(4096)] : [new BarBuffer(4096), new BarBuffer(4096)];
  // New York offset is constant within a day's 04:00-20:00 (DST switches at 02:00): look it up once
  const nyOffset = intraday && o.assetClass === 'equity' ? utcOffsetMs(NEW_YORK, dayStart + 12 * 3_600_000) : 0;
  let rows = 0;
  let dropped = 0;
  while (cur.next()) {
    rows++;
    if (cur.fieldCount !== columns.length) {
      throw new DataError('BAD_ROW', { file: o.file, line: cur.lineNumber }, `expected ${columns.length} fields (${columns.join(',')}), was ${cur.fieldCount}`);
    }
    let ts: number;
    let day: number;
    if (intraday) {
      const ms = cur.number(0);
      if (!Number.isInteger(ms) || ms < 0 || ms >= 86_400_000) {
        throw new DataError('BAD_TIMESTAMP', { file: o.file, line: cur.lineNumber, column: 'time' }, `expected milliseconds since midnight (0..86399999), was '${cur.text(0)}'`);
      }
      day = dayStart;
      ts = o.assetClass === 'equity' ? dayStart + ms - nyOffset : dayStart + ms;
      if (o.assetClass === 'equity' && (ms < 3 * 3_600_000 || ms >= 23 * 3_600_000)) ts = zonedWallToUtc(NEW_YORK, dayStart + ms);
    } else {
      const at = cur.fieldStart(0);
      const y = parseDigits(buf, at, 4);
      const mo = parseDigits(buf, at + 4, 2);
      const d = parseDigits(buf, at + 6, 2);
      const hh = parseDigits(buf, at + 9, 2);
      const mm = parseDigits(buf, at + 12, 2);
      if (cur.fieldLength(0) !== 14 || y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || buf[at + 8] !== 32) {
        throw new DataError('BAD_TIMESTAMP', { file: o.file, line: cur.lineNumber, column: 'time' }, `expected 'YYYYMMDD HH:mm', was '${cur.text(0)}'`);
      }
      day = Date.UTC(y, mo - 1, d);
      if (o.resolution === 'daily') ts = day;
      else if (o.assetClass === 'equity') {
        const minute = Math.max(hh * 60 + mm, hh === 9 ? RTH_OPEN_MINUTE : 0);
        ts = zonedWallToUtc(NEW_YORK, day + minute * 60_000);
      } else ts = day + (hh * 60 + mm) * 60_000;
    }
    if (day < validFromMs) {
      dropped++;
      continue;
    }
    for (let side = 0; side < sides.length; side++) {
      const base = 1 + side * 5;
      if (o.data === 'quote' && cur.fieldLength(base) === 0 && cur.fieldLength(base + 1) === 0 && cur.fieldLength(base + 2) === 0 && cur.fieldLength(base + 3) === 0) continue;
      const vals = [0, 0, 0, 0, 0];
      for (let k = 0; k < 5; k++) {
        const v = cur.number(base + k);
        if (Number.isNaN(v)) {
          throw new DataError('BAD_NUMBER', { file: o.file, line: cur.lineNumber, column: columns[base + k] }, `expected a number, was '${cur.text(base + k)}'`);
        }
        vals[k] = k < 4 ? v / divisor : v;
      }
      sides[side]!.push(ts, vals[0]!, vals[1]!, vals[2]!, vals[3]!, vals[4]!, cur.lineNumber);
    }
  }
  const kinds = o.data === 'trade' ? (['trade'] as const) : (['bid', 'ask'] as const);
  const series: BarSeries[] = [];
  kinds.forEach((kind, i) => {
    const cols = sides[i]!.finish();
    if (cols.length === 0) return;
    const s: BarSeries = { ...cols, instrumentKey: o.instrumentKey, interval, kind, file: o.file };
    validateBars(s);
    series.push(s);
  });
  const notes: string[] = [];
  if (dropped > 0) notes.push(`${o.file}: skipped ${dropped} rows dated before ${o.validFrom}, when the ticker belonged to another listing (map file)`);
  if (rows === 0) notes.push(`${o.file}: file has no rows`);
  return { series, rowsRead: rows, notes };
}
