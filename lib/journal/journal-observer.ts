import type { Kernel, RunObserver } from '../engine/kernel.js';
import type { Fill, OrderEvent } from '../model/order-events.js';
import type { Order } from '../model/orders.js';
import type { Journal, JournalSnapshot } from './journal.js';

export interface JournalObserverOptions {
  /** Snapshot at an equity sample once this much engine time passed since the last one; 0: never. Default 60 000 */
  snapshotEveryMs?: number;
  /** Snapshot after every fill (positions and strategy state as they are right after it). Default true */
  snapshotOnFill?: boolean;
  /** Snapshot at every trading-day end. Default true */
  snapshotOnDayEnd?: boolean;
  /** Where a refused or failed append goes; default: thrown into the engine (which stops the run) */
  onError?: (error: unknown) => void;
}

/**
 * Journals what a Kernel does without touching its strategies: every order event (`order_event`),
 * every fill (`fill`, written before the event that carries it, so a recovered journal never has a
 * `filled` order without its fill), and snapshots (`snapshot`: every strategy's `ctx.state`,
 * positions with average cost, cash, equity, working orders) after fills, periodically in engine time
 * and at day ends.
 *
 * It hears the engine synchronously on its bus, so it uses buffered appends: records are committed
 * within the journal's `flushMs` or with the next durable append, in the order things happened.
 * The durable "intent before the order is sent" belongs to the runner's execution path (it awaits
 * `journal.appendDurable('order_intent', ...)` before handing the order to IB); the engine's
 * `submitted` event journaled here is only the engine's own step.
 */
export class JournalObserver implements RunObserver {
  private readonly unsubscribers: (() => void)[] = [];
  private readonly snapshotEveryMs: number;
  private readonly snapshotOnFill: boolean;
  private readonly snapshotOnDayEnd: boolean;
  private readonly onError: ((error: unknown) => void) | undefined;
  private lastSnapshotAt = -Infinity;
  /** Execution id of the fill last journaled with its event (the bus repeats it on order.fill) */
  private lastExecutionId: string | undefined;
  private attached = true;
  /** Records this observer appended */
  records = 0;

  private constructor(
    private readonly kernel: Kernel,
    private readonly journal: Journal,
    options: JournalObserverOptions,
  ) {
    this.snapshotEveryMs = options.snapshotEveryMs ?? 60_000;
    this.snapshotOnFill = options.snapshotOnFill ?? true;
    this.snapshotOnDayEnd = options.snapshotOnDayEnd ?? true;
    this.onError = options.onError;
  }

  /** Subscribes to the kernel's order events and fills and registers as its run observer */
  static attach(kernel: Kernel, journal: Journal, options: JournalObserverOptions = {}): JournalObserver {
    const o = new JournalObserver(kernel, journal, options);
    o.unsubscribers.push(
      kernel.bus.subscribe('order.event', (e) => o.onOrderEvent(e)),
      kernel.bus.subscribe('order.fill', (f) => o.onFill(f)),
    );
    kernel.addObserver(o);
    return o;
  }

  /** Stops journaling (the kernel keeps the observer registered; its calls are ignored) */
  detach(): void {
    this.attached = false;
    for (const u of this.unsubscribers.splice(0)) u();
  }

  onEquity(ts: number): void {
    if (!this.attached || this.snapshotEveryMs <= 0) return;
    if (ts - this.lastSnapshotAt >= this.snapshotEveryMs) this.snapshot(ts);
  }

  onDayEnd(): void {
    if (!this.attached || !this.snapshotOnDayEnd) return;
    this.snapshot(this.kernel.now());
  }

  /** Journals a snapshot now (buffered) and returns its seq, or undefined when the append failed */
  snapshot(ts = this.kernel.now()): number | undefined {
    const seq = this.write(() => this.journal.append('snapshot', { ts: finite(ts), payload: this.state() }));
    if (seq !== undefined) this.lastSnapshotAt = ts;
    return seq;
  }

  /** What a snapshot holds: strategy states, positions, cash, equity, working orders */
  state(): JournalSnapshot {
    const k = this.kernel;
    const p = k.portfolio;
    const strategies: Record<string, Record<string, unknown>> = {};
    for (const s of k.strategyList()) strategies[s.id] = Object.fromEntries(s.context.state.entries());
    const positions: Record<string, { quantity: number; avgPrice: number }> = {};
    for (const key of k.instruments.keys()) {
      const q = p.position(key);
      if (q !== 0) positions[key] = { quantity: q, avgPrice: p.averagePrice(key) };
    }
    return {
      strategies,
      positions,
      cash: p.cash(),
      equity: p.equity(),
      realizedPnl: p.realizedPnl(),
      commissions: p.commissions(),
      openOrders: k.orders.working().map((o) => ({
        clientOrderId: o.clientOrderId,
        instrument: o.instrument,
        side: o.side,
        quantity: o.quantity,
        filledQuantity: o.filledQuantity,
        status: o.status,
      })),
    };
  }

  private onOrderEvent(e: OrderEvent): void {
    if (!this.attached) return;
    const o = e.order;
    if (e.fill !== undefined) {
      this.journalFill(e.fill);
      this.lastExecutionId = e.fill.executionId;
    }
    this.write(() =>
      this.journal.append('order_event', {
        ts: finite(e.ts),
        clientOrderId: o.clientOrderId,
        instrument: o.instrument,
        payload: {
          type: e.type,
          status: o.status,
          reason: e.reason,
          executionId: e.fill?.executionId,
          order: orderFields(o),
        },
      }),
    );
    if (e.fill !== undefined && this.snapshotOnFill) this.snapshot(e.ts);
  }

  private onFill(f: Fill): void {
    if (!this.attached) return;
    // the order manager publishes every fill twice: inside its order event, then on order.fill
    if (f.executionId === this.lastExecutionId) return;
    this.journalFill(f);
    if (this.snapshotOnFill) this.snapshot(f.ts);
  }

  private journalFill(f: Fill): void {
    this.write(() =>
      this.journal.append('fill', {
        ts: finite(f.ts),
        clientOrderId: f.clientOrderId,
        instrument: f.instrument,
        payload: {
          executionId: f.executionId,
          orderId: f.orderId,
          strategyId: f.strategyId,
          instrument: f.instrument,
          side: f.side,
          quantity: f.quantity,
          price: f.price,
          commission: f.commission,
          ts: f.ts,
          liquidity: f.liquidity,
        },
      }),
    );
  }

  private write(fn: () => number): number | undefined {
    try {
      const seq = fn();
      this.records++;
      return seq;
    } catch (e) {
      if (this.onError === undefined) throw e;
      this.onError(e);
      return undefined;
    }
  }
}

function orderFields(o: Readonly<Order>): Record<string, unknown> {
  return {
    id: o.id,
    strategyId: o.strategyId,
    side: o.side,
    type: o.type,
    quantity: o.quantity,
    limitPrice: o.limitPrice,
    stopPrice: o.stopPrice,
    tif: o.tif,
    filledQuantity: o.filledQuantity,
    avgFillPrice: o.avgFillPrice,
    commission: o.commission,
    parentId: o.parentId,
    ocaGroup: o.ocaGroup,
    tag: o.tag,
  };
}

function finite(ts: number): number | undefined {
  return Number.isFinite(ts) ? ts : undefined;
}
