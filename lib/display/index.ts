/**
 * Notebook display helpers (tslab): plotly figures offline, formatted tables, progress.
 *
 *   import { show, table, stats, progress } from './lib/display/index.js';
 *   show(equityDrawdownFigure(input));                  // any Figure, or a list of them
 *   table(await store.all('SELECT …'), { maxRows: 10 }); // rows or columns of typed arrays
 *   stats(result.statistics);                           // the report's statistics tables
 *
 * The figures are the HTML reports' builders (`lib/report/figures`, re-exported here) plus a few
 * notebook views (`./figures.js`); the statistics, trades and fold tables are the reports' too.
 * Outside a notebook every helper prints a plain-text version instead.
 */
import type { RunStatistics, TradeRecord } from '../backtest/result-types.js';
import { escapeHtml } from '../report/html-format.js';
import { statisticsHtml, tradesHtml } from '../report/html-tables.js';
import { foldTableHtml } from '../report/walkforward-report.js';
import type { WalkForwardResult } from '../walkforward/walk-forward.js';
import { displaySink } from './sink.js';
import { outputHtml } from './style.js';
import { tableHtml, tableText, type TableData, type TableOptions } from './table.js';

export { show, embedPlotly, figureHtml } from './plot.js';
export { progress, type NotebookProgress } from './progress.js';
export { candlesFigure, correlationHeatmap, correlationMatrix, histogramsFigure, linesFigure, priceSeries, tradesOnPricesFigure, type Columns } from './figures.js';
export { reviewJournal, type JournalReview, type JournalOrderRow } from './journal-review.js';
export { tableHtml, type TableData, type TableOptions } from './table.js';
export type { ColumnFormat } from './cell-format.js';
export { setDisplaySink, type DisplaySink } from './sink.js';
export * from '../report/figures/index.js';
export { walkForwardFigures, inOutSampleEquityFigure, foldObjectiveFigure, parameterStabilityHeatmap } from '../report/figures/walk-forward.js';

/** Shows rows or columns as a formatted, truncated HTML table (see `tableHtml`). */
export function table(data: TableData, options: TableOptions = {}): void {
  displaySink().html(outputHtml(tableHtml(data, options)), tableText(data, options));
}

/** Shows run statistics grouped as in the HTML reports (returns, risk, trades, exposure). */
export function stats(statistics: RunStatistics, caption?: string): void {
  const head = caption !== undefined ? `<p class="note"><b>${escapeHtml(caption)}</b></p>` : '';
  const text = Object.entries(statistics).map(([k, v]) => `${k}\t${typeof v === 'number' ? v.toFixed(4) : String(v)}`);
  displaySink().html(outputHtml(head + statisticsHtml(statistics)), [...(caption ? [caption] : []), ...text].join('\n'));
}

/** Shows round trips as the reports' trade table (first and last halves of `maxRows`). */
export function trades(list: readonly TradeRecord[], maxRows = 20): void {
  displaySink().html(outputHtml(tradesHtml(list, maxRows)), `${list.length} trades`);
}

/** Shows a walk-forward's folds (windows, chosen parameters, train vs test) as in its report. */
export function folds(result: WalkForwardResult): void {
  displaySink().html(outputHtml(foldTableHtml(result)), `${result.folds.length} folds`);
}

/** Shows raw HTML (wrapped in the scoped output style). */
export function html(body: string, text = ''): void {
  displaySink().html(outputHtml(body), text);
}
