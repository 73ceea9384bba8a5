/**
 * What IB holds besides the orders this run tracks: every order seen at the last reconciliation
 * (open orders of all clients, executions since the filter time) and, between reconciliations,
 * live messages about orders the tracker does not know. Idempotent submission looks decisions
 * up here by orderRef; the reconciliation reports external and unclaimed orders from here.
 */
import { isFinalIbStatus } from './ib-order-mapping.js';
import type { IbExecutionView, IbOrderView, IbStatusView } from './ib-views.js';

export interface BrokerOrder {
  /** `p<permId>`, else `c<clientId>:<orderId>` */
  readonly key: string;
  permId: number;
  orderId: number;
  clientId: number;
  orderRef: string;
  /** The latest openOrder */
  order: IbOrderView | undefined;
  /** The latest orderStatus */
  status: IbStatusView | undefined;
  /** Listed at the latest open-orders request (or seen working since) and not reported final */
  open: boolean;
  executions: Map<string, IbExecutionView>;
  /** The engine order id that adopted it */
  claimedBy: number;
}

function keyOf(ids: { permId: number; clientId: number; orderId: number }): string {
  return ids.permId > 0 ? `p${ids.permId}` : `c${ids.clientId}:${ids.orderId}`;
}

export class BrokerOrders {
  private readonly byKey = new Map<string, BrokerOrder>();
  private readonly byRef = new Map<string, BrokerOrder>();

  noteOrder(v: IbOrderView): BrokerOrder {
    const b = this.entry(v, v.orderRef);
    b.order = v;
    b.open = !isFinalIbStatus(b.status?.status ?? v.status) && !isFinalIbStatus(v.status);
    return b;
  }

  noteStatus(v: IbStatusView): BrokerOrder | undefined {
    const b = this.byKey.get(keyOf(v));
    if (!b) return undefined;
    b.status = v;
    if (isFinalIbStatus(v.status)) b.open = false;
    return b;
  }

  noteExecution(v: IbExecutionView): BrokerOrder {
    const b = this.entry(v, v.orderRef);
    b.executions.set(v.execId, v);
    return b;
  }

  /** The open-orders answer of a reconciliation: everything listed is open, everything else is not. */
  markOpen(listed: ReadonlySet<string>): void {
    for (const b of this.byKey.values()) b.open = listed.has(b.key) && !isFinalIbStatus(b.status?.status ?? b.order?.status);
  }

  byOrderRef(ref: string): BrokerOrder | undefined {
    return ref ? this.byRef.get(ref) : undefined;
  }

  get(ids: { permId: number; clientId: number; orderId: number }): BrokerOrder | undefined {
    return this.byKey.get(keyOf(ids));
  }

  claim(b: BrokerOrder, orderId: number): void {
    b.claimedBy = orderId;
  }

  all(): IterableIterator<BrokerOrder> {
    return this.byKey.values();
  }

  static key = keyOf;

  private entry(ids: { permId: number; clientId: number; orderId: number }, orderRef: string): BrokerOrder {
    const key = keyOf(ids);
    let b = this.byKey.get(key);
    if (!b) {
      b = { key, permId: ids.permId, orderId: ids.orderId, clientId: ids.clientId, orderRef, order: undefined, status: undefined, open: false, executions: new Map(), claimedBy: 0 };
      this.byKey.set(key, b);
    }
    if (orderRef && !b.orderRef) b.orderRef = orderRef;
    if (b.orderRef && !this.byRef.has(b.orderRef)) this.byRef.set(b.orderRef, b);
    return b;
  }
}
