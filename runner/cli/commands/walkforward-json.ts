import type { WalkForwardResult } from '../../../lib/walkforward/walk-forward.js';

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const window = (w: { from: number; to: number; first: number; last: number }) => ({ from: day(w.from), to: day(w.to), sessions: w.last - w.first + 1 });

/** The `--json` shape: everything but the curves, stable across reruns apart from elapsed_ms. */
export function walkForwardJson(r: WalkForwardResult) {
  return {
    config_hash: r.configHash,
    strategy: r.strategy,
    objective: r.objective,
    grid: r.axes,
    points: r.points.length,
    skipped: r.skipped,
    folds: r.folds.map((f) => ({
      fold: f.fold.index,
      train: window(f.fold.train),
      validation: f.fold.validation ? window(f.fold.validation) : null,
      test: window(f.fold.test),
      params: f.params,
      train_objective: f.trainObjective,
      validation_objective: f.validationObjective ?? null,
      train_statistics: f.train,
      test_statistics: f.test,
    })),
    oos: { statistics: r.oos.statistics, days: r.oos.daily.ts.length, trades: r.oos.trades },
    backtests: r.backtests,
    workers: r.workers,
    elapsed_ms: r.elapsedMs,
  };
}
