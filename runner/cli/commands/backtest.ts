import { Option, type Command } from 'commander';
import { ConfigError } from '../../../lib/core/errors.js';
import { parseInterval, type Interval } from '../../../lib/data/interval.js';
import type { BacktestResult } from '../../../lib/backtest/backtest-result.js';
import { COMMISSION_MODEL_NAMES } from '../../../lib/backtest/commission.js';
import { runBacktest } from '../../../lib/backtest/run-backtest.js';
import { saveBacktestRun } from '../../../lib/backtest/save-run.js';
import { backtestReportInput } from '../../../lib/backtest/report-input.js';
import { writeHtmlReport } from '../../../lib/report/index.js';
import { Store } from '../../../lib/store/store.js';
import { STRATEGIES, strategyNames } from '../../../strategies/index.js';
import { info, printJson, printTable } from '../output.js';
import { dbPath } from '../store-option.js';
import { openDataSource, type DataSource } from '../data-source.js';
import { parseParamsFlag } from './backtest-params.js';
import { backtestJson } from './backtest-json.js';
import { loadTradingRules } from '../../live/config.js';
import type { TradingRules } from '../../../lib/trading/trading-params.js';

const FILL_MODES = ['next-open', 'close', 'quote'] as const;

interface Flags {
  strategy: string;
  params?: string;
  symbols?: string;
  interval?: string;
  kind: string;
  from?: string;
  to?: string;
  data?: string[];
  format: string;
  symbol?: string;
  cash: string;
  fill: string;
  commission: string;
  slippageBps: string;
  participation?: string;
  size?: string;
  adjusted?: boolean;
  seed: string;
  report?: string;
  json?: boolean;
  save: boolean;
  trading?: string;
}

export function registerBacktestCommand(program: Command): void {
  program
    .command('backtest')
    .description('Run a strategy over stored bars (--symbols) or files (--data) with the simulated venue')
    .requiredOption('--strategy <name>', `strategy module (${strategyNames().join(', ')})`)
    .option('--params <k=v,...>', 'strategy parameters, validated by its schema')
    .option('--symbols <list>', 'instruments in the store, comma-separated')
    .option('--interval <interval>', 'bar interval (1m, 1h, 1d, ...); with --data, defaults to the only one imported')
    .addOption(new Option('--kind <kind>', 'bar kind').choices(['trade', 'mid']).default('trade'))
    .option('--from <date>', 'first date or timestamp (UTC); history before it warms up indicators')
    .option('--to <date>', 'last date (inclusive) or timestamp (UTC)')
    .option('--data <files...>', 'bar files to backtest on directly (imported into a throwaway in-memory store)')
    .addOption(new Option('--format <format>', 'format of --data files').choices(['auto', 'yahoo', 'lean', 'csv', 'parquet']).default('auto'))
    .option('--symbol <symbol>', 'instrument of --data files that carry no symbol (generic CSV)')
    .option('--cash <amount>', 'starting cash', '100000')
    .addOption(new Option('--fill <model>', 'fill model for market orders').choices([...FILL_MODES]).default('next-open'))
    .addOption(new Option('--commission <model>', 'commission model').choices([...COMMISSION_MODEL_NAMES]).default('none'))
    .option('--slippage-bps <bps>', 'adverse slippage in basis points', '0')
    .option('--participation <rate>', 'cap fills at this fraction of each bar volume (partial fills)')
    .option('--size <n>', 'position size (sets the size param)')
    .option('--trading <file.yaml>', "trading rules: a runner config's trading section (or a file of defaults/symbols); its exits (take-profit, stop-loss, max hold) run as in the runner")
    .option('--adjusted', 'split/dividend-adjusted prices (store data)')
    .option('--seed <n>', 'seed of the strategy random stream', '1')
    .option('--report <file.html>', 'write a self-contained offline HTML report')
    .option('--json', 'print one JSON object (byte-identical across reruns except elapsed_ms)')
    .option('--no-save', 'do not store the run in the DuckDB store')
    .action(async (flags: Flags, cmd: Command) => {
      const result = await backtestFromFlags(flags, cmd);
      if (flags.json) printJson(backtestJson(result));
      else printSummary(result);
    });
}

async function backtestFromFlags(f: Flags, cmd: Command): Promise<BacktestResult> {
  const problems: string[] = [];
  const strategy = STRATEGIES[f.strategy];
  if (strategy === undefined) problems.push(`--strategy: unknown strategy '${f.strategy}'; known: ${strategyNames().join(', ')}`);
  const num = (flag: string, v: string | undefined, check: (n: number) => boolean, expected: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || !check(n)) problems.push(`${flag}: expected ${expected}, was '${v}'`);
    return n;
  };
  const cash = num('--cash', f.cash, (n) => n > 0, 'a positive amount')!;
  const slippageBps = num('--slippage-bps', f.slippageBps, (n) => n >= 0, 'a non-negative number')!;
  const participationRate = num('--participation', f.participation, (n) => n > 0 && n <= 1, 'a fraction in (0, 1]');
  const size = num('--size', f.size, (n) => n > 0, 'a positive quantity');
  const seed = num('--seed', f.seed, (n) => Number.isInteger(n), 'an integer')!;
  let params: Record<string, unknown> = {};
  try {
    params = parseParamsFlag(f.params);
  } catch (e) {
    problems.push(...(e as ConfigError).problems);
  }
  if (size !== undefined) params.size = size;
  let trading: TradingRules | undefined;
  if (f.trading !== undefined) {
    try {
      trading = loadTradingRules(f.trading);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.problems.map((p) => `--trading ${f.trading}: ${p}`));
    }
  }
  let interval: Interval | undefined;
  if (f.interval) {
    try {
      interval = parseInterval(f.interval);
    } catch (e) {
      problems.push(`--interval: ${(e as Error).message}`);
    }
  }
  if (problems.length) throw new ConfigError('monger backtest', problems);

  const resultsStore = f.save ? await Store.open(dbPath(cmd)) : undefined;
  let source: DataSource;
  try {
    source = await openDataSource('monger backtest', f, interval, cmd, resultsStore);
  } catch (e) {
    resultsStore?.close();
    throw e;
  }
  const { store: dataStore, symbols } = source;
  interval = source.interval;
  try {
    const result = await runBacktest({
      strategy: strategy!,
      params,
      // the quote fill model reads bid/ask bars; strategies see them as bars of kind bid/ask
      subscriptions: symbols.flatMap((instrument) => [
        { instrument, interval: interval!, kind: f.kind as 'trade' | 'mid' },
        ...(f.fill === 'quote' ? (['bid', 'ask'] as const).map((kind) => ({ instrument, interval: interval!, kind })) : []),
      ]),
      data: dataStore,
      from: f.from,
      to: f.to,
      cash,
      fill: f.fill as never,
      commission: f.commission as never,
      slippageBps,
      participationRate,
      seed,
      adjusted: f.adjusted,
      trading,
      dataFingerprint: source.fingerprint,
      stopwatch: () => performance.now(),
    });
    if (resultsStore !== undefined) {
      const runId = await saveBacktestRun(resultsStore, result);
      info(`backtest run ${runId} stored in ${resultsStore.path} (config ${result.configHash.slice(0, 12)})`);
    }
    if (f.report) {
      const prices = await loadReportPrices(dataStore, symbols, interval!, f.from, f.to);
      writeHtmlReport(f.report, backtestReportInput(result, prices));
      info(`report written to ${f.report}`);
    }
    return result;
  } finally {
    if (dataStore !== resultsStore) dataStore.close();
    resultsStore?.close();
  }
}

async function loadReportPrices(store: Store, symbols: string[], interval: Interval, from?: string, to?: string) {
  const { loadBars } = await import('../../../lib/store/bar-query.js');
  // candlesticks of the first few instruments only: a report with hundreds of charts is unreadable
  const blocks = await loadBars(store, { symbols: symbols.slice(0, 4), interval, from, to });
  return blocks.map((b) => ({ instrument: b.instrument.key, interval, ts: b.ts, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume }));
}

function printSummary(r: BacktestResult): void {
  const s = r.statistics;
  info(`${r.strategy.name} ${r.strategy.version}: ${r.bars.toLocaleString('en-US')} bars, ${r.orders.length} orders, ${r.trades.length} trades in ${r.elapsedMs.toFixed(0)} ms`);
  printTable([
    { statistic: 'final value', value: r.finalValue },
    { statistic: 'total return %', value: s.totalReturn * 100 },
    { statistic: 'annual return %', value: s.annualReturn * 100 },
    { statistic: 'annual volatility %', value: s.annualVolatility * 100 },
    { statistic: 'sharpe', value: s.sharpe },
    { statistic: 'sortino', value: s.sortino },
    { statistic: 'max drawdown %', value: s.maxDrawdown * 100 },
    { statistic: 'win rate %', value: s.winRate * 100 },
    { statistic: 'profit factor', value: s.profitFactor },
    { statistic: 'fees paid', value: s.feesPaid },
  ]);
}
