import type { FillRecord, OrderRecord, RunStatistics, TradeRecord, AllocationSeries, DailySeries } from './result-types.js';

/** Everything a backtest produced. `toJSON`-friendly apart from the typed-array series. */
export interface BacktestResult {
  /** sha256 of the canonical run config: equal hashes mean the same run */
  configHash: string;
  environment: 'backtest';
  strategy: { name: string; version: string };
  params: Record<string, unknown>;
  /** The canonical config the hash was computed from */
  config: Record<string, unknown>;
  /** First and last event time (epoch ms; NaN when there were no events) */
  from: number;
  to: number;
  /** Bar events processed */
  bars: number;
  startingCash: number;
  finalValue: number;
  orders: OrderRecord[];
  fills: FillRecord[];
  trades: TradeRecord[];
  /** Positions still open at the end (not in `trades`) */
  openPositions: { instrument: string; quantity: number; averagePrice: number; lastPrice: number }[];
  statistics: RunStatistics;
  /** Sum of |fill quantity x price x multiplier| (turnover's numerator) */
  tradedNotional: number;
  daily: DailySeries;
  equity: { ts: Float64Array; equity: Float64Array };
  allocation: AllocationSeries;
  elapsedMs: number;
}
