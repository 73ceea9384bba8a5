/**
 * The simulated broker's order book for one account: working orders, their matching against the
 * replayed QuoteBook on each `tick(now)`, executions with commissions, and the account ledger.
 * Pure state and rules: no sockets, no timers, no wall clock (the caller passes `now`). Every
 * operation returns the events TWS would report, in TWS's order; orders.ts turns them into
 * messages.
 *
 * Status sequence: a working order is Submitted; it is PreSubmitted while untransmitted
 * (transmit=false), while a bracket child waits for its parent to fill, and while a stop waits to
 * elect. Filled when complete; Cancelled by a cancel, global cancel, OCA / bracket sibling fill,
 * IOC remainder, parent cancel or DAY expiry. A rejected request gets error 201 and, when TWS
 * could describe it (known contract, simulated order type), an Inactive openOrder/orderStatus.
 *
 * Executions are identified like IB's (`0000e1a2.<permId hex>.01.<seq hex>`), deterministic
 * for a given sequence of requests and quotes.
 *
 * Fill models: 'quote' (default) matches against the replayed touch (order-matching.ts); 'backtest'
 * fills on the stored trade bars exactly as the backtest's simulated venue does (backtest-fills.ts),
 * for backtest-vs-live parity checks.
 */
import { ibFixed, newOrderCommissionState, type CommissionModel } from '../../lib/backtest/commission.js';
import { ConfigError } from '../../lib/core/errors.js';
import { barRank, fillOnBar, type FillModel } from './backtest-fills.js';
import type { SimContract } from './contract-match.js';
import { Ledger, type AccountValues, type PortfolioLine, type PositionState } from './ledger.js';
import { EPS, isFinal, isStop, key, orderEvent, OrderState, remaining } from './order-state.js';
import { execId, ORDER_ERRORS, rejectText, requestProblem, TIFS, type BookEvent, type BookOrder, type ExecutionRecord } from './order-types.js';
import { canTrade, dayOrderExpiry, fillPrice, Liquidity, ORDER_TYPES, stopElected, touch, type Side, type SimOrderType, type SimTif } from './order-matching.js';
import type { SimOrderRequest } from './place-order.js';
import { isReplayQuoteBook, lastClosedIndex, lowerBound, type ReplayBars, type ReplaySeries } from './replay-quotes.js';
import type { QuoteBook, SimQuote } from './types.js';

export type { BookEvent, BookOrder, ExecutionRecord, OrderStatus } from './order-types.js';
export { ORDER_ERRORS, rejectText } from './order-types.js';

export interface OrderBookOptions {
  account: string;
  quotes: QuoteBook;
  /** Default 1,000,000 */
  startingCash?: number;
  /** Default IBKR Pro Fixed (stocks per share, futures per contract) */
  commission?: CommissionModel;
  /** First permId handed out (default 1,000,000,001) */
  firstPermId?: number;
  /** Default 'quote' */
  fillModel?: FillModel;
  /** 'backtest' model: adverse slippage of market and stop fills in basis points (default 0) */
  slippageBps?: number;
  /** 'backtest' model: the stored bars of an instrument (default: the quote book's, when it is a replay book) */
  series?: (instrumentKey: string) => Promise<ReplaySeries | undefined>;
}

export class OrderBook extends OrderState {
  readonly ledger: Ledger;
  private readonly maxIdByClient = new Map<number, number>();
  private readonly execs: ExecutionRecord[] = [];
  private readonly liquidity = new Liquidity();
  private readonly commissionModel: CommissionModel;
  private nextPermId: number;
  private readonly series: ((instrumentKey: string) => Promise<ReplaySeries | undefined>) | undefined;

  constructor(private readonly options: OrderBookOptions) {
    super();
    this.ledger = new Ledger(options.account, options.startingCash ?? 1_000_000);
    this.commissionModel = options.commission ?? ibFixed();
    this.nextPermId = options.firstPermId ?? 1_000_000_001;
    const q = options.quotes;
    this.series = options.series ?? (isReplayQuoteBook(q) ? (k) => q.series(k) : undefined);
    const bps = options.slippageBps ?? 0;
    const problems: string[] = [];
    if (options.fillModel !== undefined && options.fillModel !== 'quote' && options.fillModel !== 'backtest') problems.push(`fillModel: expected quote or backtest, was '${String(options.fillModel)}'`);
    if (!(bps >= 0 && Number.isFinite(bps))) problems.push(`slippageBps: expected a number >= 0, was ${bps}`);
    if (options.fillModel === 'backtest' && this.series === undefined) problems.push('fillModel backtest: needs the stored bars (a replay quote book or `series`)');
    if (problems.length > 0) throw new ConfigError('OrderBook', problems);
  }

  get account(): string {
    return this.options.account;
  }

  /**
   * placeOrder: a new order, or a modification when the client already used the id. `contract`
   * is the resolved instrument, or the reason it could not be resolved (rejected with 201).
   */
  place(clientId: number, req: SimOrderRequest, contract: SimContract | string, now: number): BookEvent[] {
    const ev: BookEvent[] = [];
    const existing = this.orders.get(key(clientId, req.orderId));
    const error = (code: number, message: string) => ev.push({ kind: 'error', clientId, orderId: req.orderId, code, message });
    if (existing) {
      const same = typeof contract !== 'string' && contract.conId === existing.contract.conId && req.action === existing.action;
      if (existing.status === 'Filled' && same) error(ORDER_ERRORS.modifyFilled.code, ORDER_ERRORS.modifyFilled.text);
      else if (isFinal(existing) || !same) error(ORDER_ERRORS.duplicateId.code, ORDER_ERRORS.duplicateId.text);
      else this.modify(existing, req, now, ev);
      return ev;
    }
    if (req.orderId <= (this.maxIdByClient.get(clientId) ?? -Infinity)) {
      error(ORDER_ERRORS.duplicateId.code, ORDER_ERRORS.duplicateId.text);
      return ev;
    }
    if (typeof contract === 'string') {
      error(ORDER_ERRORS.rejected, rejectText(contract));
      return ev;
    }
    const problem = this.validate(req, clientId);
    // a rejected order TWS can describe is reported Inactive after the 201; others only get the 201
    if (problem !== undefined && !ORDER_TYPES.includes(req.orderType as SimOrderType)) {
      error(ORDER_ERRORS.rejected, rejectText(problem));
      return ev;
    }
    this.maxIdByClient.set(clientId, req.orderId);
    const tif = TIFS[req.tif] ?? (req.tif as SimTif);
    const order: BookOrder = {
      orderId: req.orderId,
      clientId,
      permId: this.nextPermId++,
      account: this.account,
      contract,
      action: req.action as Side,
      totalQuantity: req.totalQuantity,
      orderType: req.orderType as SimOrderType,
      lmtPrice: req.lmtPrice,
      auxPrice: req.auxPrice,
      tif,
      ocaGroup: req.ocaGroup,
      ocaType: req.ocaType,
      parentId: req.parentId,
      outsideRth: req.outsideRth,
      orderRef: req.orderRef,
      request: req,
      transmitted: req.transmit,
      status: problem === undefined ? 'PreSubmitted' : 'Inactive',
      filled: 0,
      avgFillPrice: 0,
      lastFillPrice: 0,
      elected: false,
      evaluated: false,
      placedAt: now,
      notBefore: now,
      expiresAt: tif === 'DAY' && problem === undefined ? dayOrderExpiry(contract.instrument, now, req.outsideRth) : undefined,
      commissionState: newOrderCommissionState(),
      commission: 0,
      execCount: 0,
    };
    this.orders.set(key(clientId, order.orderId), order);
    if (problem !== undefined) {
      error(ORDER_ERRORS.rejected, rejectText(problem));
      ev.push(orderEvent(order));
      return ev;
    }
    order.status = this.statusOf(order);
    ev.push(orderEvent(order));
    if (req.transmit) this.transmitGroup(order, ev);
    return ev;
  }

  /** cancelOrder from `clientId`: 10147 for an id it never used, 10148 for a finished order. */
  cancel(clientId: number, orderId: number): BookEvent[] {
    const ev: BookEvent[] = [];
    const o = this.orders.get(key(clientId, orderId));
    if (!o) {
      ev.push({ kind: 'error', clientId, orderId, code: ORDER_ERRORS.cancelNotFound, message: `OrderId ${orderId} that needs to be cancelled is not found.` });
    } else if (isFinal(o)) {
      ev.push({ kind: 'error', clientId, orderId, code: ORDER_ERRORS.cancelFinal, message: `OrderId ${orderId} that needs to be cancelled cannot be cancelled, state: ${o.status}.` });
    } else {
      this.cancelOrder(o, ev, true);
    }
    return ev;
  }

  /** reqGlobalCancel: every working order of the account, whichever client placed it. */
  globalCancel(): BookEvent[] {
    const ev: BookEvent[] = [];
    for (const o of this.sorted()) if (!isFinal(o)) this.cancelOrder(o, ev, true);
    return ev;
  }

  /**
   * Advances the book to `now`: expires DAY orders past their session close, elects stops and
   * fills marketable orders against the quotes at `now`, then re-marks open positions.
   */
  async tick(now: number): Promise<BookEvent[]> {
    if (this.options.fillModel === 'backtest') return this.tickOnBars(now);
    const ev: BookEvent[] = [];
    for (const o of this.sorted()) {
      if (!isFinal(o) && o.expiresAt !== undefined && now >= o.expiresAt) this.cancelOrder(o, ev, false);
    }
    const quotes = new Map<string, Promise<SimQuote | undefined>>();
    const quoteOf = (k: string) => {
      let q = quotes.get(k);
      if (!q) quotes.set(k, (q = this.options.quotes.quote(k, now)));
      return q;
    };
    // children released by a fill are matched in the same tick
    const seen = new Set<BookOrder>();
    for (;;) {
      const batch = this.sorted().filter((o) => !seen.has(o) && this.working(o));
      if (batch.length === 0) break;
      for (const o of batch) {
        seen.add(o);
        if (this.working(o)) this.evaluate(o, await quoteOf(o.contract.instrument.key), now, ev);
      }
    }
    for (const k of this.ledger.openKeys()) this.ledger.markFromQuote(k, await quoteOf(k));
    return ev;
  }

  /** Orders not yet finished (untransmitted and held ones included), by client when given. */
  openOrders(clientId?: number): BookOrder[] {
    return this.sorted().filter((o) => !isFinal(o) && (clientId === undefined || o.clientId === clientId));
  }

  order(clientId: number, orderId: number): Readonly<BookOrder> | undefined {
    return this.orders.get(key(clientId, orderId));
  }

  executions(): readonly ExecutionRecord[] {
    return this.execs;
  }

  positions(): PositionState[] {
    return this.ledger.list();
  }

  portfolio(): PortfolioLine[] {
    return this.ledger.portfolio();
  }

  accountValues(): AccountValues {
    return this.ledger.values();
  }

  /** Re-marks open positions at `now` (before reporting account values). */
  async mark(now: number): Promise<void> {
    for (const k of this.ledger.openKeys()) this.ledger.markFromQuote(k, await this.options.quotes.quote(k, now));
  }

  /** Why the request cannot be accepted, or undefined. */
  private validate(req: SimOrderRequest, clientId: number): string | undefined {
    const problem = requestProblem(req, this.account);
    if (problem !== undefined || req.parentId <= 0) return problem;
    const parent = this.orders.get(key(clientId, req.parentId));
    if (!parent) return `Parent order ${req.parentId} is not found`;
    if (parent.status === 'Cancelled' || parent.status === 'Inactive') return `Parent order ${req.parentId} is ${parent.status.toLowerCase()}`;
    return undefined;
  }

  private modify(o: BookOrder, req: SimOrderRequest, now: number, ev: BookEvent[]): void {
    const problem = this.validate({ ...req, parentId: 0 }, o.clientId) ?? (req.totalQuantity <= o.filled + EPS ? `The quantity cannot be reduced to the filled ${o.filled}` : undefined);
    if (problem) {
      ev.push({ kind: 'error', clientId: o.clientId, orderId: o.orderId, code: ORDER_ERRORS.rejected, message: rejectText(problem) });
      return;
    }
    const tif = TIFS[req.tif]!;
    if (tif !== o.tif || req.outsideRth !== o.outsideRth) o.expiresAt = tif === 'DAY' ? dayOrderExpiry(o.contract.instrument, now, req.outsideRth) : undefined;
    o.totalQuantity = req.totalQuantity;
    o.orderType = req.orderType as SimOrderType;
    o.lmtPrice = req.lmtPrice;
    o.auxPrice = req.auxPrice;
    o.tif = tif;
    o.outsideRth = req.outsideRth;
    o.orderRef = req.orderRef;
    o.ocaGroup = req.ocaGroup;
    o.ocaType = req.ocaType;
    o.request = req;
    // a changed order must not fill on bars from before the change (backtest model)
    o.notBefore = Math.max(o.notBefore, now);
    const transmits = req.transmit && !o.transmitted;
    if (transmits) o.transmitted = true;
    o.status = this.statusOf(o);
    ev.push(orderEvent(o));
    if (transmits) this.transmitGroup(o, ev);
  }

  private evaluate(o: BookOrder, q: SimQuote | undefined, now: number, ev: BookEvent[]): void {
    const ioc = o.tif === 'IOC';
    if (!q || !canTrade(o.contract.instrument, now, o.outsideRth)) {
      if (ioc) this.cancelOrder(o, ev, true);
      return;
    }
    // the first look at an open market decides whether a fill takes or adds liquidity
    const first = !o.evaluated;
    o.evaluated = true;
    if (isStop(o.orderType) && !o.elected) {
      if (!stopElected(q, o.action, o.auxPrice!)) {
        if (ioc) this.cancelOrder(o, ev, true);
        return;
      }
      o.elected = true;
      this.refresh(o, ev);
    }
    const t = touch(q, o.action);
    const kind = o.orderType === 'MKT' || o.orderType === 'STP' ? 'market' : 'limit';
    const price = t ? fillPrice(kind, o.action, t.price, o.lmtPrice) : undefined;
    if (t && price !== undefined) {
      const instKey = o.contract.instrument.key;
      let qty = Math.min(remaining(o), this.liquidity.available(instKey, o.action, q.ts, t.price, t.size));
      if (Number.isInteger(remaining(o))) qty = Math.floor(qty);
      if (qty > 0) {
        this.liquidity.take(instKey, o.action, q.ts, t.price, qty);
        this.fill(o, qty, price, now, kind === 'market' || first ? 2 : 1, ev);
      }
    }
    if (ioc && !isFinal(o) && remaining(o) > 0) this.cancelOrder(o, ev, true);
  }

  private fill(o: BookOrder, qty: number, price: number, now: number, liquidity: 1 | 2, ev: BookEvent[]): void {
    const cum = o.filled + qty;
    o.avgFillPrice = Math.round(((o.avgFillPrice * o.filled + price * qty) / cum) * 1e8) / 1e8;
    o.filled = cum;
    o.lastFillPrice = price;
    o.execCount++;
    const inst = o.contract.instrument;
    const commission = this.commissionModel.commission(inst, qty, price, now, o.commissionState);
    o.commission = Math.round((o.commission + commission) * 1e8) / 1e8;
    const { realized, position } = this.ledger.apply(o.contract, o.action, qty, price, commission);
    const execution: ExecutionRecord = {
      execId: execId(o.permId, o.execCount),
      orderId: o.orderId,
      clientId: o.clientId,
      permId: o.permId,
      account: o.account,
      contract: o.contract,
      side: o.action === 'BUY' ? 'BOT' : 'SLD',
      shares: qty,
      price,
      time: now,
      cumQty: cum,
      avgPrice: o.avgFillPrice,
      orderRef: o.orderRef,
      liquidity,
      commission,
      currency: inst.currency,
      realizedPnl: realized,
    };
    this.execs.push(execution);
    if (remaining(o) <= EPS) o.status = 'Filled';
    // TWS's order: execDetails, then the order's new state, then the commission report
    ev.push({ kind: 'execution', execution }, orderEvent(o), { kind: 'commission', execution }, { kind: 'position', position });
    this.cancelLinked(o, qty, ev);
    if (o.status === 'Filled') {
      for (const child of this.children(o)) {
        // released children start after the bar that filled their parent (backtest model)
        child.notBefore = Math.max(child.notBefore, now);
        this.refresh(child, ev);
      }
    }
  }

  /**
   * The 'backtest' model's tick: every working order gets one chance on each stored trade bar that
   * started at or after its `notBefore` and has closed by `now`, bar by bar in time order (within a
   * bar by the backtest's priority); fills are stamped with the bar's close. DAY orders expire after
   * matching, so the bar ending exactly at the close still counts, as in the backtest.
   */
  private async tickOnBars(now: number): Promise<BookEvent[]> {
    const ev: BookEvent[] = [];
    const keys = new Set(this.sorted().filter((o) => this.working(o)).map((o) => o.contract.instrument.key));
    for (const k of keys) {
      const bars = (await this.series!(k))?.trade;
      if (bars) this.matchBars(k, bars, now, ev);
    }
    for (const o of this.sorted()) {
      if (!isFinal(o) && o.expiresAt !== undefined && now >= o.expiresAt) this.cancelOrder(o, ev, false);
    }
    await this.mark(now);
    return ev;
  }

  private matchBars(instKey: string, bars: ReplayBars, now: number, ev: BookEvent[]): void {
    const mine = () =>
      this.sorted()
        .filter((o) => this.working(o) && o.contract.instrument.key === instKey)
        .sort((a, b) => barRank(a.orderType) - barRank(b.orderType) || a.permId - b.permId);
    let orders = mine();
    if (orders.length === 0) return;
    const last = lastClosedIndex(bars.ts, bars.length, bars.intervalMs, now);
    const bar = { open: 0, high: 0, low: 0, close: 0 };
    for (let i = lowerBound(bars.ts, bars.length, Math.min(...orders.map((o) => o.notBefore))); i <= last && orders.length > 0; i++) {
      const t = bars.ts[i]!;
      const close = t + bars.intervalMs;
      bar.open = bars.open[i]!;
      bar.high = bars.high[i]!;
      bar.low = bars.low[i]!;
      bar.close = bars.close[i]!;
      for (const o of orders) {
        // a fill earlier in this bar may have cancelled or released it (OCA, bracket)
        if (!this.working(o) || t < o.notBefore || (o.expiresAt !== undefined && t >= o.expiresAt)) continue;
        o.notBefore = close;
        const elected = o.elected;
        const f = fillOnBar(o, bar, this.options.slippageBps ?? 0);
        if (o.elected !== elected) this.refresh(o, ev);
        if (f !== undefined) this.fill(o, remaining(o), f.price, close, f.maker ? 1 : 2, ev);
        if (o.tif === 'IOC' && !isFinal(o)) this.cancelOrder(o, ev, true);
      }
      orders = mine();
    }
  }

}
