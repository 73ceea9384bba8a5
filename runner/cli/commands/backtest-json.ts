import type { BacktestResult } from '../../../lib/backtest/backtest-result.js';

const iso = (ms: number): string | null => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);

/**
 * The `--json` shape: stable key order, ISO timestamps, no wall-clock values except elapsed_ms,
 * so two runs of the same command print the same bytes apart from elapsed_ms.
 */
export function backtestJson(r: BacktestResult): Record<string, unknown> {
  return {
    strategy: r.strategy.name,
    strategy_version: r.strategy.version,
    params: r.params,
    config_hash: r.configHash,
    from: iso(r.from),
    to: iso(r.to),
    bars: r.bars,
    starting_cash: r.startingCash,
    final_value: r.finalValue,
    statistics: r.statistics,
    orders: r.orders.map((o) => ({ ...o, createdAt: iso(o.createdAt), updatedAt: iso(o.updatedAt) })),
    fills: r.fills.length,
    trades: r.trades.map((t) => ({ ...t, entryTs: iso(t.entryTs), exitTs: iso(t.exitTs) })),
    open_positions: r.openPositions,
    elapsed_ms: Math.round(r.elapsedMs),
  };
}
