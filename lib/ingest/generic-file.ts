import { DataError } from '../core/errors.js';
import { emptyParsedFile, type ParsedFile } from '../data/parsed-file.js';
import type { Store } from '../store/store.js';
import { parseGenericCsv } from './csv/generic-csv.js';
import { specFromOptions, type ImportOptions } from './import-options.js';
import { readParquetBars } from './parquet.js';
import { parseYahooCsv } from './yahoo.js';

/** Reads a Yahoo CSV, a generic CSV or a Parquet file into a ParsedFile. */
export async function parseGenericFile(store: Store, buf: Uint8Array, path: string, file: string, format: 'yahoo' | 'csv' | 'parquet', o: ImportOptions): Promise<ParsedFile> {
  const out = emptyParsedFile(file, format, format);
  const spec = specFromOptions(o, file);
  if (spec) out.instruments.push(spec);
  if (format === 'yahoo') {
    const symbol = spec?.key ?? symbolFromFileName(file);
    if (!spec) out.instruments.push({ key: symbol, symbol, secType: 'STK', exchange: 'SMART', currency: 'USD', multiplier: 1, tickSize: 0.01 });
    const r = parseYahooCsv(buf, file, symbol);
    out.bars.push(...r.series);
    out.corporateActions.push(...r.factors);
    out.rowsRead = r.rowsRead;
    if (!spec) out.notes.push(`${file}: symbol ${symbol} taken from the file name (pass --symbol to choose)`);
    return out;
  }
  if (!o.interval) throw new DataError('UNSUPPORTED_INPUT', { file, column: '--interval' }, 'expected --interval (1m, 1h, 1d…) for a generic CSV/Parquet file');
  const options = { file, interval: o.interval, kind: o.kind, symbol: spec?.key, mapping: o.mapping, timeZone: o.timeZone, stamp: o.stamp, epoch: o.epoch };
  const r = format === 'csv' ? parseGenericCsv(buf, options) : await readParquetBars(store, path, options);
  out.bars.push(...r.series);
  out.rowsRead = r.rowsRead;
  return out;
}

/** `nvda-1999-2014.txt` -> NVDA */
function symbolFromFileName(file: string): string {
  const base = file.replace(/\\/g, '/').split('/').pop() ?? file;
  const m = /^([A-Za-z][A-Za-z0-9.]*?)(?=[-_.])/.exec(base);
  if (!m) throw new DataError('UNKNOWN_SYMBOL', { file }, 'cannot tell the symbol from the file name; pass --symbol');
  return m[1]!.toUpperCase();
}
