import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { reportFigures } from './figures/report-figures.js';
import type { Figure } from './figures/figure.js';
import { escapeHtml, formatUtc } from './html-format.js';
import { statisticsHtml, tradesHtml } from './html-tables.js';
import { inlinePlotlyScript } from './plotly-asset.js';
import type { RunReportInput } from './report-input.js';

/** Options of {@link renderHtmlReport}. */
export interface HtmlReportOptions {
  /** plotly.min.js to inline; by default found under node_modules (see `locatePlotlyJs`) */
  plotlyJsPath?: string;
  /** Shown in the header as given (the report never reads the clock itself) */
  generatedAt?: string;
  /** Trade rows shown at most: beyond it, the first and last halves and a note. Default 50 */
  maxTradeRows?: number;
}

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #212121; margin: 0; background: #fafafa; }
main { max-width: 1200px; margin: 0 auto; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 12px; border-bottom: 1px solid #e0e0e0; padding-bottom: 4px; }
.meta { color: #546e7a; margin: 0 0 12px; } .meta span { margin-right: 18px; }
table { border-collapse: collapse; background: #fff; }
th, td { padding: 4px 10px; border-bottom: 1px solid #eceff1; text-align: left; }
td { font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
.params td { font-family: ui-monospace, Menlo, Consolas, monospace; }
.stats-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 16px; }
.stats { width: 100%; } .stats td { text-align: right; } .stats th { font-weight: normal; color: #455a64; }
.figure { background: #fff; margin: 0 0 16px; border: 1px solid #eceff1; }
.trades { width: 100%; font-size: 13px; } .trades td:nth-child(n+4) { text-align: right; }
.trades tr.win td:nth-child(11) { color: #2e7d32; } .trades tr.loss td:nth-child(11) { color: #c62828; }
.folds td { text-align: right; white-space: nowrap; } .folds td:first-child, .folds td.params { text-align: left; }
.omitted td { text-align: center !important; color: #78909c; font-style: italic; }
.note { color: #607d8b; }
`;

// Renders every figure spec on the page once plotly has loaded (it is inlined in <head>)
const RENDER_SCRIPT = `<script>
(function () {
  var specs = document.querySelectorAll('script[type="application/json"][data-figure]');
  for (var i = 0; i < specs.length; i++) {
    var fig = JSON.parse(specs[i].textContent);
    var target = document.getElementById(specs[i].getAttribute('data-figure'));
    Plotly.newPlot(target, fig.data, fig.layout, { responsive: true, displaylogo: false });
  }
})();
</script>`;

/** JSON safe inside a <script> element: every `<` is escaped, so no `</script` or `<!--` can appear. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

export function paramValue(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function headerHtml(input: RunReportInput, generatedAt: string | undefined): string {
  const meta = [
    `<span>Strategy <strong>${escapeHtml(input.strategy)}</strong> version <strong>${escapeHtml(input.strategyVersion)}</strong></span>`,
    `<span>Data ${escapeHtml(formatUtc(input.from))} to ${escapeHtml(formatUtc(input.to))} (UTC)</span>`,
    generatedAt === undefined ? '' : `<span>Generated ${escapeHtml(generatedAt)}</span>`,
  ];
  const params = Object.entries(input.params).map(
    ([key, value]) => `<tr><th scope="row">${escapeHtml(key)}</th><td>${escapeHtml(paramValue(value))}</td></tr>`,
  );
  const paramsTable = params.length === 0 ? '<p class="note">No parameters.</p>' : `<table class="params"><caption>Parameters</caption><tbody>${params.join('')}</tbody></table>`;
  return `<header><h1>${escapeHtml(input.title)}</h1><p class="meta">${meta.join('')}</p>${paramsTable}</header>`;
}

function figuresHtml(figures: readonly Figure[]): string {
  return figures
    .map((figure, i) => {
      const id = `figure-${i + 1}`;
      return `<div class="figure" id="${id}"></div>\n<script type="application/json" data-figure="${id}">${scriptJson(figure)}</script>`;
    })
    .join('\n');
}

/**
 * Renders a run report as one self-contained HTML document that works offline: plotly.min.js is
 * inlined once, every figure of `reportFigures(input)` is embedded as JSON and drawn on load, and
 * all text from the input is HTML-escaped. About 5 MB, mostly plotly.
 *
 * @throws ConfigError when plotly.min.js cannot be found
 * @example writeFileSync('report.html', renderHtmlReport(input, { generatedAt: new Date().toISOString() }))
 */
export function renderHtmlReport(input: RunReportInput, options: HtmlReportOptions = {}): string {
  return renderHtmlPage(input.title, headerHtml(input, options.generatedAt), reportFigures(input), options, [
    ['Statistics', statisticsHtml(input.statistics)],
    ['Trades', tradesHtml(input.trades, options.maxTradeRows ?? 50)],
  ]);
}

/**
 * The page shell shared by every report: inline plotly, the header, the sections in order with the
 * figures after the first one (`['Charts', …]` placement), and the script that draws them.
 */
export function renderHtmlPage(title: string, header: string, figures: readonly Figure[], options: HtmlReportOptions, sections: readonly [string, string][]): string {
  const [first, ...rest] = sections;
  const section = ([heading, html]: [string, string]) => `<section><h2>${escapeHtml(heading)}</h2>\n${html}\n</section>`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    inlinePlotlyScript(options.plotlyJsPath),
    '</head>',
    '<body><main>',
    header,
    ...(first ? [section(first)] : []),
    section(['Charts', figuresHtml(figures)]),
    ...rest.map(section),
    '</main>',
    RENDER_SCRIPT,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/**
 * Renders the report (see {@link renderHtmlReport}) and writes it to `path`, creating missing
 * folders. Returns the absolute path written.
 */
export function writeHtmlReport(path: string, input: RunReportInput, options: HtmlReportOptions = {}): string {
  const target = resolve(path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, renderHtmlReport(input, options), 'utf8');
  return target;
}
