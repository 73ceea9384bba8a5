import type { RunStatistics, TradeRecord } from '../backtest/result-types.js';
import {
  escapeHtml,
  formatInteger,
  formatMoney,
  formatNumber,
  formatPercent,
  formatRatio,
  formatUtc,
} from './html-format.js';

type StatisticFormat = 'percent' | 'ratio' | 'money' | 'integer' | 'days';

interface StatisticRow {
  group: string;
  label: string;
  format: StatisticFormat;
}

/**
 * Group, label and format of every statistic, in display order. A full Record over RunStatistics,
 * so a new field fails to compile until it has a row here. Fractions (returns, drawdown, win
 * rate, exposure, probabilistic Sharpe) show as percentages; P&L averages as money.
 */
const STATISTIC_ROWS: Record<keyof RunStatistics, StatisticRow> = {
  startingEquity: { group: 'Returns', label: 'Starting equity', format: 'money' },
  finalEquity: { group: 'Returns', label: 'Final equity', format: 'money' },
  totalReturn: { group: 'Returns', label: 'Total return', format: 'percent' },
  annualReturn: { group: 'Returns', label: 'Annual return', format: 'percent' },
  days: { group: 'Returns', label: 'Trading days', format: 'integer' },
  annualVolatility: { group: 'Risk', label: 'Annual volatility', format: 'percent' },
  sharpe: { group: 'Risk', label: 'Sharpe ratio', format: 'ratio' },
  sortino: { group: 'Risk', label: 'Sortino ratio', format: 'ratio' },
  probabilisticSharpe: { group: 'Risk', label: 'Probabilistic Sharpe', format: 'percent' },
  maxDrawdown: { group: 'Risk', label: 'Max drawdown', format: 'percent' },
  maxDrawdownDurationDays: { group: 'Risk', label: 'Max drawdown duration', format: 'days' },
  calmar: { group: 'Risk', label: 'Calmar ratio', format: 'ratio' },
  trades: { group: 'Trades', label: 'Trades', format: 'integer' },
  winRate: { group: 'Trades', label: 'Win rate', format: 'percent' },
  profitFactor: { group: 'Trades', label: 'Profit factor', format: 'ratio' },
  averageWin: { group: 'Trades', label: 'Average win', format: 'money' },
  averageLoss: { group: 'Trades', label: 'Average loss', format: 'money' },
  expectancy: { group: 'Trades', label: 'Expectancy', format: 'money' },
  exposure: { group: 'Exposure and costs', label: 'Time in market', format: 'percent' },
  averageGrossExposure: { group: 'Exposure and costs', label: 'Average gross exposure', format: 'percent' },
  turnover: { group: 'Exposure and costs', label: 'Turnover', format: 'ratio' },
  feesPaid: { group: 'Exposure and costs', label: 'Fees paid', format: 'money' },
};

/** Formats one statistic value as its table shows it. */
export function formatStatistic(value: number, format: StatisticFormat): string {
  switch (format) {
    case 'percent':
      return formatPercent(value);
    case 'ratio':
      return formatRatio(value);
    case 'money':
      return formatMoney(value);
    case 'integer':
      return formatInteger(value);
    case 'days':
      return `${formatInteger(value)} days`;
  }
}

/** The statistics as one small two-column table per group. */
export function statisticsHtml(statistics: RunStatistics): string {
  const groups = new Map<string, string[]>();
  for (const [key, row] of Object.entries(STATISTIC_ROWS)) {
    const value = statistics[key as keyof RunStatistics];
    const html = `<tr><th scope="row">${escapeHtml(row.label)}</th><td>${escapeHtml(formatStatistic(value, row.format))}</td></tr>`;
    groups.set(row.group, [...(groups.get(row.group) ?? []), html]);
  }
  const tables = [...groups].map(
    ([title, rows]) => `<table class="stats"><caption>${escapeHtml(title)}</caption><tbody>${rows.join('')}</tbody></table>`,
  );
  return `<div class="stats-grid">${tables.join('')}</div>`;
}

const TRADE_HEADER = ['#', 'Instrument', 'Direction', 'Quantity', 'Entry (UTC)', 'Exit (UTC)', 'Entry price', 'Exit price', 'Gross P&amp;L', 'Commission', 'Net P&amp;L', 'Return'];

function tradeRow(t: TradeRecord, index: number): string {
  const cells = [
    formatInteger(index + 1),
    t.instrument,
    t.direction,
    formatNumber(t.quantity),
    formatUtc(t.entryTs),
    formatUtc(t.exitTs),
    formatNumber(t.entryPrice, 2),
    formatNumber(t.exitPrice, 2),
    formatMoney(t.grossPnl),
    formatMoney(t.commission),
    formatMoney(t.netPnl),
    formatPercent(t.returnPct),
  ];
  const tone = t.netPnl > 0 ? ' class="win"' : t.netPnl < 0 ? ' class="loss"' : '';
  return `<tr${tone}>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
}

/**
 * The trades as a table. More than `maxRows` trades show as the first and last halves of
 * `maxRows` with a row and a note saying how many were left out.
 */
export function tradesHtml(trades: readonly TradeRecord[], maxRows: number): string {
  if (!Number.isInteger(maxRows) || maxRows < 2) throw new RangeError(`expected at least 2 trade rows, was ${maxRows}`);
  if (trades.length === 0) return '<p class="note">No trades.</p>';
  const head = `<thead><tr>${TRADE_HEADER.map((h) => `<th>${h}</th>`).join('')}</tr></thead>`;
  if (trades.length <= maxRows) {
    return `<table class="trades">${head}<tbody>${trades.map(tradeRow).join('')}</tbody></table>`;
  }
  const first = Math.ceil(maxRows / 2);
  const last = maxRows - first;
  const omitted = trades.length - first - last;
  const rows = [
    ...trades.slice(0, first).map((t, i) => tradeRow(t, i)),
    `<tr class="omitted"><td colspan="${TRADE_HEADER.length}">… ${escapeHtml(formatInteger(omitted))} trades not shown …</td></tr>`,
    ...trades.slice(trades.length - last).map((t, i) => tradeRow(t, trades.length - last + i)),
  ];
  const note = `<p class="note">Showing the first ${formatInteger(first)} and last ${formatInteger(last)} of ${formatInteger(trades.length)} trades.</p>`;
  return `${note}<table class="trades">${head}<tbody>${rows.join('')}</tbody></table>`;
}
