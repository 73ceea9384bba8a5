/** One plotly trace: a plain JSON object (`{ type: 'scatter', x, y, … }`). */
export type Trace = Record<string, unknown>;

/** A plotly layout: a plain JSON object. */
export type Layout = Record<string, unknown>;

/**
 * A plotly figure as plain JSON, ready for `Plotly.newPlot(div, fig.data, fig.layout)` in a page
 * or for a notebook's plot helper. Arrays are plain (never typed arrays), dates are ISO strings.
 */
export interface Figure {
  data: Trace[];
  layout: Layout;
}

const DAY_MS = 86_400_000;

/**
 * Formats epoch ms as an ISO 8601 UTC string for a plotly date axis: `YYYY-MM-DD` at midnight,
 * the full `YYYY-MM-DDTHH:MM:SS.sssZ` otherwise (plotly reads both and shows them as UTC).
 */
export function plotlyDate(ms: number): string {
  const iso = new Date(ms).toISOString();
  return ms % DAY_MS === 0 ? iso.slice(0, 10) : iso;
}

/** Maps epoch-ms timestamps to plotly date strings. */
export function plotlyDates(ts: ArrayLike<number>): string[] {
  return Array.from(ts, plotlyDate);
}

/** Copies numbers into a plain array, turning NaN and ±Infinity into null (a gap in plotly). */
export function plainNumbers(values: ArrayLike<number>): (number | null)[] {
  return Array.from(values, (v) => (Number.isFinite(v) ? v : null));
}

/** Shared look of every figure: a compact white template with a left-aligned title. */
export function baseLayout(title: string, extra: Layout): Layout {
  return {
    // Title at the top of the container, the legend in the margin between it and the plot
    title: { text: title, x: 0.01, xanchor: 'left', yref: 'container', y: 1, yanchor: 'top', pad: { t: 12 } },
    height: 420,
    margin: { l: 64, r: 24, t: 80, b: 40 },
    paper_bgcolor: '#ffffff',
    plot_bgcolor: '#ffffff',
    font: { family: 'system-ui, -apple-system, Segoe UI, Roboto, sans-serif', size: 12 },
    hovermode: 'x unified',
    showlegend: true,
    legend: { orientation: 'h', x: 0, xanchor: 'left', y: 1, yanchor: 'bottom' },
    ...extra,
  };
}

/** Axis defaults with light grid lines. */
export function axis(extra: Layout): Layout {
  return { gridcolor: '#eceff1', zerolinecolor: '#b0bec5', automargin: true, ...extra };
}

/** Red-white-green scale for signed values (use with `zmid: 0`). */
export const DIVERGING_SCALE: [number, string][] = [
  [0, '#c62828'],
  [0.5, '#ffffff'],
  [1, '#2e7d32'],
];

export const COLORS = {
  equity: '#1565c0',
  drawdown: '#c62828',
  sharpe: '#6a1b9a',
  volatility: '#ef6c00',
  histogram: '#455a64',
  up: '#2e7d32',
  down: '#c62828',
  volume: '#90a4ae',
} as const;

/** Largest |value| in a grid, ignoring nulls (0 for an empty grid); sets a symmetric colour range. */
export function maxAbs(grid: readonly (readonly (number | null)[])[]): number {
  let m = 0;
  for (const row of grid) for (const v of row) if (v !== null && Math.abs(v) > m) m = Math.abs(v);
  return m;
}
