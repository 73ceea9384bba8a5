import type { RunReportInput } from '../report-input.js';
import { COLORS, axis, baseLayout, plainNumbers, plotlyDates, type Figure } from './figure.js';
import { TRADING_DAYS_PER_YEAR, rollingRisk, simpleReturns } from './series.js';

/**
 * Rolling annualized Sharpe ratio (top) and volatility in % (bottom) over `window` daily returns
 * of `input.daily.equity` (risk-free rate 0, 252 days a year). A point is plotted at each day that
 * ends a full window, so a run shorter than `window + 1` days gives empty traces.
 */
export function rollingSharpeVolFigure(input: RunReportInput, window = 63): Figure {
  const returns = simpleReturns(input.daily.equity);
  const risk = rollingRisk(returns, window, TRADING_DAYS_PER_YEAR);
  // returns[k] ends on day k + 1; skip the incomplete first windows
  const first = window - 1;
  const x = plotlyDates(input.daily.ts.subarray(first + 1));
  const sharpe = plainNumbers(risk.sharpe.subarray(first));
  const volatility = plainNumbers(Array.from(risk.volatility.subarray(first), (v) => v * 100));
  return {
    data: [
      {
        type: 'scatter',
        mode: 'lines',
        name: `Sharpe (${window}d)`,
        x,
        y: sharpe,
        line: { color: COLORS.sharpe, width: 1.5 },
        xaxis: 'x',
        yaxis: 'y',
      },
      {
        type: 'scatter',
        mode: 'lines',
        name: `Volatility % (${window}d)`,
        x,
        y: volatility,
        line: { color: COLORS.volatility, width: 1.5 },
        xaxis: 'x',
        yaxis: 'y2',
      },
    ],
    layout: baseLayout(`Rolling Sharpe and volatility (${window} trading days)`, {
      height: 480,
      xaxis: axis({ type: 'date', anchor: 'y2' }),
      yaxis: axis({ title: { text: 'Sharpe' }, domain: [0.54, 1], tickformat: '.2f' }),
      yaxis2: axis({ title: { text: 'Volatility %' }, domain: [0, 0.46], ticksuffix: '%', rangemode: 'tozero' }),
    }),
  };
}
