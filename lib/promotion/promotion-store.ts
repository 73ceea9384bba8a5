import type { RunStatistics } from '../backtest/result-types.js';
import type { Store } from '../store/store.js';
import type { GateResult } from './gates.js';
import { recordJson, type ReleaseRecord } from './release-record.js';

/** A `strategy_promotions` row (migration 7) */
export interface PromotionRow {
  promotionId: number;
  createdAt: string;
  strategy: string;
  version: string;
  status: 'promoted' | 'refused';
  tag: string | null;
  commit: string;
  contentHash: string;
  dataHash: string;
  backtestRunId: number | null;
  walkforwardRunId: number | null;
  statistics: { backtest: RunStatistics; oos: RunStatistics };
  gates: GateResult[];
}

export interface PromotionAttempt {
  strategy: string;
  version: string;
  status: 'promoted' | 'refused';
  commit: string;
  contentHash: string;
  dataHash: string;
  backtestRunId: number | null;
  walkforwardRunId: number | null;
  statistics: { backtest: RunStatistics; oos: RunStatistics };
  gates: readonly GateResult[];
  /** The full record of a promoted version */
  record?: ReleaseRecord;
}

const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? null : x));

/** Stores one attempt and returns its id. */
export async function savePromotion(store: Store, a: PromotionAttempt): Promise<number> {
  const rows = await store.all<{ id: number }>(
    `INSERT INTO strategy_promotions (promotion_id, strategy, version, status, tag, git_commit, content_hash, data_hash, backtest_run_id, walkforward_run_id, statistics, gates, record)
     VALUES (nextval('strategy_promotion_id_seq'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING promotion_id AS id`,
    [
      a.strategy,
      a.version,
      a.status,
      a.record?.tag ?? null,
      a.commit,
      a.contentHash,
      a.dataHash,
      a.backtestRunId,
      a.walkforwardRunId,
      json(a.statistics),
      json(a.gates),
      a.record ? recordJson(a.record) : null,
    ],
  );
  return rows[0]!.id;
}

export async function deletePromotion(store: Store, promotionId: number): Promise<void> {
  await store.run('DELETE FROM strategy_promotions WHERE promotion_id = $1', [promotionId]);
}

/** Attempts, newest first; of one strategy when given. */
export async function listPromotions(store: Store, strategy?: string): Promise<PromotionRow[]> {
  const rows = await store.all<Record<string, unknown>>(
    `SELECT promotion_id, CAST(created_at AS VARCHAR) AS created_at, strategy, version, status, tag, git_commit, content_hash, data_hash,
            backtest_run_id, walkforward_run_id, CAST(statistics AS VARCHAR) AS statistics, CAST(gates AS VARCHAR) AS gates
     FROM strategy_promotions ${strategy === undefined ? '' : 'WHERE strategy = $1'} ORDER BY promotion_id DESC`,
    strategy === undefined ? [] : [strategy],
  );
  return rows.map((r) => ({
    promotionId: r.promotion_id as number,
    createdAt: r.created_at as string,
    strategy: r.strategy as string,
    version: r.version as string,
    status: r.status as 'promoted' | 'refused',
    tag: (r.tag as string | null) ?? null,
    commit: r.git_commit as string,
    contentHash: r.content_hash as string,
    dataHash: r.data_hash as string,
    backtestRunId: (r.backtest_run_id as number | null) ?? null,
    walkforwardRunId: (r.walkforward_run_id as number | null) ?? null,
    statistics: JSON.parse(r.statistics as string) as PromotionRow['statistics'],
    gates: JSON.parse(r.gates as string) as GateResult[],
  }));
}
