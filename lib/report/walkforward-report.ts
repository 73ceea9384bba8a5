import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { WalkForwardResult } from '../walkforward/walk-forward.js';
import { pointLabel, walkForwardFigures } from './figures/walk-forward.js';
import { escapeHtml, formatPercent, formatRatio, formatInteger, formatUtc } from './html-format.js';
import { renderHtmlPage, type HtmlReportOptions } from './html-report.js';
import { statisticsHtml } from './html-tables.js';

const date = (ms: number) => formatUtc(ms).slice(0, 10);

/** One row per fold: windows, chosen parameters, train and test statistics side by side. */
export function foldTableHtml(r: WalkForwardResult): string {
  const head = ['Fold', 'Train', 'Validation', 'Test', 'Chosen', `Train ${r.objective}`, 'Test Sharpe', 'Test return', 'Test max DD', 'Test trades'];
  const rows = r.folds.map((f) => {
    const cells = [
      formatInteger(f.fold.index),
      `${date(f.fold.train.from)} – ${date(f.fold.train.to)}`,
      f.fold.validation ? `${date(f.fold.validation.from)} – ${date(f.fold.validation.to)}` : '–',
      `${date(f.fold.test.from)} – ${date(f.fold.test.to)}`,
      pointLabel(f.params),
      formatRatio(f.trainObjective),
      formatRatio(f.test.sharpe),
      formatPercent(f.test.totalReturn),
      formatPercent(f.test.maxDrawdown),
      formatInteger(f.test.trades),
    ];
    return `<tr>${cells.map((c, i) => `<td${i === 4 ? ' class="params"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`;
  });
  return `<table class="folds"><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function headerHtml(r: WalkForwardResult, generatedAt?: string): string {
  const split = r.config.split as { mode: string; folds: number; train: number; validation?: number; test?: number; embargo?: number };
  const meta = [
    `<span>Strategy <strong>${escapeHtml(r.strategy.name)}</strong> version <strong>${escapeHtml(r.strategy.version)}</strong></span>`,
    `<span>${escapeHtml(split.mode)} split of ${formatInteger(r.config.sessions as number)} sessions: ${split.folds} folds, train ${split.train}${split.validation ? `, validation ${split.validation}` : ''}, test ${split.test}, embargo ${split.embargo ?? 0}</span>`,
    `<span>${r.points.length} points${r.skipped.length ? ` (${r.skipped.length} rejected by the schema)` : ''}, objective ${escapeHtml(r.objective)}, ${formatInteger(r.backtests)} backtests</span>`,
    generatedAt === undefined ? '' : `<span>Generated ${escapeHtml(generatedAt)}</span>`,
  ];
  return `<header><h1>Walk-forward: ${escapeHtml(r.strategy.name)}</h1><p class="meta">${meta.join('')}</p><p class="meta"><span>config ${escapeHtml(r.configHash.slice(0, 12))}</span></p></header>`;
}

/** A self-contained offline HTML report of a walk-forward run (same page shell as run reports). */
export function renderWalkForwardReport(r: WalkForwardResult, options: HtmlReportOptions = {}): string {
  return renderHtmlPage(`Walk-forward ${r.strategy.name}`, headerHtml(r, options.generatedAt), walkForwardFigures(r), options, [
    ['Out-of-sample statistics (stitched test windows)', statisticsHtml(r.oos.statistics)],
    ['Folds', foldTableHtml(r)],
  ]);
}

export function writeWalkForwardReport(path: string, r: WalkForwardResult, options: HtmlReportOptions = {}): string {
  const target = resolve(path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, renderWalkForwardReport(r, options), 'utf8');
  return target;
}
