/**
 * `monger run --config runner.yaml`: the headless live runner (issue 6). For now `--check` only:
 * loads and validates the config (IB_HOST, IB_PORT, IB_CLIENT_ID override it) and prints the
 * resolved configuration as JSON, with every symbol's merged trading parameters and the limits the
 * engine's RiskEngine enforces. A bad config exits 2 listing every problem (ConfigError).
 */
import type { Command } from 'commander';
import { loadRunnerConfig, resolveTradingParams, toRiskLimits, type RunnerConfig } from '../../live/config.js';
import { EXIT } from '../exit-codes.js';
import { info, printJson } from '../output.js';

interface RunFlags {
  config: string;
  check?: boolean;
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('Run a strategy live, on paper or in a simulator replay from a runner.yaml (--check validates it)')
    .requiredOption('--config <file>', 'runner configuration (YAML; env IB_HOST, IB_PORT, IB_CLIENT_ID override ib.*)')
    .option('--check', 'validate the config and print it resolved as JSON, then exit')
    .action((flags: RunFlags) => {
      if (!flags.check) {
        info('monger run: the live runner is being built (issue 6); use --check to validate a config');
        process.exitCode = EXIT.USAGE;
        return;
      }
      printJson(resolvedView(loadRunnerConfig(flags.config)));
    });
}

/** The config as the runner will use it: per-symbol trading parameters merged, engine risk limits. */
export function resolvedView(config: RunnerConfig): unknown {
  const resolved = Object.fromEntries(config.universe.symbols.map((sym) => [sym, resolveTradingParams(config, sym)]));
  return { ...config, trading: { ...config.trading, resolved }, riskLimits: toRiskLimits(config) };
}
