/**
 * Which code `monger run` trades (issue 7): a promoted release or, explicitly, the working tree.
 *
 * - `--strategy name@X.Y.Z`, or the config's `strategy.name` with a pinned `strategy.version`: the
 *   release materialized from the tag `strategy/<name>/vX.Y.Z` into the cache ($MONGER_CACHE/strategies,
 *   default ~/.cache/monger/strategies) and verified against its promotion record. Rollback is
 *   running the previous version.
 * - `--dev`: the working tree's module, in paper and replay only, as version `<code version>-dev`
 *   in the journal, every order reference and every log line. Live refuses it, and refuses a
 *   config that names no promoted version, before anything connects.
 *
 * The config is then validated against the definition that will run (its params schema, warm-up
 * and version), not against the working tree's.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../lib/core/errors.js';
import { loadStrategy, parseStrategySpec, type LoadedStrategy, type StrategySpec } from '../../lib/promotion/load-strategy.js';
import { loadRunnerConfig, MODES, type RunnerConfig, type RunnerMode } from '../live/config.js';

/** Root of monger's caches; the materialized releases go under `<it>/strategies` */
export const CACHE_ENV = 'MONGER_CACHE';

export interface RunStrategyFlags {
  strategy?: string;
  dev?: boolean;
  check?: boolean;
}

export interface RunConfig {
  /** `strategy.version` is the version the run carries: X.Y.Z, or X.Y.Z-dev for working-tree code */
  config: RunnerConfig;
  /** Undefined only for `--check` without --strategy / --dev (the file is validated as it is) */
  strategy?: LoadedStrategy;
}

export async function loadRunConfig(path: string, flags: RunStrategyFlags, env: NodeJS.ProcessEnv = process.env): Promise<RunConfig> {
  if (flags.check && flags.strategy === undefined && !flags.dev) return { config: loadRunnerConfig(path, env) };
  const peek = peekConfig(path);
  // an unreadable or malformed config: its own validation says what is wrong
  if (peek === undefined) {
    loadRunnerConfig(path, env);
    throw new ConfigError(path, ['cannot tell which strategy to run (strategy.name, mode)']);
  }
  const strategy = await loadStrategy(runSpec(peek, flags), { mode: peek.mode, dev: flags.dev, cacheDir: env[CACHE_ENV] ? join(env[CACHE_ENV]!, 'strategies') : undefined });
  const config = loadRunnerConfig(path, env, { strategy: strategy.definition });
  return { config: { ...config, strategy: { ...config.strategy, version: strategy.provenance.version } }, strategy };
}

/** Fields on every log line of the run: which code placed what */
export function strategyLogBindings(s: LoadedStrategy): Record<string, unknown> {
  const p = s.provenance;
  return { strategy: `${p.name}@${p.version}`, ...(p.dev ? { dev: true } : {}), ...(p.commit ? { commit: p.commit.slice(0, 12) } : {}) };
}

interface Peek {
  mode: RunnerMode;
  name: string;
  pin?: string;
}

function peekConfig(path: string): Peek | undefined {
  try {
    const raw = parseYaml(readFileSync(path, 'utf8')) as { mode?: unknown; strategy?: { name?: unknown; version?: unknown } } | null;
    const mode = raw?.mode;
    const name = raw?.strategy?.name;
    if (typeof mode !== 'string' || !(MODES as readonly string[]).includes(mode) || typeof name !== 'string') return undefined;
    const pin = raw?.strategy?.version;
    return { mode: mode as RunnerMode, name, ...(typeof pin === 'string' ? { pin } : {}) };
  } catch {
    return undefined;
  }
}

function runSpec(peek: Peek, flags: RunStrategyFlags): StrategySpec {
  if (flags.strategy === undefined) return { name: peek.name, ...(flags.dev || peek.pin === undefined ? {} : { version: peek.pin }) };
  const spec = parseStrategySpec(flags.strategy);
  const problems: string[] = [];
  if (spec.name !== peek.name) problems.push(`--strategy ${flags.strategy}: the config runs strategy.name '${peek.name}' (its params and warm-up are for that strategy)`);
  if (spec.version !== undefined && peek.pin !== undefined && spec.version !== peek.pin) problems.push(`--strategy asks for ${spec.name} ${spec.version} but the config pins strategy.version ${peek.pin}: drop the pin or run ${spec.name}@${peek.pin}`);
  if (problems.length > 0) throw new ConfigError('monger run', problems);
  return spec;
}
