import type { Order, OrderSide } from './orders.js';

/** One execution: part or all of an order filled at one price. */
export interface Fill {
  orderId: number;
  clientOrderId: string;
  strategyId: string;
  instrument: string;
  instrumentIndex: number;
  side: OrderSide;
  quantity: number;
  price: number;
  commission: number;
  ts: number;
  /** Venue's execution id (IB execId); unique per fill */
  executionId: string;
  liquidity: 'maker' | 'taker';
}

/**
 * What a venue (simulated or IB) reports about an order. The order manager applies these through the
 * state machine and turns them into OrderEvents. Rejections and cancels are reports, never exceptions.
 */
export type ExecutionReport =
  | { type: 'accepted'; orderId: number; ts: number }
  | { type: 'rejected'; orderId: number; ts: number; reason: string }
  | {
      type: 'filled';
      orderId: number;
      ts: number;
      quantity: number;
      price: number;
      commission: number;
      executionId: string;
      liquidity: 'maker' | 'taker';
    }
  | { type: 'cancelled'; orderId: number; ts: number; reason: string }
  | { type: 'expired'; orderId: number; ts: number }
  | { type: 'modified'; orderId: number; ts: number; quantity: number; limitPrice: number; stopPrice: number }
  | { type: 'modify_rejected'; orderId: number; ts: number; reason: string }
  | { type: 'cancel_rejected'; orderId: number; ts: number; reason: string }
  /** STOP_LIMIT stop hit (now a limit), or a TRAILING_STOP's stop moved */
  | { type: 'triggered'; orderId: number; ts: number; stopPrice: number };

export type OrderEventType =
  | 'submitted'
  | 'accepted'
  | 'rejected'
  | 'partially_filled'
  | 'filled'
  | 'pending_cancel'
  | 'cancelled'
  | 'expired'
  | 'modified'
  | 'modify_rejected'
  | 'cancel_rejected'
  | 'triggered';

/** What strategies, the journal and results see. `order` is the order after the event. */
export interface OrderEvent {
  type: OrderEventType;
  ts: number;
  order: Readonly<Order>;
  /** Set for partially_filled and filled */
  fill?: Fill;
  /** Set for rejected, cancelled, modify_rejected, cancel_rejected */
  reason?: string;
}
