/**
 * Trading parameters: global defaults with per-symbol overrides (the runner config's `trading`
 * section, a backtest's `trading` option), merged into one `TradingParams` per instrument. The
 * runner's zod schema (runner/live/config-schema-trading.ts) produces `TradingRules` from YAML with
 * messages by path; `tradingRulesProblems` checks rules built in code (backtests, notebooks) with
 * the same paths, so a mistake is never silently ignored either way.
 */
import { ConfigError } from '../core/errors.js';

export const STOP_KINDS = ['static', 'trailing'] as const;
export type StopKind = (typeof STOP_KINDS)[number];
export const SPREADS = ['best', 'mid', 'offset'] as const;
export type SpreadStrategy = (typeof SPREADS)[number];

/**
 * Trading parameters of one symbol (after merging defaults and overrides).
 * - unitSize: shares (contracts) per entry; maxPosition: largest absolute position in shares.
 *   A signal adds one unit in its direction until the position reaches maxPosition (see
 *   signal-math.ts `targetPosition`).
 * - tradeThreshold: smallest absolute signal that trades (0 = every non-zero signal).
 * - maxHoldMinutes: a position older than this is closed; takeProfitPct / stopLossPct: exit
 *   targets in percent of the entry price (2 = 2 %); `stop`: the stop-loss stays at entry price
 *   -/+ stopLossPct (`static`) or trails the best price since entry by it (`trailing`).
 * - spread: the limit price of an order: `best` = the far touch (buy at the ask, sell at the bid:
 *   fills at once), `mid` = the midpoint, `offset` = the near touch improved by `offsetTicks` ticks
 *   towards the far one (buy at bid + n ticks).
 * - invertSignals: buy on sell signals and the reverse.
 */
export interface TradingParams {
  unitSize: number;
  maxPosition: number;
  tradeThreshold: number;
  maxHoldMinutes?: number;
  takeProfitPct?: number;
  stopLossPct?: number;
  stop: StopKind;
  spread: SpreadStrategy;
  offsetTicks?: number;
  invertSignals: boolean;
}

/** One layer of settings (the defaults or one symbol's overrides): every field optional */
export type TradingOverrides = Partial<TradingParams>;

/** Defaults for every symbol, and overrides by symbol (or instrument key: `ES-201312`) */
export interface TradingRules {
  defaults: TradingOverrides;
  symbols: Readonly<Record<string, TradingOverrides>>;
}

/** The safe built-in defaults under `trading.defaults`; sizes have none */
export const TRADING_DEFAULTS = { tradeThreshold: 0, stop: 'static', spread: 'mid', invertSignals: false } as const satisfies Partial<TradingParams>;

/** The parameters that only exits use: resolvable without sizes */
export type ExitParams = Pick<TradingParams, 'takeProfitPct' | 'stopLossPct' | 'stop' | 'maxHoldMinutes'>;

/** Built-in defaults < defaults < overrides; undefined fields of a layer do not hide lower ones */
export function mergeTradingParams(defaults: TradingOverrides, overrides: TradingOverrides | undefined): TradingOverrides {
  const out: Record<string, unknown> = { ...TRADING_DEFAULTS };
  for (const layer of [defaults, overrides ?? {}]) for (const [k, val] of Object.entries(layer)) if (val !== undefined) out[k] = val;
  return out as TradingOverrides;
}

/** The overrides that apply to an instrument: by its key first (`ES-201312`), else its symbol (`ES`) */
export function overridesFor(rules: TradingRules, key: string, symbol: string = key): TradingOverrides | undefined {
  return rules.symbols[key] ?? rules.symbols[symbol];
}

/** The merged parameters of an instrument; a ConfigError when it has no unitSize or maxPosition */
export function resolveTradingParams(rules: TradingRules, key: string, symbol: string = key): TradingParams {
  const p = mergeTradingParams(rules.defaults, overridesFor(rules, key, symbol));
  const missing = (['unitSize', 'maxPosition'] as const).filter((k) => p[k] === undefined);
  if (missing.length > 0) {
    throw new ConfigError('trading', missing.map((k) => `trading.defaults.${k}: required (${k === 'unitSize' ? 'shares per entry' : 'the largest absolute position in shares'}) here or in trading.symbols.${symbol} to trade signals of ${key}`));
  }
  return p as TradingParams;
}

/** The exit rules of an instrument (sizes not needed: exits also protect positions a strategy opened itself) */
export function resolveExitParams(rules: TradingRules, key: string, symbol: string = key): ExitParams {
  const p = mergeTradingParams(rules.defaults, overridesFor(rules, key, symbol));
  return { takeProfitPct: p.takeProfitPct, stopLossPct: p.stopLossPct, stop: p.stop ?? 'static', maxHoldMinutes: p.maxHoldMinutes };
}

/** True when any layer sets an exit (take-profit, stop-loss, max hold): otherwise exits need no market data */
export function hasExitRules(rules: TradingRules): boolean {
  const has = (o: TradingOverrides | undefined) => o !== undefined && (o.takeProfitPct !== undefined || o.stopLossPct !== undefined || o.maxHoldMinutes !== undefined);
  return has(rules.defaults) || Object.values(rules.symbols).some(has);
}

const FIELD_CHECKS: { [K in keyof TradingParams]-?: [(v: unknown) => boolean, string] } = {
  unitSize: [(v) => isNum(v) && v > 0, 'a positive number of shares'],
  maxPosition: [(v) => isNum(v) && v > 0, 'a positive number'],
  tradeThreshold: [(v) => isNum(v) && v >= 0, 'a number >= 0'],
  maxHoldMinutes: [(v) => isNum(v) && v > 0, 'a positive number of minutes'],
  takeProfitPct: [(v) => isNum(v) && v > 0, 'a positive percentage'],
  stopLossPct: [(v) => isNum(v) && v > 0 && v < 100, 'a percentage above 0 and below 100'],
  stop: [(v) => (STOP_KINDS as readonly unknown[]).includes(v), `one of ${STOP_KINDS.join(', ')}`],
  spread: [(v) => (SPREADS as readonly unknown[]).includes(v), `one of ${SPREADS.join(', ')}`],
  offsetTicks: [(v) => isNum(v) && Number.isInteger(v) && v > 0, 'a positive number of ticks'],
  invertSignals: [(v) => typeof v === 'boolean', 'true or false'],
};

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/**
 * Every problem of rules built in code, by path (`trading.symbols.SPY.stopLossPct: …`): unknown
 * or malformed fields, and per merged symbol: unitSize above maxPosition, `offset` without
 * offsetTicks, `trailing` without stopLossPct. Sizes may be missing (exit-only rules).
 */
export function tradingRulesProblems(rules: TradingRules): string[] {
  const problems: string[] = [];
  const layers: [string, TradingOverrides][] = [['trading.defaults', rules.defaults ?? {}], ...Object.entries(rules.symbols ?? {}).map(([s, o]): [string, TradingOverrides] => [`trading.symbols.${s}`, o])];
  for (const [path, layer] of layers) {
    if (layer === null || typeof layer !== 'object') {
      problems.push(`${path}: expected a mapping of trading parameters`);
      continue;
    }
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      const check = FIELD_CHECKS[k as keyof TradingParams];
      if (check === undefined) problems.push(`${path}.${k}: unknown setting; expected one of ${Object.keys(FIELD_CHECKS).join(', ')}`);
      else if (!check[0](v)) problems.push(`${path}.${k}: expected ${check[1]}, got ${JSON.stringify(v)}`);
    }
  }
  if (problems.length > 0) return problems;
  // a symbol is checked on what it changes: a problem of the defaults is reported once, at the defaults
  const checks: [string, TradingOverrides, TradingOverrides][] = [['trading.defaults', rules.defaults, mergeTradingParams(rules.defaults, undefined)]];
  for (const [s, o] of Object.entries(rules.symbols)) checks.push([`trading.symbols.${s}`, o, mergeTradingParams(rules.defaults, o)]);
  for (const [path, layer, p] of checks) {
    const sets = (...keys: (keyof TradingParams)[]) => keys.some((k) => layer[k] !== undefined);
    if (sets('unitSize', 'maxPosition') && p.unitSize !== undefined && p.maxPosition !== undefined && p.unitSize > p.maxPosition) {
      problems.push(`${path}.maxPosition: ${p.maxPosition} is below unitSize ${p.unitSize}: no entry could ever be made`);
    }
    if (sets('spread', 'offsetTicks') && p.spread === 'offset' && p.offsetTicks === undefined) problems.push(`${path}.offsetTicks: required with spread: offset (ticks from the near touch towards the far one)`);
    if (sets('stop', 'stopLossPct') && p.stop === 'trailing' && p.stopLossPct === undefined) problems.push(`${path}.stopLossPct: required with stop: trailing (the trailing distance in percent)`);
  }
  return problems;
}

/** Throws a ConfigError listing every problem of `rules` */
export function checkTradingRules(rules: TradingRules, source = 'trading rules'): void {
  const problems = tradingRulesProblems(rules);
  if (problems.length > 0) throw new ConfigError(source, problems);
}
