/** Orders: what a strategy asks for, and the live order the engine tracks. */

export type OrderSide = 'BUY' | 'SELL';
export type OrderType = 'MARKET' | 'LIMIT' | 'STOP' | 'STOP_LIMIT' | 'TRAILING_STOP';
/** DAY expires at the instrument's session close; IOC cancels whatever is not filled at the first chance */
export type TimeInForce = 'DAY' | 'GTC' | 'IOC';

export const ORDER_STATUSES = [
  'INITIALIZED',
  'SUBMITTED',
  'ACCEPTED',
  'PARTIALLY_FILLED',
  'FILLED',
  'PENDING_CANCEL',
  'CANCELLED',
  'REJECTED',
  'EXPIRED',
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** What a strategy asks for. The order factory builds these; the engine turns them into orders. */
export interface OrderRequest {
  instrument: string;
  side: OrderSide;
  quantity: number;
  type: OrderType;
  /** LIMIT and STOP_LIMIT */
  limitPrice?: number;
  /** STOP and STOP_LIMIT; for TRAILING_STOP an optional initial stop */
  stopPrice?: number;
  /** TRAILING_STOP distance in price units (or use trailingPercent) */
  trailingAmount?: number;
  /** TRAILING_STOP distance as a fraction of price: 0.02 = 2% */
  trailingPercent?: number;
  /** Default DAY, as at IB */
  tif?: TimeInForce;
  /** Free text kept with the order and its fills (journal, reports) */
  tag?: string;
}

/** Entry plus take-profit limit and stop-loss stop; the exits are held until the entry fills and cancel each other (OCO). */
export interface BracketRequest {
  entry: OrderRequest;
  takeProfitPrice: number;
  stopLossPrice: number;
  /** Time in force of the two exits; default GTC */
  exitTif?: TimeInForce;
  tag?: string;
}

/** Changes to a working order; omitted fields stay as they are. */
export interface OrderChanges {
  quantity?: number;
  limitPrice?: number;
  stopPrice?: number;
}

/**
 * An order as the engine tracks it. Only the order manager mutates it (through the state machine);
 * strategies see it read-only. Prices that do not apply are NaN.
 */
export interface Order {
  /** Engine-wide sequence, from 1 */
  readonly id: number;
  /** `${strategyId}-${id}`: the reference sent to the venue (IB's orderRef) */
  readonly clientOrderId: string;
  readonly strategyId: string;
  readonly instrument: string;
  readonly instrumentIndex: number;
  readonly side: OrderSide;
  readonly type: OrderType;
  quantity: number;
  limitPrice: number;
  /** For TRAILING_STOP: the current stop (NaN until the first price sets it) */
  stopPrice: number;
  readonly trailingAmount: number;
  readonly trailingPercent: number;
  readonly tif: TimeInForce;
  status: OrderStatus;
  filledQuantity: number;
  /** Volume-weighted fill price; NaN before the first fill */
  avgFillPrice: number;
  commission: number;
  /** Parent order id for bracket exits (0: none). A child is held until its parent fills */
  readonly parentId: number;
  /** One-cancels-other group ('' none): a fill in one member cancels the others */
  readonly ocaGroup: string;
  readonly tag: string;
  readonly createdAt: number;
  updatedAt: number;
  /** STOP_LIMIT: the stop has triggered and the order now works as a limit */
  triggered: boolean;
  /** Why it was rejected, cancelled or expired */
  reason: string;
}

export function isBuy(side: OrderSide): boolean {
  return side === 'BUY';
}

/** +1 for buys, -1 for sells */
export function sideSign(side: OrderSide): 1 | -1 {
  return side === 'BUY' ? 1 : -1;
}

export function remainingQuantity(o: Readonly<Order>): number {
  return o.quantity - o.filledQuantity;
}
