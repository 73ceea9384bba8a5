/**
 * `monger parity --strategy sma-cross --from 2013-10-07 --to 2013-10-11 --symbols SPY,IBM,AIG,BAC`:
 * backtest-vs-live parity (runner/parity/run-parity.ts). Runs the backtest over the window, then the
 * runner in replay mode against the TWS simulator (lock step, the backtest's fill model), and diffs
 * the two decision by decision: bars, decisions, order outcomes, fills, positions and equity.
 * Prints a text report (or `--json`); exits 0 when the diff is empty and the lock step never
 * stalled, 5 otherwise (the first divergence, the stalls).
 */
import { Option, type Command } from 'commander';
import { COMMISSION_MODEL_NAMES, type CommissionModelName } from '../../../lib/backtest/commission.js';
import { ConfigError } from '../../../lib/core/errors.js';
import type { StrategyDefinition } from '../../../lib/engine/strategy.js';
import { parityReportJson, parityReportText, type ParityResult } from '../../../lib/parity/report.js';
import { loadStrategy, type StrategyProvenance } from '../../../lib/promotion/load-strategy.js';
import { boundToMs } from '../../../lib/store/bar-query.js';
import { DEFAULT_STORE_PATH, STORE_ENV } from '../../../lib/store/store.js';
import { loadRunnerConfig } from '../../live/config.js';
import { runParity, type ParityLimits } from '../../parity/run-parity.js';
import { EXIT } from '../exit-codes.js';
import { info, out, printJson } from '../output.js';
import { CACHE_ENV } from '../run-strategy.js';
import { dbPath } from '../store-option.js';
import { parseParamsFlag } from './backtest-params.js';

interface ParityFlags {
  strategy: string;
  symbols: string;
  from: string;
  to: string;
  params?: string;
  cash: string;
  commission: CommissionModelName;
  slippageBps: string;
  config?: string;
  journal?: string;
  context: string;
  tolerance: string;
  json?: boolean;
}

export function registerParityCommand(program: Command): void {
  program
    .command('parity')
    .description('Backtest vs runner parity: the backtest and the runner replayed against the TWS simulator over the same data, diffed decision by decision')
    .requiredOption('--strategy <name[@X.Y.Z]>', 'the strategy: name or name@dev (the working tree), or name@X.Y.Z (a promoted release)')
    .requiredOption('--symbols <list>', 'instruments with 1-minute bars in the store, comma-separated')
    .requiredOption('--from <date>', 'first date or timestamp (UTC); history before it warms up indicators')
    .requiredOption('--to <date>', 'last date (inclusive) or timestamp (UTC)')
    .option('--params <k=v,...>', 'strategy parameters, validated by its schema')
    .option('--cash <amount>', 'starting cash of both legs', '1000000')
    .addOption(new Option('--commission <model>', 'commission model of both legs').choices([...COMMISSION_MODEL_NAMES]).default('ib-fixed'))
    .option('--slippage-bps <bps>', 'slippage of market and stop fills in both legs', '0')
    .option('--config <file>', "take trading, account, risk and session limits from this runner config (default: permissive limits, the default session guard)")
    .option('--journal <file>', "keep the runner leg's journal in this DuckDB file (default: a temporary one)")
    .option('--context <n>', 'events shown before and after the first divergence', '5')
    .option('--tolerance <rel>', 'relative tolerance for numbers (default 0: exactly equal)', '0')
    .option('--json', 'print one JSON object instead of the text report')
    .action(async (flags: ParityFlags, cmd: Command) => {
      const symbols = flags.symbols.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const num = (name: string, text: string, ok: (n: number) => boolean) => {
        const n = Number(text);
        if (!ok(n)) throw new ConfigError('monger parity', [`--${name}: expected ${name === 'context' ? 'an integer >= 0' : 'a number >= 0'}, was '${text}'`]);
        return n;
      };
      const cash = num('cash', flags.cash, (n) => n > 0);
      const slippageBps = num('slippage-bps', flags.slippageBps, (n) => n >= 0);
      const context = num('context', flags.context, (n) => Number.isInteger(n) && n >= 0);
      const tolerance = num('tolerance', flags.tolerance, (n) => n >= 0);
      if (symbols.length === 0) throw new ConfigError('monger parity', ['--symbols: expected at least one symbol']);
      const { definition, provenance } = await resolveParityStrategy(flags.strategy);
      const limits = flags.config === undefined ? undefined : limitsFrom(flags.config, definition);
      const db = dbPath(cmd) ?? process.env[STORE_ENV] ?? DEFAULT_STORE_PATH;
      info(`parity: backtest, then the runner in lock step against the simulator (${symbols.join(',')} ${flags.from} .. ${flags.to})`);
      const result = await runParity({
        strategy: definition,
        spec: flags.strategy,
        provenance,
        params: parseParamsFlag(flags.params),
        symbols,
        from: boundToMs(flags.from, 'from')!,
        to: boundToMs(flags.to, 'to')!,
        db,
        cash,
        commission: flags.commission,
        slippageBps,
        limits,
        journal: flags.journal,
        diff: { context, tolerance },
        stopwatch: () => performance.now(),
      });
      if (flags.json) printJson(parityReportJson(result));
      else out(parityReportText(result));
      const failures = parityFailures(result);
      for (const f of failures) info(`parity FAILED: ${f}`);
      if (failures.length > 0) process.exitCode = EXIT.CHECK_FAILED;
    });
}

/**
 * Why the parity check failed (empty: it passed). A stall of the lock-step replay is a failure
 * even with an empty diff: the runner leg then waited out a step instead of being driven in lock
 * step, so an equal diff no longer proves the two legs decided on the same inputs.
 */
export function parityFailures(result: Pick<ParityResult, 'diff' | 'runner'>): string[] {
  const failures: string[] = [];
  if (!result.diff.equal) failures.push(`the runner diverged from the backtest at event #${result.diff.firstDivergence?.index ?? '?'}`);
  const stalls = Array.isArray(result.runner.stalls) ? (result.runner.stalls as unknown[]) : [];
  if (stalls.length > 0) failures.push(`the lock-step replay stalled ${stalls.length} time(s); first: ${String(stalls[0])}`);
  return failures;
}

/**
 * THE place `--strategy` is resolved (issue 7: promotion): `name` and `name@dev` run the working
 * tree (as `<version>-dev`, like `monger run --dev`), `name@X.Y.Z` the promoted release
 * materialized from its tag (lib/promotion loadStrategy), exactly what `monger run` would trade.
 */
export async function resolveParityStrategy(text: string): Promise<{ definition: StrategyDefinition; provenance: StrategyProvenance }> {
  const dev = text.endsWith('@dev');
  const spec = dev ? text.slice(0, -'@dev'.length) : text;
  const cache = process.env[CACHE_ENV];
  const loaded = await loadStrategy(spec, { mode: 'replay', dev: dev || !spec.includes('@'), ...(cache ? { cacheDir: `${cache}/strategies` } : {}) });
  return { definition: loaded.definition, provenance: loaded.provenance };
}

function limitsFrom(path: string, strategy: StrategyDefinition): ParityLimits {
  const c = loadRunnerConfig(path, process.env, { strategy });
  return { trading: c.trading, account: c.account, risk: c.risk, session: c.session };
}
