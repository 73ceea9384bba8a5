import type { RunReportInput } from '../report-input.js';
import { DIVERGING_SCALE, axis, maxAbs, baseLayout, plotlyDates, type Figure } from './figure.js';
import { indexAtOrBefore } from './series.js';

/**
 * Instrument × time heatmap of signed position value as a % of equity (negative = short), from
 * `input.allocation`. Equity is the daily sample at or before each allocation sample; cells
 * before the first daily sample are empty.
 */
export function allocationHeatmap(input: RunReportInput): Figure {
  const { ts, instruments, values } = input.allocation;
  const equityAt = Array.from(ts, (t) => {
    const i = indexAtOrBefore(input.daily.ts, t);
    return i < 0 ? NaN : input.daily.equity[i]!;
  });
  const z = instruments.map((_, row) =>
    equityAt.map((equity, t) => {
      const pct = ((values[row]?.[t] ?? NaN) / equity) * 100;
      return Number.isFinite(pct) ? pct : null;
    }),
  );
  const extreme = maxAbs(z) || 1;
  return {
    data: [
      {
        type: 'heatmap',
        name: 'Allocation',
        x: plotlyDates(ts),
        y: [...instruments],
        z,
        hovertemplate: '%{y} %{x}: %{z:.1f}% of equity<extra></extra>',
        colorscale: DIVERGING_SCALE,
        zmid: 0,
        zmin: -extreme,
        zmax: extreme,
        colorbar: { ticksuffix: '%', thickness: 12 },
      },
    ],
    layout: baseLayout('Allocation (position value, % of equity)', {
      height: Math.max(220, 120 + 26 * instruments.length),
      hovermode: 'closest',
      showlegend: false,
      xaxis: axis({ type: 'date', showgrid: false }),
      yaxis: axis({ type: 'category', autorange: 'reversed', showgrid: false }),
    }),
  };
}
