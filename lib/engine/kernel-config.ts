import type { Logger } from '../core/logger.js';
import type { TradingDeskOptions } from '../trading/trading-desk.js';
import type { Clock } from './clock.js';
import type { LiveFeed } from './live-feed.js';
import type { DataClient, ExecutionClient } from './ports.js';
import type { RiskLimits } from './risk-engine.js';
import type { BarSubscription, Environment } from './strategy.js';

/** What a kernel (kernel.ts) is built from, and what may be attached to it */

export interface KernelConfig {
  environment: Environment;
  clock: Clock;
  dataClient: DataClient;
  executionClient: ExecutionClient;
  startingCash: number;
  risk?: RiskLimits;
  /** Seed of every strategy's random stream (each strategy forks it by id) */
  seed?: number;
  logger?: Logger;
  /**
   * Live (push) market data: the one source through which every live subscription (a
   * `LiveSubscription` returned by the data client, e.g. `PushDataClient`) is delivered. A kernel on
   * a wall clock without one creates its own (real timers), so a wall-clock run always waits for
   * data until `requestStop()` or `until`.
   */
  liveFeed?: LiveFeed;
  /** Client order ids `${strategyId}-${prefix}-${id}`: unique across the processes of a live run (see OrderManagerOptions) */
  clientOrderIdPrefix?: string;
  /**
   * Trading rules (lib/trading): `ctx.signal` trades through per-instrument Traders, and exits
   * (take-profit, stop-loss, max hold) protect every open position. None: neither (backtests of
   * strategies that place their own orders run exactly as without).
   */
  trading?: TradingDeskOptions;
}

/** Passive observers of a run (results recorder, journal): called at equity samples and day ends */
export interface RunObserver {
  /** Equity after every event at `ts` was processed */
  onEquity?(ts: number, equity: number): void;
  /** A trading day ended; `day` is its label (00:00 UTC), state is as of the day's last event */
  onDayEnd?(day: number): void;
}

export interface AddStrategyOptions {
  id?: string;
  params?: unknown;
  subscriptions?: readonly BarSubscription[];
  state?: Record<string, unknown>;
}

