import type { RunReportInput } from '../report-input.js';
import { allocationHeatmap } from './allocation.js';
import { equityDrawdownFigure } from './equity-drawdown.js';
import type { Figure } from './figure.js';
import { monthlyReturnsHeatmap } from './monthly-returns.js';
import { returnsHistogram } from './returns-histogram.js';
import { rollingSharpeVolFigure } from './rolling-sharpe-vol.js';
import { tradesOnCandlesFigure } from './trades-on-candles.js';

/**
 * Every figure of a run report, in display order: equity and drawdown, rolling Sharpe and
 * volatility, monthly returns, daily-return histogram, allocation, then trades on candles for
 * each price series in `input.prices` (5 + prices.length figures).
 */
export function reportFigures(input: RunReportInput): Figure[] {
  return [
    equityDrawdownFigure(input),
    rollingSharpeVolFigure(input),
    monthlyReturnsHeatmap(input),
    returnsHistogram(input),
    allocationHeatmap(input),
    ...input.prices.map((p) => tradesOnCandlesFigure(input, p.instrument, p.interval)),
  ];
}
