import { InvariantError } from '../core/errors.js';
import type { ExecutionReport, Fill, OrderEvent, OrderEventType } from '../model/order-events.js';
import { isTerminal, isWorking, nextStatus } from '../model/order-state.js';
import type { BracketRequest, Order, OrderChanges, OrderRequest, OrderStatus } from '../model/orders.js';
import { sideSign } from '../model/orders.js';
import type { InstrumentRegistry } from './instrument-registry.js';
import type { ExecutionClient } from './ports.js';
import type { Portfolio } from './portfolio.js';
import type { RiskEngine } from './risk-engine.js';

export interface OrderManagerHooks {
  /** Every order event, in order (journal, results, strategies) */
  onEvent(event: OrderEvent): void;
  /** Every fill, after the portfolio applied it */
  onFill(fill: Fill, order: Readonly<Order>): void;
}

export interface OrderManagerOptions {
  /**
   * Makes client order ids `${strategyId}-${prefix}-${id}` instead of `${strategyId}-${id}`. Engine
   * ids restart at 1 in every process, but a client order id becomes IB's orderRef, the key of
   * idempotent submission: a live run gives each process its own prefix so ids never repeat.
   */
  clientOrderIdPrefix?: string;
}

/** An order a previous process of the run submitted, taken over without being sent again (a resumed live run) */
export interface AdoptedOrder {
  clientOrderId: string;
  strategyId: string;
  request: OrderRequest;
  /** SUBMITTED: the broker may not have it; ACCEPTED / PARTIALLY_FILLED: it works there */
  status: 'SUBMITTED' | 'ACCEPTED' | 'PARTIALLY_FILLED';
  /** Filled before the restart (already in the positions the run resumes with) */
  filledQuantity: number;
  avgFillPrice: number;
  createdAt: number;
}

/**
 * Owns every order of a run: validates and risk-checks requests, sends commands to the execution
 * client, and applies the client's reports through the state machine. Orders are mutated only here.
 */
export class OrderManager {
  private readonly orders = new Map<number, Order>();
  /** Orders not yet terminal: the hot queries (open orders of a strategy) scan only these */
  private readonly live = new Map<number, Order>();
  private nextId = 1;
  private ocoSeq = 0;

  constructor(
    private readonly instruments: InstrumentRegistry,
    private readonly portfolio: Portfolio,
    private readonly risk: RiskEngine,
    private readonly venue: ExecutionClient,
    private readonly hooks: OrderManagerHooks,
    private readonly options: OrderManagerOptions = {},
  ) {}

  get(id: number): Order | undefined {
    return this.orders.get(id);
  }

  all(): IterableIterator<Order> {
    return this.orders.values();
  }

  count(): number {
    return this.orders.size;
  }

  working(strategyId?: string, instrument?: string): Order[] {
    const out: Order[] = [];
    for (const o of this.live.values()) {
      if (!isWorking(o.status)) continue;
      if (strategyId !== undefined && o.strategyId !== strategyId) continue;
      if (instrument !== undefined && o.instrument !== instrument) continue;
      out.push(o);
    }
    return out;
  }

  hasWorking(instrumentIndex: number): boolean {
    for (const o of this.live.values()) if (o.instrumentIndex === instrumentIndex && isWorking(o.status)) return true;
    return false;
  }

  submit(request: OrderRequest, strategyId: string, now: number, link: { parentId?: number; ocaGroup?: string } = {}): Order {
    const index = this.instruments.indexOf(request.instrument);
    const order = this.build(request, strategyId, now, index ?? -1, link);
    this.orders.set(order.id, order);
    this.live.set(order.id, order);
    const problem = index === undefined ? `unknown instrument '${request.instrument}': subscribe to it first` : requestProblem(request);
    if (problem !== undefined) return this.reject(order, now, problem);
    const spec = this.instruments.spec(order.instrumentIndex);
    const reference = Number.isFinite(order.limitPrice) ? order.limitPrice : this.portfolio.lastPrice(order.instrument);
    // bracket exits reduce the entry's position, so judge them on that position, not today's
    const denial = order.parentId > 0 ? undefined : this.risk.check(order, reference, spec.multiplier);
    if (denial !== undefined) return this.reject(order, now, `risk: ${denial}`);
    this.transition(order, 'SUBMITTED', now, 'submitted');
    this.venue.submit(order, spec);
    return order;
  }

  submitBracket(request: BracketRequest, strategyId: string, now: number): { entry: Order; takeProfit: Order; stopLoss: Order } {
    const entry = this.submit({ ...request.entry, tag: request.entry.tag ?? request.tag }, strategyId, now);
    const exitSide = request.entry.side === 'BUY' ? 'SELL' : 'BUY';
    const ocaGroup = `oco-${strategyId}-${++this.ocoSeq}`;
    const base = { instrument: request.entry.instrument, side: exitSide, quantity: request.entry.quantity, tif: request.exitTif ?? 'GTC', tag: request.tag } as const;
    const link = { parentId: entry.id, ocaGroup };
    const takeProfit = this.submit({ ...base, type: 'LIMIT', limitPrice: request.takeProfitPrice }, strategyId, now, link);
    const stopLoss = this.submit({ ...base, type: 'STOP', stopPrice: request.stopLossPrice }, strategyId, now, link);
    if (entry.status === 'REJECTED') {
      for (const child of [takeProfit, stopLoss]) if (!isTerminal(child.status)) this.cancel(child.id, now);
    }
    return { entry, takeProfit, stopLoss };
  }

  /**
   * Takes over an order of a previous process (see AdoptedOrder): no risk check, no venue call, no
   * event; the execution client reports what the broker says about it from here on.
   */
  adopt(a: AdoptedOrder, instrumentIndex: number): Order {
    const order = this.build(a.request, a.strategyId, a.createdAt, instrumentIndex, {}, a.clientOrderId);
    order.status = a.status;
    order.filledQuantity = a.filledQuantity;
    order.avgFillPrice = a.filledQuantity > 0 ? a.avgFillPrice : NaN;
    this.orders.set(order.id, order);
    this.live.set(order.id, order);
    return order;
  }

  modify(id: number, changes: OrderChanges, now: number): void {
    const order = this.orders.get(id);
    if (order === undefined || !isWorking(order.status)) {
      if (order !== undefined) this.emit('modify_rejected', order, now, { reason: `order is ${order.status}` });
      return;
    }
    this.venue.modify(order, changes);
  }

  cancel(id: number, now: number): void {
    const order = this.orders.get(id);
    if (order === undefined) return;
    if (order.status === 'INITIALIZED') {
      this.transition(order, 'CANCELLED', now, 'cancelled', { reason: 'cancelled before submission' });
      return;
    }
    if (!isWorking(order.status) || order.status === 'PENDING_CANCEL') {
      this.emit('cancel_rejected', order, now, { reason: `order is ${order.status}` });
      return;
    }
    this.transition(order, 'PENDING_CANCEL', now, 'pending_cancel');
    this.venue.cancel(order);
  }

  /** Applies one report from the execution client */
  apply(r: ExecutionReport): void {
    const order = this.orders.get(r.orderId);
    if (order === undefined) throw new InvariantError(`execution report for unknown order ${r.orderId} (${r.type})`);
    switch (r.type) {
      case 'accepted':
        if (order.status === 'SUBMITTED') this.transition(order, 'ACCEPTED', r.ts, 'accepted');
        return;
      case 'rejected':
        this.reject(order, r.ts, r.reason);
        return;
      case 'filled':
        this.fill(order, r);
        return;
      case 'cancelled':
        if (isTerminal(order.status)) return;
        this.transition(order, 'CANCELLED', r.ts, 'cancelled', { reason: r.reason });
        return;
      case 'expired':
        if (isTerminal(order.status)) return;
        this.transition(order, 'EXPIRED', r.ts, 'expired', { reason: 'time in force ended' });
        return;
      case 'modified':
        order.quantity = r.quantity;
        order.limitPrice = r.limitPrice;
        order.stopPrice = r.stopPrice;
        order.updatedAt = r.ts;
        this.emit('modified', order, r.ts);
        return;
      case 'modify_rejected':
        this.emit('modify_rejected', order, r.ts, { reason: r.reason });
        return;
      case 'cancel_rejected':
        if (order.status === 'PENDING_CANCEL') {
          order.status = nextStatus(order.id, order.status, order.filledQuantity > 0 ? 'PARTIALLY_FILLED' : 'ACCEPTED');
        }
        this.emit('cancel_rejected', order, r.ts, { reason: r.reason });
        return;
      case 'triggered':
        order.stopPrice = r.stopPrice;
        if (order.type === 'STOP_LIMIT') order.triggered = true;
        order.updatedAt = r.ts;
        this.emit('triggered', order, r.ts);
        return;
    }
  }

  private fill(order: Order, r: Extract<ExecutionReport, { type: 'filled' }>): void {
    const remaining = order.quantity - order.filledQuantity;
    if (!(r.quantity > 0) || r.quantity > remaining + 1e-9) {
      throw new InvariantError(`order ${order.id}: fill of ${r.quantity} with ${remaining} remaining`);
    }
    const filledBefore = order.filledQuantity;
    order.filledQuantity = filledBefore + r.quantity;
    order.avgFillPrice = filledBefore === 0 ? r.price : (order.avgFillPrice * filledBefore + r.price * r.quantity) / order.filledQuantity;
    order.commission += r.commission;
    const complete = order.filledQuantity >= order.quantity - 1e-9;
    const fill: Fill = {
      orderId: order.id,
      clientOrderId: order.clientOrderId,
      strategyId: order.strategyId,
      instrument: order.instrument,
      instrumentIndex: order.instrumentIndex,
      side: order.side,
      quantity: r.quantity,
      price: r.price,
      commission: r.commission,
      ts: r.ts,
      executionId: r.executionId,
      liquidity: r.liquidity,
    };
    this.portfolio.applyFill(order.instrumentIndex, sideSign(order.side) * r.quantity, r.price, r.commission);
    this.transition(order, complete ? 'FILLED' : 'PARTIALLY_FILLED', r.ts, complete ? 'filled' : 'partially_filled', { fill });
    this.hooks.onFill(fill, order);
  }

  private reject(order: Order, ts: number, reason: string): Order {
    this.transition(order, 'REJECTED', ts, 'rejected', { reason });
    return order;
  }

  private transition(order: Order, to: OrderStatus, ts: number, type: OrderEventType, extra: { reason?: string; fill?: Fill } = {}): void {
    order.status = nextStatus(order.id, order.status, to);
    if (isTerminal(to)) this.live.delete(order.id);
    order.updatedAt = ts;
    if (extra.reason !== undefined) order.reason = extra.reason;
    this.emit(type, order, ts, extra);
  }

  private emit(type: OrderEventType, order: Order, ts: number, extra: { reason?: string; fill?: Fill } = {}): void {
    this.hooks.onEvent({ type, ts, order, fill: extra.fill, reason: extra.reason });
  }

  private build(request: OrderRequest, strategyId: string, now: number, index: number, link: { parentId?: number; ocaGroup?: string }, clientOrderId?: string): Order {
    const id = this.nextId++;
    const prefix = this.options.clientOrderIdPrefix;
    return {
      id,
      clientOrderId: clientOrderId ?? (prefix ? `${strategyId}-${prefix}-${id}` : `${strategyId}-${id}`),
      strategyId,
      instrument: request.instrument,
      instrumentIndex: index,
      side: request.side,
      type: request.type,
      quantity: request.quantity,
      limitPrice: request.limitPrice ?? NaN,
      stopPrice: request.stopPrice ?? NaN,
      trailingAmount: request.trailingAmount ?? NaN,
      trailingPercent: request.trailingPercent ?? NaN,
      tif: request.tif ?? 'DAY',
      status: 'INITIALIZED',
      filledQuantity: 0,
      avgFillPrice: NaN,
      commission: 0,
      parentId: link.parentId ?? 0,
      ocaGroup: link.ocaGroup ?? '',
      tag: request.tag ?? '',
      createdAt: now,
      updatedAt: now,
      triggered: false,
      reason: '',
    };
  }
}

function positive(v: number | undefined): boolean {
  return v !== undefined && Number.isFinite(v) && v > 0;
}

/** What is wrong with a request's shape (prices the type needs), or undefined */
export function requestProblem(r: OrderRequest): string | undefined {
  if (r.side !== 'BUY' && r.side !== 'SELL') return `side must be BUY or SELL, was '${String(r.side)}'`;
  if (!(r.quantity > 0) || !Number.isFinite(r.quantity)) return `quantity must be a positive number, was ${r.quantity}`;
  switch (r.type) {
    case 'MARKET':
      return undefined;
    case 'LIMIT':
      return positive(r.limitPrice) ? undefined : `LIMIT order needs a positive limitPrice, was ${r.limitPrice}`;
    case 'STOP':
      return positive(r.stopPrice) ? undefined : `STOP order needs a positive stopPrice, was ${r.stopPrice}`;
    case 'STOP_LIMIT':
      if (!positive(r.stopPrice)) return `STOP_LIMIT order needs a positive stopPrice, was ${r.stopPrice}`;
      return positive(r.limitPrice) ? undefined : `STOP_LIMIT order needs a positive limitPrice, was ${r.limitPrice}`;
    case 'TRAILING_STOP':
      if (positive(r.trailingAmount) !== (r.trailingPercent === undefined)) {
        return 'TRAILING_STOP order needs exactly one of trailingAmount or trailingPercent';
      }
      if (r.trailingPercent !== undefined && !(r.trailingPercent > 0 && r.trailingPercent < 1)) {
        return `trailingPercent must be a fraction in (0, 1), was ${r.trailingPercent}`;
      }
      return undefined;
    default:
      return `unknown order type '${String((r as { type: unknown }).type)}'`;
  }
}
