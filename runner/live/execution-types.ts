/** The execution client's public vocabulary: alerts and the reconciliation report. */
import type { IbContractView, IbOrderView } from './ib-views.js';

export type AlertLevel = 'info' | 'warning' | 'critical';

export type AlertKind =
  /** A fill found at reconciliation that the live feed never delivered */
  | 'missed-fill'
  /** Our view of an order differed from IB's and was corrected from IB's */
  | 'order-state'
  /** An order we thought working is not open at IB (and not filled) */
  | 'order-missing'
  /** An order at IB whose orderRef is not ours (manual, another tool, another strategy version) */
  | 'external-order'
  /** An order at IB with our orderRef that no order of this run has claimed (yet) */
  | 'unclaimed-order'
  /** A position at IB not explained by our fills / positions */
  | 'external-position'
  /** A submission found its decision already at IB and adopted that order instead of sending */
  | 'adopted-order'
  /** A submission's orderRef is used at IB by an order that does not match it */
  | 'ref-collision'
  /** IB said 103: the order id was used before */
  | 'duplicate-order-id'
  /** IB reported more filled than the order's quantity; the excess was not applied */
  | 'overfill'
  /** A fill for an order already reported rejected/cancelled/expired: it cannot be applied */
  | 'fill-after-terminal'
  /** A commission report arrived after its fill went out with commission 0 */
  | 'late-commission'
  /** An IB error on an order that does not change its state */
  | 'order-error'
  | 'reconcile-failed'
  /** The report sink threw */
  | 'sink-failed';

export interface ExecutionAlert {
  level: AlertLevel;
  kind: AlertKind;
  message: string;
  /** Epoch ms from the client's clock */
  at: number;
  orderId?: number;
  orderRef?: string;
  details?: Record<string, unknown>;
}

export type ReconcileCause = 'start' | 'reconnect' | 'missing-fills' | 'manual';

export interface RecoveredFill {
  orderId: number;
  orderRef: string;
  executionId: string;
  quantity: number;
  price: number;
  commission: number;
  ts: number;
}

/** A report the reconciliation queued for one of our orders (besides recovered fills). */
export interface OrderUpdate {
  orderId: number;
  orderRef: string;
  /** The ExecutionReport type */
  update: string;
  detail: string;
}

/** An order at IB this run does not own. */
export interface BrokerOrderSummary {
  permId: number;
  orderId: number;
  clientId: number;
  orderRef: string;
  account: string;
  instrument: string;
  contract: IbContractView;
  side: string;
  quantity: number;
  orderType: string;
  limitPrice: number | undefined;
  stopPrice: number | undefined;
  status: string;
  filled: number;
}

export interface PositionDiscrepancy {
  instrument: string;
  account: string;
  conId: number;
  brokerQuantity: number;
  ourQuantity: number;
  /** broker - ours */
  difference: number;
  avgCost: number;
}

/**
 * missed-fill: recovered at reconciliation; order-state: IB's state of an order differed from ours
 * (corrected); order-missing: ours working, not open at IB (ended); order-still-open: ended for us,
 * still working at IB (needs a cancel); position: IB's position differs from ours.
 */
export type MismatchKind = 'missed-fill' | 'order-state' | 'order-missing' | 'order-still-open' | 'position';

export interface Mismatch {
  kind: MismatchKind;
  orderId?: number;
  orderRef?: string;
  instrument?: string;
  detail: string;
}

export interface ReconcileReport {
  cause: ReconcileCause;
  /** Epoch ms when it completed */
  at: number;
  recoveredFills: RecoveredFill[];
  updatedOrders: OrderUpdate[];
  /** Orders at IB whose orderRef is not ours (reported, never adopted) */
  externalOrders: BrokerOrderSummary[];
  /** Orders at IB with our orderRef that no order of this run has claimed yet (adopted on submit) */
  unclaimedOrders: BrokerOrderSummary[];
  /** Positions at IB that our fills / positions do not explain (and ours IB does not hold) */
  externalPositions: PositionDiscrepancy[];
  mismatches: Mismatch[];
  counts: { openOrders: number; executions: number; positions: number };
}

export function orderSummary(v: IbOrderView, instrument: string, filled: number): BrokerOrderSummary {
  return {
    permId: v.permId,
    orderId: v.orderId,
    clientId: v.clientId,
    orderRef: v.orderRef,
    account: v.account,
    instrument,
    contract: v.contract,
    side: v.side ?? '',
    quantity: v.totalQuantity,
    orderType: v.orderType,
    limitPrice: v.lmtPrice,
    stopPrice: v.auxPrice,
    status: v.status,
    filled,
  };
}
