/** Plotly figure builders for run reports: plain JSON shared by HTML reports and notebooks. */
export { type Figure, type Layout, type Trace, plotlyDate, plotlyDates } from './figure.js';
export { drawdown, monthlyReturns, rollingRisk, simpleReturns, TRADING_DAYS_PER_YEAR, type MonthlyReturn, type RollingRisk } from './series.js';
export { equityDrawdownFigure } from './equity-drawdown.js';
export { rollingSharpeVolFigure } from './rolling-sharpe-vol.js';
export { monthlyReturnsHeatmap } from './monthly-returns.js';
export { allocationHeatmap } from './allocation.js';
export { tradesOnCandlesFigure } from './trades-on-candles.js';
export { returnsHistogram } from './returns-histogram.js';
export { reportFigures } from './report-figures.js';
