import type { z } from 'zod';
import type { Logger } from '../core/logger.js';
import type { SeededRandom } from '../core/seeded-random.js';
import type { BarKind, Interval } from '../data/interval.js';
import type { Bar, DepthUpdate, QuoteTick, TradeTick } from '../model/market.js';
import type { Fill, OrderEvent } from '../model/order-events.js';
import type { BracketRequest, Order, OrderChanges, OrderRequest } from '../model/orders.js';
import type { RoutedSignal } from '../signals/signal.js';
import type { HistoryWindow } from './history-window.js';
import type { OrderFactory } from './order-factory.js';
import type { PortfolioView } from './portfolio.js';

export type Environment = 'backtest' | 'replay' | 'paper' | 'live';

/** A bar subscription; `history` bars before now are loaded into the window before the first event */
export interface BarSubscription {
  instrument: string;
  interval: Interval;
  kind?: BarKind;
  /** Bars kept in the history window (also the warm-up loaded on subscribe); default 1 */
  history?: number;
}

/** How an instrument leaves: now, or once it is flat with no working orders (data keeps flowing until then) */
export type UnsubscribeMode = 'immediate' | 'graceful';

/** A small key/value state the runner persists between sessions (JSON values only) */
export interface StrategyState {
  get<T = unknown>(key: string): T | undefined;
  set(key: string, value: unknown): void;
  delete(key: string): void;
  entries(): [string, unknown][];
}

/**
 * Everything a strategy may touch. Time, randomness, config and I/O come only from here, so the
 * same strategy runs identically in backtest, replay, paper and live.
 */
export interface StrategyContext<P = unknown> {
  readonly strategyId: string;
  readonly environment: Environment;
  readonly params: Readonly<P>;
  /** Current engine time: simulated in backtests, wall time live */
  now(): number;
  readonly log: Logger;
  readonly random: SeededRandom;
  readonly state: StrategyState;
  readonly portfolio: PortfolioView;
  readonly orders: OrderFactory;
  /** Instruments with an active subscription, in subscription order */
  instruments(): string[];
  /** The engine's dense index of an instrument (the same as `bar.instrumentIndex`), for array-indexed state */
  instrumentIndex(instrument: string): number;
  /** The history window of a subscription (interval/kind default to the first subscription of the instrument) */
  history(instrument: string, interval?: Interval, kind?: BarKind): HistoryWindow;
  submit(request: OrderRequest): Readonly<Order>;
  submitBracket(request: BracketRequest): { entry: Readonly<Order>; takeProfit: Readonly<Order>; stopLoss: Readonly<Order> };
  modify(order: Readonly<Order> | number, changes: OrderChanges): void;
  cancel(order: Readonly<Order> | number): void;
  /**
   * A trading signal for an instrument (a real number, e.g. a model score in [-1, 1]): the kernel's
   * trading rules turn it into orders (lib/trading: threshold, inversion, unit size up to the max
   * position, spread pricing) under this strategy's id. |value| below the threshold is no view.
   * Needs trading rules (`runBacktest({ trading })`, the runner config's `trading`): a ConfigError
   * otherwise.
   */
  signal(instrument: string, value: number): void;
  /** Cancels every working order of this strategy (of one instrument when given) */
  cancelAll(instrument?: string): void;
  openOrders(instrument?: string): Readonly<Order>[];
  /** Adds a subscription while running; history up to now is loaded before its first bar */
  subscribe(subscription: BarSubscription): void;
  unsubscribe(instrument: string, mode?: UnsubscribeMode): void;
  /** Fires onTimer(name) at `at` (engine time), then every `everyMs` when given */
  setTimer(name: string, at: number, everyMs?: number): void;
  cancelTimer(name: string): void;
}

/** Handlers a strategy implements; all optional. */
export interface Strategy {
  onStart?(): void;
  onBar?(bar: Readonly<Bar>): void;
  onQuote?(quote: Readonly<QuoteTick>): void;
  onTrade?(trade: Readonly<TradeTick>): void;
  onDepth?(update: Readonly<DepthUpdate>): void;
  onOrderEvent?(event: OrderEvent): void;
  onFill?(fill: Fill): void;
  onTimer?(name: string, ts: number): void;
  /**
   * A model's signal (lib/signals) for an instrument its universe made active (subscribed, history
   * warmed up): at the signal's publication time in backtests (merged with the bars in time order,
   * after the bars closing at the same time), when it arrives live. Route it with
   * `ctx.signal(signal.instrument, signal.value)`.
   */
  onSignal?(signal: Readonly<RoutedSignal>): void;
  onStop?(): void;
}

/**
 * A strategy module's export: its identity, its params schema (validated before `create`), and a
 * factory that receives the context. Class-based strategies use `create: (ctx) => new MyStrategy(ctx)`.
 */
export interface StrategyDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  version: string;
  description: string;
  params: S;
  /** Bars of history the strategy needs before its first decision (loaded as warm-up) */
  warmup?(params: z.output<S>): number;
  create(ctx: StrategyContext<z.output<S>>): Strategy;
}

/** Typed identity helper so `create` sees params with their schema's type */
export function defineStrategy<S extends z.ZodType>(definition: StrategyDefinition<S>): StrategyDefinition<S> {
  return definition;
}
