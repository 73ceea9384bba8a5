import type { Bar, DepthUpdate, QuoteTick, TradeTick } from '../model/market.js';
import type { Fill, OrderEvent } from '../model/order-events.js';

/** Every topic on the engine bus and its message type: a typo is a compile error, not a lost message. */
export interface EngineTopics {
  'data.bar': Readonly<Bar>;
  'data.quote': Readonly<QuoteTick>;
  'data.trade': Readonly<TradeTick>;
  'data.depth': Readonly<DepthUpdate>;
  'order.event': OrderEvent;
  'order.fill': Fill;
  /** Equity sampled at each new event time */
  'portfolio.equity': { ts: number; equity: number };
  'engine.timer': { name: string; strategyId: string; ts: number };
  'engine.subscription': { action: 'subscribed' | 'unsubscribed'; instrument: string; interval: string; kind: string; ts: number };
}

type Handler<M> = (message: M) => void;

/**
 * Single-threaded publish/subscribe on typed topics. Messages are read-only once published.
 * Handlers run synchronously in subscription order, so delivery order is deterministic.
 */
export class MessageBus<Topics extends object = EngineTopics> {
  private readonly handlers = new Map<keyof Topics, Handler<never>[]>();

  subscribe<K extends keyof Topics>(topic: K, handler: Handler<Topics[K]>): () => void {
    const list = (this.handlers.get(topic) ?? []) as Handler<Topics[K]>[];
    // copy on write: a handler that unsubscribes during a publish does not disturb the loop
    const next = [...list, handler];
    this.handlers.set(topic, next as Handler<never>[]);
    return () => {
      const current = (this.handlers.get(topic) ?? []) as Handler<Topics[K]>[];
      this.handlers.set(topic, current.filter((h) => h !== handler) as Handler<never>[]);
    };
  }

  hasSubscribers<K extends keyof Topics>(topic: K): boolean {
    return (this.handlers.get(topic)?.length ?? 0) > 0;
  }

  publish<K extends keyof Topics>(topic: K, message: Topics[K]): void {
    const list = this.handlers.get(topic) as Handler<Topics[K]>[] | undefined;
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) list[i]!(message);
  }

}
