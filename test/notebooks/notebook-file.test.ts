/**
 * The notebook checks of `npm run test:notebooks`: committed notebooks are stripped, stripping is
 * stable, and a chart cell counts only when it produced a plotly figure with data.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { figureHtml, plotlyEmbedHtml } from '../../lib/display/plot.js';
import { kernelSpec } from '../../scripts/notebooks/jupyter-env.js';
import { checkCharts, figureSpecs, listNotebooks, serializeNotebook, strippedProblems, stripOutputs, type Notebook, type NotebookCell } from '../../scripts/notebooks/notebook-file.js';

const code = (source: string, outputs: NotebookCell['outputs'] = [], extra: Partial<NotebookCell> = {}): NotebookCell => ({ cell_type: 'code', source, metadata: {}, outputs, execution_count: null, ...extra });
const html = (s: string) => ({ output_type: 'display_data' as const, data: { 'text/html': s }, metadata: {} });
const notebook = (cells: NotebookCell[]): Notebook => ({ cells, metadata: { kernelspec: { name: 'monger' } }, nbformat: 4, nbformat_minor: 4 });
const figure = { data: [{ type: 'scatter', x: ['2024-01-01'], y: [1] }], layout: {} };

describe('committed notebooks', () => {
  const paths = listNotebooks('notebooks');

  it('exist for data, features, backtest, walk-forward and replay, on the monger kernel', () => {
    expect(paths.map((p) => p.replace(/^notebooks\//, ''))).toEqual(expect.arrayContaining(['01-data.ipynb', '02-features.ipynb', '03-backtest.ipynb', '04-walkforward.ipynb', '06-replay.ipynb']));
    for (const p of paths) expect((JSON.parse(readFileSync(p, 'utf8')) as Notebook).metadata['kernelspec']).toMatchObject({ name: 'monger', language: 'typescript' });
  });

  it('carry no outputs and are byte-identical to their stripped form (npm run notebooks:strip)', () => {
    for (const p of paths) {
      const text = readFileSync(p, 'utf8');
      const nb = JSON.parse(text) as Notebook;
      expect(strippedProblems(nb), p).toEqual([]);
      expect(serializeNotebook(stripOutputs(nb)), p).toBe(text);
    }
  });
});

describe('stripOutputs', () => {
  it('drops outputs, execution counts and per-run metadata, keeping sources and other metadata', () => {
    const dirty = notebook([code('show(f)', [html('<div>')], { execution_count: 3, metadata: { execution: { start: 1 }, scrolled: true, tags: ['keep'] } }), { cell_type: 'markdown', source: '# hi', metadata: {} }]);
    expect(strippedProblems(dirty)).toEqual(['cell 0 has 1 output(s)', 'cell 0 has execution_count 3', 'cell 0 has metadata.execution', 'cell 0 has metadata.scrolled']);
    const clean = stripOutputs(dirty);
    expect(clean.cells[0]).toEqual(code('show(f)', [], { metadata: { tags: ['keep'] } }));
    expect(clean.cells[1]).toEqual(dirty.cells[1]);
    expect(strippedProblems(clean)).toEqual([]);
  });

  it('serializes like nbformat: sorted keys, one-space indent, final newline', () => {
    expect(serializeNotebook({ nbformat: 4, cells: [], nbformat_minor: 4, metadata: { b: 1, a: 2 } })).toBe('{\n "cells": [],\n "metadata": {\n  "a": 2,\n  "b": 1\n },\n "nbformat": 4,\n "nbformat_minor": 4\n}\n');
  });
});

describe('checkCharts', () => {
  it('accepts chart cells whose outputs hold a figure with data after plotly was embedded', () => {
    const nb = notebook([code('const x = 1;'), code('show(fig)', [html(`${plotlyEmbedHtml().slice(0, 200)}${figureHtml(figure, 'a')}`)]), code('show([f, g]);', [html(figureHtml(figure, 'b') + figureHtml(figure, 'c'))])]);
    const { charts, problems } = checkCharts(nb);
    expect(problems).toEqual([]);
    expect(charts.map((c) => [c.cell, c.figures.length])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it('reports a chart cell without a figure, with an empty figure, or before plotly was embedded', () => {
    const empty = { data: [{ type: 'scatter', x: [], y: [null] }], layout: {} };
    const nb = notebook([code('show(a)', [html(figureHtml(figure, 'a'))]), code('x.show(1); show(b)', []), code('show(c)', [html(`${plotlyEmbedHtml().slice(0, 200)}${figureHtml(empty, 'e')}`)])]);
    expect(checkCharts(nb).problems).toEqual([
      'cell 0 drew a figure but plotly.js was not embedded at or before it',
      'cell 1 calls show( but produced no plotly figure',
      'cell 2 produced a plotly figure without any data',
    ]);
    // a method named show on something else is not a chart call
    expect(checkCharts(notebook([code('button.show()')])).charts).toEqual([]);
  });

  it('reads the figure specs lib/display writes', () => {
    expect(figureSpecs(figureHtml({ data: [{ type: 'heatmap', z: [[null, 1]] }, { type: 'bar', x: [] }], layout: {} }, 'z'))).toEqual([{ traces: 2, nonEmptyTraces: 1 }]);
  });
});

describe('kernelSpec', () => {
  it('starts this checkout`s tslab in the project root with the connection file as its own argument', () => {
    const spec = kernelSpec('/work/my project', '/usr/bin/node') as { argv: string[]; language: string };
    expect(spec.language).toBe('typescript');
    expect(spec.argv.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(spec.argv.slice(3)).toEqual(['{connection_file}', '/work/my project', '/usr/bin/node']);
    // paths reach the shell as positional parameters, never spliced into the script
    expect(spec.argv[2]).not.toContain('/work/my project');
    expect(spec.argv[2]).toBe('cd "$1" && exec "$2" "$1/scripts/notebooks/kernel.cjs" kernel --config-path "$0"');
  });
});
