import type { FillRecord, TradeRecord } from '../../backtest/result-types.js';
import type { PriceSeries, RunReportInput } from '../report-input.js';
import { COLORS, axis, baseLayout, plainNumbers, plotlyDate, plotlyDates, type Figure, type Trace } from './figure.js';

/**
 * Candlesticks of one instrument's prices with the run's trades on top (entry triangles pointing
 * in the trade's direction, exit crosses, a dotted line joining each pair), its fills as small
 * circles, and volume bars underneath on a shared time axis.
 *
 * @param instrument - which of `input.prices` to draw; with several intervals of it, pass `interval`
 * @throws RangeError when `input.prices` holds no such series
 */
export function tradesOnCandlesFigure(input: RunReportInput, instrument: string, interval?: string): Figure {
  const prices = input.prices.find((p) => p.instrument === instrument && (interval === undefined || p.interval === interval));
  if (prices === undefined) {
    const have = input.prices.map((p) => `${p.instrument} ${p.interval}`).join(', ') || 'none';
    throw new RangeError(`no price series for ${instrument}${interval ? ` ${interval}` : ''} in the report input (has: ${have})`);
  }
  const trades = input.trades.filter((t) => t.instrument === instrument);
  const fills = input.fills.filter((f) => f.instrument === instrument);
  return {
    data: [candles(prices), volume(prices), ...tradeTraces(trades), ...fillTraces(fills)],
    layout: baseLayout(`${instrument} ${prices.interval}: trades on prices`, {
      height: 560,
      hovermode: 'closest',
      xaxis: axis({ type: 'date', anchor: 'y2', rangeslider: { visible: false } }),
      yaxis: axis({ title: { text: 'Price' }, domain: [0.26, 1] }),
      yaxis2: axis({ title: { text: 'Volume' }, domain: [0, 0.2], rangemode: 'tozero' }),
    }),
  };
}

function candles(p: PriceSeries): Trace {
  return {
    type: 'candlestick',
    name: p.instrument,
    x: plotlyDates(p.ts),
    open: plainNumbers(p.open),
    high: plainNumbers(p.high),
    low: plainNumbers(p.low),
    close: plainNumbers(p.close),
    increasing: { line: { color: COLORS.up } },
    decreasing: { line: { color: COLORS.down } },
    xaxis: 'x',
    yaxis: 'y',
  };
}

function volume(p: PriceSeries): Trace {
  return {
    type: 'bar',
    name: 'Volume',
    x: plotlyDates(p.ts),
    y: plainNumbers(p.volume),
    marker: { color: Array.from(p.close, (c, i) => (c >= p.open[i]! ? COLORS.up : COLORS.down)), opacity: 0.45 },
    showlegend: false,
    xaxis: 'x',
    yaxis: 'y2',
  };
}

const money = (v: number) => v.toFixed(2);

function tradeTraces(trades: readonly TradeRecord[]): Trace[] {
  const path = { x: [] as (string | null)[], y: [] as (number | null)[] };
  for (const t of trades) path.x.push(plotlyDate(t.entryTs), plotlyDate(t.exitTs), null);
  for (const t of trades) path.y.push(t.entryPrice, t.exitPrice, null);
  return [
    {
      type: 'scatter',
      mode: 'lines',
      name: 'Trade path',
      ...path,
      line: { color: '#37474f', width: 1, dash: 'dot' },
      hoverinfo: 'skip',
      xaxis: 'x',
      yaxis: 'y',
    },
    {
      type: 'scatter',
      mode: 'markers',
      name: 'Entry',
      x: trades.map((t) => plotlyDate(t.entryTs)),
      y: trades.map((t) => t.entryPrice),
      text: trades.map((t) => `${t.direction} ${t.quantity} @ ${money(t.entryPrice)}`),
      hovertemplate: 'Entry %{text}<br>%{x}<extra></extra>',
      marker: {
        size: 11,
        symbol: trades.map((t) => (t.direction === 'LONG' ? 'triangle-up' : 'triangle-down')),
        color: trades.map((t) => (t.direction === 'LONG' ? COLORS.up : COLORS.down)),
        line: { color: '#ffffff', width: 1 },
      },
      xaxis: 'x',
      yaxis: 'y',
    },
    {
      type: 'scatter',
      mode: 'markers',
      name: 'Exit',
      x: trades.map((t) => plotlyDate(t.exitTs)),
      y: trades.map((t) => t.exitPrice),
      text: trades.map((t) => `${t.direction} @ ${money(t.exitPrice)}, net P&L ${money(t.netPnl)} (${(t.returnPct * 100).toFixed(2)}%)`),
      hovertemplate: 'Exit %{text}<br>%{x}<extra></extra>',
      marker: { size: 10, symbol: 'x', color: trades.map((t) => (t.netPnl >= 0 ? COLORS.up : COLORS.down)), line: { width: 0 } },
      xaxis: 'x',
      yaxis: 'y',
    },
  ];
}

function fillTraces(fills: readonly FillRecord[]): Trace[] {
  return (['BUY', 'SELL'] as const).map((side) => {
    const own = fills.filter((f) => f.side === side);
    return {
      type: 'scatter',
      mode: 'markers',
      name: side === 'BUY' ? 'Buy fill' : 'Sell fill',
      x: own.map((f) => plotlyDate(f.ts)),
      y: own.map((f) => f.price),
      text: own.map((f) => `${f.side} ${f.quantity} @ ${money(f.price)} (${f.liquidity}, fee ${money(f.commission)})`),
      hovertemplate: '%{text}<br>%{x}<extra></extra>',
      marker: { size: 6, symbol: 'circle-open', color: side === 'BUY' ? COLORS.up : COLORS.down },
      xaxis: 'x',
      yaxis: 'y',
    };
  });
}
