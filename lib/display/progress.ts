/**
 * Progress of long cells (ingest, walk-forward, training) as one output updated in place
 * (tslab's `newDisplay`): a bar, counts, elapsed time and the latest details. It implements the
 * library's `ProgressReporter`, so `importFiles(store, paths, { progress: progress('import') })`
 * draws it; `phases()` adapts `runWalkForward`'s `onProgress`. The output that stays in the
 * notebook is the final state. cli-progress and spinners need a TTY and show nothing here.
 */
import { escapeHtml, formatInteger } from '../report/html-format.js';
import type { ProgressReporter } from '../ingest/progress.js';
import { displaySink, type DisplayHandle } from './sink.js';
import { outputHtml } from './style.js';

export interface NotebookProgress extends ProgressReporter {
  /** Adds `n` (default 1) to the done count */
  tick(n?: number, info?: Record<string, string | number>): void;
  /** `runWalkForward({ onProgress })` and other phase/done/total callbacks */
  phases(): (p: { phase: string; done: number; total: number }) => void;
}

export interface ProgressOptions {
  /** Redraw at most this often (ms), besides start and stop. Default 150 */
  minIntervalMs?: number;
  /** Wall clock for elapsed times (tests). Default Date.now */
  now?: () => number;
}

/** Progress as text, e.g. `import  42% 1,234/2,900  1.2 s  file spy.csv`. */
export function progressText(label: string, done: number, total: number, elapsedMs: number, info: Record<string, string | number>, finished: boolean): string {
  const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : finished ? 100 : 0;
  const extra = Object.entries(info).map(([k, v]) => `${k} ${typeof v === 'number' ? formatInteger(v) : v}`);
  const state = finished ? 'done' : `${pct}%`;
  return [label, state, total > 0 ? `${formatInteger(done)}/${formatInteger(total)}` : formatInteger(done), `${(elapsedMs / 1000).toFixed(1)} s`, ...extra].join('  ');
}

/** The progress line as HTML (scoped style; the bar is a div, so it looks alike in every front end). */
export function progressHtml(label: string, done: number, total: number, elapsedMs: number, info: Record<string, string | number>, finished: boolean): string {
  const fraction = total > 0 ? Math.min(1, done / total) : finished ? 1 : 0;
  const extra = Object.entries(info)
    .map(([k, v]) => `${escapeHtml(k)} <b>${escapeHtml(typeof v === 'number' ? formatInteger(v) : v)}</b>`)
    .join(' · ');
  const counts = total > 0 ? `${formatInteger(done)} / ${formatInteger(total)}` : formatInteger(done);
  const pct = finished ? 'done' : `${Math.floor(fraction * 100)}%`;
  return outputHtml(
    `<div class="monger-progress${finished ? ' done' : ''}"><span class="label">${escapeHtml(label)}</span>` +
      `<div class="bar"><div class="fill" style="width:${(fraction * 100).toFixed(1)}%"></div></div>` +
      `<span>${pct} · ${counts} · ${(elapsedMs / 1000).toFixed(1)} s</span><span class="info">${extra}</span></div>`,
  );
}

/**
 * A progress display. `start(total, label)` may be called again for a next phase (the bar
 * restarts, the output stays the same); `stop()` draws the final state.
 */
export function progress(label = 'progress', options: ProgressOptions = {}): NotebookProgress {
  const now = options.now ?? Date.now;
  const minInterval = options.minIntervalMs ?? 150;
  let handle: DisplayHandle | undefined;
  let current = label;
  let total = 0;
  let done = 0;
  let info: Record<string, string | number> = {};
  let started = now();
  let drawnAt = -Infinity;
  let finished = false;
  /** Phases run so far (`train 80/80`), shown in the final state when there were several */
  const phases: string[] = [];
  const phaseSummary = () => `${current === label ? label : current.slice(label.length + 2)} ${formatInteger(done)}/${formatInteger(total)}`;

  const draw = (force: boolean) => {
    const t = now();
    if (!force && t - drawnAt < minInterval) return;
    drawnAt = t;
    handle ??= displaySink().handle();
    handle.update(progressHtml(current, done, total, t - started, info, finished), progressText(current, done, total, t - started, info, finished));
  };

  const reporter: NotebookProgress = {
    start(n, phaseLabel) {
      if (handle === undefined) started = now();
      else if (total > 0) phases.push(phaseSummary());
      total = n;
      done = 0;
      info = {};
      finished = false;
      current = phaseLabel === label || phaseLabel === '' ? label : `${label}: ${phaseLabel}`;
      draw(true);
    },
    update(n, extra) {
      done = n;
      if (extra !== undefined) info = { ...info, ...extra };
      draw(n >= total && total > 0);
    },
    tick(n = 1, extra) {
      reporter.update(done + n, extra);
    },
    stop() {
      finished = true;
      if (phases.length > 0) {
        info = { ...info, phases: [...phases, phaseSummary()].join(', ') };
        current = label;
      }
      draw(true);
    },
    phases() {
      let phase: string | undefined;
      return (p) => {
        if (p.phase !== phase) {
          phase = p.phase;
          reporter.start(p.total, p.phase);
        }
        reporter.update(p.done);
      };
    },
  };
  return reporter;
}
