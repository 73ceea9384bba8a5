/**
 * `monger promote <name> --version X.Y.Z`: the CLI face of `promote()` (lib/promotion/promote.ts).
 * Refuses a dirty working tree or an existing tag (exit 2); runs the strategy's tests, a backtest
 * and a walk-forward on the manifest's data; a failed test or gate exits 5 explaining which gate
 * and by how much, with nothing tagged; otherwise freezes the record (store, releases/X.Y.Z.json,
 * annotated tag strategy/<name>/vX.Y.Z) and prints the gates and statistics.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../../lib/core/errors.js';
import { PromotionError } from '../../../lib/promotion/errors.js';
import { promote, type PromotionResult } from '../../../lib/promotion/promote.js';
import { EXIT } from '../exit-codes.js';
import { info, printJson, printTable } from '../output.js';
import { withStore } from '../store-option.js';

interface Flags {
  version: string;
  workers?: string;
  reportDir?: string;
  json?: boolean;
}

export function registerPromoteCommand(program: Command): void {
  program
    .command('promote <name>')
    .description('Promote strategies/<name>/ at HEAD: tests, backtest, walk-forward, gates; then freeze the record and tag strategy/<name>/vX.Y.Z')
    .requiredOption('--version <X.Y.Z>', 'the version to promote (must equal the manifest and the code)')
    .option('--workers <n>', 'walk-forward worker threads (default 0: this thread; results are identical for any count)')
    .option('--report-dir <dir>', 'folder of the HTML reports (default data/reports/promotions)')
    .option('--json', 'print the promotion record (or the refusal) as JSON')
    .addHelpText('after', '\nExit codes: 0 promoted, 2 refused before running (dirty tree, existing tag, manifest mismatch), 5 a test or a gate failed (nothing tagged).')
    .action(async (name: string, flags: Flags, cmd: Command) => {
      const workers = flags.workers === undefined ? undefined : Number(flags.workers);
      if (workers !== undefined && !(Number.isInteger(workers) && workers >= 0)) throw new ConfigError('monger promote', [`--workers: expected an integer >= 0, was '${flags.workers}'`]);
      await withStore(cmd, async (store) => {
        let result: PromotionResult;
        try {
          result = await promote({ name, version: flags.version, store, workers, reportDir: flags.reportDir, onStep: (m) => info(`promote: ${m}`) });
        } catch (e) {
          if (e instanceof PromotionError && (e.code === 'PROMOTE_GATES_FAILED' || e.code === 'PROMOTE_TESTS_FAILED')) {
            process.stderr.write(`monger: error ${e.code}: ${e.message}\n`);
            if (flags.json) printJson({ promoted: false, name, version: flags.version, code: e.code, failures: e.failures });
            process.exitCode = EXIT.CHECK_FAILED;
            return;
          }
          throw e;
        }
        const r = result.record;
        info(`promoted ${r.name} ${r.version}: tag ${result.tag} on ${r.git.commit.slice(0, 12)}, record ${result.releaseFile} (commit it), store promotion ${result.promotionId}`);
        if (flags.json) {
          printJson(r);
          return;
        }
        printTable(r.gates.map((g) => ({ gate: g.gate, measured: g.label, threshold: g.threshold, actual: g.actual, passed: g.passed ? 'yes' : 'no' })));
        const s = r.backtest.statistics;
        const o = r.walkforward.statistics;
        printTable([
          { statistic: 'sharpe', backtest: s.sharpe, 'walk-forward OOS': o.sharpe },
          { statistic: 'total return %', backtest: s.totalReturn * 100, 'walk-forward OOS': o.totalReturn * 100 },
          { statistic: 'max drawdown %', backtest: s.maxDrawdown * 100, 'walk-forward OOS': o.maxDrawdown * 100 },
          { statistic: 'round trips', backtest: s.trades, 'walk-forward OOS': o.trades },
          { statistic: 'final value', backtest: s.finalEquity, 'walk-forward OOS': o.finalEquity },
        ]);
        info(`content ${r.code.contentHash.slice(0, 12)}, data ${r.data.sha256.slice(0, 12)}, reports ${r.reports.backtest}, ${r.reports.walkforward}`);
      });
    });
}
