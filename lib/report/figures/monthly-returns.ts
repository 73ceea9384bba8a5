import type { RunReportInput } from '../report-input.js';
import { DIVERGING_SCALE, axis, maxAbs, baseLayout, type Figure } from './figure.js';
import { monthlyReturns } from './series.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Years × months heatmap of calendar-month returns in % (UTC months, from `input.daily` with the
 * first month measured from `statistics.startingEquity`), each cell labelled with its value.
 * Months outside the run are empty cells; the earliest year is the top row.
 */
export function monthlyReturnsHeatmap(input: RunReportInput): Figure {
  const months = monthlyReturns(input.daily.ts, input.daily.equity, input.statistics.startingEquity);
  const years = [...new Set(months.map((m) => m.year))].sort((a, b) => a - b);
  const z: (number | null)[][] = years.map(() => MONTHS.map(() => null));
  const text: string[][] = years.map(() => MONTHS.map(() => ''));
  for (const m of months) {
    const row = years.indexOf(m.year);
    if (!Number.isFinite(m.value)) continue;
    const pct = m.value * 100;
    z[row]![m.month - 1] = pct;
    const label = pct.toFixed(1);
    text[row]![m.month - 1] = `${label === '-0.0' ? '0.0' : label}%`;
  }
  // Symmetric colour range so 0% is white
  const extreme = maxAbs(z) || 1;
  return {
    data: [
      {
        type: 'heatmap',
        name: 'Monthly return',
        x: MONTHS,
        y: years.map(String),
        z,
        text,
        texttemplate: '%{text}',
        textfont: { size: 11 },
        hovertemplate: '%{y} %{x}: %{z:.2f}%<extra></extra>',
        colorscale: DIVERGING_SCALE,
        zmid: 0,
        zmin: -extreme,
        zmax: extreme,
        xgap: 2,
        ygap: 2,
        colorbar: { ticksuffix: '%', thickness: 12 },
      },
    ],
    layout: baseLayout('Monthly returns (%)', {
      height: Math.max(220, 80 + 28 * years.length),
      hovermode: 'closest',
      showlegend: false,
      xaxis: axis({ type: 'category', side: 'top', showgrid: false }),
      yaxis: axis({ type: 'category', autorange: 'reversed', showgrid: false }),
      margin: { l: 64, r: 24, t: 84, b: 24 },
    }),
  };
}
