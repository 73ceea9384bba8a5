import { Option, type Command } from 'commander';
import { auditStoredBars, listBarSeries, type StoreAuditResult } from '../../../lib/audit/audit-store.js';
import { ConfigError } from '../../../lib/core/errors.js';
import { BAR_KINDS, INTERVALS, type BarKind, type Interval } from '../../../lib/data/interval.js';
import { EXIT } from '../exit-codes.js';
import { info, printJson, printTable } from '../output.js';
import { withStore } from '../store-option.js';

interface Flags {
  interval?: Interval;
  kind?: BarKind;
  from?: string;
  to?: string;
  calendar?: string;
  minCoverage?: string;
  activeSessions?: boolean;
  jumpSigmas: string;
  json?: boolean;
  save: boolean;
}

const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(2)}%` : '');

/** One line per audited series, the numbers a quant scans first. */
export function auditRow(r: StoreAuditResult): Record<string, unknown> {
  return {
    symbol: r.symbol,
    interval: r.interval,
    kind: r.kind,
    calendar: r.calendar,
    sessions: r.sessions,
    expected: r.expectedBars,
    actual: r.actualBars,
    coverage: pct(r.coverage),
    'active cov': pct(r.coverageOfActiveSessions),
    gaps: r.gaps,
    missing: r.missingBars,
    outside: r.outsideSessionBars,
    dup: r.duplicates,
    'non-mono': r.nonMonotonic,
    ohlc: r.ohlcViolations,
    '<=0': r.nonpositivePrices,
    jumps: r.jumps,
  };
}

export function registerAuditCommand(data: Command): void {
  data
    .command('audit')
    .description('Audit stored bars against the exchange calendar: coverage, gaps, duplicates, order, OHLC sanity, bad prices, jumps')
    .argument('[symbols...]', 'instrument keys (default: every stored series)')
    .addOption(new Option('--interval <interval>', 'only this interval').choices(INTERVALS as unknown as string[]))
    .addOption(new Option('--kind <kind>', 'only this bar kind').choices(BAR_KINDS as unknown as string[]))
    .option('--from <date>', 'first session date (YYYY-MM-DD); default: first bar')
    .option('--to <date>', 'last session date (YYYY-MM-DD); default: last bar')
    .option('--calendar <name>', 'calendar to judge against (default from the instrument: XNYS, CME_EQUITY, …)')
    .option('--jump-sigmas <n>', 'flag |log return| above n robust sigmas', '10')
    .option('--min-coverage <pct>', 'exit 5 if any series covers less than this % of the expected bars')
    .option('--active-sessions', 'judge --min-coverage over sessions that have at least one bar (sparse samples)')
    .option('--no-save', 'do not store report rows')
    .option('--json', 'print full reports (with gap and jump details) as JSON')
    .addHelpText('after', '\nCoverage = bars on the calendar grid / expected bars over the sessions from --from to --to.\n"active cov" counts only sessions that have at least one bar (useful for sparse samples).')
    .action(async (symbols: string[], flags: Flags, cmd: Command) => {
      const minCoverage = flags.minCoverage === undefined ? undefined : Number(flags.minCoverage);
      if (minCoverage !== undefined && !(minCoverage >= 0 && minCoverage <= 100)) throw new ConfigError('monger data audit', [`--min-coverage: expected a percentage 0-100, was '${flags.minCoverage}'`]);
      const results = await withStore(cmd, async (store) => {
        const all = await listBarSeries(store);
        const chosen = all.filter((s) => (symbols.length === 0 || symbols.includes(s.symbol)) && (!flags.interval || s.interval === flags.interval) && (!flags.kind || s.kind === flags.kind));
        const missing = symbols.filter((s) => !all.some((a) => a.symbol === s));
        if (missing.length) throw new ConfigError('monger data audit', [`no bars stored for ${missing.join(', ')}`]);
        const out: StoreAuditResult[] = [];
        for (const s of chosen) {
          out.push(await auditStoredBars(store, { symbol: s.symbol, interval: s.interval, kind: s.kind, fromDate: flags.from, toDate: flags.to, calendar: flags.calendar, jumpSigmas: Number(flags.jumpSigmas), save: flags.save }));
        }
        return out;
      });
      if (flags.json) printJson(results);
      else printTable(results.map(auditRow));
      if (minCoverage !== undefined) {
        const failing = results.filter((r) => !((flags.activeSessions ? r.coverageOfActiveSessions : r.coverage) * 100 >= minCoverage));
        if (failing.length) {
          info(`${failing.length} series below ${minCoverage}% coverage: ${failing.map((r) => `${r.symbol} ${r.interval} ${r.kind}`).join(', ')}`);
          process.exitCode = EXIT.CHECK_FAILED;
        }
      }
    });
}
