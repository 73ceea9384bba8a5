import { Option, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { ConfigError } from '../../../lib/core/errors.js';
import { parseInterval, type Interval } from '../../../lib/data/interval.js';
import { COMMISSION_MODEL_NAMES } from '../../../lib/backtest/commission.js';
import { writeWalkForwardReport } from '../../../lib/report/walkforward-report.js';
import { Store } from '../../../lib/store/store.js';
import { OBJECTIVES, parseObjective } from '../../../lib/walkforward/objective.js';
import { parseGrid, type SearchSpec } from '../../../lib/walkforward/param-grid.js';
import { saveWalkForward } from '../../../lib/walkforward/save-walk-forward.js';
import { runWalkForward, type WalkForwardResult } from '../../../lib/walkforward/walk-forward.js';
import { STRATEGIES, strategyNames } from '../../../strategies/index.js';
import { openDataSource } from '../data-source.js';
import { info, printJson, printTable } from '../output.js';
import { dbPath } from '../store-option.js';
import { parseParamsFlag } from './backtest-params.js';
import { walkForwardJson } from './walkforward-json.js';
import { integerFlags } from '../flag-parsers.js';

interface Flags {
  strategy: string;
  grid: string;
  params?: string;
  symbols?: string;
  data?: string[];
  format: string;
  symbol?: string;
  interval?: string;
  kind: string;
  from?: string;
  to?: string;
  mode: string;
  folds: string;
  train?: string;
  validation: string;
  test?: string;
  embargo: string;
  search: string;
  samples?: string;
  seed: string;
  objective: string;
  minTrades: string;
  topK: string;
  workers?: string;
  cash: string;
  fill: string;
  commission: string;
  slippageBps: string;
  adjusted?: boolean;
  json?: boolean;
  report?: string;
  save: boolean;
  progress: boolean;
}

export function registerWalkForwardCommand(program: Command): void {
  program
    .command('walkforward')
    .description('Walk-forward evaluation: search a parameter grid on each fold\'s train window, run the best out of sample, stitch the test windows')
    .requiredOption('--strategy <name>', `strategy module (${strategyNames().join(', ')})`)
    .requiredOption('--grid <spec>', 'parameter grid: name=lo..hi:step, name=a|b|c or name=value, comma-separated (e.g. "fast=5..20:5,slow=20..60:10")')
    .option('--params <k=v,...>', 'fixed strategy parameters under every grid point (e.g. size=10)')
    .option('--symbols <list>', 'instruments in the store, comma-separated')
    .option('--data <files...>', 'bar files to walk forward on directly (imported into an in-memory store)')
    .addOption(new Option('--format <format>', 'format of --data files').choices(['auto', 'yahoo', 'lean', 'csv', 'parquet']).default('auto'))
    .option('--symbol <symbol>', 'instrument of --data files that carry no symbol (generic CSV)')
    .option('--interval <interval>', 'bar interval; with --data, defaults to the only one imported')
    .addOption(new Option('--kind <kind>', 'bar kind').choices(['trade', 'mid']).default('trade'))
    .option('--from <date>', 'first session cut into folds (earlier bars still warm indicators up)')
    .option('--to <date>', 'last session (inclusive)')
    .addOption(new Option('--mode <mode>', 'rolling train windows or anchored (expanding) ones').choices(['rolling', 'anchored']).default('rolling'))
    .option('--folds <n>', 'number of folds (contiguous test windows ending at the last session)', '5')
    .option('--train <sessions>', 'sessions per train window (default: twice the test window)')
    .option('--validation <sessions>', 'sessions after train on which the top --top-k train points are re-ranked', '0')
    .option('--test <sessions>', 'sessions per test window (default: the rest divided by --folds)')
    .option('--embargo <sessions>', 'sessions skipped between train/validation and test (purge gap)', '0')
    .addOption(new Option('--search <method>', 'grid: every point; random: --samples points drawn with --seed').choices(['grid', 'random']).default('grid'))
    .option('--samples <n>', 'points drawn by --search random')
    .option('--seed <n>', 'seed of the random search and of the strategy random stream', '1')
    .addOption(new Option('--objective <stat>', 'statistic maximized on train').choices([...OBJECTIVES]).default('sharpe'))
    .option('--min-trades <n>', 'points with fewer round trips in a window are not eligible', '1')
    .option('--top-k <n>', 'train points re-ranked on the validation window', '5')
    .option('--workers <n>', 'worker threads (0: run in this thread; default: all cores)')
    .option('--cash <amount>', 'starting cash of every window', '100000')
    .addOption(new Option('--fill <model>', 'fill model for market orders').choices(['next-open', 'close', 'quote']).default('next-open'))
    .addOption(new Option('--commission <model>', 'commission model').choices([...COMMISSION_MODEL_NAMES]).default('none'))
    .option('--slippage-bps <bps>', 'adverse slippage in basis points', '0')
    .option('--adjusted', 'split/dividend-adjusted prices (store data)')
    .option('--json', 'print one JSON object')
    .option('--report <file.html>', 'write a self-contained offline HTML report')
    .option('--no-save', 'do not store the run in the DuckDB store')
    .option('--no-progress', 'no progress bar')
    .action(async (flags: Flags, cmd: Command) => {
      const result = await walkForwardFromFlags(flags, cmd);
      if (flags.json) printJson(walkForwardJson(result));
      else printSummary(result);
    });
}

async function walkForwardFromFlags(f: Flags, cmd: Command): Promise<WalkForwardResult> {
  const problems: string[] = [];
  const strategy = STRATEGIES[f.strategy];
  if (strategy === undefined) problems.push(`--strategy: unknown strategy '${f.strategy}'; known: ${strategyNames().join(', ')}`);
  const int = integerFlags(problems);
  const num = (flag: string, v: string, check: (n: number) => boolean, expected: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || !check(n)) problems.push(`${flag}: expected ${expected}, was '${v}'`);
    return n;
  };
  const folds = int('--folds', f.folds, 1)!;
  const train = int('--train', f.train, 1);
  const validation = int('--validation', f.validation, 0)!;
  const test = int('--test', f.test, 1);
  const embargo = int('--embargo', f.embargo, 0)!;
  const samples = int('--samples', f.samples, 1);
  const seed = int('--seed', f.seed, -(2 ** 31))!;
  const minTrades = int('--min-trades', f.minTrades, 0)!;
  const topK = int('--top-k', f.topK, 1)!;
  const workers = int('--workers', f.workers, 0);
  const cash = num('--cash', f.cash, (n) => n > 0, 'a positive amount');
  const slippageBps = num('--slippage-bps', f.slippageBps, (n) => n >= 0, 'a non-negative number');
  if (f.search === 'random' && samples === undefined) problems.push('--samples is required with --search random');
  let baseParams: Record<string, unknown> = {};
  let axes;
  try {
    baseParams = parseParamsFlag(f.params);
  } catch (e) {
    problems.push(...(e as ConfigError).problems);
  }
  try {
    axes = parseGrid(f.grid);
  } catch (e) {
    problems.push(...(e as ConfigError).problems.map((p) => `--grid: ${p}`));
  }
  let interval: Interval | undefined;
  if (f.interval) {
    try {
      interval = parseInterval(f.interval);
    } catch (e) {
      problems.push(`--interval: ${(e as Error).message}`);
    }
  }
  if (problems.length) throw new ConfigError('monger walkforward', problems);
  const search: SearchSpec = f.search === 'random' ? { method: 'random', samples: samples!, seed } : { method: 'grid' };

  const resultsStore = f.save ? await Store.open(dbPath(cmd)) : undefined;
  try {
    const source = await openDataSource('monger walkforward', f, interval, cmd, resultsStore);
    try {
      const progress = phaseProgress(f.progress && !f.json);
      const result = await runWalkForward({
        strategy: strategy!,
        baseParams,
        grid: axes!,
        search,
        split: { mode: f.mode as 'rolling', folds, train, validation, test, embargo },
        data: source.store,
        symbols: source.symbols,
        interval: source.interval,
        kind: f.kind as 'trade',
        adjusted: f.adjusted,
        from: f.from,
        to: f.to,
        cash,
        fill: f.fill as 'next-open',
        commission: f.commission as 'none',
        slippageBps,
        seed,
        objective: parseObjective(f.objective),
        minTrades,
        topK,
        workers,
        onProgress: progress.update,
        dataFingerprint: source.fingerprint,
        stopwatch: () => performance.now(),
      }).finally(progress.stop);
      if (resultsStore !== undefined) {
        const runId = await saveWalkForward(resultsStore, result);
        info(`walk-forward run ${runId} stored in ${resultsStore.path} (config ${result.configHash.slice(0, 12)})`);
      }
      if (f.report) {
        writeWalkForwardReport(f.report, result);
        info(`report written to ${f.report}`);
      }
      return result;
    } finally {
      if (source.store !== resultsStore) source.store.close();
    }
  } finally {
    resultsStore?.close();
  }
}

/** One bar per phase (train search, validation, out of sample) on a terminal; silent otherwise. */
function phaseProgress(enabled: boolean) {
  if (!enabled || !process.stderr.isTTY) return { update: undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar({ stream: process.stderr, format: '{phase} [{bar}] {value}/{total} backtests | {eta_formatted} left', hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
  let phase = '';
  return {
    update: (p: { phase: string; done: number; total: number }) => {
      if (p.phase !== phase) {
        if (phase !== '') bar.stop();
        phase = p.phase;
        bar.start(p.total, 0, { phase });
      }
      bar.update(p.done, { phase });
    },
    stop: () => {
      if (phase !== '') bar.stop();
    },
  };
}

function printSummary(r: WalkForwardResult): void {
  const s = r.oos.statistics;
  info(
    `${r.strategy.name} ${r.strategy.version}: ${r.folds.length} folds x ${r.points.length} points${r.skipped.length ? ` (${r.skipped.length} rejected by the schema)` : ''}, ` +
      `${r.backtests.toLocaleString('en-US')} backtests on ${r.workers} worker(s) in ${(r.elapsedMs / 1000).toFixed(1)} s`,
  );
  printTable(
    r.folds.map((f) => ({
      fold: f.fold.index,
      train: `${day(f.fold.train.from)}..${day(f.fold.train.to)}`,
      test: `${day(f.fold.test.from)}..${day(f.fold.test.to)}`,
      params: Object.entries(f.params).map(([k, v]) => `${k}=${String(v)}`).join(' '),
      [`train ${r.objective}`]: f.trainObjective,
      'test sharpe': f.test.sharpe,
      'test return %': f.test.totalReturn * 100,
      'test trades': f.test.trades,
    })),
  );
  printTable([
    { statistic: 'OOS final value', value: s.finalEquity },
    { statistic: 'OOS total return %', value: s.totalReturn * 100 },
    { statistic: 'OOS annual return %', value: s.annualReturn * 100 },
    { statistic: 'OOS sharpe', value: s.sharpe },
    { statistic: 'OOS max drawdown %', value: s.maxDrawdown * 100 },
    { statistic: 'OOS trades', value: s.trades },
  ]);
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
