import { Option, type Command } from 'commander';
import { ConfigError } from '../../../lib/core/errors.js';
import { INTERVALS, BAR_KINDS, parseInterval, parseBarKind } from '../../../lib/data/interval.js';
import { parseMappingFlag } from '../../../lib/ingest/csv/column-mapping.js';
import { FORMATS } from '../../../lib/ingest/detect-format.js';
import { importFiles, type ImportOptions, type ImportResult } from '../../../lib/ingest/import-files.js';
import { info, printJson, printTable } from '../output.js';
import { terminalProgress } from '../progress-bar.js';
import { withStore } from '../store-option.js';

interface Flags {
  format: string;
  symbol?: string;
  secType?: string;
  exchange?: string;
  currency?: string;
  contractMonth?: string;
  interval?: string;
  kind?: string;
  map?: string;
  tz?: string;
  stamp?: string;
  epoch?: string;
  register?: boolean;
  json?: boolean;
  progress: boolean;
}

/** Validates flags into ImportOptions, listing every problem at once. */
export function importOptionsFromFlags(f: Flags): ImportOptions {
  const problems: string[] = [];
  const attempt = <T>(fn: () => T, flag: string): T | undefined => {
    try {
      return fn();
    } catch (e) {
      problems.push(`${flag}: ${(e as Error).message}`);
      return undefined;
    }
  };
  const o: ImportOptions = { format: f.format as ImportOptions['format'], register: f.register, symbol: f.symbol, exchange: f.exchange, currency: f.currency, contractMonth: f.contractMonth, timeZone: f.tz };
  if (f.secType) {
    if (!['STK', 'FUT', 'CASH'].includes(f.secType)) problems.push(`--sec-type: expected STK, FUT or CASH, was '${f.secType}'`);
    else o.secType = f.secType as ImportOptions['secType'];
  }
  if (f.interval) o.interval = attempt(() => parseInterval(f.interval!), '--interval');
  if (f.kind) o.kind = attempt(() => parseBarKind(f.kind!), '--kind');
  if (f.map) {
    try {
      o.mapping = parseMappingFlag(f.map);
    } catch (e) {
      problems.push(...((e as ConfigError).problems ?? [(e as Error).message]));
    }
  }
  if (f.stamp) o.stamp = f.stamp as 'start' | 'end';
  if (f.epoch) o.epoch = f.epoch as 's' | 'ms';
  if (f.tz) attempt(() => new Intl.DateTimeFormat('en-US', { timeZone: f.tz }), '--tz');
  if (problems.length) throw new ConfigError('monger data import', problems);
  return o;
}

export function printImportResult(r: ImportResult): void {
  info(`ingest run ${r.runId}: ${r.files} files, ${r.rowsRead.toLocaleString('en-US')} rows read in ${(r.durationMs / 1000).toFixed(2)} s`);
  printTable([
    { table: 'bars', ...r.bars },
    { table: 'ticks', ...r.ticks },
    { table: 'corporate_actions', ...r.corporateActions },
  ]);
  if (r.notes.length) {
    info(`${r.notes.length} note${r.notes.length > 1 ? 's' : ''}:`);
    for (const n of r.notes.slice(0, 20)) info(`  - ${n}`);
    if (r.notes.length > 20) info(`  … and ${r.notes.length - 20} more (stored with ingest run ${r.runId}; see monger data runs --json)`);
  }
}

export function registerImportCommand(data: Command): void {
  data
    .command('import')
    .description('Import bar, tick and factor files into the store as one transaction (all or nothing)')
    .argument('<paths...>', 'files or directories (directories are searched recursively for .csv/.txt/.parquet)')
    .addOption(new Option('--format <format>', 'how to read the files').choices(FORMATS as unknown as string[]).default('auto'))
    .option('--symbol <symbol>', 'instrument of a Yahoo/CSV/Parquet file without a symbol column')
    .addOption(new Option('--sec-type <type>', 'security type of --symbol').choices(['STK', 'FUT', 'CASH']))
    .option('--exchange <exchange>', 'primary exchange of --symbol (default SMART)')
    .option('--currency <currency>', 'currency of --symbol (default USD)')
    .option('--contract-month <YYYYMM>', 'futures contract month of --symbol')
    .addOption(new Option('--interval <interval>', 'bar interval of a generic CSV/Parquet file').choices(INTERVALS as unknown as string[]))
    .addOption(new Option('--kind <kind>', 'bar kind of a generic file (default trade)').choices(BAR_KINDS as unknown as string[]))
    .option('--map <mapping>', 'column mapping, e.g. time=timestamp_utc,open=o,volume=qty (fields: time,date,open,high,low,close,volume,symbol)')
    .option('--tz <zone>', 'time zone of timestamps without Z/offset (default UTC), e.g. America/New_York')
    .addOption(new Option('--stamp <which>', 'whether timestamps mark bar start or end').choices(['start', 'end']).default('start'))
    .addOption(new Option('--epoch <unit>', 'the time column holds epoch seconds or milliseconds').choices(['s', 'ms']))
    .option('--register', 'add unknown symbols from a symbol column as US stocks instead of failing')
    .option('--json', 'print the result as JSON')
    .option('--no-progress', 'no progress bar')
    .addHelpText(
      'after',
      `
Formats (auto-detected):
  LEAN    by path: equity/usa/{daily,hour}/<sym>.csv, equity/usa/{minute,second}/<sym>/<date>_<sym>_<res>_{trade,quote}.csv,
          equity/usa/tick/..., equity/usa/{factor_files,map_files}/<sym>.csv, future/<market>/{minute,hour,daily}/...
  Yahoo   by header Date,Open,High,Low,Close,Adj Close,Volume (symbol from --symbol or the file name)
  CSV     any header with timestamp/date, open, high, low, close[, volume][, symbol]; needs --interval
  Parquet by .parquet extension, same columns as CSV

Examples:
  monger data import data/lean
  monger data import data/cme/6EH4.csv --symbol 6E --contract-month 202403 --interval 1m
  monger data import prices.csv --interval 1d --map time=day,close=adj_close --register`,
    )
    .action(async (paths: string[], flags: Flags, cmd: Command) => {
      const options = importOptionsFromFlags(flags);
      options.progress = terminalProgress(flags.progress && !flags.json);
      const result = await withStore(cmd, (store) => importFiles(store, paths, options));
      if (flags.json) printJson(result);
      else printImportResult(result);
    });
}
