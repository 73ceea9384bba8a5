/**
 * After a restart: which of the orders an earlier process sent (or was about to send) IB has.
 *
 * The runner adopts every order the journal left unconfirmed (intent durable, nothing after it) or
 * open into the engine and the tracker (`OrderTracker.addRecovered`); the first reconciliation then
 * looks each one up by its orderRef among IB's open orders and executions, before it applies
 * anything else:
 * - found, same side and quantity: bound to that IB order (its state and the fills the journal does
 *   not have follow as reports, once each) and never sent again: `adopted`;
 * - not found: IB never got it (the process died between the intent and the socket) or it ended
 *   there without a trace the API shows (cancelled, unfilled). Ended here (rejected, or cancelled
 *   when IB had accepted it) and NOT sent again: the strategy decides afresh on its next bar:
 *   `not-found`;
 * - found but different (side, quantity, claimed by another order): `collision`, ended and alerted.
 */
import type { BrokerOrder, BrokerOrders } from './broker-orders.js';
import type { BrokerSnapshot } from './broker-snapshot.js';
import type { AlertKind, AlertLevel } from './execution-types.js';
import type { OrderTracker, TrackedOrder } from './order-tracker.js';

const EPS = 1e-9;

export interface RecoveredOrderOutcome {
  /** Engine order id in this process */
  orderId: number;
  clientOrderId: string;
  orderRef: string;
  outcome: 'adopted' | 'not-found' | 'collision';
  /** The OrderStatus IB's answer implies (ACCEPTED, PARTIALLY_FILLED, FILLED, CANCELLED), or NOT_FOUND */
  status: string;
  /** IB's identity of the order (0 when not found) */
  ibOrderId: number;
  clientId: number;
  permId: number;
  /** Quantity IB reports filled (its executions, or its status when larger) */
  ibFilled: number;
  detail: string;
}

export interface RecoveredContext {
  tracker: OrderTracker;
  broker: BrokerOrders;
  alert(level: AlertLevel, kind: AlertKind, message: string, extra?: { orderId?: number; orderRef?: string; details?: Record<string, unknown> }): void;
}

/** Binds or ends every recovering order against a snapshot (before the snapshot is applied). */
export function bindRecovered(ctx: RecoveredContext, snap: BrokerSnapshot): RecoveredOrderOutcome[] {
  const recovering = [...ctx.tracker.all()].filter((t) => t.recovering);
  if (recovering.length === 0) return [];
  const { broker, tracker } = ctx;
  const listed = new Set<string>();
  for (const { order, status } of snap.openOrders) {
    listed.add(broker.noteOrder(order).key);
    if (status) broker.noteStatus(status);
  }
  for (const e of snap.executions) broker.noteExecution(e);

  const out: RecoveredOrderOutcome[] = [];
  for (const t of recovering) {
    t.recovering = false;
    const b = broker.byOrderRef(t.orderRef);
    const base = { orderId: t.orderId, clientOrderId: t.clientOrderId, orderRef: t.orderRef };
    if (b === undefined) {
      const detail = `${t.orderRef}: IB has no order or execution with this orderRef after the restart: not sent again`;
      // the reconciliation report alerts it (an order-state mismatch): no second alert here
      tracker.end(t, 'rejected', 'not found at IB after a restart (not sent again)');
      out.push({ ...base, outcome: 'not-found', status: 'NOT_FOUND', ibOrderId: 0, clientId: 0, permId: 0, ibFilled: 0, detail });
      continue;
    }
    const ibFilled = filledAt(b);
    const problem = collision(t, b, ibFilled);
    const ids = { ibOrderId: b.orderId, clientId: b.clientId, permId: b.permId, ibFilled };
    if (problem !== undefined) {
      const detail = `orderRef ${t.orderRef} is used at IB by a different order (${problem})`;
      tracker.end(t, 'rejected', detail);
      ctx.alert('critical', 'ref-collision', detail, { orderId: t.orderId, orderRef: t.orderRef, details: { permId: b.permId, ibOrderId: b.orderId, clientId: b.clientId } });
      out.push({ ...base, outcome: 'collision', status: 'REJECTED', ...ids, detail });
      continue;
    }
    broker.claim(b, t.orderId);
    tracker.bind(t, b.orderId, b.clientId, b.permId);
    t.sent = true;
    t.adopted = true;
    const open = listed.has(b.key);
    const status = open ? (ibFilled > EPS ? 'PARTIALLY_FILLED' : 'ACCEPTED') : ibFilled >= t.quantity - EPS ? 'FILLED' : 'CANCELLED';
    const detail = `${t.orderRef} is at IB (IB id ${b.orderId}, client ${b.clientId}, permId ${b.permId}, ${open ? 'open' : 'no longer open'}, ${ibFilled} of ${t.quantity} filled): adopted, not sent again`;
    ctx.alert('info', 'adopted-order', `order ${t.orderId} ${detail}`, { orderId: t.orderId, orderRef: t.orderRef });
    out.push({ ...base, outcome: 'adopted', status, ...ids, detail });
  }
  return out;
}

function filledAt(b: BrokerOrder): number {
  let sum = 0;
  for (const e of b.executions.values()) sum += e.shares;
  return Math.max(sum, b.status?.filled ?? 0);
}

function collision(t: TrackedOrder, b: BrokerOrder, ibFilled: number): string | undefined {
  const problems: string[] = [];
  const side = b.order?.side ?? [...b.executions.values()][0]?.side;
  if (b.claimedBy > 0 && b.claimedBy !== t.orderId) problems.push(`already adopted by order ${b.claimedBy}`);
  if (side !== undefined && side !== t.side) problems.push(`side ${side}`);
  if (b.order && Math.abs(b.order.totalQuantity - t.quantity) > EPS) problems.push(`quantity ${b.order.totalQuantity}`);
  if (ibFilled > t.quantity + EPS) problems.push(`${ibFilled} filled`);
  return problems.length > 0 ? problems.join(', ') : undefined;
}
