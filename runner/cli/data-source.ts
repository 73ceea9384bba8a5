import type { Command } from 'commander';
import { ConfigError } from '../../lib/core/errors.js';
import type { Interval } from '../../lib/data/interval.js';
import { importFiles } from '../../lib/ingest/import-files.js';
import { Store } from '../../lib/store/store.js';
import { dbPath } from './store-option.js';

export interface DataSourceFlags {
  symbols?: string;
  data?: string[];
  format: string;
  symbol?: string;
}

export interface DataSource {
  /** Where the bars are: the --db store, or a throwaway in-memory store holding the --data files */
  store: Store;
  symbols: string[];
  interval: Interval;
  fingerprint: unknown;
  /** True when `store` is the in-memory copy of --data files */
  fromFiles: boolean;
}

/**
 * Resolves `--symbols` (stored bars) or `--data FILE...` (imported into an in-memory store) into a
 * store, instruments and an interval; `--interval` may be left out with --data when the files hold
 * one interval. `dbStore` is the opened --db store when the command has one.
 */
export async function openDataSource(command: string, f: DataSourceFlags, interval: Interval | undefined, cmd: Command, dbStore?: Store): Promise<DataSource> {
  if ((f.symbols === undefined) === (f.data === undefined)) throw new ConfigError(command, ['expected exactly one of --symbols (stored data) or --data FILE...']);
  if (f.symbols !== undefined) {
    if (interval === undefined) throw new ConfigError(command, ['--interval is required with --symbols']);
    const store = dbStore ?? (await Store.open(dbPath(cmd)));
    const symbols = f.symbols.split(',').map((s) => s.trim().toUpperCase()).filter((s) => s !== '');
    return { store, symbols, interval, fingerprint: { store: 'monger' }, fromFiles: false };
  }
  const store = await Store.open(':memory:');
  try {
    const imported = await importFiles(store, f.data!, { format: f.format as 'auto', symbol: f.symbol });
    const series = await store.all<{ key: string; interval: string }>(
      `SELECT DISTINCT i.key, CAST(b.interval AS VARCHAR) AS interval FROM bars b JOIN instruments i USING (instrument_id) ORDER BY 1, 2`,
    );
    const intervals = [...new Set(series.map((s) => s.interval))];
    if (interval === undefined) {
      if (intervals.length !== 1) throw new ConfigError(command, [`--interval: the files hold ${intervals.join(', ') || 'no'} bars; choose one`]);
      interval = intervals[0] as Interval;
    }
    const symbols = [...new Set(series.filter((s) => s.interval === interval).map((s) => s.key))];
    if (symbols.length === 0) throw new ConfigError(command, [`--data: no ${interval} bars in ${f.data!.join(', ')} (${imported.rowsRead} rows read)`]);
    return { store, symbols, interval, fingerprint: { files: f.data }, fromFiles: true };
  } catch (e) {
    store.close();
    throw e;
  }
}
