import type { Kernel, RunObserver } from '../engine/kernel.js';
import type { Bar } from '../model/market.js';
import type { Fill, OrderEvent, OrderEventType } from '../model/order-events.js';
import type { Order } from '../model/orders.js';
import type { ParityEvent, ParityValue } from './events.js';

export interface ParityRecorderOptions {
  /**
   * Take the account state from the kernel's equity samples (a backtest: the sample of time T is
   * taken before anything of a later time happens). A live kernel applies a broker's fills as they
   * arrive, before the sample of the previous time is taken, so its driver calls `sample(ts)` itself
   * once everything of `ts` has been processed.
   */
  sampleOnEquity: boolean;
}

/** Order events that are outcomes (see events.ts); fills come from `order.fill` */
const OUTCOMES: ReadonlySet<OrderEventType> = new Set<OrderEventType>(['rejected', 'pending_cancel', 'cancelled', 'expired', 'modified', 'modify_rejected', 'cancel_rejected']);

/**
 * Records one kernel's run as parity events (events.ts), listening on its bus: warm-up windows as
 * subscriptions start, every bar strategies see, decisions, order outcomes, fills, and the account
 * state at bar close times. Attach before `kernel.run()` (the kernel publishes bars only when
 * someone listened at start).
 */
export class ParityRecorder implements RunObserver {
  private readonly list: ParityEvent[] = [];
  private readonly states = new Map<number, ParityEvent>();
  /** clientOrderId -> `<strategy>#<n>` */
  private readonly refs = new Map<string, string>();
  private readonly perStrategy = new Map<string, number>();
  private lastBarClose = -Infinity;
  private readonly unsubscribe: (() => void)[] = [];

  private constructor(
    private readonly kernel: Kernel,
    private readonly options: ParityRecorderOptions,
  ) {}

  static attach(kernel: Kernel, options: ParityRecorderOptions): ParityRecorder {
    const r = new ParityRecorder(kernel, options);
    const bus = kernel.bus;
    r.unsubscribe.push(
      bus.subscribe('engine.subscription', (s) => {
        if (s.action === 'subscribed') r.onSubscribed(s.instrument, s.interval, s.kind);
      }),
      bus.subscribe('data.bar', (b) => r.onBar(b)),
      bus.subscribe('order.event', (e) => r.onOrderEvent(e)),
      bus.subscribe('order.fill', (f) => r.onFill(f)),
    );
    kernel.addObserver(r);
    return r;
  }

  /** Everything recorded, account states included, in recording order (states at their time) */
  events(): ParityEvent[] {
    return [...this.list, ...this.states.values()];
  }

  detach(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }

  onEquity(ts: number): void {
    if (this.options.sampleOnEquity) this.sample(ts);
  }

  /** Records the account state as of `ts` when bars closed at `ts` (a later call for `ts` replaces it) */
  sample(ts: number): void {
    if (ts !== this.lastBarClose) return;
    const k = this.kernel;
    const p = k.portfolio;
    const data: Record<string, ParityValue> = { cash: p.cash(), equity: p.equity(), commissions: p.commissions() };
    for (const key of [...k.instruments.keys()].sort()) data[`position.${key}`] = p.position(key);
    this.states.set(ts, { kind: 'state', ts, instrument: '', data });
  }

  private onSubscribed(instrument: string, interval: string, kind: string): void {
    const w = this.kernel.history(instrument, interval as never, kind as never);
    const cols = (['ts', 'open', 'high', 'low', 'close', 'volume'] as const).map((c) => w.column(c));
    const [ts, open, high, low, close, volume] = cols as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
    for (let i = 0; i < ts.length; i++) {
      this.list.push({ kind: 'warmup', ts: ts[i]!, instrument, data: { interval, open: open[i]!, high: high[i]!, low: low[i]!, close: close[i]!, volume: volume[i]! } });
    }
  }

  private onBar(b: Readonly<Bar>): void {
    this.lastBarClose = b.closeTime;
    this.list.push({
      kind: 'bar',
      ts: b.closeTime,
      instrument: b.instrument,
      data: { interval: b.interval, start: b.ts, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume },
    });
  }

  private onOrderEvent(e: OrderEvent): void {
    const o = e.order;
    // an order the risk engine refused is never 'submitted': its rejection is its first event
    if (e.type === 'submitted' || !this.refs.has(o.clientOrderId)) {
      this.list.push({ kind: 'decision', ts: e.ts, instrument: o.instrument, data: decisionData(this.refOf(o), o), context: { clientOrderId: o.clientOrderId } });
      if (e.type === 'submitted') return;
    }
    if (!OUTCOMES.has(e.type)) return;
    const data: Record<string, ParityValue> = { ref: this.refOf(o), outcome: e.type === 'expired' ? 'cancelled' : e.type, status: o.status === 'EXPIRED' ? 'CANCELLED' : o.status };
    if (e.type === 'modified') Object.assign(data, { quantity: o.quantity, limitPrice: num(o.limitPrice), stopPrice: num(o.stopPrice) });
    this.list.push({ kind: 'order', ts: e.ts, instrument: o.instrument, data, context: { clientOrderId: o.clientOrderId, event: e.type, reason: e.reason ?? null } });
  }

  private onFill(f: Fill): void {
    const ref = this.refs.get(f.clientOrderId) ?? f.clientOrderId;
    this.list.push({
      kind: 'fill',
      ts: f.ts,
      instrument: f.instrument,
      data: { ref, side: f.side, quantity: f.quantity, price: f.price, commission: f.commission, liquidity: f.liquidity },
      context: { clientOrderId: f.clientOrderId, executionId: f.executionId },
    });
  }

  private refOf(o: Readonly<Order>): string {
    let ref = this.refs.get(o.clientOrderId);
    if (ref === undefined) {
      const n = (this.perStrategy.get(o.strategyId) ?? 0) + 1;
      this.perStrategy.set(o.strategyId, n);
      ref = `${o.strategyId}#${n}`;
      this.refs.set(o.clientOrderId, ref);
    }
    return ref;
  }
}

function decisionData(ref: string, o: Readonly<Order>): Record<string, ParityValue> {
  return {
    ref,
    side: o.side,
    type: o.type,
    quantity: o.quantity,
    limitPrice: num(o.limitPrice),
    stopPrice: num(o.stopPrice),
    tif: o.tif,
    parent: o.parentId > 0 ? 'yes' : 'no',
    ocaGroup: o.ocaGroup || null,
    tag: o.tag || null,
  };
}

/** NaN (no price) as null, so it compares equal to itself */
function num(x: number): number | null {
  return Number.isNaN(x) ? null : x;
}
