/**
 * `monger run --config runner.yaml`: the headless live runner. Loads and validates the config
 * (IB_HOST, IB_PORT, IB_CLIENT_ID override it; a bad config exits 2 listing every problem), then
 * runs it (`runner/live/live-runner.ts`) until the replay data ends, `--duration` passes or
 * SIGINT/SIGTERM, logging JSON lines to stderr and printing the JSON summary as the last line of
 * stdout. `--check` prints the resolved configuration instead of running.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../../lib/core/errors.js';
import { loadRunnerConfig, resolveTradingParams, toRiskLimits, type RunnerConfig } from '../../live/config.js';
import { runRunner } from '../../live/live-runner.js';
import { createRunnerLogger } from '../../live/logger.js';
import { printJson } from '../output.js';

interface RunFlags {
  config: string;
  check?: boolean;
  duration?: string;
}

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
    .action(async (flags: RunFlags) => {
      const durationMs = flags.duration === undefined ? undefined : parseDuration(flags.duration);
      const config = loadRunnerConfig(flags.config);
      if (flags.check) {
        printJson(resolvedView(config));
        return;
      }
      const logger = createRunnerLogger({ level: config.logging.level, maxLinesPerSecond: config.logging.maxLinesPerSecond, destination: process.stderr });
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        const summary = await runRunner(config, { logger, durationMs, signal: stop.signal });
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
