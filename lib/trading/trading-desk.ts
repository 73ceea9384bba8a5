/**
 * The trading rules of a kernel (`KernelConfig.trading`): one Trader per instrument for
 * `ctx.signal(instrument, value)`, and exits (take-profit, stop-loss static or trailing, max hold)
 * for EVERY open position of the book, including positions a strategy opened with its own orders
 * (sma-cross's market orders): an operator who sets stopLossPct expects it to protect whatever is
 * held. Backtests and the runner build the same desk from the same rules, so exits run identically.
 *
 * - Rules per instrument: built-in defaults < rules.defaults < rules.symbols[key or symbol]
 *   (trading-params.ts). Exits need no sizes; signals need unitSize and maxPosition.
 * - Positions are tracked from fills (PositionExits): opened from flat or through zero, grown
 *   (the cost basis moves), closed. Positions already held when the run starts (or when an
 *   instrument is registered) are tracked from then, at their average price.
 * - Exits are checked on every trade/mid bar of the instrument (its close is the mark) and, for
 *   max hold, by a timer at the deadline, so a position is closed on time without new bars. An exit
 *   is a market order for the whole position, submitted as the strategy whose fill opened the
 *   position (its orderRef, its order events; else the first strategy listening to the
 *   instrument): it must fill, like the supervisor's closes. Closing orders already working (the
 *   supervisor's, a strategy's own, a sell signal's) are subtracted: the exit closes only the rest,
 *   and is not sent when they cover the position; the Trader's working entry on the instrument is
 *   cancelled first so it cannot re-open the position. Signals size on the position as it will be
 *   once every working order fills (trader.ts), so an exit and a signal never both close it.
 * - It sits on the kernel as an internal strategy (id `trading-rules`) only for its timers and
 *   lifecycle; it never submits under that id unless no strategy can own an exit.
 * Nothing is allocated per bar: state lives in typed arrays and arrays by instrument index.
 */
import { z } from 'zod';
import { ConfigError, InvariantError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Kernel } from '../engine/kernel.js';
import { workingQuantities } from '../engine/risk-engine.js';
import { defineStrategy, type StrategyContext } from '../engine/strategy.js';
import type { StrategyRuntime } from '../engine/strategy-runtime.js';
import type { Bar } from '../model/market.js';
import type { Fill } from '../model/order-events.js';
import { isTerminal } from '../model/order-state.js';
import type { Order, OrderChanges, OrderRequest, OrderSide } from '../model/orders.js';
import { EXIT, EXIT_NAMES, PositionExits, type ExitReason } from './position-exits.js';
import { Trader, type TraderDecision, type TraderPort } from './trader.js';
import { checkTradingRules, hasExitRules, resolveExitParams, resolveTradingParams, type ExitParams, type TradingRules } from './trading-params.js';

export const TRADING_RULES_ID = 'trading-rules';
/** The version in the orderRef of exits no strategy owns */
export const TRADING_RULES_VERSION = '1.0.0';

/** Latest bid/ask of an instrument (the runner's IB L1; undefined: no quote) */
export type QuoteSource = (key: string, index: number) => { bid: number; ask: number } | undefined;

export interface TradingDeskOptions {
  rules: TradingRules;
  /** Default: the kernel cache's latest quote (none in bar backtests: signals then send market orders) */
  quotes?: QuoteSource;
  /** false: sell signals only close longs. Default: the kernel's RiskLimits.allowShort (true when unset) */
  allowShort?: boolean;
  /** Every order the desk sent or cancelled, every exit (journal) */
  onAction?(action: TradingAction): void;
  logger?: Logger;
}

export interface TradingAction {
  type: 'signal-order' | 'signal-cancel' | 'exit';
  ts: number;
  instrument: string;
  /** The strategy the order was submitted as */
  strategy: string;
  /** exit: take-profit | stop-loss | trailing-stop | max-hold; signal-*: the Trader's decision */
  reason: string;
  orderId?: number;
  side?: OrderSide;
  quantity?: number;
  context?: Record<string, unknown>;
}

/** Counts of what signals led to (diagnostics, tests) */
export type SignalCounts = Record<TraderDecision, number>;

export class TradingDesk {
  readonly rules: TradingRules;
  readonly runtime: StrategyRuntime;
  private readonly ctx: StrategyContext;
  private readonly log: Logger;
  private readonly quotes: QuoteSource;
  private readonly allowShort: boolean;
  private readonly exitsOn: boolean;
  private readonly book = new PositionExits();
  private readonly exitParams: (ExitParams | undefined)[] = [];
  private readonly traders: (Trader | undefined)[] = [];
  private readonly owners: (StrategyRuntime | undefined)[] = [];
  private readonly exitOrders: (Readonly<Order> | undefined)[] = [];
  private readonly port: TraderPort;
  private readonly unsubscribers: (() => void)[] = [];
  /** The strategy whose signal is being handled */
  private signaller: StrategyRuntime | undefined;
  private started = false;
  readonly signals: SignalCounts = { 'no-view': 0, hold: 0, halted: 0, submitted: 0, rejected: 0, repriced: 0, cancelled: 0 };

  constructor(
    private readonly kernel: Kernel,
    private readonly options: TradingDeskOptions,
  ) {
    checkTradingRules(options.rules);
    this.rules = options.rules;
    this.log = (options.logger ?? kernel.log).child({ component: 'trading-rules' });
    this.quotes = options.quotes ?? ((_key, index) => kernel.cache.latestQuote(index));
    this.allowShort = options.allowShort ?? true;
    this.exitsOn = hasExitRules(options.rules);
    const definition = defineStrategy({
      name: TRADING_RULES_ID,
      version: TRADING_RULES_VERSION,
      description: 'Signals into orders and exits of open positions under the trading rules',
      params: z.object({}),
      create: () => ({
        onStart: () => this.start(),
        onTimer: (name: string) => this.onTimer(name),
        onStop: () => this.stop(),
      }),
    });
    this.runtime = kernel.addStrategy(definition, { id: TRADING_RULES_ID });
    this.ctx = this.runtime.context;
    const k = kernel;
    this.port = {
      position: (index) => {
        const w = this.working(index);
        return k.portfolio.quantityAt(index) + w.buy - w.sell;
      },
      closing: (index) => {
        const held = k.portfolio.quantityAt(index);
        if (held === 0) return 0;
        const w = this.working(index);
        return held > 0 ? (w.sell > 0 ? -1 : 0) : w.buy > 0 ? 1 : 0;
      },
      quote: (key, index) => this.quotes(key, index),
      haltReason: (index) => (k.risk.halted ? k.risk.reason : k.risk.instrumentHalt(index)),
      submit: (request: OrderRequest) => k.submit(this.signaller!, request),
      modify: (order: Readonly<Order>, changes: OrderChanges) => k.modify(this.runtimeOf(order.strategyId) ?? this.signaller!, order.id, changes),
      cancel: (order: Readonly<Order>) => k.cancel(this.runtimeOf(order.strategyId) ?? this.signaller!, order.id),
    };
    this.unsubscribers.push(kernel.bus.subscribe('order.fill', (fill) => this.onFill(fill)));
    if (this.exitsOn) this.unsubscribers.push(kernel.bus.subscribe('data.bar', (bar) => this.onBar(bar)));
    this.unsubscribers.push(
      kernel.bus.subscribe('engine.subscription', (m) => {
        if (m.action === 'subscribed') this.onInstrument(m.instrument);
      }),
    );
  }

  /** `ctx.signal(instrument, value)` of `runtime` (see trader.ts and signal-math.ts) */
  signal(runtime: StrategyRuntime, instrument: string, value: number): TraderDecision {
    const index = this.kernel.instruments.indexOf(instrument);
    if (index === undefined) throw new InvariantError(`signal for ${instrument}: no subscription registered it; subscribe first`);
    let trader = this.traders[index];
    if (trader === undefined) {
      const spec = this.kernel.instruments.spec(index);
      trader = new Trader(spec.key, index, resolveTradingParams(this.rules, spec.key, spec.symbol), spec.tickSize, this.allowShort);
      this.traders[index] = trader;
    }
    this.signaller = runtime;
    let decision: TraderDecision;
    try {
      decision = trader.signal(value, this.port);
    } finally {
      this.signaller = undefined;
    }
    this.signals[decision]++;
    if (decision === 'submitted' || decision === 'rejected') {
      const o = trader.lastOrder!;
      this.report({ type: 'signal-order', instrument: trader.key, strategy: runtime.id, reason: decision, orderId: o.id, side: o.side, quantity: o.quantity, context: { signal: value, orderType: o.type, limitPrice: o.limitPrice, position: this.kernel.portfolio.quantityAt(index) } });
    } else if (decision === 'cancelled') {
      this.report({ type: 'signal-cancel', instrument: trader.key, strategy: runtime.id, reason: 'signal against the working order', context: { signal: value } });
    }
    return decision;
  }

  /** The Trader of an instrument, once it has had a signal */
  trader(instrument: string): Trader | undefined {
    const i = this.kernel.instruments.indexOf(instrument);
    return i === undefined ? undefined : this.traders[i];
  }

  /** What the exits track for an instrument (diagnostics, tests) */
  exitState(instrument: string): { side: number; entryPrice: number; entryTime: number; extreme: number; stopPrice: number; takeProfitPrice: number; holdDeadline: number } | undefined {
    const i = this.kernel.instruments.indexOf(instrument);
    const p = i === undefined ? undefined : this.exitParams[i];
    if (i === undefined || p === undefined || !this.book.isOpen(i)) return undefined;
    const b = this.book;
    return { side: b.sideOf(i), entryPrice: b.entryPriceOf(i), entryTime: b.entryTimeOf(i), extreme: b.extremeOf(i), stopPrice: b.stopPrice(i, p), takeProfitPrice: b.takeProfitPrice(i, p), holdDeadline: b.holdDeadline(i, p) };
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  private start(): void {
    this.started = true;
    for (let i = 0; i < this.kernel.instruments.size; i++) this.track(i);
  }

  private stop(): void {
    for (const u of this.unsubscribers.splice(0)) u();
  }

  private onInstrument(key: string): void {
    const i = this.kernel.instruments.indexOf(key);
    if (i !== undefined && this.started) this.track(i);
  }

  /** Resolves the instrument's exit rules once and picks up a position it already holds */
  private params(i: number): ExitParams {
    let p = this.exitParams[i];
    if (p === undefined) {
      const spec = this.kernel.instruments.spec(i);
      p = resolveExitParams(this.rules, spec.key, spec.symbol);
      this.exitParams[i] = p;
      this.book.ensure(i + 1);
    }
    return p;
  }

  private track(i: number): void {
    this.params(i);
    const qty = this.kernel.portfolio.quantityAt(i);
    if (qty === 0 || this.book.isOpen(i)) return;
    this.opened(i, qty, this.kernel.now(), undefined);
  }

  // ---- positions -----------------------------------------------------------------------------

  private onFill(fill: Fill): void {
    const i = fill.instrumentIndex;
    this.params(i);
    const qty = this.kernel.portfolio.quantityAt(i);
    const side = this.book.sideOf(i);
    if (qty === 0) {
      if (side !== 0) this.closed(i);
    } else if (side === 0 || Math.sign(qty) !== side) {
      this.opened(i, qty, fill.ts, fill.strategyId);
    } else if ((fill.side === 'BUY' ? 1 : -1) === side) {
      this.book.reprice(i, this.kernel.portfolio.averagePrice(fill.instrument));
    }
  }

  private opened(i: number, qty: number, ts: number, strategyId: string | undefined): void {
    const key = this.kernel.instruments.spec(i).key;
    this.book.open(i, qty > 0 ? 1 : -1, this.kernel.portfolio.averagePrice(key), ts);
    const owner = strategyId === undefined ? undefined : this.runtimeOf(strategyId);
    this.owners[i] = owner !== undefined && owner !== this.runtime ? owner : undefined;
    const deadline = this.book.holdDeadline(i, this.params(i));
    if (Number.isFinite(deadline)) this.ctx.setTimer(`hold:${key}`, deadline);
  }

  private closed(i: number): void {
    this.book.close(i);
    this.owners[i] = undefined;
    if (this.params(i).maxHoldMinutes !== undefined) this.ctx.cancelTimer(`hold:${this.kernel.instruments.spec(i).key}`);
  }

  // ---- exits ---------------------------------------------------------------------------------

  private onBar(bar: Readonly<Bar>): void {
    const i = bar.instrumentIndex;
    if ((bar.kind !== 'trade' && bar.kind !== 'mid') || !this.book.isOpen(i)) return;
    const reason = this.book.check(i, bar.close, this.kernel.now(), this.exitParams[i]!);
    if (reason !== EXIT.none) this.exit(i, reason, bar.close);
  }

  private onTimer(name: string): void {
    if (!name.startsWith('hold:')) return;
    const i = this.kernel.instruments.indexOf(name.slice(5));
    if (i === undefined || !this.book.isOpen(i)) return;
    const reason = this.book.check(i, NaN, this.kernel.now(), this.params(i));
    if (reason !== EXIT.none) this.exit(i, reason, this.kernel.portfolio.lastPrice(name.slice(5)));
  }

  private exit(i: number, reason: ExitReason, mark: number): void {
    const k = this.kernel;
    const key = k.instruments.spec(i).key;
    const qty = k.portfolio.quantityAt(i);
    if (qty === 0) return;
    const own = this.exitOrders[i];
    if (own !== undefined && !isTerminal(own.status)) return;
    const side: OrderSide = qty > 0 ? 'SELL' : 'BUY';
    // closing orders already working (the supervisor's, a strategy's own exit or signal) close
    // that much: the exit sends only the rest, nothing when they cover the position
    const w = this.working(i);
    const quantity = Math.abs(qty) - (side === 'SELL' ? w.sell : w.buy);
    if (quantity <= 0) return;
    const entry = this.traders[i]?.workingOrder();
    if (entry !== undefined && entry.side !== side && entry.status !== 'PENDING_CANCEL') k.cancel(this.runtimeOf(entry.strategyId) ?? this.runtime, entry.id);
    const owner = this.ownerOf(i, key);
    const name = EXIT_NAMES[reason];
    const p = this.exitParams[i]!;
    const order = k.submit(owner, { instrument: key, side, quantity, type: 'MARKET', tag: `exit:${name}` });
    this.exitOrders[i] = order;
    this.report({
      type: 'exit',
      instrument: key,
      strategy: owner.id,
      reason: name,
      orderId: order.id,
      side,
      quantity,
      context: { position: qty, mark, entryPrice: this.book.entryPriceOf(i), stopPrice: this.book.stopPrice(i, p), takeProfitPrice: this.book.takeProfitPrice(i, p), entryTime: new Date(this.book.entryTimeOf(i)).toISOString(), status: order.status },
    });
  }

  /** Remaining quantities per side of the instrument's working orders, every strategy's (risk-engine.ts) */
  private working(i: number): { buy: number; sell: number } {
    return workingQuantities(this.kernel.orders.working(undefined, this.kernel.instruments.spec(i).key));
  }

  /** Who submits an exit: the strategy that opened the position, else the first one listening to the instrument, else the desk */
  private ownerOf(i: number, key: string): StrategyRuntime {
    const owner = this.owners[i];
    if (owner !== undefined) return owner;
    for (const slot of this.kernel.cache.slotsOf(key)) if (slot.listeners.length > 0) return slot.listeners[0]!;
    return this.runtime;
  }

  private runtimeOf(id: string): StrategyRuntime | undefined {
    return this.kernel.strategyList().find((r) => r.id === id);
  }

  private report(a: Omit<TradingAction, 'ts'>): void {
    const action: TradingAction = { ts: this.kernel.now(), ...a };
    this.log.info(`trading ${action.type}`, { instrument: action.instrument, strategy: action.strategy, reason: action.reason, orderId: action.orderId, side: action.side, quantity: action.quantity, ...action.context });
    try {
      this.options.onAction?.(action);
    } catch (e) {
      this.log.error('trading onAction failed', { error: e instanceof Error ? e.message : String(e), action: action.type });
    }
  }
}

/** A ConfigError for `ctx.signal` on a kernel without trading rules */
export function noTradingRules(strategy: string): ConfigError {
  return new ConfigError(`strategy ${strategy}`, ['ctx.signal needs trading rules (unit size, max position, …): pass `trading` to runBacktest / the Kernel, or a `trading` section in the runner config']);
}
