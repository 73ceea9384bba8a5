import type { InstrumentSpec } from '../data/instrument.js';
import type { Bar, QuoteTick, TradeTick } from '../model/market.js';
import type { ExecutionReport } from '../model/order-events.js';
import type { Order, OrderChanges } from '../model/orders.js';

/** Where an execution client sends what it learns about orders. The engine queues and applies them. */
export type ExecutionReportSink = (report: ExecutionReport) => void;

/**
 * The execution port: the simulated venue in backtests, the IB execution client in paper/live.
 * Commands return nothing; every outcome (accept, reject, fill, cancel) comes back as a report.
 */
export interface ExecutionClient {
  readonly name: string;
  attach(sink: ExecutionReportSink): void;
  submit(order: Readonly<Order>, instrument: InstrumentSpec): void;
  modify(order: Readonly<Order>, changes: OrderChanges): void;
  cancel(order: Readonly<Order>): void;
}

/**
 * A venue that matches orders against the engine's own market data (the simulated venue).
 * The engine calls these before strategies see the same event, so orders resting from earlier
 * events fill on this event's prices and a strategy never trades on a price it has not seen.
 */
export interface MarketDrivenVenue {
  /** Advance the venue clock; DAY orders expire at their session close */
  onTime(ts: number): void;
  onBar(bar: Readonly<Bar>): void;
  onQuote(quote: Readonly<QuoteTick>): void;
  onTrade(trade: Readonly<TradeTick>): void;
}

export function isMarketDrivenVenue(x: unknown): x is MarketDrivenVenue & ExecutionClient {
  return typeof (x as Partial<MarketDrivenVenue>).onBar === 'function';
}

/** A bar subscription once the kernel has registered its instrument */
export interface ResolvedBarSubscription {
  instrument: string;
  instrumentIndex: number;
  interval: import('../data/interval.js').Interval;
  kind: import('../data/interval.js').BarKind;
  /** Tie-break among equal event times: finer intervals first, then subscription order */
  priority: number;
}

/**
 * The market-data port: stored or replayed bars in backtests, IB in paper/live. The kernel asks for
 * warm-up history, then for a source of bars closing after `now`; the source writes each bar into
 * `target` (a flyweight) and calls `onBar`. Pull clients return their own source (a `BarStream`);
 * push clients (`PushDataClient`) return a `LiveSubscription` of the kernel's `LiveFeed`.
 */
export interface DataClient {
  readonly name: string;
  resolve(instrument: string): Promise<InstrumentSpec>;
  /** The last `count` bars that closed at or before `now`, oldest first */
  history(subscription: ResolvedBarSubscription, count: number, now: number): Promise<import('../data/bar-series.js').BarColumns>;
  subscribeBars(subscription: ResolvedBarSubscription, now: number, target: Bar, onBar: () => void): Promise<import('./event-source.js').EventSource>;
}
