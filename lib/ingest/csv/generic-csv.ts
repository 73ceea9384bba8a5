import { ConfigError, DataError } from '../../core/errors.js';
import { zonedWallToUtc } from '../../core/time-zone.js';
import { BarBuffer, type BarSeries } from '../../data/bar-series.js';
import { CsvCursor } from '../../data/csv/csv-cursor.js';
import { parseDateBytes, parseTimeOfDayBytes, parseTimestampBytes } from '../../data/csv/parse-time.js';
import { intervalMs, isIntraday, type BarKind, type Interval } from '../../data/interval.js';
import { symbolProblem } from '../../data/instrument.js';
import { validateBars } from '../../data/validate-bars.js';
import { resolveMapping, type ColumnMapping } from './column-mapping.js';

export interface GenericCsvOptions {
  file: string;
  interval: Interval;
  kind?: BarKind;
  /** Instrument key when the file has no symbol column */
  symbol?: string;
  mapping?: Partial<ColumnMapping>;
  /** Zone of timestamps without Z/offset; default UTC */
  timeZone?: string;
  /** Whether a row's timestamp is the bar's start (default) or its end */
  stamp?: 'start' | 'end';
  /** Epoch numbers in the time column: seconds or milliseconds */
  epoch?: 's' | 'ms';
  delimiter?: string;
}

export interface GenericCsvResult {
  series: BarSeries[];
  rowsRead: number;
  /** Every symbol seen and the first line it appeared on, for unknown-symbol errors */
  symbols: Map<string, number>;
  header: string[];
  /** Extra numeric columns by name (e.g. Yahoo's Adj Close), one value per row of the single series */
  extra: Map<string, Float64Array>;
}

/**
 * Imports bars from any CSV with a header. Columns are found by common names
 * (timestamp, date, open, high, low, close, volume, symbol) or by an explicit mapping.
 * A symbol column splits the file into one series per symbol.
 */
export function parseGenericCsv(buf: Uint8Array, o: GenericCsvOptions, extraColumns: string[] = []): GenericCsvResult {
  const cur = new CsvCursor(buf, (o.delimiter ?? ',').charCodeAt(0));
  if (!cur.next()) throw new DataError('EMPTY_INPUT', { file: o.file }, 'expected a header line and rows, the file is empty');
  const header = cur.texts();
  const col = resolveMapping(header, o.mapping ?? {}, o.file);
  if (col.symbol === undefined && !o.symbol) {
    throw new DataError('UNKNOWN_SYMBOL', { file: o.file }, 'expected a symbol column or --symbol <SYMBOL>');
  }
  const extraIdx = extraColumns.map((name) => header.findIndex((h) => h.trim().toLowerCase() === name.toLowerCase()));
  const extraBuf = extraColumns.map(() => new Float64Array(Math.max(16, buf.length / 40)));
  const buffers = new Map<string, BarBuffer>();
  const symbols = new Map<string, number>();
  const tz = o.timeZone ?? 'UTC';
  const shift = o.stamp === 'end' ? intervalShift(o.interval) : 0;
  const dateOnly = col.time === undefined;
  const splitDateTime = col.date !== undefined && col.time !== undefined;
  let rows = 0;
  let single: BarBuffer | undefined;
  const b = cur.buf;
  const bad = (code: 'BAD_NUMBER' | 'BAD_TIMESTAMP' | 'BAD_SYMBOL', column: number, expected: string): never => {
    throw new DataError(code, { file: o.file, line: cur.lineNumber, column: header[column] }, `${expected}, was '${cur.text(column)}'`);
  };
  const price = (i: number): number => {
    const x = cur.number(i);
    if (Number.isNaN(x)) bad('BAD_NUMBER', i, 'expected a number');
    return x;
  };
  const [iOpen, iHigh, iLow, iClose] = [col.open!, col.high!, col.low!, col.close!];
  while (cur.next()) {
    rows++;
    const line = cur.lineNumber;
    let ts: number;
    let zoned = false;
    if (splitDateTime || dateOnly) {
      const d = parseDateBytes(b, cur.fieldStart(col.date!), cur.fieldEnd(col.date!));
      if (Number.isNaN(d)) bad('BAD_TIMESTAMP', col.date!, 'expected a date (YYYY-MM-DD, YYYYMMDD or M/D/YYYY)');
      const tod = splitDateTime ? parseTimeOfDayBytes(b, cur.fieldStart(col.time!), cur.fieldEnd(col.time!)) : 0;
      if (Number.isNaN(tod)) bad('BAD_TIMESTAMP', col.time!, 'expected a time of day HH:MM[:SS]');
      ts = d + tod;
    } else if (o.epoch) {
      const v = cur.number(col.time!);
      if (!Number.isFinite(v)) bad('BAD_TIMESTAMP', col.time!, `expected epoch ${o.epoch === 's' ? 'seconds' : 'milliseconds'}`);
      ts = o.epoch === 's' ? v * 1000 : v;
      zoned = true;
    } else {
      const p = parseTimestampBytes(b, cur.fieldStart(col.time!), cur.fieldEnd(col.time!));
      if (Number.isNaN(p.ms)) bad('BAD_TIMESTAMP', col.time!, 'expected a timestamp like 2024-01-02 14:30:00 or 2024-01-02T14:30:00Z');
      ts = p.ms;
      zoned = p.hasZone;
    }
    // daily bars keep the session date at 00:00 UTC; intraday wall times convert from the file's zone
    if (!zoned && tz !== 'UTC' && !dateOnly) ts = zonedWallToUtc(tz, ts);
    ts -= shift;
    const open = price(iOpen);
    const high = price(iHigh);
    const low = price(iLow);
    const close = price(iClose);
    let volume = 0;
    if (col.volume !== undefined) {
      volume = cur.number(col.volume);
      if (Number.isNaN(volume)) bad('BAD_NUMBER', col.volume, 'expected a number');
    }
    let target = single;
    if (!target) {
      let key = o.symbol ?? '';
      if (col.symbol !== undefined) {
        key = cur.text(col.symbol).trim().toUpperCase();
        if (symbolProblem(key)) bad('BAD_SYMBOL', col.symbol, 'expected a ticker symbol');
      }
      if (!symbols.has(key)) symbols.set(key, line);
      target = buffers.get(key);
      if (!target) {
        // one series per file is the common case: size for the whole file (~40 bytes a row)
        target = new BarBuffer(col.symbol === undefined ? Math.ceil(b.length / 40) : 4096);
        buffers.set(key, target);
      }
      if (col.symbol === undefined) single = target;
    }
    if (extraIdx.length) {
      const i = target.length;
      extraIdx.forEach((ci, k) => {
        let arr = extraBuf[k]!;
        if (i >= arr.length) {
          const g = new Float64Array(arr.length * 2);
          g.set(arr);
          extraBuf[k] = arr = g;
        }
        arr[i] = ci < 0 ? NaN : cur.number(ci);
      });
    }
    target.push(ts, open, high, low, close, volume, line);
  }
  if (rows === 0) throw new DataError('EMPTY_INPUT', { file: o.file }, 'expected rows after the header, found none');
  const series: BarSeries[] = [];
  for (const [key, buffer] of buffers) {
    const s: BarSeries = { ...buffer.finish(), instrumentKey: key, interval: o.interval, kind: o.kind ?? 'trade', file: o.file };
    validateBars(s);
    series.push(s);
  }
  const extra = new Map<string, Float64Array>();
  const n = series.length === 1 ? series[0]!.length : 0;
  extraColumns.forEach((name, k) => extra.set(name, extraBuf[k]!.subarray(0, n)));
  return { series, rowsRead: rows, symbols, header, extra };
}

function intervalShift(interval: Interval): number {
  if (!isIntraday(interval)) throw new ConfigError('--stamp', [`--stamp end is only meaningful for intraday intervals, was ${interval}`]);
  return intervalMs(interval);
}
