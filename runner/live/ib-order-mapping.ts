/**
 * Our orders -> IB orders (placeOrder), and the few IB values read back (statuses, sides).
 *
 * | ours                  | IB orderType | lmtPrice   | auxPrice       | trail fields                                   |
 * |-----------------------|--------------|------------|----------------|------------------------------------------------|
 * | MARKET                | MKT          | -          | -              | -                                              |
 * | LIMIT                 | LMT          | limitPrice | -              | -                                              |
 * | STOP                  | STP          | -          | stopPrice      | -                                              |
 * | STOP_LIMIT            | STP LMT      | limitPrice | stopPrice      | -                                              |
 * | TRAILING_STOP         | TRAIL        | -          | trailingAmount | trailingPercent x 100 (IB percent), trailStopPrice = stopPrice when set |
 *
 * - side BUY/SELL -> action BUY/SELL; quantity -> totalQuantity; tif DAY/GTC/IOC -> the same.
 * - orderRef `<strategy>@<version>#<decisionId>` (order-ref.ts); account from the runner config.
 * - Brackets: a child's parentId is its parent's IB order id; every order of a bracket but the
 *   last one sent is transmit=false, the last one transmit=true (IB then transmits the group).
 * - OCA: ocaGroup is named after the first member's orderRef (unique per decision, stable across
 *   restarts), ocaType 2 (reduce the others by a fill, with overfill protection): a complete fill
 *   cancels the others, a partial fill reduces them, as in the simulated venue.
 * - Prices are rounded to the nearest tick (instrument tickSize); IB rejects others (error 110).
 * - outsideRth is false unless configured.
 */
import type { Order as IbOrder, OrderAction, OrderType as IbOrderType, TimeInForce } from '@stoqey/ib';
import type { ContractQuery } from '../../lib/ib/contract-resolver.js';
import type { InstrumentSpec } from '../../lib/data/instrument.js';
import type { Order, OrderChanges, OrderSide, OrderType } from '../../lib/model/orders.js';

export const IB_ORDER_TYPES: Readonly<Record<OrderType, string>> = {
  MARKET: 'MKT',
  LIMIT: 'LMT',
  STOP: 'STP',
  STOP_LIMIT: 'STP LMT',
  TRAILING_STOP: 'TRAIL',
};

/** IB's ocaType 2: reduce the remaining members by a fill, with block (no overfill). */
export const OCA_REDUCE_WITH_BLOCK = 2;

/** How an order is sent besides its own fields. */
export interface IbOrderContext {
  orderRef: string;
  account: string;
  /** False for every order of a bracket but the last one sent */
  transmit: boolean;
  /** The parent's IB order id (0: none) */
  parentIbOrderId: number;
  /** The IB OCA group name ('' none) */
  ocaGroup: string;
  /** Rounds prices to it when > 0 */
  tickSize: number;
  outsideRth?: boolean;
}

/** The query that resolves an instrument: stocks through SMART, futures by local symbol or month, conId when known. */
export function contractQueryFor(spec: InstrumentSpec): ContractQuery {
  if (spec.secType === 'STK') {
    return { symbol: spec.symbol, secType: 'STK', exchange: 'SMART', currency: spec.currency, ...(spec.conId ? { conId: spec.conId } : {}) };
  }
  if (spec.secType === 'FUT') {
    const q: ContractQuery = { symbol: spec.symbol, secType: 'FUT', exchange: spec.exchange, currency: spec.currency };
    if (spec.conId) q.conId = spec.conId;
    else if (spec.localSymbol) q.localSymbol = spec.localSymbol;
    else if (spec.contractMonth) q.lastTradeDateOrContractMonth = spec.contractMonth;
    return q;
  }
  return { symbol: spec.symbol, secType: 'CASH', exchange: spec.exchange || 'IDEALPRO', currency: spec.currency };
}

/** Nearest multiple of `tick` (no float noise); the price itself when tick <= 0 or not finite. */
export function roundToTick(price: number, tick: number): number {
  if (!(tick > 0) || !Number.isFinite(price)) return price;
  return Number((Math.round(price / tick) * tick).toPrecision(12));
}

/** Why our order cannot be sent to IB as it is, or undefined. */
export function ibOrderProblem(order: Readonly<Order>): string | undefined {
  if (!(order.type in IB_ORDER_TYPES)) return `order type '${order.type}' has no IB equivalent`;
  if (order.tif !== 'DAY' && order.tif !== 'GTC' && order.tif !== 'IOC') return `time in force '${order.tif}' has no IB equivalent`;
  if (!(order.quantity > 0) || !Number.isFinite(order.quantity)) return `quantity must be positive, was ${order.quantity}`;
  return undefined;
}

const finite = (x: number): number | undefined => (Number.isFinite(x) ? x : undefined);

/** The IB order for one of ours (see the table above). */
export function toIbOrder(order: Readonly<Order>, ctx: IbOrderContext): IbOrder {
  const tick = (p: number) => finite(roundToTick(p, ctx.tickSize));
  const ib: IbOrder = {
    action: order.side as OrderAction,
    totalQuantity: order.quantity,
    orderType: IB_ORDER_TYPES[order.type] as IbOrderType,
    tif: order.tif as TimeInForce,
    orderRef: ctx.orderRef,
    transmit: ctx.transmit,
    parentId: ctx.parentIbOrderId,
    outsideRth: ctx.outsideRth ?? false,
  };
  if (ctx.account) ib.account = ctx.account;
  if (ctx.ocaGroup) {
    ib.ocaGroup = ctx.ocaGroup;
    ib.ocaType = OCA_REDUCE_WITH_BLOCK;
  }
  switch (order.type) {
    case 'MARKET':
      break;
    case 'LIMIT':
      ib.lmtPrice = tick(order.limitPrice);
      break;
    case 'STOP':
      ib.auxPrice = tick(order.stopPrice);
      break;
    case 'STOP_LIMIT':
      ib.lmtPrice = tick(order.limitPrice);
      ib.auxPrice = tick(order.stopPrice);
      break;
    case 'TRAILING_STOP':
      if (Number.isFinite(order.trailingPercent)) ib.trailingPercent = Number((order.trailingPercent * 100).toPrecision(12));
      else ib.auxPrice = tick(order.trailingAmount);
      if (Number.isFinite(order.stopPrice)) ib.trailStopPrice = tick(order.stopPrice);
      break;
  }
  return ib;
}

/** The IB order after `changes` (a modify is a placeOrder with the same id); always transmitted. */
export function applyChanges(ib: IbOrder, type: OrderType, changes: OrderChanges, tickSize: number): IbOrder {
  const next: IbOrder = { ...ib, transmit: true };
  if (changes.quantity !== undefined) next.totalQuantity = changes.quantity;
  if (changes.limitPrice !== undefined && (type === 'LIMIT' || type === 'STOP_LIMIT')) next.lmtPrice = roundToTick(changes.limitPrice, tickSize);
  if (changes.stopPrice !== undefined) {
    if (type === 'STOP' || type === 'STOP_LIMIT') next.auxPrice = roundToTick(changes.stopPrice, tickSize);
    else if (type === 'TRAILING_STOP') next.trailStopPrice = roundToTick(changes.stopPrice, tickSize);
  }
  return next;
}

/** Why `changes` cannot be applied to an order of `type`, or undefined. */
export function changesProblem(type: OrderType, changes: OrderChanges): string | undefined {
  if (changes.quantity !== undefined && !(changes.quantity > 0 && Number.isFinite(changes.quantity))) return `quantity must be positive, was ${changes.quantity}`;
  if (changes.limitPrice !== undefined && type !== 'LIMIT' && type !== 'STOP_LIMIT') return `a ${type} order has no limit price`;
  if (changes.stopPrice !== undefined && (type === 'MARKET' || type === 'LIMIT')) return `a ${type} order has no stop price`;
  for (const [name, v] of [['limitPrice', changes.limitPrice], ['stopPrice', changes.stopPrice]] as const) {
    if (v !== undefined && !(v > 0 && Number.isFinite(v))) return `${name} must be positive, was ${v}`;
  }
  return undefined;
}

/** The prices an IB order carries, as our Order fields (NaN where the type has none). */
export function ourPrices(type: OrderType, ib: { lmtPrice?: number; auxPrice?: number; trailStopPrice?: number }): { limitPrice: number; stopPrice: number } {
  const num = (x: number | undefined) => (typeof x === 'number' && Number.isFinite(x) && x < Number.MAX_VALUE ? x : NaN);
  switch (type) {
    case 'LIMIT':
      return { limitPrice: num(ib.lmtPrice), stopPrice: NaN };
    case 'STOP':
      return { limitPrice: NaN, stopPrice: num(ib.auxPrice) };
    case 'STOP_LIMIT':
      return { limitPrice: num(ib.lmtPrice), stopPrice: num(ib.auxPrice) };
    case 'TRAILING_STOP':
      return { limitPrice: NaN, stopPrice: num(ib.trailStopPrice) };
    default:
      return { limitPrice: NaN, stopPrice: NaN };
  }
}

/** What an IB order status means for us. */
export type IbStatusClass = 'pending' | 'working' | 'pending-cancel' | 'filled' | 'cancelled' | 'inactive' | 'unknown';

/**
 * PendingSubmit / ApiPending: sent, not acknowledged. PreSubmitted / Submitted: accepted and
 * working (PreSubmitted: held, untransmitted or a stop not yet elected). PendingCancel: a cancel
 * is on its way. Filled, Cancelled / ApiCancelled, Inactive (rejected or otherwise dead): final.
 */
export function classifyIbStatus(status: string | undefined): IbStatusClass {
  switch (status) {
    case 'PendingSubmit':
    case 'ApiPending':
      return 'pending';
    case 'PreSubmitted':
    case 'Submitted':
      return 'working';
    case 'PendingCancel':
      return 'pending-cancel';
    case 'Filled':
      return 'filled';
    case 'Cancelled':
    case 'ApiCancelled':
      return 'cancelled';
    case 'Inactive':
      return 'inactive';
    default:
      return 'unknown';
  }
}

export function isFinalIbStatus(status: string | undefined): boolean {
  const c = classifyIbStatus(status);
  return c === 'filled' || c === 'cancelled' || c === 'inactive';
}

/** BOT / SLD (executions) and BUY / SELL (orders) as our side. */
export function sideOf(action: string | undefined): OrderSide | undefined {
  switch ((action ?? '').toUpperCase()) {
    case 'BUY':
    case 'BOT':
      return 'BUY';
    case 'SELL':
    case 'SLD':
    case 'SSHORT':
      return 'SELL';
    default:
      return undefined;
  }
}
