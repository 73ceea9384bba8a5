import { Option, type Command } from 'commander';
import { ConfigError } from '../../../lib/core/errors.js';
import { BAR_KINDS, INTERVALS, type BarKind, type Interval } from '../../../lib/data/interval.js';
import { listBarSeries } from '../../../lib/audit/audit-store.js';
import { loadBars } from '../../../lib/store/bar-query.js';
import { listRuns } from '../../../lib/store/ingest-runs.js';
import { listInstruments } from '../../../lib/store/instruments.js';
import { out, printJson, printTable } from '../output.js';
import { withStore } from '../store-option.js';

/** `data ls`, `data runs`, `data bars`: what the store holds. */
export function registerInspectCommands(data: Command): void {
  data
    .command('ls')
    .description('List instruments and the bar series stored for each (rows, first and last bar)')
    .option('--instruments', 'list instruments with their contract details instead')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean; instruments?: boolean }, cmd: Command) => {
      await withStore(cmd, async (store) => {
        if (flags.instruments) {
          const rows = await listInstruments(store);
          if (flags.json) printJson(rows);
          else printTable(rows.map((r) => ({ key: r.key, type: r.secType, exchange: r.exchange, currency: r.currency, multiplier: r.multiplier, tick: r.tickSize, expiry: r.expiry, local: r.localSymbol, valid_from: r.validFrom })));
          return;
        }
        const rows = await listBarSeries(store);
        if (flags.json) printJson(rows);
        else printTable(rows, ['symbol', 'interval', 'kind', 'rows', 'first', 'last']);
      });
    });

  data
    .command('runs')
    .description('List recent ingest runs (what was imported, when, how many rows, ok or failed and why)')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean; limit: string }, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const rows = await listRuns(store, Number(flags.limit) || 20);
        if (flags.json) printJson(rows);
        else
          printTable(
            rows.map((r) => ({ run: r.run_id, started: r.started_at, status: r.status, files: r.files.length, read: r.rows_read, inserted: r.rows_inserted, updated: r.rows_updated, unchanged: r.rows_unchanged, error: r.error?.split('\n')[0]?.slice(0, 80) })),
          );
      });
    });

  data
    .command('bars')
    .description('Print stored bars of one instrument (raw or adjusted)')
    .argument('<symbol>', 'instrument key, e.g. SPY or ES-201312')
    .addOption(new Option('--interval <interval>', 'bar interval').choices(INTERVALS as unknown as string[]).default('1d'))
    .addOption(new Option('--kind <kind>', 'bar kind').choices(BAR_KINDS as unknown as string[]).default('trade'))
    .option('--from <date>', 'first date or ISO timestamp (UTC)')
    .option('--to <date>', 'last date (inclusive) or ISO timestamp (UTC)')
    .option('--adjusted', 'apply split/dividend factors')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'json']).default('table'))
    .action(async (symbol: string, flags: { interval: Interval; kind: BarKind; from?: string; to?: string; adjusted?: boolean; format: string }, cmd: Command) => {
      await withStore(cmd, async (store) => {
        const [b] = await loadBars(store, { symbols: [symbol], interval: flags.interval, kind: flags.kind, from: flags.from, to: flags.to, adjusted: flags.adjusted });
        if (!b) throw new ConfigError('monger data bars', [`no instrument ${symbol}`]);
        const rows = Array.from({ length: b.length }, (_, i) => ({ ts: new Date(b.ts[i]!).toISOString(), open: b.open[i], high: b.high[i], low: b.low[i], close: b.close[i], volume: b.volume[i] }));
        if (flags.format === 'json') printJson(rows);
        else if (flags.format === 'csv') out(['ts,open,high,low,close,volume', ...rows.map((r) => `${r.ts},${r.open},${r.high},${r.low},${r.close},${r.volume}`)].join('\n'));
        else printTable(rows);
      });
    });
}
