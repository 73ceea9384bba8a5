/**
 * The .ipynb facts the notebook scripts check (pure: JSON in, findings out): whether a committed
 * notebook carries outputs, how to strip them, which cells draw charts and whether each drew a
 * plotly figure.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface NotebookCell {
  cell_type: 'code' | 'markdown' | 'raw';
  source: string | string[];
  metadata?: Record<string, unknown>;
  outputs?: NotebookOutput[];
  execution_count?: number | null;
  [key: string]: unknown;
}

export interface NotebookOutput {
  output_type: 'stream' | 'display_data' | 'execute_result' | 'error' | 'update_display_data';
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
}

/** Attribute markers written by lib/display/plot.ts (kept as literals so scripts need no lib import). */
export const FIGURE_SPEC_ATTRIBUTE = 'data-monger-figure';
export const PLOTLY_EMBED_MARKER = 'data-monger-plotly-embed';

/** A code cell that shows a chart: it calls `show(` (lib/display). */
const CHART_CALL = /(^|[^\w.])show\s*\(/m;

export const text = (s: string | string[] | undefined): string => (Array.isArray(s) ? s.join('') : (s ?? ''));

/** The notebooks in `dir` (`*.ipynb`, sorted, checkpoints excluded). */
export function listNotebooks(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ipynb'))
    .sort()
    .map((f) => join(dir, f));
}

/** What a committed notebook must not carry: outputs, execution counts, run metadata. */
export function strippedProblems(nb: Notebook): string[] {
  const problems: string[] = [];
  nb.cells.forEach((c, i) => {
    if (c.cell_type !== 'code') return;
    if ((c.outputs ?? []).length > 0) problems.push(`cell ${i} has ${c.outputs!.length} output(s)`);
    if (c.execution_count !== null && c.execution_count !== undefined) problems.push(`cell ${i} has execution_count ${c.execution_count}`);
    const meta = c.metadata ?? {};
    for (const key of ['execution', 'collapsed', 'scrolled']) if (key in meta) problems.push(`cell ${i} has metadata.${key}`);
  });
  return problems;
}

/** The notebook without outputs, execution counts and per-run cell metadata (everything else kept). */
export function stripOutputs(nb: Notebook): Notebook {
  return {
    ...nb,
    cells: nb.cells.map((c) => {
      if (c.cell_type !== 'code') return c;
      const { execution: _e, collapsed: _c, scrolled: _s, ...metadata } = c.metadata ?? {};
      return { ...c, metadata, outputs: [], execution_count: null };
    }),
  };
}

/**
 * Serializes like Jupyter's nbformat (keys sorted, 1-space indent, trailing newline), so stripping
 * a clean file changes nothing and a stripped file diffs cleanly against one Jupyter saved.
 */
export function serializeNotebook(nb: Notebook): string {
  return `${JSON.stringify(sortKeys(nb), null, 1)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
  return out;
}

export interface FigureSpec {
  traces: number;
  /** Traces that carry at least one data point */
  nonEmptyTraces: number;
}

/** The figure specs (JSON in `<script data-monger-figure>`) in one HTML output. */
export function figureSpecs(html: string): FigureSpec[] {
  const out: FigureSpec[] = [];
  const re = new RegExp(`<script type="application/json" ${FIGURE_SPEC_ATTRIBUTE}="[^"]*">([\\s\\S]*?)</script>`, 'g');
  for (const m of html.matchAll(re)) {
    const figure = JSON.parse(m[1]!) as { data?: Record<string, unknown>[] };
    const traces = figure.data ?? [];
    const hasPoints = (t: Record<string, unknown>) =>
      ['x', 'y', 'z', 'open', 'values'].some((k) => Array.isArray(t[k]) && (t[k] as unknown[]).some((v) => v !== null && !(Array.isArray(v) && v.every((w) => w === null))));
    out.push({ traces: traces.length, nonEmptyTraces: traces.filter(hasPoints).length });
  }
  return out;
}

const htmlOf = (o: NotebookOutput) => text(o.data?.['text/html'] as string | string[] | undefined);

export interface ChartCheck {
  cell: number;
  /** Figures the cell's outputs hold */
  figures: FigureSpec[];
  problem?: string;
}

/**
 * Every chart cell (one calling `show(`) of an executed notebook must have produced at least one
 * plotly figure with data, and plotly itself must be embedded at or before the first of them.
 */
export function checkCharts(nb: Notebook): { charts: ChartCheck[]; problems: string[] } {
  const charts: ChartCheck[] = [];
  const problems: string[] = [];
  let embeddedAt = -1;
  nb.cells.forEach((c, i) => {
    if (c.cell_type !== 'code') return;
    const outputs = c.outputs ?? [];
    if (embeddedAt < 0 && outputs.some((o) => htmlOf(o).includes(PLOTLY_EMBED_MARKER))) embeddedAt = i;
    if (!CHART_CALL.test(text(c.source))) return;
    const figures = outputs.flatMap((o) => figureSpecs(htmlOf(o)));
    const check: ChartCheck = { cell: i, figures };
    if (figures.length === 0) check.problem = `cell ${i} calls show( but produced no plotly figure`;
    else if (figures.some((f) => f.nonEmptyTraces === 0)) check.problem = `cell ${i} produced a plotly figure without any data`;
    else if (embeddedAt < 0 || embeddedAt > i) check.problem = `cell ${i} drew a figure but plotly.js was not embedded at or before it`;
    if (check.problem) problems.push(check.problem);
    charts.push(check);
  });
  return { charts, problems };
}
