/** Run reports: plotly figure builders (shared with notebooks) and a self-contained HTML report. */
export type { PriceSeries, RunReportInput } from './report-input.js';
export * from './figures/index.js';
export { renderHtmlReport, writeHtmlReport, type HtmlReportOptions } from './html-report.js';
export { locatePlotlyJs, inlinePlotlyScript } from './plotly-asset.js';
export { escapeHtml } from './html-format.js';
export { renderWalkForwardReport, writeWalkForwardReport, foldTableHtml } from './walkforward-report.js';
export { inOutSampleEquityFigure, foldObjectiveFigure, parameterStabilityHeatmap, walkForwardFigures } from './figures/walk-forward.js';
