/**
 * `trading`: global defaults and per-symbol overrides of the trading parameters (TradingParams in
 * lib/trading/trading-params.ts: sizes, threshold, exits, spread, inversion). The schema checks
 * each field; `checkTrading` checks the merged parameters of every universe symbol against each
 * other and the risk limits, reporting each problem where it was written (the symbol's override,
 * else the defaults). The resolved section is a lib `TradingRules`, which the kernel's trading
 * desk, backtests (`runBacktest({ trading })`, `monger backtest --trading`) and the runner share.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../lib/core/errors.js';
import { mergeTradingParams, SPREADS, STOP_KINDS, type TradingOverrides, type TradingRules } from '../../lib/trading/trading-params.js';
import { bool, expected, nonNegative, oneOf, percent, positive, positiveInt, section } from './config-schema-util.js';
import { formatPath, mappingAt, Validation } from './config-validation.js';

const tradingFields = {
  unitSize: positive('a positive number of shares').optional(),
  maxPosition: positive().optional(),
  tradeThreshold: nonNegative().optional(),
  maxHoldMinutes: positive('a positive number of minutes').optional(),
  takeProfitPct: positive('a positive percentage').optional(),
  stopLossPct: percent('a percentage above 0 and below 100', 100).optional(),
  stop: oneOf(STOP_KINDS).optional(),
  spread: oneOf(SPREADS).optional(),
  offsetTicks: positiveInt('a positive number of ticks').optional(),
  invertSignals: bool().optional(),
};
const tradingOverrides = section(tradingFields);

export const tradingSchema = section({
  defaults: tradingOverrides.default({}),
  symbols: z.record(z.string(), tradingOverrides, { error: expected('a mapping of symbol -> trading overrides') }).default({}),
});

/** The validated `trading` section: the lib's TradingRules */
export interface TradingSettings extends TradingRules {
  defaults: TradingOverrides;
  symbols: Record<string, TradingOverrides>;
}

// the zod output must stay assignable to the lib's rules: a field added on one side only fails here
const _sameShape: (s: z.output<typeof tradingSchema>) => TradingSettings = (s) => s;
void _sameShape;

/** What checkTrading needs of the other sections */
interface TradingContext {
  symbols: readonly string[] | undefined;
  maxOrderQuantity: number | undefined;
  /** The runner trades signals of every universe symbol: sizes are required (exit-only rules for a backtest need none) */
  requireSizes: boolean;
  /**
   * universe.mode dynamic/mixed: overrides may name symbols outside universe.symbols (templates for
   * tickers that arrive with signals), so they are checked too, and the defaults must carry the sizes
   */
  signalDriven?: boolean;
}

export function checkTrading(trading: TradingSettings | undefined, ctx: TradingContext, doc: Record<string, unknown>, v: Validation): void {
  const overridden = mappingAt(mappingAt(doc, 'trading'), 'symbols');
  const symbols = ctx.signalDriven === true && ctx.symbols !== undefined ? [...new Set([...ctx.symbols, ...Object.keys(overridden ?? {})])] : ctx.symbols;
  // read from the file itself, so a stray override is reported even when another one is invalid
  if (ctx.signalDriven !== true && symbols !== undefined && overridden !== undefined) {
    for (const sym of Object.keys(overridden)) {
      if (!symbols.includes(sym)) v.problem(['trading', 'symbols', sym], `overrides a symbol that is not in universe.symbols (${symbols.join(', ')})`);
    }
  }
  if (trading === undefined) return;
  const d = trading.defaults;
  // the level that set a field: the symbol's overrides, else the defaults
  const where = (sym: string, key: keyof TradingOverrides): PropertyKey[] => (trading.symbols[sym]?.[key] !== undefined ? ['trading', 'symbols', sym, key] : ['trading', 'defaults', key]);
  const reported = new Set<string>();
  const once = (path: PropertyKey[], message: string) => {
    const key = `${formatPath(path)}: ${message}`;
    if (!reported.has(key)) {
      reported.add(key);
      v.problem(path, message);
    }
  };
  for (const key of ['unitSize', 'maxPosition'] as const) {
    if (ctx.requireSizes && ctx.signalDriven === true && d[key] === undefined) {
      v.problem(['trading', 'defaults', key], `required with a signal-driven universe (universe.mode dynamic/mixed): tickers that arrive with signals trade with the defaults`);
      continue;
    }
    if (!ctx.requireSizes || d[key] !== undefined || symbols === undefined) continue;
    const missing = symbols.filter((sym) => trading.symbols[sym]?.[key] === undefined);
    if (missing.length > 0) {
      const what = key === 'unitSize' ? 'shares per entry' : 'the largest absolute position in shares';
      v.problem(['trading', 'defaults', key], `required (${what}) here or in trading.symbols.<SYM> of every symbol; missing for ${missing.join(', ')}`);
    }
  }
  for (const sym of symbols ?? []) {
    const p = mergeTradingParams(d, trading.symbols[sym]);
    if (p.unitSize !== undefined && p.maxPosition !== undefined && p.unitSize > p.maxPosition) {
      once(where(sym, 'maxPosition'), `${p.maxPosition} is below unitSize ${p.unitSize}${trading.symbols[sym] !== undefined ? ` for ${sym}` : ''}: no entry could ever be made`);
    }
    if (p.spread === 'offset' && p.offsetTicks === undefined) once(where(sym, 'spread').slice(0, -1).concat('offsetTicks'), 'required with spread: offset (ticks from the near touch towards the far one)');
    if (p.stop === 'trailing' && p.stopLossPct === undefined) once(where(sym, 'stop').slice(0, -1).concat('stopLossPct'), 'required with stop: trailing (the trailing distance in percent)');
    if (ctx.maxOrderQuantity !== undefined && p.unitSize !== undefined && p.unitSize > ctx.maxOrderQuantity) {
      once(where(sym, 'unitSize'), `${p.unitSize} exceeds risk.maxOrderQuantity ${ctx.maxOrderQuantity}: every entry would be rejected`);
    }
  }
}

/**
 * Trading rules from a YAML file for a backtest (`monger backtest --trading FILE`): either a runner
 * config (its `trading` section is used) or a file holding just `defaults` / `symbols`. Checked by
 * the runner's schema; a ConfigError names the file and every problem by path.
 */
export function loadTradingRules(path: string): TradingRules {
  let raw: unknown;
  try {
    const doc = parseDocument(readFileSync(path, 'utf8'), { prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) throw new Error(doc.errors[0]!.message.split('\n')[0]);
    raw = doc.toJS() as unknown;
  } catch (e) {
    throw new ConfigError(path, [`cannot read trading rules: ${(e as Error).message}`]);
  }
  const section = mappingAt(raw, 'trading');
  const body = section ?? raw;
  const v = new Validation({});
  const parsed = tradingSchema.safeParse(body ?? {});
  if (!parsed.success) v.issues(['trading'], parsed.error.issues);
  else checkTrading(parsed.data, { symbols: Object.keys(parsed.data.symbols), maxOrderQuantity: undefined, requireSizes: false }, { trading: body }, v);
  if (v.problems.length > 0) throw new ConfigError(path, v.problems);
  return parsed.data!;
}
