/**
 * Our orders at IB and the reports they produce, exactly once per state change. Pure state and
 * rules: IB events come in already converted (ib-views.ts), reports go out through `emit`; timers
 * come from the injected scheduler.
 *
 * Identity. An order is found by IB permId, else by (IB order id, client id). Order ids are per
 * client id; permIds are unique and stable across connections and restarts.
 *
 * Dedupe. IB repeats itself (openOrder + orderStatus for every change, the same orderStatus many
 * times, the whole state again when open orders are requested); reports follow state changes,
 * not messages:
 * - accepted: once, on the first PreSubmitted / Submitted / PendingCancel / Filled status (or the first fill).
 * - filled: once per execId, whether from the live feed or a reconciliation; never more than the
 *   order's quantity (an overfill is alerted and not applied).
 * - rejected / cancelled: once, on 201 / Inactive (rejected while never accepted, else cancelled),
 *   202 / Cancelled / ApiCancelled. DAY expiry is indistinguishable from a cancel at IB and is
 *   reported as cancelled.
 * - modified: when an openOrder shows another quantity, limit or stop than the engine last heard
 *   (our modify, an OCA reduction at IB, tick rounding), or answers a pending modify.
 * - triggered: a STOP_LIMIT going PreSubmitted -> Submitted (elected), a TRAILING_STOP whose trailStopPrice moved.
 * - cancel_rejected on 10147 / 10148 while a cancel is pending; modify_rejected on 201 / 103 /
 *   104 while a modify is pending.
 *
 * Commissions. A fill waits (bounded by `commissionWaitMs`) for its commissionReport, so it goes
 * out with the real commission; at the deadline it goes out with commission 0 and a commission
 * arriving later raises a 'late-commission' alert carrying the amount (the runner journals it).
 *
 * Ordering. Each order has its own queue: a fill waiting for its commission holds back the
 * order's later reports, so the engine never sees them out of order. Fills are queued ahead of a
 * terminal report not yet delivered (IB can say Cancelled before a fill found later); a terminal
 * report whose orderStatus counts more filled than we know waits (bounded) for those fills and
 * asks for them (`onMissingFills`). At delivery every report is checked against what the engine
 * was told (never two terminal reports, 'rejected' after acceptance becomes 'cancelled', a fill
 * after a terminal report is alerted instead of delivered), so the engine's state machine never
 * sees an illegal transition. `pause()` holds every queue (during a reconciliation).
 *
 * Files: the per-order state (tracked-order.ts), the queues and the delivery checks
 * (order-report-queue.ts), the rules that turn IB events into reports (here).
 */
import { silentLogger, type Logger } from '../../lib/core/logger.js';
import type { SessionScheduler } from '../../lib/ib/ib-session.js';
import type { Order } from '../../lib/model/orders.js';
import { classifyIbStatus, ourPrices } from './ib-order-mapping.js';
import type { IbExecutionView, IbOrderView, IbStatusView } from './ib-views.js';
import type { AlertKind, AlertLevel } from './execution-types.js';
import { OrderReportQueue } from './order-report-queue.js';
import { EPS, newTrackedOrder, type FillReport, type QueueItem, type Report, type ReportNote, type TrackedOrder } from './tracked-order.js';

export type { ReportNote, TrackedOrder } from './tracked-order.js';

export interface OrderTrackerOptions {
  emit(report: Report): void;
  now(): number;
  scheduler: SessionScheduler;
  /** Longest wait for a fill's commission report (default 2000 ms) */
  commissionWaitMs?: number;
  /** Longest wait of a terminal report for fills IB counted but did not report yet (default 5000 ms) */
  missingFillsWaitMs?: number;
  alert(level: AlertLevel, kind: AlertKind, message: string, extra?: { orderId?: number; orderRef?: string; details?: Record<string, unknown> }): void;
  /** IB counts more filled than the executions we have: fetch executions */
  onMissingFills?(order: TrackedOrder): void;
  logger?: Logger;
}

/** Codes that are warnings about an order, never a change of its state. */
export function isOrderWarning(code: number, message: string): boolean {
  return code === 399 || (code >= 2100 && code <= 2999) || code === 10167 || code === 10090 || /warning/i.test(message);
}

export class OrderTracker {
  private readonly byId = new Map<number, TrackedOrder>();
  private readonly byIb = new Map<number, TrackedOrder[]>();
  private readonly byPerm = new Map<number, TrackedOrder>();
  private readonly byRef = new Map<string, TrackedOrder>();
  /** Executions applied (or deliberately not applied): never again */
  private readonly execs = new Set<string>();
  private readonly commissions = new Map<string, number>();
  /** Queued fills waiting for their commission report, by execId */
  private readonly waiting = new Map<string, { t: TrackedOrder; item: QueueItem }>();
  /** Fills that went out with commission 0 because the report was late */
  private readonly uncommissioned = new Map<string, TrackedOrder>();
  private readonly net = new Map<string, number>();
  private readonly log: Logger;
  private readonly commissionWaitMs: number;
  private readonly missingFillsWaitMs: number;
  /** Each order's queue of reports on their way to the engine */
  private readonly reports: OrderReportQueue;

  constructor(private readonly options: OrderTrackerOptions) {
    this.log = (options.logger ?? silentLogger).child({ component: 'order-tracker' });
    this.commissionWaitMs = options.commissionWaitMs ?? 2000;
    this.missingFillsWaitMs = options.missingFillsWaitMs ?? 5000;
    this.reports = new OrderReportQueue({
      emit: (report) => this.options.emit(report),
      alert: (level, kind, message, extra) => this.options.alert(level, kind, message, extra),
      addNet: (t, qty) => this.addNet(t, qty),
      scheduler: options.scheduler,
      log: this.log,
    });
  }

  // ---- registry ----

  add(order: Readonly<Order>, orderRef: string): TrackedOrder {
    const t = newTrackedOrder(order, orderRef);
    this.byId.set(order.id, t);
    this.byRef.set(orderRef, t);
    return t;
  }

  /**
   * An order an earlier process of the run sent or may have sent, adopted by the engine after a
   * restart with what the journal knew (status, filled quantity). It is not bound to an IB order until
   * a reconciliation looks its orderRef up (recovered-orders.ts). `knownExecutions` were applied
   * before the restart: they are never reported again.
   */
  addRecovered(order: Readonly<Order>, orderRef: string, knownExecutions: Iterable<string>): TrackedOrder {
    const t = this.add(order, orderRef);
    const accepted = order.status !== 'SUBMITTED';
    t.filled = order.filledQuantity;
    t.delivered = { accepted, final: false, filled: order.filledQuantity };
    t.accepted = accepted;
    t.recovering = true;
    for (const id of knownExecutions) this.execs.add(id);
    return t;
  }

  get(orderId: number): TrackedOrder | undefined {
    return this.byId.get(orderId);
  }

  byOrderRef(ref: string): TrackedOrder | undefined {
    return this.byRef.get(ref);
  }

  all(): IterableIterator<TrackedOrder> {
    return this.byId.values();
  }

  /** Binds an order to its IB identity (placed or adopted). */
  bind(t: TrackedOrder, ibOrderId: number, clientId: number, permId = 0): void {
    t.ibOrderId = ibOrderId;
    t.clientId = clientId;
    const list = this.byIb.get(ibOrderId) ?? [];
    if (!list.includes(t)) list.push(t);
    this.byIb.set(ibOrderId, list);
    if (permId > 0) this.bindPerm(t, permId);
  }

  /** The tracked order an IB message is about: by permId, else by (order id, client id). */
  find(ids: { orderId: number; clientId: number; permId: number }): TrackedOrder | undefined {
    if (ids.permId > 0) {
      const t = this.byPerm.get(ids.permId);
      if (t) return t;
    }
    const t = this.byIb.get(ids.orderId)?.find((x) => x.clientId === ids.clientId);
    if (!t || (ids.permId > 0 && t.permId > 0 && t.permId !== ids.permId)) return undefined;
    if (ids.permId > 0) this.bindPerm(t, ids.permId);
    return t;
  }

  /** An error's order id on our connection (client id `clientId`). */
  findForError(ibOrderId: number, clientId: number): TrackedOrder | undefined {
    const list = this.byIb.get(ibOrderId);
    return list?.find((x) => x.clientId === clientId) ?? list?.[0];
  }

  hasExecution(execId: string): boolean {
    return this.execs.has(execId);
  }

  /** Net signed quantity filled per instrument key (fills queued or delivered; not those refused at delivery). */
  netPositions(): ReadonlyMap<string, number> {
    return this.net;
  }

  // ---- recording and pausing (reconciliation) ----

  startRecording(): void {
    this.reports.startRecording();
  }

  stopRecording(): ReportNote[] {
    return this.reports.stopRecording();
  }

  pause(): void {
    this.reports.pause();
  }

  resume(): void {
    this.reports.resume(this.byId.values());
  }

  // ---- local outcomes ----

  accept(t: TrackedOrder, front = false): void {
    if (t.accepted) return;
    t.accepted = true;
    this.reports.enqueue(t, { report: { type: 'accepted', orderId: t.orderId, ts: this.options.now() } }, front ? 'front' : 'back');
  }

  /** Ends the order with a rejection (before acceptance) or a cancel; false when it had ended already. */
  end(t: TrackedOrder, kind: 'rejected' | 'cancelled', reason: string, awaitFilled?: number): boolean {
    if (t.done) return false;
    t.done = true;
    t.cancelRequested = false;
    t.pendingModify = false;
    const ts = this.options.now();
    const report: Report = kind === 'rejected' && !t.accepted ? { type: 'rejected', orderId: t.orderId, ts, reason } : { type: 'cancelled', orderId: t.orderId, ts, reason };
    const item: QueueItem = { report };
    if (awaitFilled !== undefined && awaitFilled > t.filled + EPS) {
      item.awaitFilled = awaitFilled;
      item.timer = this.options.scheduler.setTimeout(() => {
        item.timer = undefined;
        item.awaitFilled = undefined;
        this.log.warn('terminal report sent without the fills IB counted', { orderId: t.orderId, ibFilled: awaitFilled, known: t.filled });
        this.reports.flush(t);
      }, this.missingFillsWaitMs);
      this.options.onMissingFills?.(t);
    }
    this.reports.enqueue(t, item, 'back');
    return true;
  }

  cancelRejected(t: TrackedOrder, reason: string): void {
    t.cancelRequested = false;
    this.reports.enqueue(t, { report: { type: 'cancel_rejected', orderId: t.orderId, ts: this.options.now(), reason } }, 'back');
  }

  modifyRejected(t: TrackedOrder, reason: string): void {
    t.pendingModify = false;
    this.reports.enqueue(t, { report: { type: 'modify_rejected', orderId: t.orderId, ts: this.options.now(), reason } }, 'back');
  }

  // ---- IB events ----

  /** openOrder: status, quantity and price changes. */
  onOpenOrder(t: TrackedOrder, v: IbOrderView): void {
    if (v.permId > 0) this.bindPerm(t, v.permId);
    this.applyStatus(t, v.status, undefined);
    const c = classifyIbStatus(v.status);
    if (!t.done && (c === 'working' || c === 'pending-cancel')) this.syncFields(t, v);
  }

  /** orderStatus: repeated messages change nothing. */
  onStatus(t: TrackedOrder, v: IbStatusView): void {
    if (v.permId > 0) this.bindPerm(t, v.permId);
    const key = `${v.status}|${v.filled}|${v.remaining}|${v.avgFillPrice}`;
    if (key === t.statusKey) return;
    t.statusKey = key;
    t.ibFilled = Math.max(t.ibFilled, v.filled);
    this.applyStatus(t, v.status, v.filled);
    if (classifyIbStatus(v.status) === 'filled' && v.filled > t.filled + EPS) this.options.onMissingFills?.(t);
  }

  /**
   * One execution of a tracked order: a fill, once per execId. `recovered`: found by a
   * reconciliation (queued ahead of the order's live fills). Returns false for a repeat.
   */
  onExecution(t: TrackedOrder, v: IbExecutionView, recovered = false): boolean {
    if (this.execs.has(v.execId)) return false;
    this.execs.add(v.execId);
    if (v.permId > 0) this.bindPerm(t, v.permId);
    if (v.side !== undefined && v.side !== t.side) {
      this.options.alert('critical', 'order-state', `execution ${v.execId} of order ${t.orderId} is a ${v.side}, the order a ${t.side}: not applied`, { orderId: t.orderId, orderRef: t.orderRef });
      return true;
    }
    let qty = v.shares;
    const remaining = t.quantity - t.filled;
    if (qty > remaining + EPS) {
      this.options.alert('critical', 'overfill', `execution ${v.execId} fills ${qty} of order ${t.orderId} with ${remaining} remaining: ${qty - Math.max(0, remaining)} not applied`, {
        orderId: t.orderId,
        orderRef: t.orderRef,
        details: { execId: v.execId, shares: v.shares, remaining },
      });
      qty = Math.max(0, remaining);
    }
    if (!(qty > EPS)) return true;
    t.filled += qty;
    if (t.filled >= t.quantity - EPS) t.done = true;
    this.addNet(t, qty);
    this.accept(t, true);
    const commission = this.commissions.get(v.execId);
    const ts = Number.isFinite(v.time) ? v.time : this.options.now();
    const report: FillReport = { type: 'filled', orderId: t.orderId, ts, quantity: qty, price: v.price, commission: commission ?? 0, executionId: v.execId, liquidity: v.liquidity };
    const item: QueueItem = { report, execId: v.execId };
    if (commission === undefined) {
      item.waitingCommission = true;
      item.timer = this.options.scheduler.setTimeout(() => {
        item.timer = undefined;
        if (!item.waitingCommission) return;
        item.waitingCommission = false;
        this.waiting.delete(v.execId);
        this.uncommissioned.set(v.execId, t);
        this.log.warn('fill sent without its commission report', { orderId: t.orderId, execId: v.execId, waitedMs: this.commissionWaitMs });
        this.reports.flush(t);
      }, this.commissionWaitMs);
      this.waiting.set(v.execId, { t, item });
    } else {
      this.commissions.delete(v.execId);
    }
    this.reports.enqueue(t, item, recovered ? 'before-fills' : 'before-terminal', recovered);
    return true;
  }

  /** A commissionReport: completes a waiting fill, or is remembered for the fill to come. */
  onCommission(execId: string, commission: number): void {
    const waiting = this.waiting.get(execId);
    if (waiting) {
      this.waiting.delete(execId);
      (waiting.item.report as FillReport).commission = commission;
      waiting.item.waitingCommission = false;
      this.reports.clearTimer(waiting.item);
      this.reports.flush(waiting.t);
      return;
    }
    const late = this.uncommissioned.get(execId);
    if (late) {
      this.uncommissioned.delete(execId);
      this.options.alert('warning', 'late-commission', `commission ${commission} for execution ${execId} of order ${late.orderId} arrived after its fill was reported with 0`, {
        orderId: late.orderId,
        orderRef: late.orderRef,
        details: { execId, commission },
      });
      return;
    }
    if (this.execs.has(execId)) return;
    this.commissions.set(execId, commission);
    // bounded memory: executions of other clients' orders never claim theirs
    if (this.commissions.size > 50_000) this.commissions.delete(this.commissions.keys().next().value as string);
  }

  /** An IB error about one of our orders. */
  onError(t: TrackedOrder, code: number, message: string): void {
    if (isOrderWarning(code, message)) {
      this.log.warn('order warning', { orderId: t.orderId, orderRef: t.orderRef, code, message });
      return;
    }
    switch (code) {
      case 202:
        this.end(t, 'cancelled', t.cancelRequested ? 'cancel requested' : message || 'cancelled at IB');
        return;
      case 10147:
      case 10148:
        if (t.cancelRequested) this.cancelRejected(t, message);
        else this.log.warn('cancel error without a pending cancel', { orderId: t.orderId, code, message });
        return;
      case 104:
        if (t.pendingModify) this.modifyRejected(t, message);
        else this.log.warn('modify error without a pending modify', { orderId: t.orderId, code, message });
        return;
      default:
        break;
    }
    if (t.pendingModify && (code === 201 || code === 103)) {
      this.modifyRejected(t, message);
      return;
    }
    // the reason of an Inactive / Cancelled status that may follow
    t.lastError = message;
    if (code === 103) this.options.alert('critical', 'duplicate-order-id', `IB refused order ${t.orderId} (IB id ${t.ibOrderId}): ${message}`, { orderId: t.orderId, orderRef: t.orderRef });
    if (!t.accepted && !t.done) {
      this.end(t, 'rejected', code === 201 ? message : `IB error ${code}: ${message}`);
      return;
    }
    this.options.alert('warning', 'order-error', `IB error ${code} on working order ${t.orderId}: ${message}`, { orderId: t.orderId, orderRef: t.orderRef, details: { code } });
  }

  /** Cancels every timer (the client is closing). */
  close(): void {
    for (const t of this.byId.values()) for (const item of t.queue) this.reports.clearTimer(item);
  }

  // ---- internals ----

  private bindPerm(t: TrackedOrder, permId: number): void {
    if (t.permId === permId) return;
    t.permId = permId;
    this.byPerm.set(permId, t);
  }

  private applyStatus(t: TrackedOrder, status: string, filled: number | undefined): void {
    const previous = t.ibStatus;
    if (status) t.ibStatus = status;
    switch (classifyIbStatus(status)) {
      case 'working':
        if (!t.accepted && !t.done) this.accept(t);
        if (t.type === 'STOP_LIMIT' && !t.triggered && !t.done && previous === 'PreSubmitted' && status === 'Submitted') {
          t.triggered = true;
          this.reports.enqueue(t, { report: { type: 'triggered', orderId: t.orderId, ts: this.options.now(), stopPrice: t.stopPrice } }, 'back');
        }
        return;
      case 'pending-cancel':
      case 'filled':
        if (!t.accepted && !t.done) this.accept(t);
        return;
      case 'cancelled':
        this.end(t, 'cancelled', t.cancelRequested ? 'cancel requested' : t.lastError || 'cancelled at IB', filled);
        return;
      case 'inactive':
        this.end(t, 'rejected', t.lastError || 'inactive at IB', filled);
        return;
      default:
        return;
    }
  }

  /** Quantity / price changes an openOrder shows (or the answer to a pending modify). */
  private syncFields(t: TrackedOrder, v: IbOrderView): void {
    const { limitPrice, stopPrice } = ourPrices(t.type, v);
    if (t.type === 'TRAILING_STOP') {
      if (!Number.isNaN(stopPrice) && !same(stopPrice, t.stopPrice)) {
        t.stopPrice = stopPrice;
        this.reports.enqueue(t, { report: { type: 'triggered', orderId: t.orderId, ts: this.options.now(), stopPrice } }, 'back');
      }
    }
    const quantity = v.totalQuantity > 0 ? v.totalQuantity : t.quantity;
    const limit = Number.isNaN(limitPrice) ? t.limitPrice : limitPrice;
    const stop = t.type === 'TRAILING_STOP' || Number.isNaN(stopPrice) ? t.stopPrice : stopPrice;
    const changed = !same(quantity, t.quantity) || !same(limit, t.limitPrice) || !same(stop, t.stopPrice);
    if (!changed && !t.pendingModify) return;
    t.pendingModify = false;
    t.quantity = quantity;
    t.limitPrice = limit;
    t.stopPrice = stop;
    this.reports.enqueue(t, { report: { type: 'modified', orderId: t.orderId, ts: this.options.now(), quantity, limitPrice: limit, stopPrice: stop } }, 'back');
  }

  private addNet(t: TrackedOrder, qty: number): void {
    this.net.set(t.instrument, (this.net.get(t.instrument) ?? 0) + (t.side === 'BUY' ? qty : -qty));
  }
}

function same(a: number, b: number): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}
