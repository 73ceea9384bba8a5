import type { BarColumns } from '../data/bar-series.js';
import type { AllocationSeries, DailySeries, FillRecord, RunStatistics, TradeRecord } from '../backtest/result-types.js';

/** OHLCV of one instrument for the trades-on-candles chart. */
export interface PriceSeries extends Pick<BarColumns, 'ts' | 'open' | 'high' | 'low' | 'close' | 'volume'> {
  instrument: string;
  interval: string;
}

/** Everything a run report shows; a backtest result converts to this, so do stored runs. */
export interface RunReportInput {
  title: string;
  strategy: string;
  strategyVersion: string;
  params: Record<string, unknown>;
  /** Data range, epoch ms */
  from: number;
  to: number;
  statistics: RunStatistics;
  /** Equity at a finer resolution than daily (every distinct event time, or daily for daily bars) */
  equity: { ts: Float64Array; equity: Float64Array };
  daily: DailySeries;
  allocation: AllocationSeries;
  trades: readonly TradeRecord[];
  fills: readonly FillRecord[];
  /** Price series for the candlestick charts (usually the traded instruments) */
  prices: readonly PriceSeries[];
}
