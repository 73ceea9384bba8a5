import type { OrderSide, OrderStatus, OrderType, TimeInForce } from '../model/orders.js';

/** A round trip: from flat to flat (a flip closes one trade and opens the next). */
export interface TradeRecord {
  instrument: string;
  direction: 'LONG' | 'SHORT';
  /** Largest absolute position held during the trade */
  quantity: number;
  entryTs: number;
  exitTs: number;
  /** Volume-weighted price of the fills that opened/increased the position */
  entryPrice: number;
  /** Volume-weighted price of the fills that reduced/closed it */
  exitPrice: number;
  /** Price P&L times multiplier, before commissions */
  grossPnl: number;
  commission: number;
  /** grossPnl - commission */
  netPnl: number;
  /** netPnl relative to the entry notional (entryPrice * quantity * multiplier) */
  returnPct: number;
}

export interface FillRecord {
  orderId: number;
  clientOrderId: string;
  instrument: string;
  side: OrderSide;
  quantity: number;
  price: number;
  commission: number;
  ts: number;
  liquidity: 'maker' | 'taker';
}

export interface OrderRecord {
  id: number;
  clientOrderId: string;
  instrument: string;
  side: OrderSide;
  type: OrderType;
  tif: TimeInForce;
  quantity: number;
  limitPrice: number | null;
  stopPrice: number | null;
  status: OrderStatus;
  filledQuantity: number;
  avgFillPrice: number | null;
  commission: number;
  parentId: number;
  ocaGroup: string;
  tag: string;
  createdAt: number;
  updatedAt: number;
  reason: string;
}

/** Equity sampled at each trading day's end (the last event of the day). */
export interface DailySeries {
  /** Trading date at 00:00 UTC, epoch ms */
  ts: Float64Array;
  equity: Float64Array;
  /** Sum of |position value| at the sample */
  grossExposure: Float64Array;
  /** Sum of signed position value at the sample */
  netExposure: Float64Array;
}

/** Per-instrument position value over time (allocation heatmap), sampled daily. */
export interface AllocationSeries {
  ts: Float64Array;
  instruments: string[];
  /** values[i][t]: signed position value of instrument i at ts[t] */
  values: Float64Array[];
}

/** Statistics of one run. Every field is documented in lib/backtest/statistics.ts. */
export interface RunStatistics {
  startingEquity: number;
  finalEquity: number;
  totalReturn: number;
  annualReturn: number;
  annualVolatility: number;
  sharpe: number;
  sortino: number;
  probabilisticSharpe: number;
  maxDrawdown: number;
  maxDrawdownDurationDays: number;
  calmar: number;
  trades: number;
  winRate: number;
  profitFactor: number;
  averageWin: number;
  averageLoss: number;
  expectancy: number;
  turnover: number;
  exposure: number;
  averageGrossExposure: number;
  feesPaid: number;
  days: number;
}

/** Inputs of the statistics kernel (all plain data, so it runs on any source of equity). */
export interface StatisticsInput {
  startingEquity: number;
  daily: DailySeries;
  trades: readonly TradeRecord[];
  feesPaid: number;
  /** Sum of |fill quantity * price * multiplier| */
  tradedNotional: number;
  /** Periods per year for annualization (252 trading days) */
  periodsPerYear?: number;
  /** Annual risk-free rate, default 0 */
  riskFreeRate?: number;
}
