import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { renderHtmlReport, writeHtmlReport } from '../../lib/report/index.js';
import { syntheticReportInput } from '../../lib/report/test-fixture.js';
import type { RunReportInput } from '../../lib/report/report-input.js';

// Debian's Chromium driven by playwright-core (platform notes §8); never `npx playwright install`
const CHROMIUM = '/usr/bin/chromium';
const LAUNCH_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** The few browser globals the page checks read (tsconfig has no DOM lib). */
interface PageElement {
  textContent: string | null;
  /** Set by plotly on a rendered plot: the traces it drew */
  _fullData?: unknown[];
  querySelectorAll(selector: string): ArrayLike<PageElement> & Iterable<PageElement>;
}
interface PageGlobals {
  document: PageElement & { title: string; querySelector(selector: string): PageElement | null };
  Plotly?: { version: string };
  __injected?: number;
}

const HOSTILE_TITLE = `Run </title><script>window.__injected = 1</script> & "quotes"`;

/** The synthetic run (400 days, 3 instruments, 80 trades) with text that tries to inject markup. */
function hostileInput(): RunReportInput {
  const input = syntheticReportInput();
  return {
    ...input,
    title: HOSTILE_TITLE,
    strategy: '<img src=x onerror="window.__injected = 2">',
    params: { ...input.params, '<b>key</b>': '</td><script>window.__injected = 3</script>' },
  };
}

describe('HTML report document', () => {
  const input = hostileInput();
  const html = renderHtmlReport(input, { generatedAt: '2026-11-02T10:00:00Z' });

  it('inlines plotly once and escapes every text from the input', () => {
    expect(html.split('plotly.js v4.1.2').length - 1).toBe(1);
    expect(html).not.toContain('window.__injected = 1</script>');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<b>key</b>');
    expect(html).toContain('<title>Run &lt;/title&gt;&lt;script&gt;window.__injected = 1&lt;/script&gt; &amp; &quot;quotes&quot;</title>');
    expect(html).toContain('Generated 2026-11-02T10:00:00Z');
    expect(html).toContain('Data 2022-01-03 to 2023-07-14 (UTC)');
  });

  it('formats statistics as percentages, ratios and money', () => {
    const cell = (label: string) => new RegExp(`<th scope="row">${label}</th><td>([^<]*)</td>`).exec(html)?.[1];
    expect(cell('Starting equity')).toBe('100,000.00');
    expect(cell('Total return')).toBe('7.00%');
    expect(cell('Max drawdown')).toBe('-2.94%');
    expect(cell('Sharpe ratio')).toBe('1.23');
    expect(cell('Max drawdown duration')).toBe('12 days');
    expect(cell('Trades')).toBe('80');
  });

  it('shows the first and last trades with a note when there are many', () => {
    expect(input.trades).toHaveLength(80);
    expect(html).toContain('Showing the first 25 and last 25 of 80 trades.');
    expect(html).toContain('… 30 trades not shown …');
    expect(html.match(/<tr class="(?:win|loss)"|<tr><td>/g)).toHaveLength(50);
  });
});

describe('HTML report in Chromium (offline)', () => {
  let browser: Browser | undefined;
  let dir = '';

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('renders every figure with plotly from the file alone, without network or errors', async () => {
    // A missing browser fails the test (CI installs it), never skips it
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is missing at ${CHROMIUM}: install it with 'apt-get install -y chromium' (.ci/run does this in CI)`);
    }
    const launched = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    browser = launched;
    dir = mkdtempSync(join(tmpdir(), 'monger-report-'));
    const input = hostileInput();
    const path = writeHtmlReport(join(dir, 'nested', 'folder', 'report.html'), input, { generatedAt: 'test' });
    expect(readFileSync(path, 'utf8').length).toBeGreaterThan(4_000_000);

    const page = await launched.newPage();
    const networkRequests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => {
      if (!/^(file|data|blob):/.test(r.url())) networkRequests.push(r.url());
    });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    await page.route('**/*', (r) => (r.request().url().startsWith('file:') ? r.continue() : r.abort()));

    await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
    const expectedFigures = 5 + input.prices.length;
    await page.waitForFunction(
      (n) => (globalThis as unknown as PageGlobals).document.querySelectorAll('.js-plotly-plot').length === n,
      expectedFigures,
      { timeout: 30_000 },
    );

    // Runs in the page; the project compiles without DOM types, hence PageGlobals
    const state = await page.evaluate(() => {
      const { document, Plotly, __injected } = globalThis as unknown as PageGlobals;
      const plots = [...document.querySelectorAll('.js-plotly-plot')];
      const specs = [...document.querySelectorAll('script[type="application/json"][data-figure]')];
      return {
        plotlyVersion: Plotly?.version,
        injected: __injected,
        title: document.title,
        h1: document.querySelector('h1')?.textContent,
        renderedTraces: plots.map((p) => p._fullData?.length ?? 0),
        specTraces: specs.map((s) => (JSON.parse(s.textContent ?? '{}') as { data: unknown[] }).data.length),
        svgs: plots.map((p) => p.querySelectorAll('svg.main-svg').length),
      };
    });
    expect(state.plotlyVersion).toBe('4.1.2');
    expect(state.renderedTraces).toHaveLength(expectedFigures);
    expect(state.renderedTraces).toEqual(state.specTraces);
    expect(state.svgs.every((n) => n > 0)).toBe(true);
    expect(state.injected).toBeUndefined();
    expect(state.title).toBe(HOSTILE_TITLE);
    expect(state.h1).toBe(HOSTILE_TITLE);
    expect(errors).toEqual([]);
    expect(networkRequests).toEqual([]);
    await page.close();
  });
});
