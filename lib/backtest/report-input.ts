import type { PriceSeries, RunReportInput } from '../report/report-input.js';
import type { BacktestResult } from './backtest-result.js';

/** The report view of a backtest result */
export function backtestReportInput(r: BacktestResult, prices: readonly PriceSeries[] = []): RunReportInput {
  return {
    title: `${r.strategy.name} ${r.strategy.version} backtest`,
    strategy: r.strategy.name,
    strategyVersion: r.strategy.version,
    params: r.params,
    from: r.from,
    to: r.to,
    statistics: r.statistics,
    equity: r.equity,
    daily: r.daily,
    allocation: r.allocation,
    trades: r.trades,
    fills: r.fills,
    prices,
  };
}
