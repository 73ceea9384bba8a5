import type { Logger } from '../../lib/core/logger.js';
import type { SessionScheduler } from '../../lib/ib/ib-session.js';
import type { AlertKind, AlertLevel } from './execution-types.js';
import { EPS, isTerminal, type QueueItem, type Report, type ReportNote, type TrackedOrder } from './tracked-order.js';

export interface OrderReportQueueHooks {
  emit(report: Report): void;
  alert(level: AlertLevel, kind: AlertKind, message: string, extra?: { orderId?: number; orderRef?: string; details?: Record<string, unknown> }): void;
  /** A fill refused at delivery is taken back out of the net position */
  addNet(t: TrackedOrder, qty: number): void;
  scheduler: SessionScheduler;
  log: Logger;
}

/**
 * The order tracker's (order-tracker.ts) way out: each order's own queue of reports, delivered in
 * order once nothing at its head waits (a fill for its commission, a terminal report for the fills
 * IB counted), each checked against what the engine was already told so its state machine never
 * sees an illegal transition. `pause()` holds every queue; recording notes every report queued.
 */
export class OrderReportQueue {
  private paused = 0;
  private notes: ReportNote[] | undefined;

  constructor(private readonly hooks: OrderReportQueueHooks) {}

  startRecording(): void {
    this.notes = [];
  }

  stopRecording(): ReportNote[] {
    const notes = this.notes ?? [];
    this.notes = undefined;
    return notes;
  }

  pause(): void {
    this.paused++;
  }

  /** Undoes one `pause()`; the last one flushes every queue of `orders` */
  resume(orders: Iterable<TrackedOrder>): void {
    if (this.paused > 0) this.paused--;
    if (this.paused === 0) for (const t of orders) if (t.queue.length > 0) this.flush(t);
  }

  enqueue(t: TrackedOrder, item: QueueItem, where: 'back' | 'front' | 'before-terminal' | 'before-fills', recovered = false): void {
    const q = t.queue;
    let at = q.length;
    if (where === 'front') at = 0;
    else if (where !== 'back') {
      const i = q.findIndex((x) => isTerminal(x.report) || (where === 'before-fills' && x.report.type === 'filled'));
      if (i >= 0) at = i;
    }
    q.splice(at, 0, item);
    this.notes?.push({ orderId: t.orderId, orderRef: t.orderRef, report: item.report, recovered });
    this.flush(t);
  }

  flush(t: TrackedOrder): void {
    if (this.paused > 0 || t.flushing) return;
    t.flushing = true;
    try {
      while (t.queue.length > 0) {
        const item = t.queue[0]!;
        if (item.waitingCommission) return;
        // fills are queued ahead of it: wait until those IB counted have arrived
        if (item.awaitFilled !== undefined && t.delivered.filled < item.awaitFilled - EPS) return;
        t.queue.shift();
        this.clearTimer(item);
        this.deliver(t, item.report);
      }
    } finally {
      t.flushing = false;
    }
  }

  clearTimer(item: QueueItem): void {
    if (item.timer !== undefined) this.hooks.scheduler.clearTimeout(item.timer);
    item.timer = undefined;
  }

  /** Sends a report unless it contradicts what the engine was already told. */
  private deliver(t: TrackedOrder, r: Report): void {
    const d = t.delivered;
    switch (r.type) {
      case 'accepted':
        if (d.accepted || d.final) return;
        d.accepted = true;
        break;
      case 'filled':
        if (d.final) {
          // the engine never hears of it: it does not explain a position either
          this.hooks.addNet(t, -r.quantity);
          this.hooks.alert('critical', 'fill-after-terminal', `fill ${r.executionId} (${r.quantity} @ ${r.price}) of order ${t.orderId} arrived after the order was reported ended: not applied`, {
            orderId: t.orderId,
            orderRef: t.orderRef,
            details: { executionId: r.executionId, quantity: r.quantity, price: r.price },
          });
          return;
        }
        d.filled += r.quantity;
        if (d.filled >= t.quantity - EPS) d.final = true;
        break;
      case 'rejected':
        if (d.final) return;
        d.final = true;
        if (d.accepted || d.filled > 0) {
          this.send({ type: 'cancelled', orderId: r.orderId, ts: r.ts, reason: r.reason });
          return;
        }
        break;
      case 'cancelled':
      case 'expired':
        if (d.final) return;
        d.final = true;
        break;
      case 'modified':
      case 'triggered':
        if (d.final) return;
        break;
      default:
        break;
    }
    this.send(r);
  }

  private send(r: Report): void {
    this.hooks.log.debug('report', { type: r.type, orderId: r.orderId });
    this.hooks.emit(r);
  }
}
