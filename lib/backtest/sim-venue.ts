/**
 * The simulated execution venue of backtests. Semantics:
 *
 * Time and data. The venue learns time and prices only from onTime/onBar/onQuote/onTrade (which the
 * engine calls before strategies see the same event) and from submit/modify/cancel; bars and ticks
 * are flyweights, so only numbers are kept. Every outcome is a report to the attach()ed sink (which
 * must not call back into the venue synchronously); nothing a strategy does makes it throw.
 *
 * Prices. 'trade' and 'mid' bars and trade ticks fill orders by the rules of fill-rules.ts (a tick is
 * a one-price bar); 'bid'/'ask' bars (their close) and quote ticks update the latest quote.
 * - 'next-open': market orders fill at the open of the next eligible bar (or the next trade print).
 * - 'close': a MARKET or LIMIT order submitted (or modified) while the instrument has a last price
 *   (close of its latest trade/mid bar or latest print, whatever its age) is decided at once against
 *   that price, stamped with the order time; without one it waits like 'next-open'. Stop types
 *   always wait for the next bar.
 * - 'quote': quotes drive fills: buys against the ask, sells against the bid, on every update of
 *   that side; MARKET and LIMIT orders are decided at submit against the latest quote. While a side
 *   has no quote yet, its orders fall back to 'next-open' on trade/mid bars.
 * IOC orders are cancelled after their first fill chance: at submit in 'close'/'quote' mode when a
 *   price is known (only MARKET/LIMIT can fill then), else on the first eligible data.
 * Eligibility: a bar may fill an order only if it started at or after the order's createdAt (or last
 * modification), so nothing fills on prices from before the order existed; each order remembers the
 * end of the last bar (or tick time) it was evaluated on and only uses data starting at or after it,
 * so overlapping intervals never give it two chances on the same prices. Within one event, orders
 * fill market first, then stop types, then limits, each in submission order: when a bar reaches both
 * exits of a bracket the stop-loss wins (the path inside the bar is unknown).
 * Slippage: market and (trailing) stop fills on trade prices pay `slippageBps`; on mid prices half
 * the latest spread (`slippageBps` while no quote is known); quote fills pay the spread only. Limit
 * and stop-limit fills never slip. Liquidity is 'maker' only for limits filled exactly at their
 * limit on later data; fills at submit, gaps and market/stop fills are 'taker'. Commission comes
 * from the model with one OrderCommissionState per order (per-order minimums charged once).
 * Participation: with `participationRate` r, fills per instrument per trade bar (or print) total at
 * most floor(r * volume); the remainder keeps working. Mid bars and quotes are not capped; fills at
 * submit in 'close' mode use what the last bar left.
 *
 * Orders. STOP and TRAILING_STOP orders work as market orders once triggered (a partial fill's
 * remainder fills at the next open); a STOP_LIMIT triggered outside its limit rests as a limit from
 * the next bar (report 'triggered'). A TRAILING_STOP without a stopPrice takes one from the last price
 * at submit, else from its first bar's open; every move of its stop is reported as 'triggered'.
 * - DAY expires at the close of the session (calendarForInstrument) it was submitted in, or of the
 *   next session when submitted outside one. Data starting at/after the close never fills it; the
 *   'expired' report (ts = the close) goes out once the clock is past the close, so the bar ending
 *   exactly at the close still counts. Instruments without a calendar get DAY orders rejected.
 * - Brackets: a child (parentId > 0) is accepted but held until its parent fills, then works for the
 *   parent's filled quantity (less what its OCA siblings filled) from the next bar. When the parent
 *   ends without completing, children are cut to that quantity, or cancelled ('parent cancelled')
 *   when nothing is left. Submit the parent first: a child whose parent the venue does not know
 *   (refused before reaching it, or ended at an earlier time) is accepted and cancelled at once.
 * - OCA (per strategy and group): a complete fill cancels the other members ('OCO'); a partial fill
 *   reduces them by the same quantity ('modified').
 * Cost: an instrument without working orders costs a few field writes per bar and no allocation.
 * Finished orders are forgotten once the clock moves on.
 */
import { ConfigError, InvariantError } from '../core/errors.js';
import type { InstrumentSpec } from '../data/instrument.js';
import type { ExecutionClient, ExecutionReportSink, MarketDrivenVenue } from '../engine/ports.js';
import type { Bar, QuoteTick, TradeTick } from '../model/market.js';
import type { ExecutionReport } from '../model/order-events.js';
import type { Order, OrderChanges, OrderSide } from '../model/orders.js';
import type { CommissionModel } from './commission.js';
import * as rules from './fill-rules.js';
import { changesProblem, dayExpiry, isActive, newSimOrder, orderProblem, type SimOrder } from './sim-order.js';
import { halfSpreadPrice, slippedPrice } from './slippage.js';

export type FillMode = 'next-open' | 'close' | 'quote';

export interface SimulatedVenueConfig {
  fill: FillMode;
  commission: CommissionModel;
  /** Adverse slippage of market/stop fills, basis points; default 0 */
  slippageBps?: number;
  /** 0 < r <= 1: fills per instrument per trade bar capped at floor(r * volume); default unlimited */
  participationRate?: number;
  /** Default 'touch' */
  limitFill?: rules.LimitFillMode;
}

/** Per-instrument state, allocated once per instrument. */
interface Book {
  orders: SimOrder[];
  /** Close of the latest trade/mid bar or the latest print */
  last: number;
  lastIsMid: boolean;
  /** Participation capacity the latest trade bar/print has left */
  lastCapLeft: number;
  bid: number;
  ask: number;
  busy: boolean;
  dirty: boolean;
}

type Source = 'trade' | 'mid' | 'quote' | 'now';
const BUYS = 1;
const SELLS = 2;

/** Simulated venue: matches orders against the engine's own market data. */
export class SimulatedVenue implements ExecutionClient, MarketDrivenVenue {
  readonly name = 'simulated';
  private readonly mode: FillMode;
  private readonly commission: CommissionModel;
  private readonly bps: number;
  private readonly rate: number;
  private readonly limitFill: rules.LimitFillMode;
  private sink: ExecutionReportSink | undefined;
  private readonly books: (Book | undefined)[] = [];
  private readonly live = new Map<number, SimOrder>();
  /** Orders that ended at the current time, so bracket children submitted right after find their parent */
  private readonly ended = new Map<number, { filled: number; complete: boolean }>();
  private readonly children = new Map<number, SimOrder[]>();
  private readonly ocaGroups = new Map<string, SimOrder[]>();
  private readonly point: rules.Ohlc = rules.pointBar(0);
  private now = -Infinity;
  private nextExpiry = Infinity;
  private executions = 0;
  private capLeft = Infinity;

  constructor(config: SimulatedVenueConfig) {
    const problems: string[] = [];
    if (!['next-open', 'close', 'quote'].includes(config.fill)) problems.push(`fill: expected next-open, close or quote, was '${config.fill}'`);
    const bps = config.slippageBps ?? 0;
    if (!Number.isFinite(bps) || bps < 0) problems.push(`slippageBps: expected a number >= 0, was ${bps}`);
    const rate = config.participationRate;
    if (rate !== undefined && !(rate > 0 && rate <= 1)) problems.push(`participationRate: expected 0 < r <= 1, was ${rate}`);
    const limitFill = config.limitFill ?? 'touch';
    if (limitFill !== 'touch' && limitFill !== 'through') problems.push(`limitFill: expected touch or through, was '${limitFill}'`);
    if (problems.length > 0) throw new ConfigError('SimulatedVenue', problems);
    this.mode = config.fill;
    this.commission = config.commission;
    this.bps = bps;
    this.rate = rate ?? NaN;
    this.limitFill = limitFill;
  }

  attach(sink: ExecutionReportSink): void {
    this.sink = sink;
  }

  submit(order: Readonly<Order>, spec: InstrumentSpec): void {
    this.advance(order.createdAt);
    const ts = this.now;
    const problem = this.live.has(order.id) ? `duplicate order id ${order.id}` : orderProblem(order, spec);
    if (problem !== undefined) return this.emit({ type: 'rejected', orderId: order.id, ts, reason: problem });
    const expiresAt = order.tif === 'DAY' ? dayExpiry(spec, order.createdAt) : Infinity;
    if (typeof expiresAt === 'string') return this.emit({ type: 'rejected', orderId: order.id, ts, reason: expiresAt });
    let released = Infinity;
    let parentEnd: { filled: number; complete: boolean } | undefined;
    if (order.parentId > 0) {
      const parent = this.live.get(order.parentId);
      // A parent the venue never saw (refused by risk before reaching it) counts as cancelled unfilled
      parentEnd = parent ? undefined : (this.ended.get(order.parentId) ?? { filled: 0, complete: false });
      released = parent ? parent.filled : parentEnd!.filled;
    }
    const o = newSimOrder(order, spec, released, expiresAt);
    this.emit({ type: 'accepted', orderId: o.id, ts });
    this.register(o);
    if (parentEnd && !parentEnd.complete) this.settleChild(o, ts);
    if (o.done) return;
    const book = this.bookFor(o.instrumentIndex);
    if (o.type === 'TRAILING_STOP' && Number.isNaN(o.stopPrice) && isActive(o)) {
      const ref = this.referencePrice(book, o.side);
      if (Number.isFinite(ref)) this.moveTrailingStop(o, rules.trailingStopFrom(o.side, ref, o.trailingAmount, o.trailingPercent), ts);
    }
    this.tryNow(o, book);
  }

  modify(order: Readonly<Order>, changes: OrderChanges): void {
    const ts = this.now;
    const o = this.live.get(order.id);
    const problem = o ? changesProblem(o, changes) : 'order is not working at the venue';
    if (problem !== undefined || !o) return this.emit({ type: 'modify_rejected', orderId: order.id, ts, reason: problem! });
    if (changes.quantity !== undefined) o.quantity = changes.quantity;
    if (changes.limitPrice !== undefined) o.limitPrice = changes.limitPrice;
    if (changes.stopPrice !== undefined) o.stopPrice = changes.stopPrice;
    // A changed order must not fill on prices from before the change
    o.notBefore = Math.max(o.notBefore, ts);
    this.emitModified(o, ts);
    this.tryNow(o, this.bookFor(o.instrumentIndex));
  }

  cancel(order: Readonly<Order>): void {
    const o = this.live.get(order.id);
    if (!o) {
      this.emit({ type: 'cancel_rejected', orderId: order.id, ts: this.now, reason: 'order is not working at the venue (unknown or finished)' });
      return;
    }
    this.cancelOrder(o, this.now, 'cancel requested');
  }

  onTime(ts: number): void {
    this.advance(ts);
    if (this.now > this.nextExpiry) this.sweepExpired();
  }

  onBar(bar: Readonly<Bar>): void {
    this.advance(bar.closeTime);
    const book = this.bookFor(bar.instrumentIndex);
    if (bar.kind === 'bid' || bar.kind === 'ask') {
      if (bar.kind === 'bid') book.bid = bar.close;
      else book.ask = bar.close;
      if (this.mode === 'quote' && book.orders.length > 0) this.match(book, bar, bar.ts, bar.closeTime, Infinity, 'quote', bar.kind === 'ask' ? BUYS : SELLS);
    } else {
      const cap = bar.kind === 'trade' ? this.cap(bar.volume) : Infinity;
      book.last = bar.close;
      book.lastIsMid = bar.kind === 'mid';
      book.lastCapLeft = cap;
      if (book.orders.length > 0) book.lastCapLeft = this.match(book, bar, bar.ts, bar.closeTime, cap, bar.kind === 'mid' ? 'mid' : 'trade', 0);
    }
    if (this.now > this.nextExpiry) this.sweepExpired();
  }

  onQuote(quote: Readonly<QuoteTick>): void {
    this.advance(quote.ts);
    const book = this.bookFor(quote.instrumentIndex);
    if (Number.isFinite(quote.bid)) book.bid = quote.bid;
    if (Number.isFinite(quote.ask)) book.ask = quote.ask;
    if (this.mode === 'quote' && book.orders.length > 0) this.match(book, this.point, quote.ts, quote.ts, Infinity, 'quote', BUYS | SELLS);
    if (this.now > this.nextExpiry) this.sweepExpired();
  }

  onTrade(trade: Readonly<TradeTick>): void {
    this.advance(trade.ts);
    const book = this.bookFor(trade.instrumentIndex);
    const cap = this.cap(trade.size);
    book.last = trade.price;
    book.lastIsMid = false;
    book.lastCapLeft = cap;
    if (book.orders.length > 0) {
      book.lastCapLeft = this.match(book, rules.pointBar(trade.price, this.point), trade.ts, trade.ts, cap, 'trade', 0);
    }
    if (this.now > this.nextExpiry) this.sweepExpired();
  }

  /** Gives every eligible order of `book` its chance on `bar` (or, for quotes, on its side's price); returns the capacity left. */
  private match(book: Book, bar: rules.Ohlc, start: number, end: number, cap: number, source: Source, quoteSides: number): number {
    this.capLeft = cap;
    book.busy = true;
    const orders = book.orders;
    for (let i = 0; i < orders.length; i++) {
      const o = orders[i]!;
      if (o.done || !isActive(o)) continue;
      if (quoteSides !== 0 && (quoteSides & (o.side === 'BUY' ? BUYS : SELLS)) === 0) continue;
      const quoted = this.quotePrice(book, o.side);
      if (quoteSides !== 0 ? Number.isNaN(quoted) : !Number.isNaN(quoted)) continue;
      if (start >= o.expiresAt) {
        this.expire(o);
        continue;
      }
      if (start < o.notBefore) continue;
      o.notBefore = end;
      this.evaluate(o, book, quoteSides !== 0 ? rules.pointBar(quoted, this.point) : bar, end, source);
    }
    book.busy = false;
    if (book.dirty) {
      book.dirty = false;
      book.orders = orders.filter((x) => !x.done);
    }
    return this.capLeft;
  }

  /** 'close' and 'quote' modes decide MARKET and LIMIT orders at once against the current price. */
  private tryNow(o: SimOrder, book: Book): void {
    if (o.done || !isActive(o)) return;
    const source: Source = this.mode === 'quote' ? 'quote' : 'now';
    const price = this.mode === 'quote' ? this.quotePrice(book, o.side) : this.mode === 'close' ? book.last : NaN;
    if (Number.isNaN(price)) return;
    if (o.type === 'MARKET' || o.type === 'LIMIT' || (o.type === 'STOP_LIMIT' && o.triggered)) {
      this.capLeft = source === 'now' ? book.lastCapLeft : Infinity;
      this.evaluate(o, book, rules.pointBar(price, this.point), this.now, source);
      if (source === 'now') book.lastCapLeft = this.capLeft;
    } else if (o.tif === 'IOC') {
      this.cancelOrder(o, this.now, 'IOC: not filled immediately');
    }
  }

  /** One fill chance for `o` on `bar`; `ts` is the fill time and the end of the data used. */
  private evaluate(o: SimOrder, book: Book, bar: rules.Ohlc, ts: number, source: Source): void {
    let price = NaN;
    let isLimit = false;
    if (o.type === 'MARKET' || (o.triggered && (o.type === 'STOP' || o.type === 'TRAILING_STOP'))) {
      price = rules.marketFillPrice(bar);
    } else if (o.type === 'LIMIT' || (o.type === 'STOP_LIMIT' && o.triggered)) {
      price = rules.limitFillPrice(o.side, o.limitPrice, bar, this.limitFill);
      isLimit = true;
    } else if (o.type === 'STOP') {
      price = rules.stopTriggerPrice(o.side, o.stopPrice, bar);
      o.triggered = !Number.isNaN(price);
    } else if (o.type === 'STOP_LIMIT') {
      const r = rules.stopLimitOnBar(o.side, o.stopPrice, o.limitPrice, bar);
      if (!Number.isNaN(r.triggerPrice)) {
        o.triggered = true;
        this.emit({ type: 'triggered', orderId: o.id, ts, stopPrice: o.stopPrice });
      }
      price = r.fillPrice;
      isLimit = true;
    } else {
      if (Number.isNaN(o.stopPrice)) this.moveTrailingStop(o, rules.trailingStopFrom(o.side, bar.open, o.trailingAmount, o.trailingPercent), ts);
      const r = rules.trailingStopOnBar(o.side, o.stopPrice, o.trailingAmount, o.trailingPercent, bar);
      if (!Number.isNaN(r.fillPrice)) o.triggered = true;
      else if (r.stopPrice !== o.stopPrice) this.moveTrailingStop(o, r.stopPrice, ts);
      price = r.fillPrice;
    }
    if (!Number.isNaN(price)) {
      const maker = isLimit && source !== 'now' && price === o.limitPrice;
      if (!isLimit) price = this.takerPrice(price, o.side, source, book);
      const qty = Math.min(Math.min(o.quantity, o.released) - o.filled, this.capLeft);
      if (qty > 0) {
        this.capLeft -= qty;
        this.fill(o, qty, price, maker, ts);
      }
    }
    if (!o.done && o.tif === 'IOC') this.cancelOrder(o, ts, 'IOC: unfilled quantity cancelled');
  }

  private takerPrice(price: number, side: OrderSide, source: Source, book: Book): number {
    if (source === 'quote') return price;
    const mid = source === 'mid' || (source === 'now' && book.lastIsMid);
    return mid ? halfSpreadPrice(price, side, book.bid, book.ask, this.bps) : slippedPrice(price, side, this.bps);
  }

  private fill(o: SimOrder, quantity: number, price: number, maker: boolean, ts: number): void {
    o.filled += quantity;
    const commission = this.commission.commission(o.spec, quantity, price, ts, o.costs);
    const executionId = `sim-${++this.executions}`;
    this.emit({ type: 'filled', orderId: o.id, ts, quantity, price, commission, executionId, liquidity: maker ? 'maker' : 'taker' });
    const complete = o.filled >= o.quantity;
    for (const kid of this.children.get(o.id) ?? []) {
      // Newly activated children start after the data that filled the parent
      if (!isActive(kid)) kid.notBefore = Math.max(kid.notBefore, ts);
      kid.released += quantity;
    }
    if (complete) this.finish(o, ts);
    if (o.oca) this.applyOca(o, quantity, complete, ts);
  }

  private applyOca(o: SimOrder, quantity: number, complete: boolean, ts: number): void {
    for (const m of [...(this.ocaGroups.get(o.oca) ?? [])]) {
      if (m === o || m.done) continue;
      const reduced = m.quantity - quantity;
      if (complete || reduced <= m.filled) this.cancelOrder(m, ts, 'OCO');
      else {
        // A sibling exit's fill also used up part of what the parent released
        m.quantity = reduced;
        m.released -= quantity;
        this.emitModified(m, ts);
      }
    }
  }

  /** The parent ended without completing: cut the child to what was released, or cancel it. */
  private settleChild(kid: SimOrder, ts: number): void {
    if (kid.filled >= kid.released) this.cancelOrder(kid, ts, 'parent cancelled');
    else if (kid.quantity > kid.released) {
      kid.quantity = kid.released;
      this.emitModified(kid, ts);
    }
  }

  private cancelOrder(o: SimOrder, ts: number, reason: string): void {
    this.emit({ type: 'cancelled', orderId: o.id, ts, reason });
    this.finish(o, ts);
  }

  private expire(o: SimOrder): void {
    this.emit({ type: 'expired', orderId: o.id, ts: o.expiresAt });
    this.finish(o, o.expiresAt);
  }

  private sweepExpired(): void {
    let next = Infinity;
    for (const o of this.live.values()) {
      if (o.done) continue;
      if (o.expiresAt < this.now) this.expire(o);
      else next = Math.min(next, o.expiresAt);
    }
    this.nextExpiry = next;
  }

  private register(o: SimOrder): void {
    this.live.set(o.id, o);
    const list = this.bookFor(o.instrumentIndex).orders;
    let i = list.length;
    while (i > 0 && list[i - 1]!.rank > o.rank) i--;
    list.splice(i, 0, o);
    if (o.parentId > 0) push(this.children, o.parentId, o);
    if (o.oca) push(this.ocaGroups, o.oca, o);
    this.nextExpiry = Math.min(this.nextExpiry, o.expiresAt);
  }

  /** Removes a finished order everywhere; children of a parent that did not complete are settled. */
  private finish(o: SimOrder, ts: number): void {
    o.done = true;
    this.live.delete(o.id);
    this.ended.set(o.id, { filled: o.filled, complete: o.filled >= o.quantity });
    const book = this.bookFor(o.instrumentIndex);
    if (book.busy) book.dirty = true;
    else remove(book.orders, o);
    if (o.oca) pull(this.ocaGroups, o.oca, o);
    if (o.parentId > 0) pull(this.children, o.parentId, o);
    const kids = this.children.get(o.id);
    if (kids) {
      this.children.delete(o.id);
      if (o.filled < o.quantity) for (const kid of kids) if (!kid.done) this.settleChild(kid, ts);
    }
  }

  private moveTrailingStop(o: SimOrder, stop: number, ts: number): void {
    o.stopPrice = stop;
    this.emit({ type: 'triggered', orderId: o.id, ts, stopPrice: stop });
  }

  private emitModified(o: SimOrder, ts: number): void {
    this.emit({ type: 'modified', orderId: o.id, ts, quantity: o.quantity, limitPrice: o.limitPrice, stopPrice: o.stopPrice });
  }

  private emit(report: ExecutionReport): void {
    if (!this.sink) throw new InvariantError('SimulatedVenue: attach() a report sink before sending orders');
    this.sink(report);
  }

  /** Ask for buys / bid for sells in 'quote' mode; NaN otherwise or while unknown. */
  private quotePrice(book: Book, side: OrderSide): number {
    if (this.mode !== 'quote') return NaN;
    const p = side === 'BUY' ? book.ask : book.bid;
    return Number.isFinite(p) ? p : NaN;
  }

  private referencePrice(book: Book, side: OrderSide): number {
    const q = this.quotePrice(book, side);
    return Number.isNaN(q) ? book.last : q;
  }

  private cap(volume: number): number {
    if (Number.isNaN(this.rate) || !Number.isFinite(volume)) return Infinity;
    // The epsilon keeps 0.29 * 100 = 28.999999999999996 from flooring to 28
    return Math.floor(this.rate * volume + 1e-9);
  }

  private advance(ts: number): void {
    if (ts > this.now) {
      this.now = ts;
      if (this.ended.size > 0) this.ended.clear();
    }
  }

  private bookFor(index: number): Book {
    let book = this.books[index];
    if (!book) {
      book = { orders: [], last: NaN, lastIsMid: false, lastCapLeft: Infinity, bid: NaN, ask: NaN, busy: false, dirty: false };
      this.books[index] = book;
    }
    return book;
  }
}

function push<K>(map: Map<K, SimOrder[]>, key: K, o: SimOrder): void {
  const list = map.get(key);
  if (list) list.push(o);
  else map.set(key, [o]);
}

function pull<K>(map: Map<K, SimOrder[]>, key: K, o: SimOrder): void {
  const list = map.get(key);
  if (!list) return;
  remove(list, o);
  if (list.length === 0) map.delete(key);
}

function remove(list: SimOrder[], o: SimOrder): void {
  const i = list.indexOf(o);
  if (i >= 0) list.splice(i, 1);
}
