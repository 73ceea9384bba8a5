import type { RunReportInput } from '../report-input.js';
import { COLORS, axis, baseLayout, plainNumbers, type Figure } from './figure.js';
import { simpleReturns } from './series.js';

/** Histogram of daily returns in % (from `input.daily.equity`), with a dashed line at the mean. */
export function returnsHistogram(input: RunReportInput): Figure {
  const returns = plainNumbers(Array.from(simpleReturns(input.daily.equity), (r) => r * 100));
  const finite = returns.filter((r): r is number => r !== null);
  const mean = finite.length > 0 ? finite.reduce((a, b) => a + b, 0) / finite.length : 0;
  return {
    data: [
      {
        type: 'histogram',
        name: 'Daily returns',
        x: returns,
        nbinsx: 60,
        marker: { color: COLORS.histogram, line: { color: '#ffffff', width: 0.5 } },
        hovertemplate: '%{x}%: %{y} days<extra></extra>',
      },
    ],
    layout: baseLayout('Daily returns (%)', {
      hovermode: 'closest',
      showlegend: false,
      bargap: 0.02,
      xaxis: axis({ title: { text: 'Daily return %' }, ticksuffix: '%' }),
      yaxis: axis({ title: { text: 'Days' } }),
      shapes: [
        {
          type: 'line',
          xref: 'x',
          yref: 'paper',
          x0: mean,
          x1: mean,
          y0: 0,
          y1: 1,
          line: { color: COLORS.drawdown, width: 1.5, dash: 'dash' },
        },
      ],
      annotations: [
        { xref: 'x', yref: 'paper', x: mean, y: 1, yanchor: 'bottom', showarrow: false, text: `mean ${mean.toFixed(3)}%` },
      ],
    }),
  };
}
