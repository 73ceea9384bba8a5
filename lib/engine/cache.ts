import type { BarKind, Interval } from '../data/interval.js';
import type { Bar, QuoteTick } from '../model/market.js';
import type { EventSource } from './event-source.js';
import { HistoryWindow } from './history-window.js';
import type { ResolvedBarSubscription } from './ports.js';
import type { StrategyRuntime } from './strategy-runtime.js';

/** One live bar subscription: its flyweight bar, its history window, who listens, where data comes from. */
export interface SubscriptionSlot {
  readonly key: string;
  readonly subscription: ResolvedBarSubscription;
  readonly bar: Bar;
  window: HistoryWindow;
  listeners: StrategyRuntime[];
  source: EventSource | undefined;
  /** Strategies leaving gracefully: they stop listening once the instrument is flat with no working orders */
  draining: StrategyRuntime[];
}

export function slotKey(instrument: string, interval: Interval, kind: BarKind): string {
  return `${instrument}|${interval}|${kind}`;
}

/** The engine's memory of the market: subscriptions with their history windows, latest quotes. */
export class Cache {
  private readonly slots = new Map<string, SubscriptionSlot>();
  private readonly quotes: (QuoteTick | undefined)[] = [];

  slot(key: string): SubscriptionSlot | undefined {
    return this.slots.get(key);
  }

  addSlot(slot: SubscriptionSlot): void {
    this.slots.set(slot.key, slot);
  }

  removeSlot(key: string): void {
    this.slots.delete(key);
  }

  allSlots(): SubscriptionSlot[] {
    return [...this.slots.values()];
  }

  /** Slots of one instrument in subscription order */
  slotsOf(instrument: string): SubscriptionSlot[] {
    const out: SubscriptionSlot[] = [];
    for (const s of this.slots.values()) if (s.subscription.instrument === instrument) out.push(s);
    return out;
  }

  /** The newest bar of a subscription (undefined before the first) */
  latestBar(key: string): Readonly<Bar> | undefined {
    const s = this.slots.get(key);
    return s !== undefined && s.window.length > 0 ? s.bar : undefined;
  }

  setQuote(index: number, quote: QuoteTick): void {
    let q = this.quotes[index];
    if (q === undefined) {
      q = { ...quote };
      this.quotes[index] = q;
    } else Object.assign(q, quote);
  }

  latestQuote(index: number): Readonly<QuoteTick> | undefined {
    return this.quotes[index];
  }
}
