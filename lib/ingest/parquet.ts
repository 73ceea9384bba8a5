import { DataError } from '../core/errors.js';
import type { BarSeries } from '../data/bar-series.js';
import { validateBars } from '../data/validate-bars.js';
import type { Store } from '../store/store.js';
import { resolveMapping } from './csv/column-mapping.js';
import type { GenericCsvOptions } from './csv/generic-csv.js';
import { readColumns } from '../store/read-columns.js';

/**
 * Reads bars from a Parquet file through DuckDB's reader, with the same column mapping and
 * validation as the CSV importer. Timestamp columns may be TIMESTAMP/DATE, ISO strings,
 * or epoch numbers (with --epoch s|ms).
 */
export async function readParquetBars(store: Store, path: string, o: GenericCsvOptions): Promise<{ series: BarSeries[]; rowsRead: number }> {
  const describe = await store.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM read_parquet($1)`, [path]);
  const header = describe.map((d) => d.column_name);
  const idx = resolveMapping(header, o.mapping ?? {}, o.file);
  const q = (i: number) => `"${header[i]!.replace(/"/g, '""')}"`;
  if (idx.time === undefined) throw new DataError('BAD_HEADER', { file: o.file }, 'expected a timestamp column in the Parquet file');
  const timeType = describe[idx.time]!.column_type;
  let tsExpr: string;
  if (/^(TIMESTAMP|DATE)/.test(timeType)) tsExpr = `epoch_ms(CAST(${q(idx.time)} AS TIMESTAMP))`;
  else if (/INT|DOUBLE|FLOAT|DECIMAL/.test(timeType)) tsExpr = o.epoch === 's' ? `${q(idx.time)} * 1000` : `${q(idx.time)}`;
  else tsExpr = `epoch_ms(CAST(${q(idx.time)} AS TIMESTAMP))`;
  const symbolExpr = idx.symbol !== undefined ? `upper(CAST(${q(idx.symbol)} AS VARCHAR))` : `'${(o.symbol ?? '').replace(/'/g, "''")}'`;
  if (idx.symbol === undefined && !o.symbol) throw new DataError('UNKNOWN_SYMBOL', { file: o.file }, 'expected a symbol column or --symbol <SYMBOL>');
  const symbols = await store.all<{ s: string }>(`SELECT DISTINCT ${symbolExpr} AS s FROM read_parquet($1) ORDER BY 1`, [path]);
  const series: BarSeries[] = [];
  let rowsRead = 0;
  for (const { s } of symbols) {
    const cols = await readColumns(
      store,
      `SELECT CAST(${tsExpr} AS DOUBLE) AS ts, CAST(${q(idx.open!)} AS DOUBLE), CAST(${q(idx.high!)} AS DOUBLE), CAST(${q(idx.low!)} AS DOUBLE), CAST(${q(idx.close!)} AS DOUBLE),
              ${idx.volume !== undefined ? `CAST(${q(idx.volume)} AS DOUBLE)` : '0.0'}
       FROM read_parquet($1) WHERE ${symbolExpr} = $2`,
      [path, s],
      6,
    );
    const [ts, open, high, low, close, volume] = cols.columns;
    const bars: BarSeries = { length: cols.length, ts: ts!, open: open!, high: high!, low: low!, close: close!, volume: volume!, instrumentKey: s, interval: o.interval, kind: o.kind ?? 'trade', file: o.file };
    validateBars(bars);
    series.push(bars);
    rowsRead += cols.length;
  }
  return { series, rowsRead };
}
