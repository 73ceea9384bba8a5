import { InvariantError } from '../core/errors.js';
import type { OrderStatus } from './orders.js';

/**
 * Legal order status transitions. PENDING_CANCEL can still fill (the cancel raced a fill) and can
 * fall back to ACCEPTED/PARTIALLY_FILLED when the venue refuses the cancel.
 */
const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  INITIALIZED: ['SUBMITTED', 'REJECTED', 'CANCELLED'],
  SUBMITTED: ['ACCEPTED', 'REJECTED', 'PARTIALLY_FILLED', 'FILLED', 'CANCELLED', 'PENDING_CANCEL', 'EXPIRED'],
  ACCEPTED: ['PARTIALLY_FILLED', 'FILLED', 'PENDING_CANCEL', 'CANCELLED', 'EXPIRED', 'ACCEPTED'],
  PARTIALLY_FILLED: ['PARTIALLY_FILLED', 'FILLED', 'PENDING_CANCEL', 'CANCELLED', 'EXPIRED'],
  // a cancel can race the venue's reject of the same order
  PENDING_CANCEL: ['CANCELLED', 'PARTIALLY_FILLED', 'FILLED', 'ACCEPTED', 'EXPIRED', 'PENDING_CANCEL', 'REJECTED'],
  FILLED: [],
  CANCELLED: [],
  REJECTED: [],
  EXPIRED: [],
};

export const TERMINAL_STATUSES: ReadonlySet<OrderStatus> = new Set(['FILLED', 'CANCELLED', 'REJECTED', 'EXPIRED']);

export function isTerminal(status: OrderStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** An order that can still fill */
export function isWorking(status: OrderStatus): boolean {
  return status === 'SUBMITTED' || status === 'ACCEPTED' || status === 'PARTIALLY_FILLED' || status === 'PENDING_CANCEL';
}

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Returns the new status or throws: an illegal transition is a bug in a venue or the engine. */
export function nextStatus(orderId: number, from: OrderStatus, to: OrderStatus): OrderStatus {
  if (!canTransition(from, to)) {
    throw new InvariantError(`Order ${orderId}: illegal status transition ${from} -> ${to}`);
  }
  return to;
}
