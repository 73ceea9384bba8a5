/**
 * Plotly figures in notebook outputs, offline. The first figure of a kernel session carries
 * plotly.min.js inline (the HTML reports' `inlinePlotlyScript`, about 5 MB once per notebook):
 * that works in the classic Notebook, JupyterLab (trusted outputs run their scripts) and in an
 * nbconvert HTML export, none of which may reach a CDN. Each figure output is a `<div>`, its
 * figure as JSON in a `<script type="application/json">` (the same spec the reports embed) and a
 * small script that draws it.
 *
 * A page reloaded while the kernel lives has no Plotly yet the kernel thinks it was sent: the
 * drawing script then loads plotly.min.js from the Jupyter server (`files/node_modules/…`, which
 * exists when the server runs from the project root as `npm run notebook` starts it), and
 * otherwise says how to recover (`embedPlotly()` or Restart & Run All).
 */
import { randomUUID } from 'node:crypto';
import type { Figure } from '../report/figures/figure.js';
import { inlinePlotlyScript } from '../report/plotly-asset.js';
import { displaySink } from './sink.js';
import { OUTPUT_CSS } from './style.js';

/** Marks the output that carries plotly.min.js (the notebook check looks for it). */
export const PLOTLY_EMBED_MARKER = 'data-monger-plotly-embed';
/** Attribute of every figure's JSON spec (the notebook check parses it). */
export const FIGURE_SPEC_ATTRIBUTE = 'data-monger-figure';

let embedded = false;

/** JSON safe inside a <script> element: every `<` is escaped, so no `</script` or `<!--` can appear. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

// Runs in the page. Kept ES5 (no arrow functions): it also runs in old notebook front ends.
const DRAW_JS = `function mongerDraw(id) {
  var div = document.getElementById('monger-plot-' + id);
  var spec = document.querySelector('script[${FIGURE_SPEC_ATTRIBUTE}="' + id + '"]');
  if (!div || !spec) return;
  function draw() {
    if (div.getAttribute('data-drawn')) return;
    div.setAttribute('data-drawn', '1');
    var fig = JSON.parse(spec.textContent);
    window.Plotly.newPlot(div, fig.data, fig.layout, { responsive: true, displaylogo: false });
  }
  function fail() {
    div.innerHTML = '<div class="monger-plot-missing">Plotly is not loaded in this page. Run <code>embedPlotly()</code> in a cell, or Kernel &gt; Restart &amp; Run All.</div>';
  }
  if (window.Plotly) return draw();
  var base = document.body.getAttribute('data-base-url');
  var config = document.getElementById('jupyter-config-data');
  if (base === null && config) { try { base = JSON.parse(config.textContent).baseUrl; } catch (e) {} }
  if (base === null || base === undefined) return fail();
  var waiting = window.__mongerPlotly = window.__mongerPlotly || [];
  waiting.push(draw);
  if (waiting.length > 1) return;
  var saved = window.define;
  window.define = undefined;
  var tag = document.createElement('script');
  tag.src = base.replace(/\\/?$/, '/') + 'files/node_modules/plotly.js-dist-min/plotly.min.js';
  tag.onload = function () { window.define = saved; window.__mongerPlotly = undefined; for (var i = 0; i < waiting.length; i++) waiting[i](); };
  tag.onerror = function () { window.define = saved; window.__mongerPlotly = undefined; fail(); };
  document.head.appendChild(tag);
}`;

/** The HTML of one figure output (without plotly itself). */
export function figureHtml(figure: Figure, id: string = randomUUID()): string {
  const height = typeof figure.layout['height'] === 'number' ? figure.layout['height'] : 420;
  return [
    `<div class="monger-plot" id="monger-plot-${id}" style="width:100%;min-height:${height}px"></div>`,
    `<script type="application/json" ${FIGURE_SPEC_ATTRIBUTE}="${id}">${scriptJson(figure)}</script>`,
    `<script>(${DRAW_JS})('${id}');</script>`,
  ].join('\n');
}

/** plotly.min.js as an inline script, marked so checks can find it. */
export function plotlyEmbedHtml(): string {
  return `<div ${PLOTLY_EMBED_MARKER} style="display:none"></div>${inlinePlotlyScript()}`;
}

/**
 * Sends plotly.min.js to the page now (again). `show` does this by itself for the first figure
 * of a kernel session; call it after reloading a page whose outputs were cleared.
 */
export function embedPlotly(): void {
  displaySink().html(plotlyEmbedHtml(), '[plotly.js embedded]');
  embedded = true;
}

function figureTitle(figure: Figure): string {
  const title = figure.layout['title'];
  if (typeof title === 'string') return title;
  if (title !== null && typeof title === 'object' && typeof (title as { text?: unknown }).text === 'string') return (title as { text: string }).text;
  return 'figure';
}

/**
 * Shows plotly figures (from `lib/report/figures`, `lib/display/figures` or hand-made
 * `{ data, layout }`) as one output. Outside a notebook it prints one line per figure.
 */
export function show(figures: Figure | readonly Figure[]): void {
  const list: readonly Figure[] = Array.isArray(figures) ? figures : [figures as Figure];
  const parts: string[] = [];
  if (!embedded) {
    parts.push(plotlyEmbedHtml());
    embedded = true;
  }
  parts.push(OUTPUT_CSS, ...list.map((f) => figureHtml(f)));
  const text = list.map((f) => `[figure: ${figureTitle(f)}, ${f.data.length} traces]`).join('\n');
  displaySink().html(parts.join('\n'), text);
}

/** Forgets that plotly was embedded (tests; a new notebook in the same process). */
export function resetPlotlyEmbed(): void {
  embedded = false;
}
