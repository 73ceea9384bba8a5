import type { RunReportInput } from '../report-input.js';
import { COLORS, axis, baseLayout, plainNumbers, plotlyDates, type Figure } from './figure.js';
import { drawdown } from './series.js';

/**
 * Equity curve on top and its drawdown (underwater, % below the running peak) underneath, on a
 * shared time axis. Uses `input.equity`, the finest equity series of the run.
 */
export function equityDrawdownFigure(input: RunReportInput): Figure {
  const x = plotlyDates(input.equity.ts);
  const underwater = Array.from(drawdown(input.equity.equity), (d) => d * 100);
  return {
    data: [
      {
        type: 'scatter',
        mode: 'lines',
        name: 'Equity',
        x,
        y: plainNumbers(input.equity.equity),
        line: { color: COLORS.equity, width: 1.5 },
        xaxis: 'x',
        yaxis: 'y',
      },
      {
        type: 'scatter',
        mode: 'lines',
        name: 'Drawdown %',
        x,
        y: plainNumbers(underwater),
        fill: 'tozeroy',
        line: { color: COLORS.drawdown, width: 1 },
        fillcolor: 'rgba(198, 40, 40, 0.25)',
        xaxis: 'x',
        yaxis: 'y2',
      },
    ],
    layout: baseLayout('Equity and drawdown', {
      height: 520,
      xaxis: axis({ type: 'date', anchor: 'y2' }),
      yaxis: axis({ title: { text: 'Equity' }, domain: [0.34, 1], tickformat: ',.0f' }),
      yaxis2: axis({ title: { text: 'Drawdown %' }, domain: [0, 0.28], ticksuffix: '%', rangemode: 'tozero' }),
    }),
  };
}
