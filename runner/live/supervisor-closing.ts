/**
 * How the supervisor closes a position: cancel the instrument's working orders (every strategy's but
 * its own), then one closing market order under the supervisor's strategy id, so it takes the same
 * order path as every other order (order manager, risk check, venue, journal). It tracks that order
 * per instrument so a close is never doubled, and reports how it ends.
 */
import type { Kernel } from '../../lib/engine/kernel.js';
import type { StrategyContext } from '../../lib/engine/strategy.js';
import type { OrderEvent } from '../../lib/model/order-events.js';
import { isTerminal } from '../../lib/model/order-state.js';
import type { Order, OrderSide } from '../../lib/model/orders.js';
import { SOURCES, type SupervisorReport } from './supervisor-types.js';

export class SupervisorCloser {
  /** The supervisor's own closing order per instrument index */
  private readonly closing = new Map<number, Readonly<Order>>();
  /** Instruments inside ensureFlat (re-entrancy guard: a venue may report synchronously) */
  private readonly flatteningNow = new Set<number>();

  constructor(
    private readonly kernel: Kernel,
    private readonly ctx: StrategyContext,
    /** The supervisor's strategy id: its orders are tagged `<id>:<source>` */
    private readonly id: string,
    private readonly report: SupervisorReport,
  ) {}

  /** Whether a closing order of the instrument is still working */
  closeWorking(index: number): boolean {
    const o = this.closing.get(index);
    return o !== undefined && !isTerminal(o.status);
  }

  /**
   * Cancels the working orders of the instrument (every strategy's but the supervisor's own), then
   * closes its position with a market order unless a closing order is already working. Idempotent.
   */
  ensureFlat(index: number, source: string, reason: string): void {
    if (this.flatteningNow.has(index)) return;
    this.flatteningNow.add(index);
    try {
      const key = this.kernel.instruments.spec(index).key;
      const now = this.kernel.now();
      for (const o of this.kernel.orders.working(undefined, key)) {
        if (o.strategyId === this.id || o.status === 'PENDING_CANCEL') continue;
        this.report({ type: 'cancel', source, instrument: key, orderId: o.id, side: o.side, quantity: o.quantity - o.filledQuantity, reason: `cancelled before closing: ${reason}`, context: { strategy: o.strategyId, orderType: o.type, status: o.status } });
        this.kernel.orders.cancel(o.id, now);
      }
      const qty = this.kernel.portfolio.quantityAt(index);
      if (qty === 0 || this.closeWorking(index)) return;
      const side: OrderSide = qty > 0 ? 'SELL' : 'BUY';
      const order = this.ctx.submit(this.ctx.orders.market(key, side, Math.abs(qty), { tag: `${this.id}:${source}` }));
      this.closing.set(index, order);
      this.report({ type: 'close', source, instrument: key, orderId: order.id, side, quantity: Math.abs(qty), reason, context: { position: qty, lastPrice: this.kernel.portfolio.lastPrice(key), status: order.status } });
    } finally {
      this.flatteningNow.delete(index);
    }
  }

  /** Closes every position now (working orders cancelled first); no halt */
  closeAll(source: string, reason: string): void {
    for (let i = 0; i < this.kernel.instruments.size; i++) this.ensureFlat(i, source, reason);
  }

  /** An event of one of the supervisor's own (closing) orders */
  onOwnOrderEvent(e: OrderEvent): void {
    const o = e.order;
    const source = o.tag.startsWith(`${this.id}:`) ? o.tag.slice(this.id.length + 1) : SOURCES.operator;
    if (e.fill !== undefined) {
      this.report({ type: 'close-filled', source, instrument: o.instrument, orderId: o.id, side: o.side, quantity: e.fill.quantity, reason: `${e.type} at ${e.fill.price}`, context: { price: e.fill.price, filled: o.filledQuantity, ordered: o.quantity, position: this.kernel.portfolio.quantityAt(o.instrumentIndex) } });
      return;
    }
    if (e.type === 'rejected' || e.type === 'cancelled' || e.type === 'expired') {
      this.report({ type: 'close-ended', source, instrument: o.instrument, orderId: o.id, side: o.side, quantity: o.quantity - o.filledQuantity, reason: `closing order ${e.type}${e.reason ? `: ${e.reason}` : ''}`, context: { position: this.kernel.portfolio.quantityAt(o.instrumentIndex) } });
    }
  }
}
