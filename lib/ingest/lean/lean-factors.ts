import { DataError } from '../../core/errors.js';
import { CsvCursor } from '../../data/csv/csv-cursor.js';
import type { CorporateActionRow, InstrumentValidity } from '../../data/parsed-file.js';
import { LEAN_EXCHANGE_CODES } from '../../data/instrument.js';
import { leanDateToIso } from './lean-path.js';

/** Parses a LEAN factor file: `date,price_factor,split_factor,reference_price`, dates ascending. */
export function parseLeanFactorFile(buf: Uint8Array, file: string, instrumentKey: string): CorporateActionRow[] {
  const cur = new CsvCursor(buf);
  const rows: CorporateActionRow[] = [];
  let prev = '';
  while (cur.next()) {
    const date = cur.text(0);
    if (!/^\d{8}$/.test(date)) throw new DataError('BAD_TIMESTAMP', { file, line: cur.lineNumber, column: 'date' }, `expected YYYYMMDD, was '${date}'`);
    const iso = leanDateToIso(date);
    if (iso <= prev) throw new DataError(iso === prev ? 'DUPLICATE_BAR' : 'OUT_OF_ORDER', { file, line: cur.lineNumber, column: 'date' }, `expected dates ascending, ${iso} follows ${prev}`);
    prev = iso;
    const values = [1, 2, 3].map((i) => cur.number(i));
    const names = ['price_factor', 'split_factor', 'reference_price'];
    values.forEach((v, k) => {
      if (!(v! >= 0) || (k < 2 && v === 0)) {
        throw new DataError('BAD_NUMBER', { file, line: cur.lineNumber, column: names[k] }, `expected a ${k < 2 ? 'positive' : 'non-negative'} number, was '${cur.text(k + 1)}'`);
      }
    });
    rows.push({ instrumentKey, date: iso, priceFactor: values[0]!, splitFactor: values[1]!, referencePrice: values[2]! });
  }
  return rows;
}

export interface MapFileInfo {
  validity: InstrumentValidity;
  /** Exchange of the latest row, e.g. NASDAQ */
  exchange?: string;
}

/** Parses a LEAN map file (`date,ticker,exchange[,…]`): the first date is when the ticker's history starts. */
export function parseLeanMapFile(buf: Uint8Array, file: string, instrumentKey: string): MapFileInfo {
  const cur = new CsvCursor(buf);
  let first: string | undefined;
  let last: string | undefined;
  let exchange: string | undefined;
  while (cur.next()) {
    const date = cur.text(0);
    if (!/^\d{8}$/.test(date)) throw new DataError('BAD_TIMESTAMP', { file, line: cur.lineNumber, column: 'date' }, `expected YYYYMMDD, was '${date}'`);
    first ??= leanDateToIso(date);
    last = leanDateToIso(date);
    const code = cur.text(2);
    if (code) exchange = LEAN_EXCHANGE_CODES[code] ?? code;
  }
  if (!first || !last) throw new DataError('EMPTY_INPUT', { file }, 'expected at least one map-file row');
  return { validity: { instrumentKey, validFrom: first, validTo: last }, exchange };
}
