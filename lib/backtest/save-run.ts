import type { Store } from '../store/store.js';
import type { BacktestResult } from './backtest-result.js';

const us = (ms: number): number | null => (Number.isFinite(ms) ? Math.round(ms * 1000) : null);

/**
 * Stores a run (config hash, strategy and version, data range, orders, fills, trades, daily equity,
 * statistics) in one transaction and returns its run id.
 */
export async function saveBacktestRun(store: Store, r: BacktestResult): Promise<number> {
  return store.transaction(async () => {
    const rows = await store.all<{ id: number }>(
      `INSERT INTO backtest_runs (run_id, config_hash, environment, strategy, strategy_version, params, config, data_from, data_to, events, final_value, statistics, elapsed_ms)
       VALUES (nextval('backtest_run_id_seq'), $1, $2, $3, $4, $5, $6, make_timestamp(CAST($7 AS BIGINT)), make_timestamp(CAST($8 AS BIGINT)), $9, $10, $11, $12)
       RETURNING run_id AS id`,
      [r.configHash, r.environment, r.strategy.name, r.strategy.version, JSON.stringify(r.params), JSON.stringify(r.config), us(r.from), us(r.to), r.bars, r.finalValue, JSON.stringify(r.statistics), r.elapsedMs],
    );
    const runId = rows[0]!.id;
    await insertJson(
      store,
      runId,
      `INSERT INTO backtest_orders SELECT $1, id, clientOrderId, instrument, side, type, tif, quantity, limitPrice, stopPrice, status, filledQuantity,
         avgFillPrice, commission, parentId, ocaGroup, tag, make_timestamp(CAST(createdAt AS BIGINT)), make_timestamp(CAST(updatedAt AS BIGINT)), reason
       FROM (SELECT unnest(from_json($2, '[{"id":"INTEGER","clientOrderId":"VARCHAR","instrument":"VARCHAR","side":"VARCHAR","type":"VARCHAR","tif":"VARCHAR","quantity":"DOUBLE","limitPrice":"DOUBLE","stopPrice":"DOUBLE","status":"VARCHAR","filledQuantity":"DOUBLE","avgFillPrice":"DOUBLE","commission":"DOUBLE","parentId":"INTEGER","ocaGroup":"VARCHAR","tag":"VARCHAR","createdAt":"BIGINT","updatedAt":"BIGINT","reason":"VARCHAR"}]'), recursive := true))`,
      r.orders.map((o) => ({ ...o, createdAt: us(o.createdAt), updatedAt: us(o.updatedAt) })),
    );
    await insertJson(
      store,
      runId,
      `INSERT INTO backtest_fills SELECT $1, seq, orderId, clientOrderId, instrument, side, quantity, price, commission, make_timestamp(CAST(ts AS BIGINT)), liquidity
       FROM (SELECT unnest(from_json($2, '[{"seq":"INTEGER","orderId":"INTEGER","clientOrderId":"VARCHAR","instrument":"VARCHAR","side":"VARCHAR","quantity":"DOUBLE","price":"DOUBLE","commission":"DOUBLE","ts":"BIGINT","liquidity":"VARCHAR"}]'), recursive := true))`,
      r.fills.map((f, seq) => ({ ...f, seq, ts: us(f.ts) })),
    );
    await insertJson(
      store,
      runId,
      `INSERT INTO backtest_trades SELECT $1, seq, instrument, direction, quantity, make_timestamp(CAST(entryTs AS BIGINT)), make_timestamp(CAST(exitTs AS BIGINT)),
         entryPrice, exitPrice, grossPnl, commission, netPnl, returnPct
       FROM (SELECT unnest(from_json($2, '[{"seq":"INTEGER","instrument":"VARCHAR","direction":"VARCHAR","quantity":"DOUBLE","entryTs":"BIGINT","exitTs":"BIGINT","entryPrice":"DOUBLE","exitPrice":"DOUBLE","grossPnl":"DOUBLE","commission":"DOUBLE","netPnl":"DOUBLE","returnPct":"DOUBLE"}]'), recursive := true))`,
      r.trades.map((t, seq) => ({ ...t, seq, entryTs: us(t.entryTs), exitTs: us(t.exitTs) })),
    );
    const d = r.daily;
    await insertJson(
      store,
      runId,
      `INSERT INTO backtest_daily SELECT $1, CAST(make_timestamp(CAST(ts AS BIGINT)) AS DATE), equity, gross, net
       FROM (SELECT unnest(from_json($2, '[{"ts":"BIGINT","equity":"DOUBLE","gross":"DOUBLE","net":"DOUBLE"}]'), recursive := true))`,
      Array.from(d.ts, (ts, i) => ({ ts: us(ts), equity: d.equity[i], gross: d.grossExposure[i], net: d.netExposure[i] })),
    );
    return runId;
  });
}

async function insertJson(store: Store, runId: number, sql: string, rows: readonly object[]): Promise<void> {
  if (rows.length === 0) return;
  await store.run(sql, [runId, JSON.stringify(rows)]);
}

export interface BacktestRunRow {
  runId: number;
  createdAt: string;
  strategy: string;
  strategyVersion: string;
  configHash: string;
  finalValue: number;
  events: number;
}

export async function listBacktestRuns(store: Store, limit = 20): Promise<BacktestRunRow[]> {
  return store.all<BacktestRunRow>(
    `SELECT run_id AS "runId", strftime(created_at, '%Y-%m-%d %H:%M:%S') AS "createdAt", strategy, strategy_version AS "strategyVersion",
       config_hash AS "configHash", final_value AS "finalValue", CAST(events AS DOUBLE) AS events
     FROM backtest_runs ORDER BY run_id DESC LIMIT ${Math.floor(limit)}`,
  );
}
