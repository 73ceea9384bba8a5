import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { smallReportInput } from '../report/test-fixture.js';
import { equityDrawdownFigure } from '../report/figures/equity-drawdown.js';
import type { Figure } from '../report/figures/figure.js';
import { figureHtml, resetPlotlyEmbed, show, PLOTLY_EMBED_MARKER, FIGURE_SPEC_ATTRIBUTE } from './plot.js';
import { progress } from './progress.js';
import { setDisplaySink, type DisplaySink } from './sink.js';
import { stats, table } from './index.js';

/** A sink that records what the helpers would send to the notebook. */
function recorder() {
  const outputs: { html: string; text: string }[] = [];
  const handles: { html: string; text: string }[][] = [];
  const sink: DisplaySink = {
    html: (html, text) => outputs.push({ html, text }),
    handle: () => {
      const updates: { html: string; text: string }[] = [];
      handles.push(updates);
      return { update: (html, text) => updates.push({ html, text }) };
    },
  };
  return { sink, outputs, handles };
}

const specsOf = (html: string) => [...html.matchAll(new RegExp(`<script type="application/json" ${FIGURE_SPEC_ATTRIBUTE}="([^"]+)">([\\s\\S]*?)</script>`, 'g'))].map((m) => ({ id: m[1]!, figure: JSON.parse(m[2]!) as Figure }));

let rec: ReturnType<typeof recorder>;
let previous: DisplaySink;
beforeEach(() => {
  rec = recorder();
  previous = setDisplaySink(rec.sink);
  resetPlotlyEmbed();
});
afterEach(() => {
  setDisplaySink(previous);
});

describe('show', () => {
  it('embeds plotly.js once, with the first figure, then only figure specs', () => {
    const figure = equityDrawdownFigure(smallReportInput());
    show(figure);
    show([figure, figure]);
    expect(rec.outputs).toHaveLength(2);
    const [first, second] = rec.outputs;
    expect(first!.html).toContain(PLOTLY_EMBED_MARKER);
    expect(first!.html.split('plotly.js v4.1.2').length - 1).toBe(1);
    expect(second!.html).not.toContain(PLOTLY_EMBED_MARKER);
    expect(second!.html.length).toBeLessThan(100_000);
    // the spec is the figure itself, so the report and the notebook draw the same JSON
    expect(specsOf(first!.html).map((s) => s.figure)).toEqual([JSON.parse(JSON.stringify(figure))]);
    const ids = specsOf(second!.html).map((s) => s.id);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
    for (const id of ids) {
      expect(second!.html).toContain(`id="monger-plot-${id}"`);
      expect(second!.html).toContain(`('${id}');</script>`);
    }
    expect(second!.text).toBe('[figure: Equity and drawdown, 2 traces]\n[figure: Equity and drawdown, 2 traces]');
  });

  it('keeps text from a figure inside its script element', () => {
    const hostile: Figure = { data: [{ type: 'scatter', x: [1], y: [2], name: '</script><script>alert(1)</script>' }], layout: { title: { text: '<!-- x' } } };
    const html = figureHtml(hostile, 'abc');
    expect(html).not.toContain('</script><script>alert(1)');
    expect(html).not.toContain('<!-- x');
    expect(specsOf(html)[0]!.figure).toEqual(hostile);
    // the drawing div takes the figure's height before plotly runs
    expect(figureHtml({ data: [], layout: { height: 555 } }, 'h')).toContain('min-height:555px');
  });
});

describe('progress', () => {
  it('draws one output that each update replaces, at most every minIntervalMs, and its final state on stop', () => {
    let now = 1_000;
    const p = progress('import', { now: () => now, minIntervalMs: 100 });
    p.start(400, 'import');
    now += 10;
    p.update(100, { file: 'spy.csv' }); // within 100 ms of the start: not drawn
    now += 150;
    p.update(200, { rows: 1234 });
    now += 10;
    p.stop();
    expect(rec.handles).toHaveLength(1);
    const texts = rec.handles[0]!.map((u) => u.text);
    expect(texts).toEqual(['import  0%  0/400  0.0 s', 'import  50%  200/400  0.2 s  file spy.csv  rows 1,234', 'import  done  200/400  0.2 s  file spy.csv  rows 1,234']);
    const last = rec.handles[0]!.at(-1)!.html;
    expect(last).toContain('monger-progress done');
    expect(last).toContain('width:50.0%');
  });

  it('follows phases of a walk-forward callback in the same output', () => {
    let now = 0;
    const p = progress('walk-forward', { now: () => now, minIntervalMs: 0 });
    const onProgress = p.phases();
    onProgress({ phase: 'train', done: 1, total: 2 });
    now += 500;
    onProgress({ phase: 'train', done: 2, total: 2 });
    onProgress({ phase: 'test', done: 1, total: 4 });
    p.stop();
    const texts = rec.handles[0]!.map((u) => u.text);
    expect(texts[0]).toBe('walk-forward: train  0%  0/2  0.0 s');
    expect(texts).toContain('walk-forward: train  100%  2/2  0.5 s');
    expect(texts.at(-1)).toBe('walk-forward  done  1/4  0.5 s  phases train 2/2, test 1/4');
  });
});

describe('table and stats', () => {
  it('send the scoped style with the HTML and a text version for terminals', () => {
    table([{ a: 1 }]);
    stats(smallReportInput().statistics, 'Run <1>');
    const [t, s] = rec.outputs;
    expect(t!.html).toMatch(/^<style>[\s\S]*<\/style><div class="monger-output"><table class="monger-table">/);
    expect(t!.text).toBe('a\n1');
    expect(s!.html).toContain('<b>Run &lt;1&gt;</b>');
    expect(s!.html).toContain('<th scope="row">Sharpe ratio</th><td>1.23</td>');
  });
});
