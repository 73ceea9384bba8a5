import type { BarColumns } from '../data/bar-series.js';
import type { InstrumentSpec } from '../data/instrument.js';
import type { BarKind, Interval } from '../data/interval.js';
import type { Bar } from '../model/market.js';
import type { EventSource } from './event-source.js';
import type { LiveFeed, LiveSubscription } from './live-feed.js';
import type { DataClient, ResolvedBarSubscription } from './ports.js';

export interface PushDataClientOptions {
  /** The feed the kernel merges (pass the same one as the kernel's `liveFeed`) */
  feed: LiveFeed;
  resolve(instrument: string): Promise<InstrumentSpec>;
  /** Warm start: the last `count` bars closed at or before `now`, oldest first (store, IB historical bars); default none */
  history?(subscription: ResolvedBarSubscription, count: number, now: number): Promise<BarColumns>;
  /** Close time of a bar from its start; default start + interval (pass session closes for daily bars) */
  closeTime?(subscription: ResolvedBarSubscription): (ts: number) => number;
  /** The kernel subscribed: start feeding `handle.push(...)` (e.g. request IB real-time bars, aggregate them) */
  onSubscribe?(handle: LiveSubscription): void;
  /** The subscription ended (unsubscribe, end of run): stop feeding it */
  onUnsubscribe?(handle: LiveSubscription): void;
  name?: string;
}

const NO_BARS: BarColumns = { length: 0, ts: new Float64Array(0), open: new Float64Array(0), high: new Float64Array(0), low: new Float64Array(0), close: new Float64Array(0), volume: new Float64Array(0) };

/**
 * A data client for pushed bars (paper, live, paced replay): history comes from a given function,
 * new bars from whoever pushes them through the subscription handles into the shared `LiveFeed`.
 * Strategies cannot tell it from a historical data client: bars reach them through the same kernel
 * path.
 */
export class PushDataClient implements DataClient {
  readonly name: string;
  private readonly handles = new Map<string, LiveSubscription>();

  constructor(private readonly options: PushDataClientOptions) {
    this.name = options.name ?? 'push';
  }

  get feed(): LiveFeed {
    return this.options.feed;
  }

  resolve(instrument: string): Promise<InstrumentSpec> {
    return this.options.resolve(instrument);
  }

  async history(subscription: ResolvedBarSubscription, count: number, now: number): Promise<BarColumns> {
    return this.options.history === undefined ? NO_BARS : this.options.history(subscription, count, now);
  }

  async subscribeBars(subscription: ResolvedBarSubscription, now: number, target: Bar, onBar: () => void): Promise<EventSource> {
    const key = handleKey(subscription.instrument, subscription.interval, subscription.kind);
    const handle = this.options.feed.subscribe(subscription, target, onBar, now, {
      closeTime: this.options.closeTime?.(subscription),
      onClose: () => {
        if (this.handles.get(key) === handle) this.handles.delete(key);
        this.options.onUnsubscribe?.(handle);
      },
    });
    this.handles.set(key, handle);
    this.options.onSubscribe?.(handle);
    return handle;
  }

  /** The active handle of a subscription, for producers that look them up by instrument */
  handle(instrument: string, interval: Interval, kind: BarKind = 'trade'): LiveSubscription | undefined {
    return this.handles.get(handleKey(instrument, interval, kind));
  }

  /** Every active handle in subscription order */
  allHandles(): LiveSubscription[] {
    return [...this.handles.values()];
  }
}

function handleKey(instrument: string, interval: string, kind: string): string {
  return `${instrument}|${interval}|${kind}`;
}
