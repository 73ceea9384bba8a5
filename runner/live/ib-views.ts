/**
 * What the execution client reads from IB, as plain data: the order (openOrder), its status
 * (orderStatus), an execution (execDetails) and a position, converted once from @stoqey/ib's
 * loosely typed objects so the tracker and the reconciliation never touch stoqey types. Also the
 * time formats IB uses for executions and the executions filter.
 */
import type { Contract, Execution, Order as IbOrder, OrderState } from '@stoqey/ib';
import { zonedWallToUtc } from '../../lib/core/time-zone.js';
import { numberOr } from '../../lib/core/unknown-values.js';
import type { OrderSide } from '../../lib/model/orders.js';
import { sideOf } from './ib-order-mapping.js';

export interface IbContractView {
  conId: number;
  symbol: string;
  secType: string;
  localSymbol: string;
  /** YYYYMMDD or YYYYMM ('' for stocks) */
  lastTradeDateOrContractMonth: string;
  exchange: string;
  currency: string;
}

/** openOrder */
export interface IbOrderView {
  orderId: number;
  clientId: number;
  permId: number;
  orderRef: string;
  account: string;
  side: OrderSide | undefined;
  totalQuantity: number;
  orderType: string;
  lmtPrice: number | undefined;
  auxPrice: number | undefined;
  trailStopPrice: number | undefined;
  tif: string;
  parentId: number;
  ocaGroup: string;
  /** orderState.status */
  status: string;
  contract: IbContractView;
}

/** orderStatus */
export interface IbStatusView {
  orderId: number;
  status: string;
  filled: number;
  remaining: number;
  avgFillPrice: number;
  permId: number;
  parentId: number;
  lastFillPrice: number;
  clientId: number;
  whyHeld: string;
}

/** execDetails */
export interface IbExecutionView {
  /** -1 pushed for a new fill, else the reqExecutions request id */
  reqId: number;
  execId: string;
  orderId: number;
  clientId: number;
  permId: number;
  orderRef: string;
  account: string;
  /** Epoch ms (NaN when the time could not be read) */
  time: number;
  side: OrderSide | undefined;
  shares: number;
  price: number;
  cumQty: number;
  avgPrice: number;
  liquidity: 'maker' | 'taker';
  contract: IbContractView;
}

/** position */
export interface IbPositionView {
  account: string;
  contract: IbContractView;
  position: number;
  avgCost: number;
}

/** IB's "unset" doubles (Number.MAX_VALUE) and missing values read as undefined */
const price = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) && x < Number.MAX_VALUE ? x : undefined);
/** IB's text fields as strings ('' when missing) */
const str = (x: unknown): string => (typeof x === 'string' ? x : x === undefined || x === null ? '' : String(x));

export function contractView(c: Contract | undefined): IbContractView {
  return {
    conId: numberOr(c?.conId, 0),
    symbol: str(c?.symbol).toUpperCase(),
    secType: str(c?.secType).toUpperCase(),
    localSymbol: str(c?.localSymbol),
    lastTradeDateOrContractMonth: str(c?.lastTradeDateOrContractMonth).trim(),
    exchange: str(c?.exchange),
    currency: str(c?.currency),
  };
}

export function orderView(orderId: number, contract: Contract, order: IbOrder, state: OrderState | undefined): IbOrderView {
  return {
    orderId,
    clientId: numberOr(order.clientId, 0),
    permId: numberOr(order.permId, 0),
    orderRef: str(order.orderRef),
    account: str(order.account),
    side: sideOf(order.action),
    totalQuantity: numberOr(order.totalQuantity, 0),
    orderType: str(order.orderType),
    lmtPrice: price(order.lmtPrice),
    auxPrice: price(order.auxPrice),
    trailStopPrice: price(order.trailStopPrice),
    tif: str(order.tif),
    parentId: numberOr(order.parentId, 0),
    ocaGroup: str(order.ocaGroup),
    status: str(state?.status),
    contract: contractView(contract),
  };
}

export function statusView(
  orderId: number,
  status: string,
  filled: number,
  remaining: number,
  avgFillPrice: number,
  permId?: number,
  parentId?: number,
  lastFillPrice?: number,
  clientId?: number,
  whyHeld?: string,
): IbStatusView {
  return {
    orderId,
    status: str(status),
    filled: numberOr(filled, 0),
    remaining: numberOr(remaining, 0),
    avgFillPrice: numberOr(avgFillPrice, 0),
    permId: numberOr(permId, 0),
    parentId: numberOr(parentId, 0),
    lastFillPrice: numberOr(lastFillPrice, 0),
    clientId: numberOr(clientId, 0),
    whyHeld: str(whyHeld),
  };
}

/** IB's lastLiquidity: 1 added (maker), 2 removed (taker); anything else counts as taker. */
export function liquidityOf(lastLiquidity: unknown): 'maker' | 'taker' {
  return lastLiquidity === 1 ? 'maker' : 'taker';
}

export function executionView(reqId: number, contract: Contract, e: Execution, defaultZone: string): IbExecutionView {
  return {
    reqId,
    execId: str(e.execId),
    orderId: numberOr(e.orderId, 0),
    clientId: numberOr(e.clientId, 0),
    permId: numberOr(e.permId, 0),
    orderRef: str(e.orderRef),
    account: str(e.acctNumber),
    time: parseIbTime(str(e.time), defaultZone) ?? NaN,
    side: sideOf(e.side),
    shares: numberOr(e.shares, 0),
    price: numberOr(e.price, 0),
    cumQty: numberOr(e.cumQty, 0),
    avgPrice: numberOr(e.avgPrice, 0),
    liquidity: liquidityOf(e.lastLiquidity),
    contract: contractView(contract),
  };
}

export function positionView(account: string, contract: Contract, position: number, avgCost?: number): IbPositionView {
  return { account: str(account), contract: contractView(contract), position: numberOr(position, 0), avgCost: numberOr(avgCost, NaN) };
}

/** Zone names TWS writes that are not IANA ids (or spelled differently). */
const ZONE_ALIASES: Record<string, string> = { UTC: 'UTC', GMT: 'UTC', EST: 'America/New_York', EDT: 'America/New_York', ET: 'America/New_York', CST: 'America/Chicago', CDT: 'America/Chicago' };

/**
 * `20260102 10:00:00 US/Eastern` (execution times), `20260102  10:00:00` (no zone: `defaultZone`,
 * TWS's login zone) or `20260102-15:00:00` -> epoch ms; undefined when unreadable.
 */
export function parseIbTime(text: string, defaultZone: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})[- ]+(\d{2}):(\d{2})(?::(\d{2}))?(?:\s+(\S+))?$/.exec(text.trim());
  if (!m) return undefined;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  const zone = m[7] ? (ZONE_ALIASES[m[7].toUpperCase()] ?? m[7]) : defaultZone;
  try {
    return zonedWallToUtc(zone, wall);
  } catch {
    return zonedWallToUtc(defaultZone, wall);
  }
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The executions filter time: `yyyymmdd hh:mm:ss UTC`, whole seconds rounded down. */
export function formatFilterTime(ms: number): string {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

/**
 * Our instrument key for an IB contract when no resolved contract says better: the symbol for
 * stocks, `<root>-<YYYYMM>` for futures (from the expiry field's first 6 digits).
 */
export function instrumentKeyGuess(c: IbContractView): string {
  if (c.secType === 'FUT' && /^\d{6}/.test(c.lastTradeDateOrContractMonth)) return `${c.symbol}-${c.lastTradeDateOrContractMonth.slice(0, 6)}`;
  return c.symbol;
}

/** Short text for logs and alerts: `SPY`, `ESH6`. */
export function describeContract(c: IbContractView): string {
  return c.secType === 'FUT' && c.localSymbol ? c.localSymbol : c.symbol || `conId ${c.conId}`;
}
