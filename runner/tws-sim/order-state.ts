/**
 * The order book's state and the rules that follow from it alone: statuses (PreSubmitted while
 * untransmitted, held by an unfilled parent or waiting to elect; Submitted when working),
 * bracket transmission, cancellation with its cascade to children, and the effect of a fill on
 * linked orders (OCA groups, bracket siblings). OrderBook adds requests and matching on top.
 */
import type { BookEvent, BookOrder, OrderStatus } from './order-types.js';
import { ORDER_ERRORS } from './order-types.js';

export const EPS = 1e-9;
const FINAL: readonly OrderStatus[] = ['Filled', 'Cancelled', 'Inactive'];
export const isFinal = (o: BookOrder): boolean => FINAL.includes(o.status);
export const isStop = (t: string): boolean => t === 'STP' || t === 'STP LMT';
export const remaining = (o: BookOrder): number => Math.max(0, o.totalQuantity - o.filled);
export const key = (clientId: number, orderId: number): string => `${clientId}:${orderId}`;

/** A snapshot: later changes must not alter an event already produced. */
export function orderEvent(o: BookOrder): BookEvent {
  return { kind: 'order', order: { ...o } };
}

export class OrderState {
  protected readonly orders = new Map<string, BookOrder>();

  /** A transmit=true order transmits its whole bracket: the parent and every other child. */
  protected transmitGroup(origin: BookOrder, ev: BookEvent[]): void {
    const root = origin.parentId > 0 ? (this.orders.get(key(origin.clientId, origin.parentId)) ?? origin) : origin;
    for (const o of [root, ...this.children(root)]) {
      if (o === origin || o.transmitted || isFinal(o)) continue;
      o.transmitted = true;
      this.refresh(o, ev);
    }
  }

  protected statusOf(o: BookOrder): OrderStatus {
    if (isFinal(o)) return o.status;
    if (!o.transmitted || !this.parentFilled(o) || (isStop(o.orderType) && !o.elected)) return 'PreSubmitted';
    return 'Submitted';
  }

  protected refresh(o: BookOrder, ev: BookEvent[]): void {
    const s = this.statusOf(o);
    if (s === o.status) return;
    o.status = s;
    ev.push(orderEvent(o));
  }

  protected parentFilled(o: BookOrder): boolean {
    if (o.parentId <= 0) return true;
    return this.orders.get(key(o.clientId, o.parentId))?.status === 'Filled';
  }

  /** Transmitted, released by its parent, not finished: eligible for matching. */
  protected working(o: BookOrder): boolean {
    return !isFinal(o) && o.transmitted && this.parentFilled(o);
  }

  /**
   * A fill's effect on linked orders: OCA members with ocaType 2/3 are reduced by the fill, any
   * other OCA type cancels them; bracket siblings (children of the same parent) act as an OCA
   * group that reduces, so a filled take-profit cancels its stop.
   */
  protected cancelLinked(o: BookOrder, qty: number, ev: BookEvent[]): void {
    const linked = new Map<BookOrder, 'cancel' | 'reduce'>();
    if (o.ocaGroup) {
      for (const m of this.sorted()) {
        if (m !== o && !isFinal(m) && m.account === o.account && m.ocaGroup === o.ocaGroup) linked.set(m, m.ocaType === 2 || m.ocaType === 3 ? 'reduce' : 'cancel');
      }
    }
    if (o.parentId > 0) {
      for (const s of this.sorted()) {
        if (s !== o && !isFinal(s) && s.clientId === o.clientId && s.parentId === o.parentId && !linked.has(s)) linked.set(s, 'reduce');
      }
    }
    for (const [m, how] of linked) {
      if (isFinal(m)) continue;
      if (how === 'cancel') {
        this.cancelOrder(m, ev, true);
        continue;
      }
      const reduced = m.totalQuantity - qty;
      if (reduced - m.filled <= EPS) {
        this.cancelOrder(m, ev, true);
      } else {
        m.totalQuantity = reduced;
        ev.push(orderEvent(m));
      }
    }
  }

  /** Cancels an order and its children; `notify` adds IB's 202 (a DAY expiry sends none). */
  protected cancelOrder(o: BookOrder, ev: BookEvent[], notify: boolean): void {
    if (isFinal(o)) return;
    o.status = 'Cancelled';
    ev.push(orderEvent(o));
    if (notify) ev.push({ kind: 'error', clientId: o.clientId, orderId: o.orderId, code: ORDER_ERRORS.cancelled.code, message: ORDER_ERRORS.cancelled.text });
    for (const child of this.children(o)) this.cancelOrder(child, ev, notify);
  }

  protected children(parent: BookOrder): BookOrder[] {
    return this.sorted().filter((o) => o.parentId === parent.orderId && o.clientId === parent.clientId && o !== parent);
  }

  /** Time priority: orders in the sequence they were accepted. */
  protected sorted(): BookOrder[] {
    return [...this.orders.values()].sort((a, b) => a.permId - b.permId);
  }
}
