/** The simulated venue's record of an order, and the checks it applies to orders and changes. */
import { CalendarError, calendarForInstrument } from '../calendar/index.js';
import type { InstrumentSpec } from '../data/instrument.js';
import type { Order, OrderChanges, OrderSide, OrderType, TimeInForce } from '../model/orders.js';
import { newOrderCommissionState, type OrderCommissionState } from './commission.js';

/** What the venue keeps of an order: the engine's Order changes only when it applies our reports. */
export interface SimOrder {
  readonly id: number;
  readonly instrumentIndex: number;
  readonly spec: InstrumentSpec;
  readonly side: OrderSide;
  readonly type: OrderType;
  readonly tif: TimeInForce;
  readonly parentId: number;
  readonly oca: string;
  readonly trailingAmount: number;
  readonly trailingPercent: number;
  /** Matching priority inside one event: market 0, stop types 1, limit 2 */
  readonly rank: number;
  readonly costs: OrderCommissionState;
  quantity: number;
  limitPrice: number;
  stopPrice: number;
  filled: number;
  /** What the parent's fills released, less the fills of OCA siblings (Infinity without a parent) */
  released: number;
  triggered: boolean;
  /** Data must start at or after this: createdAt / last modify, then the end of the last data used */
  notBefore: number;
  expiresAt: number;
  done: boolean;
}

// Matching priority inside one event: stops before limits, so a bar reaching both exits of a bracket fills the stop-loss
const RANK: Record<OrderType, number> = { MARKET: 0, STOP: 1, STOP_LIMIT: 1, TRAILING_STOP: 1, LIMIT: 2 };

/** The venue's record of `order`: `released` is what its parent has filled so far (Infinity without one). */
export function newSimOrder(order: Readonly<Order>, spec: InstrumentSpec, released: number, expiresAt: number): SimOrder {
  return {
    id: order.id,
    instrumentIndex: order.instrumentIndex,
    spec,
    side: order.side,
    type: order.type,
    tif: order.tif,
    parentId: order.parentId,
    // OCA groups are per strategy, so two strategies' group names never collide
    oca: order.ocaGroup ? `${order.strategyId}\u0000${order.ocaGroup}` : '',
    trailingAmount: order.trailingAmount,
    trailingPercent: order.trailingPercent,
    rank: RANK[order.type],
    costs: newOrderCommissionState(),
    quantity: order.quantity,
    limitPrice: order.limitPrice,
    stopPrice: order.stopPrice,
    filled: 0,
    released,
    triggered: false,
    notBefore: order.createdAt,
    expiresAt,
    done: false,
  };
}

/** Not held back by an unfilled parent. */
export function isActive(o: SimOrder): boolean {
  return o.released > o.filled;
}

function priceProblem(name: string, value: number): string | undefined {
  return Number.isFinite(value) ? undefined : `${name} must be a finite number, was ${value}`;
}

/** Why the venue refuses `o`, or undefined. */
export function orderProblem(o: Readonly<Order>, spec: InstrumentSpec): string | undefined {
  if (o.side !== 'BUY' && o.side !== 'SELL') return `unknown side '${String(o.side)}'`;
  if (!Number.isFinite(o.quantity) || o.quantity <= 0) return `quantity must be a positive number, was ${o.quantity}`;
  if (spec.secType === 'FUT' && !Number.isInteger(o.quantity)) return `futures quantity must be whole contracts, was ${o.quantity}`;
  if (o.tif !== 'DAY' && o.tif !== 'GTC' && o.tif !== 'IOC') return `unknown time in force '${String(o.tif)}'`;
  switch (o.type) {
    case 'MARKET':
      return undefined;
    case 'LIMIT':
      return priceProblem('limitPrice', o.limitPrice);
    case 'STOP':
      return priceProblem('stopPrice', o.stopPrice);
    case 'STOP_LIMIT':
      return priceProblem('stopPrice', o.stopPrice) ?? priceProblem('limitPrice', o.limitPrice);
    case 'TRAILING_STOP': {
      const byAmount = Number.isFinite(o.trailingAmount) && o.trailingAmount > 0;
      const byPercent = Number.isFinite(o.trailingPercent) && o.trailingPercent > 0 && o.trailingPercent < 1;
      if (byAmount === byPercent) return 'TRAILING_STOP needs exactly one of trailingAmount > 0 or 0 < trailingPercent < 1';
      if (!Number.isNaN(o.stopPrice)) return priceProblem('stopPrice', o.stopPrice);
      return undefined;
    }
    default:
      return `unknown order type '${String(o.type)}'`;
  }
}

/** Why `changes` cannot apply to the working order `o`, or undefined. */
export function changesProblem(o: SimOrder, changes: OrderChanges): string | undefined {
  const q = changes.quantity;
  if (q !== undefined) {
    if (!Number.isFinite(q) || q <= 0) return `quantity must be a positive number, was ${q}`;
    if (o.spec.secType === 'FUT' && !Number.isInteger(q)) return `futures quantity must be whole contracts, was ${q}`;
    if (q <= o.filled) return `quantity ${q} must exceed the filled quantity ${o.filled}`;
  }
  if (changes.limitPrice !== undefined) {
    if (o.type !== 'LIMIT' && o.type !== 'STOP_LIMIT') return `a ${o.type} order has no limit price`;
    const p = priceProblem('limitPrice', changes.limitPrice);
    if (p) return p;
  }
  if (changes.stopPrice !== undefined) {
    if (o.type === 'MARKET' || o.type === 'LIMIT') return `a ${o.type} order has no stop price`;
    return priceProblem('stopPrice', changes.stopPrice);
  }
  return undefined;
}

const expirySpans = new Map<string, { from: number; to: number }>();

/** Close of the session containing `ts`, else of the next session; a reason string when no calendar applies. */
export function dayExpiry(spec: InstrumentSpec, ts: number): number | string {
  try {
    const cal = calendarForInstrument(spec.secType, spec.symbol);
    // every instant from min(ts, open) up to the close maps to the same close: remember that span
    const known = expirySpans.get(cal.name);
    if (known !== undefined && ts >= known.from && ts < known.to) return known.to;
    const session = cal.sessionAt(ts) ?? cal.sessionAt(cal.nextOpen(ts));
    if (session) expirySpans.set(cal.name, { from: Math.min(ts, session.open), to: session.close });
    return session ? session.close : `no trading session found after ${new Date(ts).toISOString()} for a DAY order`;
  } catch (e) {
    if (e instanceof CalendarError) return `DAY order needs a trading calendar: ${e.message}`;
    throw e;
  }
}
