/**
 * The order book's vocabulary: orders as the book keeps them, executions, the events every book
 * operation returns (orders.ts turns them into TWS messages), and IB's order error codes.
 */
import type { OrderCommissionState } from '../../lib/backtest/commission.js';
import type { SimContract } from './contract-match.js';
import type { PositionState } from './ledger.js';
import { ORDER_TYPES, type Side, type SimOrderType, type SimTif } from './order-matching.js';
import type { SimOrderRequest } from './place-order.js';

export type OrderStatus = 'PreSubmitted' | 'Submitted' | 'Filled' | 'Cancelled' | 'Inactive';

export interface BookOrder {
  readonly orderId: number;
  readonly clientId: number;
  readonly permId: number;
  readonly account: string;
  readonly contract: SimContract;
  readonly action: Side;
  totalQuantity: number;
  orderType: SimOrderType;
  lmtPrice: number | undefined;
  auxPrice: number | undefined;
  tif: SimTif;
  ocaGroup: string;
  ocaType: number;
  readonly parentId: number;
  outsideRth: boolean;
  orderRef: string;
  /** The request as last placed (echoed in openOrder) */
  request: SimOrderRequest;
  /** False until the group's final transmit=true order arrives */
  transmitted: boolean;
  status: OrderStatus;
  filled: number;
  avgFillPrice: number;
  lastFillPrice: number;
  /** A stop that has elected */
  elected: boolean;
  /** Matched at least once (later fills add liquidity) */
  evaluated: boolean;
  readonly placedAt: number;
  /** 'backtest' fill model: bars starting before this cannot fill it (placement, modification, parent fill) */
  notBefore: number;
  expiresAt: number | undefined;
  commissionState: OrderCommissionState;
  commission: number;
  execCount: number;
}

export interface ExecutionRecord {
  execId: string;
  orderId: number;
  clientId: number;
  permId: number;
  account: string;
  contract: SimContract;
  side: 'BOT' | 'SLD';
  shares: number;
  price: number;
  /** Epoch ms (sim clock) */
  time: number;
  cumQty: number;
  avgPrice: number;
  orderRef: string;
  /** IB's lastLiquidity: 1 added, 2 removed */
  liquidity: 1 | 2;
  commission: number;
  currency: string;
  /** Undefined for an opening execution */
  realizedPnl: number | undefined;
}

export type BookEvent =
  | { kind: 'order'; order: Readonly<BookOrder> }
  | { kind: 'execution'; execution: ExecutionRecord }
  | { kind: 'commission'; execution: ExecutionRecord }
  | { kind: 'position'; position: PositionState }
  | { kind: 'error'; clientId: number; orderId: number; code: number; message: string };

/** IB's error texts for order requests (tws-protocol.md §5). */
export const ORDER_ERRORS = {
  duplicateId: { code: 103, text: 'Duplicate order id' },
  modifyFilled: { code: 104, text: "Can't modify a filled order" },
  rejected: 201,
  cancelled: { code: 202, text: 'Order Canceled - reason:' },
  cancelNotFound: 10147,
  cancelFinal: 10148,
} as const;

export const rejectText = (reason: string): string => `Order rejected - reason:${reason}`;

/** Time-in-force values the simulator works; an empty tif is DAY, as at IB. */
export const TIFS: Readonly<Record<string, SimTif>> = { '': 'DAY', DAY: 'DAY', GTC: 'GTC', IOC: 'IOC' };

/** Why a request cannot be accepted as an order for `account` (its parent aside), or undefined. */
export function requestProblem(req: SimOrderRequest, account: string): string | undefined {
  if (req.action !== 'BUY' && req.action !== 'SELL') return `Invalid action '${req.action}'`;
  if (!(req.totalQuantity > 0)) return 'Order quantity must be positive';
  if (!ORDER_TYPES.includes(req.orderType as SimOrderType)) return `Order type '${req.orderType}' is not supported by the simulator`;
  if ((req.orderType === 'LMT' || req.orderType === 'STP LMT') && req.lmtPrice === undefined) return 'Limit price is required';
  if ((req.orderType === 'STP' || req.orderType === 'STP LMT') && req.auxPrice === undefined) return 'Stop price is required';
  if (TIFS[req.tif] === undefined) return `Time in force '${req.tif}' is not supported by the simulator`;
  if (req.account && req.account !== account) return `The account '${req.account}' is not the simulated account ${account}`;
  if (req.whatIf) return 'What-if orders are not supported by the simulator';
  if (req.comboLegCount > 0) return 'Combination orders are not supported by the simulator';
  // conditions would change when the order may fill; ignoring them would fill it too early
  if (req.conditionCount > 0) return 'Conditional orders are not supported by the simulator';
  return undefined;
}

/** IB-style execution id: `0000e1a2.<permId, 8 hex>.01.<fill number, 2 hex>`, unique per fill. */
export function execId(permId: number, seq: number): string {
  return `0000e1a2.${permId.toString(16).padStart(8, '0')}.01.${seq.toString(16).padStart(2, '0')}`;
}
