import type { ExecutionReport } from '../../lib/model/order-events.js';
import type { Order, OrderSide, OrderType, TimeInForce } from '../../lib/model/orders.js';

/** What the order tracker (order-tracker.ts) keeps per order, and the reports it queues */

/** Quantities closer than this are equal */
export const EPS = 1e-9;

export type Report = ExecutionReport;
export type FillReport = Extract<ExecutionReport, { type: 'filled' }>;

export interface QueueItem {
  report: Report;
  /** Fills: the execution's id */
  execId?: string;
  /** Fills: waiting for the commission report */
  waitingCommission?: boolean;
  /** Terminal reports: wait until this much is delivered filled (cleared at the deadline) */
  awaitFilled?: number;
  timer?: unknown;
}

export interface TrackedOrder {
  readonly orderId: number;
  readonly clientOrderId: string;
  readonly strategyId: string;
  readonly instrument: string;
  readonly orderRef: string;
  readonly type: OrderType;
  readonly side: OrderSide;
  readonly tif: TimeInForce;
  readonly parentId: number;
  readonly ocaGroup: string;
  /** IB order id (0 until placed or adopted) */
  ibOrderId: number;
  /** The IB client id the order belongs to */
  clientId: number;
  permId: number;
  /** placeOrder left for TWS (or the order was adopted) */
  sent: boolean;
  /** Send sequence number (orders sent after a snapshot request are not judged by it) */
  sentSeq: number;
  adopted: boolean;
  /** Taken over from an earlier process of the run: waits for a reconciliation to find it at IB (or not) */
  recovering: boolean;
  /** 'accepted' queued */
  accepted: boolean;
  /** A terminal report queued, or fills complete the quantity */
  done: boolean;
  /** As the engine last heard (or will, once queued reports go out) */
  quantity: number;
  limitPrice: number;
  stopPrice: number;
  /** Fills queued or delivered */
  filled: number;
  /** Latest IB status and its filled count */
  ibStatus: string;
  ibFilled: number;
  statusKey: string;
  cancelRequested: boolean;
  pendingModify: boolean;
  triggered: boolean;
  lastError: string;
  /** What was delivered to the engine */
  delivered: { accepted: boolean; final: boolean; filled: number };
  queue: QueueItem[];
  flushing: boolean;
}

/** A report queued while recording (reconciliation). */
export interface ReportNote {
  orderId: number;
  orderRef: string;
  report: Report;
  recovered: boolean;
}

/** A tracked order as `add` creates it: nothing sent, nothing heard from IB */
export function newTrackedOrder(order: Readonly<Order>, orderRef: string): TrackedOrder {
  return {
    orderId: order.id,
    clientOrderId: order.clientOrderId,
    strategyId: order.strategyId,
    instrument: order.instrument,
    orderRef,
    type: order.type,
    side: order.side,
    tif: order.tif,
    parentId: order.parentId,
    ocaGroup: order.ocaGroup,
    ibOrderId: 0,
    clientId: 0,
    permId: 0,
    sent: false,
    sentSeq: 0,
    adopted: false,
    recovering: false,
    accepted: false,
    done: false,
    quantity: order.quantity,
    limitPrice: order.limitPrice,
    stopPrice: order.stopPrice,
    filled: 0,
    ibStatus: '',
    ibFilled: 0,
    statusKey: '',
    cancelRequested: false,
    pendingModify: false,
    triggered: false,
    lastError: '',
    delivered: { accepted: false, final: false, filled: 0 },
    queue: [],
    flushing: false,
  };
}

export function isTerminal(r: Report): boolean {
  return r.type === 'cancelled' || r.type === 'rejected' || r.type === 'expired';
}
