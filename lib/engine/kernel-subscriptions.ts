import { ConfigError } from '../core/errors.js';
import { intervalMs } from '../data/interval.js';
import type { Bar } from '../model/market.js';
import { isWorking } from '../model/order-state.js';
import { slotKey, type Cache, type SubscriptionSlot } from './cache.js';
import type { Clock } from './clock.js';
import type { SourceQueue } from './event-source.js';
import { HistoryWindow } from './history-window.js';
import type { InstrumentRegistry } from './instrument-registry.js';
import { LiveSubscription, type LiveFeed } from './live-feed.js';
import type { MessageBus } from './message-bus.js';
import type { OrderManager } from './order-manager.js';
import type { DataClient } from './ports.js';
import type { Portfolio } from './portfolio.js';
import type { BarSubscription, UnsubscribeMode } from './strategy.js';
import type { StrategyRuntime } from './strategy-runtime.js';

/** The parts of a kernel its subscriptions use */
export interface SubscriptionHost {
  clock: Clock;
  data: DataClient;
  instruments: InstrumentRegistry;
  portfolio: Portfolio;
  cache: Cache;
  bus: MessageBus;
  orders: OrderManager;
  /** The run's merge queue: pull sources of new slots join it, removed ones leave it */
  queue: SourceQueue;
  /** The kernel's live feed: live subscriptions must come from it */
  feed: LiveFeed | undefined;
  /** A slot's source produced its next bar */
  onBar(slot: SubscriptionSlot): void;
}

/** A subscription waiting to be attached; `settle`: an attachSubscription() caller waits for it (and takes its error) */
export interface PendingSubscription {
  runtime: StrategyRuntime;
  subscription: BarSubscription;
  settle?: (error: unknown, failed: boolean) => void;
}

/**
 * The bar subscriptions of a kernel (kernel.ts): attaching them (history up to now, then the live or
 * stored source, one slot per instrument, interval and kind shared by its listeners), and detaching
 * them at once or gracefully (once the instrument is flat with no working orders). Requests queue
 * in `pending` and removals in `removals`; the kernel applies them between events.
 */
export class KernelSubscriptions {
  readonly pending: PendingSubscription[] = [];
  /** Slots nobody listens to any more: closed and unmerged by `applyRemovals` */
  readonly removals: SubscriptionSlot[] = [];
  private seq = 0;

  constructor(private readonly k: SubscriptionHost) {}

  /** Attaches every pending subscription in turn; an error without a `settle` to take it ends the run */
  async flush(): Promise<void> {
    while (this.pending.length > 0) {
      const { runtime, subscription, settle } = this.pending.shift()!;
      if (settle === undefined) {
        await this.attach(runtime, subscription);
        continue;
      }
      try {
        await this.attach(runtime, subscription);
      } catch (e) {
        settle(e, true);
        continue;
      }
      settle(undefined, false);
    }
  }

  /** Detaches the strategies draining from `slot` once its instrument is flat and they have no working orders there */
  checkDraining(slot: SubscriptionSlot): void {
    const instrument = slot.subscription.instrument;
    if (!this.k.portfolio.isFlat(instrument)) return;
    for (const runtime of [...slot.draining]) {
      if (this.k.orders.working(runtime.id, instrument).length > 0) continue;
      slot.draining = slot.draining.filter((r) => r !== runtime);
      this.detach(slot, runtime);
    }
  }

  /** `Kernel.unsubscribe` without the settling: graceful drains, otherwise working orders are cancelled and the slot left now */
  unsubscribe(runtime: StrategyRuntime, instrument: string, mode: UnsubscribeMode): void {
    const k = this.k;
    for (const slot of k.cache.slotsOf(instrument)) {
      if (!slot.listeners.includes(runtime)) continue;
      if (mode === 'graceful') {
        slot.draining.push(runtime);
        this.checkDraining(slot);
        continue;
      }
      for (const o of k.orders.working(runtime.id, instrument)) if (isWorking(o.status) && o.status !== 'PENDING_CANCEL') k.orders.cancel(o.id, k.clock.now());
      this.detach(slot, runtime);
    }
  }

  applyRemovals(): void {
    const k = this.k;
    // the dispatched source (the top) has moved on: restore the heap first, or a removal below could
    // lift another source over it and leave it out of order
    k.queue.updateTop();
    while (this.removals.length > 0) {
      const slot = this.removals.shift()!;
      if (slot.source !== undefined) {
        k.queue.remove(slot.source);
        slot.source.close();
      }
      k.cache.removeSlot(slot.key);
      const s = slot.subscription;
      k.bus.publish('engine.subscription', { action: 'unsubscribed', instrument: s.instrument, interval: s.interval, kind: s.kind, ts: k.clock.now() });
    }
  }

  private async attach(runtime: StrategyRuntime, s: BarSubscription): Promise<void> {
    const k = this.k;
    const kind = s.kind ?? 'trade';
    const key = slotKey(s.instrument, s.interval, kind);
    const existing = k.cache.slot(key);
    const historySize = Math.max(1, s.history ?? 1);
    if (existing !== undefined) {
      if (!existing.listeners.includes(runtime)) existing.listeners.push(runtime);
      if (existing.window.capacity < historySize) await this.loadHistory(existing, historySize);
      return;
    }
    const spec = await k.data.resolve(s.instrument);
    const instrumentIndex = k.instruments.add(spec);
    k.portfolio.sync();
    // finer intervals first at equal times, then subscription order
    const priority = intervalMs(s.interval) * 1024 + (this.seq++ % 1024);
    const subscription = { instrument: spec.key, instrumentIndex, interval: s.interval, kind, priority };
    const bar: Bar = { instrument: spec.key, instrumentIndex, interval: s.interval, kind, ts: NaN, closeTime: NaN, open: NaN, high: NaN, low: NaN, close: NaN, volume: NaN };
    const slot: SubscriptionSlot = { key, subscription, bar, window: new HistoryWindow(historySize), listeners: [runtime], source: undefined, draining: [] };
    // live bars are taken from the time the history was cut, not from now: bars that closed while
    // the history request was in flight would otherwise fall between the two and never arrive
    const historyAt = await this.loadHistory(slot, historySize);
    const now = k.clock.now();
    const source = await k.data.subscribeBars(subscription, Math.min(historyAt, now), bar, () => k.onBar(slot));
    // live subscriptions are delivered by the one live feed the kernel merges: no heap entry each
    const live = source instanceof LiveSubscription;
    if (live && source.feed !== k.feed) {
      source.close();
      throw new ConfigError('kernel', [`${key}: a live subscription of another LiveFeed; pass the data client's feed as liveFeed`]);
    }
    slot.source = source;
    k.cache.addSlot(slot);
    if (!live) k.queue.push(source);
    k.bus.publish('engine.subscription', { action: 'subscribed', instrument: spec.key, interval: s.interval, kind, ts: now });
  }

  /** Loads the last `size` bars closed at or before now; returns that now (the history's cut) */
  private async loadHistory(slot: SubscriptionSlot, size: number): Promise<number> {
    const k = this.k;
    const cut = k.clock.now();
    const h = await k.data.history(slot.subscription, size, cut);
    const window = new HistoryWindow(size);
    for (let i = 0; i < h.length; i++) window.push(h.ts[i]!, h.open[i]!, h.high[i]!, h.low[i]!, h.close[i]!, h.volume[i]!);
    slot.window = window;
    if (h.length > 0) {
      const i = h.length - 1;
      Object.assign(slot.bar, { ts: h.ts[i]!, open: h.open[i]!, high: h.high[i]!, low: h.low[i]!, close: h.close[i]!, volume: h.volume[i]! });
      if (slot.subscription.kind === 'trade' || slot.subscription.kind === 'mid') k.portfolio.mark(slot.subscription.instrumentIndex, h.close[i]!);
    }
    return cut;
  }

  private detach(slot: SubscriptionSlot, runtime: StrategyRuntime): void {
    slot.listeners = slot.listeners.filter((r) => r !== runtime);
    if (slot.listeners.length === 0 && slot.draining.length === 0) this.removals.push(slot);
  }
}
