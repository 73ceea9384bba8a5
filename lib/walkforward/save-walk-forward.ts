import type { Store } from '../store/store.js';
import type { WalkForwardResult } from './walk-forward.js';

const finite = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) ? x : null);
const date = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/**
 * Stores a walk-forward run (config, per-fold windows, chosen params and statistics, every point's
 * train score, the stitched out-of-sample curve) in one transaction; returns its run id.
 */
export async function saveWalkForward(store: Store, r: WalkForwardResult): Promise<number> {
  return store.transaction(async () => {
    const rows = await store.all<{ id: number }>(
      `INSERT INTO walkforward_runs (run_id, config_hash, strategy, strategy_version, config, objective, folds, points, backtests, oos_statistics, elapsed_ms)
       VALUES (nextval('walkforward_run_id_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING run_id AS id`,
      [r.configHash, r.strategy.name, r.strategy.version, JSON.stringify(r.config), r.objective, r.folds.length, r.points.length, r.backtests, JSON.stringify(r.oos.statistics), r.elapsedMs],
    );
    const runId = rows[0]!.id;
    const folds = r.folds.map((f) => ({
      fold: f.fold.index,
      trainFrom: date(f.fold.train.from),
      trainTo: date(f.fold.train.to),
      validationFrom: f.fold.validation ? date(f.fold.validation.from) : null,
      validationTo: f.fold.validation ? date(f.fold.validation.to) : null,
      testFrom: date(f.fold.test.from),
      testTo: date(f.fold.test.to),
      params: JSON.stringify(f.params),
      trainObjective: finite(f.trainObjective),
      validationObjective: finite(f.validationObjective),
      train: JSON.stringify(f.train),
      test: JSON.stringify(f.test),
    }));
    await store.run(
      `INSERT INTO walkforward_folds SELECT $1, fold, CAST(trainFrom AS DATE), CAST(trainTo AS DATE), CAST(validationFrom AS DATE), CAST(validationTo AS DATE),
         CAST(testFrom AS DATE), CAST(testTo AS DATE), params, trainObjective, validationObjective, train, test
       FROM (SELECT unnest(from_json($2, '[{"fold":"INTEGER","trainFrom":"VARCHAR","trainTo":"VARCHAR","validationFrom":"VARCHAR","validationTo":"VARCHAR","testFrom":"VARCHAR","testTo":"VARCHAR","params":"VARCHAR","trainObjective":"DOUBLE","validationObjective":"DOUBLE","train":"VARCHAR","test":"VARCHAR"}]'), recursive := true))`,
      [runId, JSON.stringify(folds)],
    );
    const scores = r.scores.map((s) => ({ ...s, params: JSON.stringify(r.points[s.point]), objective: finite(s.objective) }));
    await store.run(
      `INSERT INTO walkforward_scores SELECT $1, fold, point, params, objective, sharpe, totalReturn, maxDrawdown, trades
       FROM (SELECT unnest(from_json($2, '[{"fold":"INTEGER","point":"INTEGER","params":"VARCHAR","objective":"DOUBLE","sharpe":"DOUBLE","totalReturn":"DOUBLE","maxDrawdown":"DOUBLE","trades":"INTEGER"}]'), recursive := true))`,
      [runId, JSON.stringify(scores)],
    );
    const d = r.oos.daily;
    const foldOf = r.folds.flatMap((f) => Array.from({ length: f.testDaily.ts.length }, () => f.fold.index));
    await store.run(
      `INSERT INTO walkforward_equity SELECT $1, CAST(make_timestamp(CAST(ts AS BIGINT)) AS DATE), fold, equity, gross, net
       FROM (SELECT unnest(from_json($2, '[{"ts":"BIGINT","fold":"INTEGER","equity":"DOUBLE","gross":"DOUBLE","net":"DOUBLE"}]'), recursive := true))`,
      [runId, JSON.stringify(Array.from(d.ts, (ts, i) => ({ ts: ts * 1000, fold: foldOf[i], equity: d.equity[i], gross: d.grossExposure[i], net: d.netExposure[i] })))],
    );
    return runId;
  });
}
