/** Views of a loaded runner config for the parts that use it (trading desk, risk engine). */
import { ConfigError } from '../../lib/core/errors.js';
import type { RiskLimits } from '../../lib/engine/risk-engine.js';
import { resolveTradingParams as resolveParams, type TradingParams, type TradingRules } from '../../lib/trading/trading-params.js';
import type { RunnerConfig } from './config-types.js';

/** The trading parameters of one universe symbol: built-in defaults < trading.defaults < trading.symbols.SYM. */
export function resolveTradingParams(config: Pick<RunnerConfig, 'trading' | 'universe'>, symbol: string): TradingParams {
  // a signal-driven universe trades any ticker with the defaults (validated to carry the sizes)
  if (config.universe.mode === 'static' && !config.universe.symbols.includes(symbol)) {
    throw new ConfigError('resolveTradingParams', [`'${symbol}' is not in universe.symbols (${config.universe.symbols.join(', ')})`]);
  }
  // validation guarantees unitSize and maxPosition for every universe symbol
  return resolveParams(config.trading, symbol);
}

/** The `trading` section as the kernel's trading rules (signals and exits; see lib/trading) */
export function tradingRules(config: Pick<RunnerConfig, 'trading'>): TradingRules {
  return config.trading;
}

/**
 * The limits the engine's RiskEngine enforces: order quantity and notional, gross leverage,
 * shorting, and, as a backstop for every instrument, the largest per-symbol `maxPosition`. The
 * runner checks the rest itself: per-symbol maxPosition and maxPositionNotionalPerSymbol, net
 * leverage, open orders, loss limits, clip and the drawdown breaker (which calls RiskEngine.halt).
 */
export function toRiskLimits(config: Pick<RunnerConfig, 'risk' | 'trading' | 'universe'>): RiskLimits {
  const symbols = config.universe.mode === 'static' ? config.universe.symbols : [...new Set([...config.universe.symbols, ...Object.keys(config.trading.symbols)])];
  // tickers arriving with signals trade with the defaults (required then, see checkTrading)
  const dynamic = config.universe.mode === 'static' || config.trading.defaults.maxPosition === undefined ? [] : [config.trading.defaults.maxPosition];
  const maxPosition = Math.max(...symbols.map((sym) => resolveTradingParams(config, sym).maxPosition), ...dynamic);
  return {
    maxOrderQuantity: config.risk.maxOrderQuantity,
    maxOrderNotional: config.risk.maxOrderNotional,
    maxGrossLeverage: config.risk.maxGrossLeverage,
    maxPositionQuantity: maxPosition,
    allowShort: config.risk.allowShort,
  };
}
