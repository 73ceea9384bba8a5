/**
 * `strategy` and `universe`: what runs on which instruments. The strategy must be registered
 * (strategies/index.ts), its version pin must equal the code's, and its params pass its own schema.
 */
import { z } from 'zod';
import { ConfigError } from '../../lib/core/errors.js';
import { validateStrategyParams } from '../../lib/engine/strategy-params.js';
import type { StrategyDefinition } from '../../lib/engine/strategy.js';
import { STRATEGIES, strategyNames } from '../../strategies/index.js';
import { REMOVAL_FLATTEN, UNIVERSE_MODES, type UniverseOptions } from '../../lib/universe/universe-types.js';
import { bool, expected, integer, nonNegative, oneOf, pattern, positive, positiveInt, section, symbol, text } from './config-schema-util.js';
import type { Validation } from './config-validation.js';

/**
 * Strategy bar intervals the live runner can deliver: 1-minute bars aggregated from IB's 5-second
 * bars, minute multiples dividing 30 minutes derived from them (every bucket then starts on the
 * hour grid and on the 09:30 open, as the stored/IB bars are labelled), and daily bars.
 */
export const LIVE_INTERVALS = ['1m', '2m', '3m', '5m', '10m', '15m', '30m', '1d'] as const;
export type LiveInterval = (typeof LIVE_INTERVALS)[number];

const SEMVER_RE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

export const strategySchema = section({
  name: text('a strategy name'),
  version: pattern('a semver version like 1.0.0', SEMVER_RE).optional(),
  params: z.record(z.string(), z.unknown(), { error: expected('a mapping of strategy parameters') }).default({}),
  interval: oneOf(LIVE_INTERVALS),
  warmup: integer('a number of bars (integer >= 0)', (n) => n >= 0).optional(),
});

const SEC_TYPES = ['STK', 'FUT', 'CASH'] as const;

/** `universe.adoptPositions`: which broker positions a new run of a signal-driven universe adopts */
export const ADOPT_POSITIONS = ['journal', 'all'] as const;
export type AdoptPositions = (typeof ADOPT_POSITIONS)[number];

/**
 * `mode`: static (the configured symbols), dynamic (a ticker joins with its first signal; no
 * configured symbols), mixed (both); dynamic and mixed need a `signals` section.
 * `retireAfterMinutes`: a signal-driven trader with no signal for this long, flat and without
 * working orders, is retired and its market-data lines freed (default: never).
 * `removal.flatten`: what a graceful `symbol remove` does with an open position: `market` (default)
 * stops the symbol's entries, cancels its orders and closes it at market, then retires it once flat;
 * `none` waits until it is flat by other means.
 * `preemption`: with the line budget full, a waiting ticker with a stronger signal (|signal| above
 * the member's × (1 + `margin`), default 0.25) or an open position takes the lines of a
 * signal-driven trader that is flat, has no working orders and has been active `minActiveMinutes`
 * (default 5). `maxEvictionsPer10Min` (default 30): at most that many evictions in any 10 minutes, all
 * lines together; each starts a warm-up history request and IB allows 60 in 10 minutes. `enabled:
 * false` turns it off (default on); the defaults are lib/universe/preemption.ts's.
 * `adoptPositions` (dynamic and mixed; adoption-policy.ts): which of IB's positions a NEW run adopts
 * and trades: `journal` (unset) the configured symbols plus what the previous run of the strategy held
 * at its end, `all` every position (an account dedicated to the runner). No zod default: unset means
 * `journal`.
 */
export const universeSchema = section({
  mode: oneOf(UNIVERSE_MODES).default('static'),
  symbols: z.array(symbol(), { error: expected('a list of ticker symbols') }).default([]),
  retireAfterMinutes: positive('a positive number of minutes').optional(),
  removal: section({ flatten: oneOf(REMOVAL_FLATTEN).default('market') }, "a mapping { flatten: market | none }").default({ flatten: 'market' }),
  preemption: section(
    {
      enabled: bool().optional(),
      minActiveMinutes: nonNegative('a number of minutes >= 0').optional(),
      margin: nonNegative('a number >= 0 (0.25: 25% stronger)').optional(),
      maxEvictionsPer10Min: positiveInt('a positive integer (evictions in any 10 minutes)').optional(),
    },
    'a mapping { enabled, minActiveMinutes, margin, maxEvictionsPer10Min }',
  ).optional(),
  adoptPositions: oneOf(ADOPT_POSITIONS).optional(),
  secType: oneOf(SEC_TYPES).default('STK'),
  exchange: text('an exchange (SMART, NYSE, CME…)').default('SMART'),
  currency: pattern('a currency code like USD', /^[A-Z]{3}$/).default('USD'),
});
export type UniverseSettings = z.output<typeof universeSchema>;

export interface StrategySettings {
  name: string;
  /** The code's version (equal to the config's pin when it has one) */
  version: string;
  /** Validated by the strategy's schema, defaults filled in */
  params: Record<string, unknown>;
  interval: LiveInterval;
  /** Bars of history loaded before the first live bar */
  warmup: number;
}

/** The resolved strategy settings, or undefined (problems recorded); `loaded`: the definition that will run (default: the registry's) */
export function checkStrategy(st: z.output<typeof strategySchema> | undefined, v: Validation, loaded?: StrategyDefinition): StrategySettings | undefined {
  if (st === undefined) return undefined;
  const definition = loaded ?? STRATEGIES[st.name];
  if (loaded !== undefined && loaded.name !== st.name) {
    v.problem(['strategy', 'name'], `the config names '${st.name}' but the strategy loaded to run is '${loaded.name}'`);
    return undefined;
  }
  if (definition === undefined) {
    v.problem(['strategy', 'name'], `unknown strategy '${st.name}'; known: ${strategyNames().join(', ')}`);
    return undefined;
  }
  if (st.version !== undefined && st.version !== definition.version) {
    v.problem(['strategy', 'version'], `the config pins ${st.name} ${st.version} but the code is ${definition.version}; deploy that version or update the pin`);
  }
  let params: Record<string, unknown>;
  try {
    params = validateStrategyParams(definition, st.params);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const p of e.problems) v.problems.push(p.startsWith('(root): ') ? `strategy.params: ${p.slice(8)}` : `strategy.params.${p}`);
    return undefined;
  }
  const warmup = st.warmup ?? definition.warmup?.(params) ?? 0;
  return { name: st.name, version: definition.version, params, interval: st.interval, warmup };
}

export function checkUniverse(universe: UniverseSettings | undefined, v: Validation): void {
  if (universe?.mode === 'static' && universe.symbols.length === 0) v.problem(['universe', 'symbols'], 'expected at least one symbol (or mode: dynamic for a signal-driven universe)');
  if (universe?.mode === 'dynamic' && universe.symbols.length > 0) v.problem(['universe', 'symbols'], 'a dynamic universe is signal-driven only; use mode: mixed for configured symbols plus signal-driven ones');
  if (universe?.mode === 'static' && universe.retireAfterMinutes !== undefined) v.problem(['universe', 'retireAfterMinutes'], 'only signal-driven symbols (mode dynamic or mixed) are retired');
  if (universe?.mode === 'static' && universe.preemption !== undefined) v.problem(['universe', 'preemption'], 'only signal-driven symbols (mode dynamic or mixed) give up their lines');
  if (universe?.mode === 'static' && universe.adoptPositions !== undefined) v.problem(['universe', 'adoptPositions'], 'a static universe adopts the positions in its symbols only (mode dynamic or mixed choose)');
  universe?.symbols.forEach((sym, i, all) => {
    if (all.indexOf(sym) !== i) v.problem(['universe', 'symbols', i], `'${sym}' is listed twice`);
  });
}

/** The universe manager's preemption options from `universe.preemption` (unset keys: its defaults) */
export function preemptionOptions(universe: UniverseSettings): Pick<UniverseOptions, 'preempt' | 'minActiveMs' | 'preemptMargin' | 'maxEvictionsPer10Min'> {
  const p = universe.preemption ?? {};
  return {
    ...(p.enabled !== undefined ? { preempt: p.enabled } : {}),
    ...(p.minActiveMinutes !== undefined ? { minActiveMs: p.minActiveMinutes * 60_000 } : {}),
    ...(p.margin !== undefined ? { preemptMargin: p.margin } : {}),
    ...(p.maxEvictionsPer10Min !== undefined ? { maxEvictionsPer10Min: p.maxEvictionsPer10Min } : {}),
  };
}
