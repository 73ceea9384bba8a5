import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { hasExitRules, resolveExitParams, resolveTradingParams, tradingRulesProblems, type TradingRules } from './trading-params.js';

const rules: TradingRules = {
  defaults: { unitSize: 100, maxPosition: 200, stopLossPct: 1, spread: 'offset', offsetTicks: 2 },
  symbols: { QQQ: { unitSize: 50, stop: 'trailing', spread: 'best', invertSignals: true }, ES: { unitSize: 1, maxPosition: 2 } },
};

describe('resolving per-instrument parameters', () => {
  it('merges built-in defaults < defaults < overrides', () => {
    expect(resolveTradingParams(rules, 'SPY')).toEqual({ unitSize: 100, maxPosition: 200, tradeThreshold: 0, stopLossPct: 1, stop: 'static', spread: 'offset', offsetTicks: 2, invertSignals: false });
    expect(resolveTradingParams(rules, 'QQQ')).toEqual({ unitSize: 50, maxPosition: 200, tradeThreshold: 0, stopLossPct: 1, stop: 'trailing', spread: 'best', offsetTicks: 2, invertSignals: true });
  });

  it('finds a futures contract by its key, else its root symbol', () => {
    expect(resolveTradingParams(rules, 'ES-201312', 'ES')).toMatchObject({ unitSize: 1, maxPosition: 2 });
  });

  it('signals need sizes; exits do not', () => {
    const exitOnly: TradingRules = { defaults: { stopLossPct: 2, maxHoldMinutes: 60 }, symbols: {} };
    expect(() => resolveTradingParams(exitOnly, 'SPY')).toThrow(ConfigError);
    expect(() => resolveTradingParams(exitOnly, 'SPY')).toThrow(/trading\.defaults\.unitSize: required \(shares per entry\) here or in trading\.symbols\.SPY/);
    expect(resolveExitParams(exitOnly, 'SPY')).toEqual({ stop: 'static', stopLossPct: 2, takeProfitPct: undefined, maxHoldMinutes: 60 });
    expect(hasExitRules(exitOnly)).toBe(true);
    expect(hasExitRules({ defaults: { unitSize: 1, maxPosition: 1 }, symbols: {} })).toBe(false);
    expect(hasExitRules({ defaults: {}, symbols: { SPY: { takeProfitPct: 1 } } })).toBe(true);
  });
});

describe('problems of rules built in code', () => {
  it('none for valid rules', () => {
    expect(tradingRulesProblems(rules)).toEqual([]);
  });

  it('names each bad field by path', () => {
    const bad = { defaults: { unitSize: 0, stopLossPct: 100, spread: 'worst', maxPositon: 3 }, symbols: { SPY: { offsetTicks: 1.5 } } } as unknown as TradingRules;
    expect(tradingRulesProblems(bad)).toEqual([
      'trading.defaults.unitSize: expected a positive number of shares, got 0',
      'trading.defaults.stopLossPct: expected a percentage above 0 and below 100, got 100',
      'trading.defaults.spread: expected one of best, mid, offset, got "worst"',
      'trading.defaults.maxPositon: unknown setting; expected one of unitSize, maxPosition, tradeThreshold, maxHoldMinutes, takeProfitPct, stopLossPct, stop, spread, offsetTicks, invertSignals',
      'trading.symbols.SPY.offsetTicks: expected a positive number of ticks, got 1.5',
    ]);
  });

  it('checks merged parameters, reporting a problem where it was made', () => {
    expect(tradingRulesProblems({ defaults: { spread: 'offset', stop: 'trailing' }, symbols: { SPY: { unitSize: 300, maxPosition: 200 } } })).toEqual([
      'trading.defaults.offsetTicks: required with spread: offset (ticks from the near touch towards the far one)',
      'trading.defaults.stopLossPct: required with stop: trailing (the trailing distance in percent)',
      'trading.symbols.SPY.maxPosition: 200 is below unitSize 300: no entry could ever be made',
    ]);
    // a symbol that fixes what the defaults lack is fine; the defaults are still reported
    expect(tradingRulesProblems({ defaults: { stop: 'trailing' }, symbols: { SPY: { stopLossPct: 3 } } })).toEqual(['trading.defaults.stopLossPct: required with stop: trailing (the trailing distance in percent)']);
  });
});
