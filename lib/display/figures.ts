/**
 * Figure builders for notebook views the run reports do not have (plain candles, feature
 * distributions and correlations, line overlays). Plain JSON like `lib/report/figures`, built on
 * its layout, axes and colours, and the candlestick is the report's own trace builder: one look
 * and one implementation for reports and notebooks.
 */
import type { FillRecord, RunStatistics, TradeRecord } from '../backtest/result-types.js';
import { COLORS, DIVERGING_SCALE, axis, baseLayout, plainNumbers, plotlyDates, type Figure } from '../report/figures/figure.js';
import { tradesOnCandlesFigure } from '../report/figures/trades-on-candles.js';
import type { PriceSeries, RunReportInput } from '../report/report-input.js';

const EMPTY_STATISTICS = {} as RunStatistics;

/** A run report input that holds only prices, trades and fills: what the candle figures read. */
function pricesOnlyInput(prices: PriceSeries, trades: readonly TradeRecord[], fills: readonly FillRecord[]): RunReportInput {
  const none = new Float64Array(0);
  return {
    title: '',
    strategy: '',
    strategyVersion: '',
    params: {},
    from: prices.ts[0] ?? 0,
    to: prices.ts[prices.ts.length - 1] ?? 0,
    statistics: EMPTY_STATISTICS,
    equity: { ts: none, equity: none },
    daily: { ts: none, equity: none } as unknown as RunReportInput['daily'],
    allocation: { ts: none, instruments: [], values: [] } as unknown as RunReportInput['allocation'],
    trades,
    fills,
    prices: [prices],
  };
}

/**
 * Candlesticks with volume underneath for one price series: the report's trades-on-candles
 * figure with no run, i.e. without its (empty) trade and fill traces.
 */
export function candlesFigure(prices: PriceSeries, title?: string): Figure {
  const figure = tradesOnCandlesFigure(pricesOnlyInput(prices, [], []), prices.instrument, prices.interval);
  const data = figure.data.filter((t) => t['type'] !== 'scatter');
  const layout = { ...figure.layout, title: { ...(figure.layout['title'] as object), text: title ?? `${prices.instrument} ${prices.interval}` }, showlegend: false };
  return { data, layout };
}

/**
 * The report's trades-on-candles figure for trades and fills that did not come from a backtest
 * result (e.g. a runner journal, see `reviewJournal`).
 */
export function tradesOnPricesFigure(prices: PriceSeries, trades: readonly TradeRecord[], fills: readonly FillRecord[]): Figure {
  return tradesOnCandlesFigure(pricesOnlyInput(prices, trades, fills), prices.instrument, prices.interval);
}

/** Price series of a backtest's instrument from its bars, for `tradesOnCandlesFigure`. */
export function priceSeries(instrument: string, interval: string, bars: Pick<PriceSeries, 'ts' | 'open' | 'high' | 'low' | 'close' | 'volume'>): PriceSeries {
  return { instrument, interval, ts: bars.ts, open: bars.open, high: bars.high, low: bars.low, close: bars.close, volume: bars.volume };
}

/** Named numeric columns, e.g. a feature frame's `{ column: values }`. */
export type Columns = Readonly<Record<string, ArrayLike<number>>>;

/**
 * One small histogram per column (finite values only), `perRow` to a row. Bins are counted here,
 * so the figure holds `bins` bars per column whatever the data size.
 */
export function histogramsFigure(columns: Columns, options: { title?: string; bins?: number; perRow?: number } = {}): Figure {
  const names = Object.keys(columns);
  const bins = options.bins ?? 40;
  const perRow = Math.max(1, Math.min(options.perRow ?? 4, names.length));
  const rows = Math.ceil(names.length / perRow);
  const gap = 0.06;
  const cellW = (1 - gap * (perRow - 1)) / perRow;
  const cellH = (1 - gap * 1.6 * (rows - 1)) / rows;
  const data: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {};
  const annotations: Record<string, unknown>[] = [];
  names.forEach((name, k) => {
    const { centers, counts, width } = histogram(columns[name]!, bins);
    const suffix = k === 0 ? '' : String(k + 1);
    const col = k % perRow;
    const row = Math.floor(k / perRow);
    const x0 = col * (cellW + gap);
    const y1 = 1 - row * (cellH + gap * 1.6);
    data.push({ type: 'bar', name, x: centers, y: counts, width, marker: { color: COLORS.histogram }, xaxis: `x${suffix}`, yaxis: `y${suffix}`, hovertemplate: `${name} %{x:.3g}: %{y}<extra></extra>` });
    layout[`xaxis${suffix}`] = axis({ domain: [x0, x0 + cellW], anchor: `y${suffix}`, tickfont: { size: 9 } });
    layout[`yaxis${suffix}`] = axis({ domain: [y1 - cellH, y1], anchor: `x${suffix}`, tickfont: { size: 9 }, showticklabels: false });
    annotations.push({ text: name, x: x0, xref: 'paper', xanchor: 'left', y: y1, yref: 'paper', yanchor: 'bottom', showarrow: false, font: { size: 11 } });
  });
  return {
    data,
    layout: baseLayout(options.title ?? 'Distributions', { ...layout, annotations, showlegend: false, hovermode: 'closest', bargap: 0, height: Math.max(260, 60 + 150 * rows), margin: { l: 24, r: 16, t: 64, b: 24 } }),
  };
}

/** Equal-width histogram of the finite values. */
export function histogram(values: ArrayLike<number>, bins: number): { centers: number[]; counts: number[]; width: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (lo === Infinity) return { centers: [], counts: [], width: 0 };
  // a constant column gets one unit-wide bin around its value
  const width = hi > lo ? (hi - lo) / bins : 1;
  const n = hi > lo ? bins : 1;
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) counts[Math.min(n - 1, Math.floor((v - lo) / width))]! += 1;
  }
  const start = hi > lo ? lo : lo - 0.5;
  return { centers: counts.map((_, b) => start + (b + 0.5) * width), counts, width };
}

/**
 * Pearson correlation of every pair of columns over the rows where both are finite (pairwise
 * complete); NaN when fewer than 3 such rows or a column is constant on them.
 */
export function correlationMatrix(columns: Columns): { names: string[]; matrix: number[][] } {
  const names = Object.keys(columns);
  const cols = names.map((n) => columns[n]!);
  const matrix = names.map((_, i) => names.map((__, j) => (i === j ? 1 : NaN)));
  for (let i = 0; i < cols.length; i++) {
    for (let j = i + 1; j < cols.length; j++) {
      const r = pearson(cols[i]!, cols[j]!);
      matrix[i]![j] = r;
      matrix[j]![i] = r;
    }
  }
  return { names, matrix };
}

function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let count = 0;
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(a[i]!) && Number.isFinite(b[i]!)) {
      count++;
      sa += a[i]!;
      sb += b[i]!;
    }
  }
  if (count < 3) return NaN;
  const ma = sa / count;
  const mb = sb / count;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(a[i]!) && Number.isFinite(b[i]!)) {
      const da = a[i]! - ma;
      const db = b[i]! - mb;
      cov += da * db;
      va += da * da;
      vb += db * db;
    }
  }
  return va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : NaN;
}

/** Heatmap of the pairwise correlations, each cell labelled, red-white-green on [-1, 1]. */
export function correlationHeatmap(columns: Columns, title = 'Correlation'): Figure {
  const { names, matrix } = correlationMatrix(columns);
  const z = matrix.map((row) => plainNumbers(row));
  return {
    data: [
      {
        type: 'heatmap',
        x: names,
        y: names,
        z,
        text: matrix.map((row) => row.map((r) => (Number.isFinite(r) ? r.toFixed(2) : ''))),
        texttemplate: '%{text}',
        textfont: { size: 9 },
        colorscale: DIVERGING_SCALE,
        zmin: -1,
        zmax: 1,
        zmid: 0,
        xgap: 1,
        ygap: 1,
        colorbar: { thickness: 12 },
        hovertemplate: '%{y} × %{x}: %{z:.3f}<extra></extra>',
      },
    ],
    layout: baseLayout(title, {
      height: Math.max(360, 140 + 26 * names.length),
      hovermode: 'closest',
      showlegend: false,
      xaxis: axis({ type: 'category', tickangle: -45, showgrid: false }),
      yaxis: axis({ type: 'category', autorange: 'reversed', showgrid: false }),
      margin: { l: 130, r: 24, t: 60, b: 120 },
    }),
  };
}

/**
 * Lines over a shared time axis (epoch ms), one per named series; `dash` names series drawn
 * dashed (e.g. the streaming copy over the batch one); `yTickFormat` is a d3 format (`,.0f`).
 */
export function linesFigure(ts: ArrayLike<number>, series: Columns, options: { title?: string; yTitle?: string; dash?: readonly string[]; height?: number; yTickFormat?: string } = {}): Figure {
  const x = plotlyDates(ts);
  const palette = [COLORS.equity, COLORS.volatility, COLORS.sharpe, COLORS.up, COLORS.down, COLORS.histogram];
  const data = Object.entries(series).map(([name, values], k) => ({
    type: 'scatter',
    mode: 'lines',
    name,
    x,
    y: plainNumbers(values),
    line: { color: palette[k % palette.length], width: 1.5, dash: options.dash?.includes(name) ? 'dash' : 'solid' },
  }));
  return {
    data,
    layout: baseLayout(options.title ?? '', { height: options.height ?? 380, xaxis: axis({ type: 'date' }), yaxis: axis({ ...(options.yTitle ? { title: { text: options.yTitle } } : {}), ...(options.yTickFormat ? { tickformat: options.yTickFormat } : {}) }) }),
  };
}
