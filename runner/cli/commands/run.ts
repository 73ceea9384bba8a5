/**
 * `monger run --config runner.yaml`: the headless live runner. Loads and validates the config
 * (IB_HOST, IB_PORT, IB_CLIENT_ID override it; a bad config exits 2 listing every problem), then
 * runs it (`runner/live/live-runner.ts`) until the replay data ends, `--duration` passes or
 * SIGINT/SIGTERM, logging JSON lines to stderr and printing the JSON summary as the last line of
 * stdout. `--check` prints the resolved configuration instead of running.
 *
 * Restarts: an unfinished journal run of the same strategy, mode and config is resumed (its orders
 * looked up at IB, never sent twice; see runner/live/run-resume.ts); `--resume <runId>` names the run,
 * `--new-run` starts a new one. $MONGER_TEST_FAULT injects a crash for the restart tests (unset: inert).
 *
 * Code (issue 7, runner/cli/run-strategy.ts): `--strategy name@X.Y.Z` (or a pinned strategy.version)
 * runs that promoted release from its tag; `--dev` runs the working tree, paper and replay only.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../../lib/core/errors.js';
import { resolveTradingParams, toRiskLimits, type RunnerConfig } from '../../live/config.js';
import { runRunner } from '../../live/live-runner.js';
import { createRunnerLogger } from '../../live/logger.js';
import { printJson } from '../output.js';
import { loadRunConfig, strategyLogBindings } from '../run-strategy.js';

interface RunFlags {
  config: string;
  check?: boolean;
  duration?: string;
  resume?: string;
  newRun?: boolean;
  strategy?: string;
  dev?: boolean;
}

/** Test-only crash injection read by the runner process (never by strategies); see RunnerOptions.testFault */
export const TEST_FAULT_ENV = 'MONGER_TEST_FAULT';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h)$/.exec(text.trim());
  if (!m) throw new ConfigError('monger run', [`--duration: expected a duration like 90s, 30m or 2h, was '${text}'`]);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('Run a strategy live, on paper or in a simulator replay from a runner.yaml (--check validates it)')
    .requiredOption('--config <file>', 'runner configuration (YAML; env IB_HOST, IB_PORT, IB_CLIENT_ID override ib.*)')
    .option('--check', 'validate the config and print it resolved as JSON, then exit')
    .option('--duration <time>', 'stop after this much engine time (replay: simulated), e.g. 30m')
    .option('--resume <runId>', 'continue this journal run (default: the unfinished run of the same strategy, mode and config, if any)')
    .option('--new-run', 'start a new journal run even if an unfinished one exists')
    .option('--strategy <name@X.Y.Z>', "run this promoted version from its tag (default: the config's strategy.name@strategy.version); rollback = the previous version")
    .option('--dev', 'run the working tree (unpromoted) code: paper and replay only, marked <version>-dev in every log line and order reference')
    .action(async (flags: RunFlags) => {
      const durationMs = flags.duration === undefined ? undefined : parseDuration(flags.duration);
      if (flags.resume !== undefined && flags.newRun) throw new ConfigError('monger run', ['--resume and --new-run exclude each other']);
      // which code runs (runner/cli/run-strategy.ts): a promoted release from its tag, or --dev; live refuses the latter here
      const { config, strategy } = await loadRunConfig(flags.config, flags);
      if (flags.check) {
        printJson(resolvedView(config));
        return;
      }
      const logger = createRunnerLogger({ level: config.logging.level, maxLinesPerSecond: config.logging.maxLinesPerSecond, destination: process.stderr, bindings: strategy && strategyLogBindings(strategy) });
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const testFault = process.env[TEST_FAULT_ENV] || undefined;
        const summary = await runRunner(config, { logger, durationMs, signal: stop.signal, resume: flags.resume, newRun: flags.newRun, testFault, strategy: strategy?.definition, provenance: strategy?.provenance });
        logger.flush();
        process.stdout.write(`${JSON.stringify(summary)}\n`);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

/** The config as the runner will use it: per-symbol trading parameters merged, engine risk limits. */
export function resolvedView(config: RunnerConfig): unknown {
  const resolved = Object.fromEntries(config.universe.symbols.map((sym) => [sym, resolveTradingParams(config, sym)]));
  return { ...config, trading: { ...config.trading, resolved }, riskLimits: toRiskLimits(config) };
}
