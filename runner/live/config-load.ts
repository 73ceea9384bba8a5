/**
 * Loading a runner config: YAML (with line and column on syntax errors), the environment's
 * `IB_*` overrides, every section through its schema, then the cross-section checks; one
 * ConfigError naming the source lists EVERY problem by path. Unknown sections and settings are
 * problems too: a misspelt limit must never be silently ignored.
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../../lib/core/errors.js';
import type { StrategyDefinition } from '../../lib/engine/strategy.js';
import { applyEnvOverrides, checkIb, ibSchema, MODES } from './config-schema-ib.js';
import { accountSchema, checkLimits, riskSchema } from './config-schema-limits.js';
import { checkSessionAndData, dataSchema, healthSchema, journalSchema, loggingSchema, sessionSchema } from './config-schema-ops.js';
import { checkReplay, replaySchema } from './config-schema-replay.js';
import { checkSignalsAndControl, controlSchema, signalsSchema } from './config-schema-signals.js';
import { checkStrategy, checkUniverse, strategySchema, universeSchema } from './config-schema-strategy.js';
import { checkTrading, tradingSchema } from './config-schema-trading.js';
import { oneOf, show } from './config-schema-util.js';
import type { RunnerConfig } from './config-types.js';
import { Validation, type Env } from './config-validation.js';

const SECTIONS = {
  mode: oneOf(MODES),
  ib: ibSchema,
  strategy: strategySchema,
  universe: universeSchema,
  trading: tradingSchema,
  account: accountSchema,
  risk: riskSchema,
  session: sessionSchema,
  data: dataSchema,
  health: healthSchema,
  journal: journalSchema,
  logging: loggingSchema,
  replay: replaySchema,
  signals: signalsSchema,
  control: controlSchema,
} as const;
type Sections = { [K in keyof typeof SECTIONS]: z.output<(typeof SECTIONS)[K]> };
/** Sections that may be left out entirely (all their settings have defaults) */
const OPTIONAL_SECTIONS = new Set<string>(['ib', 'session', 'data', 'health', 'journal', 'logging', 'control']);

/**
 * What the caller already decided: `strategy` is the definition that will run (a promoted release
 * loaded from its tag, lib/promotion); the config is validated against it instead of the working
 * tree's registry entry.
 */
export interface ConfigOverrides {
  strategy?: StrategyDefinition;
}

/** Reads, overrides from the environment and validates `path`; a ConfigError lists every problem. */
export function loadRunnerConfig(path: string, env: Env = process.env, overrides: ConfigOverrides = {}): RunnerConfig {
  let textContent: string;
  try {
    textContent = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(path, [`cannot read the runner config: ${(e as Error).message}`]);
  }
  return parseRunnerConfig(textContent, path, env, overrides);
}

/** `loadRunnerConfig` on YAML text already read; `source` names it in errors. */
export function parseRunnerConfig(yamlText: string, source: string, env: Env = {}, overrides: ConfigOverrides = {}): RunnerConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return `line ${line}, column ${col}: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  return validateRunnerConfig(doc.toJS() as unknown, source, env, overrides);
}

/** Validates an already parsed YAML value (after applying the environment overrides). */
export function validateRunnerConfig(raw: unknown, source: string, env: Env = {}, overrides: ConfigOverrides = {}): RunnerConfig {
  const v = new Validation(env);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(source, [`(root): expected a mapping of settings (mode, ib, strategy, …), got ${show(raw ?? null)}`]);
  }
  const doc = applyEnvOverrides(raw as Record<string, unknown>, env, v);

  const known = Object.keys(SECTIONS);
  for (const key of Object.keys(doc)) if (!known.includes(key)) v.problem([key], `unknown section; expected one of ${known.join(', ')}`);

  const s: Partial<Sections> = {};
  for (const name of known as (keyof Sections)[]) {
    if ((name === 'replay' || name === 'signals') && doc[name] === undefined) continue;
    const value = doc[name] === undefined && OPTIONAL_SECTIONS.has(name) ? {} : doc[name];
    const parsed = SECTIONS[name].safeParse(value);
    if (parsed.success) (s as Record<string, unknown>)[name] = parsed.data;
    else v.issues([name], parsed.error.issues);
  }

  checkIb(s.mode, s.ib, doc, v);
  const strategy = checkStrategy(s.strategy, v, overrides.strategy);
  checkUniverse(s.universe, v);
  // a signal-driven universe trades tickers nobody listed: overrides are templates for them
  const signalDriven = s.universe !== undefined && s.universe.mode !== 'static';
  checkTrading(s.trading, { symbols: s.universe?.symbols, maxOrderQuantity: s.risk?.maxOrderQuantity, requireSizes: true, signalDriven }, doc, v);
  checkLimits(s.account, s.risk, v);
  checkSessionAndData(s.session, s.data, s.universe?.symbols, v);
  const replay = checkReplay(s.mode, s.replay, doc, v);
  const control = checkSignalsAndControl(s.signals, s.control, { universeMode: s.universe?.mode, mode: s.mode, hasReplay: s.replay !== undefined }, v);

  if (v.problems.length > 0) throw new ConfigError(source, v.problems);
  return {
    source,
    mode: s.mode!,
    ib: s.ib!,
    strategy: strategy!,
    universe: s.universe!,
    trading: s.trading!,
    account: s.account!,
    risk: s.risk!,
    session: s.session!,
    data: s.data!,
    health: s.health!,
    journal: s.journal!,
    logging: s.logging!,
    ...(replay ? { replay } : {}),
    ...(s.signals ? { signals: s.signals } : {}),
    control: control!,
  };
}
