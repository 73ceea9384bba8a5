import { ConfigError, InvariantError } from '../core/errors.js';
import { intervalMs } from '../data/interval.js';
import type { Bar } from '../model/market.js';
import type { Clock } from './clock.js';
import type { EventSource } from './event-source.js';
import type { ResolvedBarSubscription } from './ports.js';

/** Where the feed sets its wake-up timer: real timers in production, a fake one in tests */
export interface Scheduler {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's timers */
export const realScheduler: Scheduler = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface LiveFeedOptions {
  /** The kernel's clock (the kernel refuses a feed on another clock) */
  clock: Clock;
  scheduler?: Scheduler;
  /** Longest wait without data before the kernel moves time to now (timers, day roll, DAY expiry); default 1000 */
  heartbeatMs?: number;
  /** Initial ring capacity in bars (rounded up to a power of two); the ring doubles when a burst fills it. Default 1024 */
  capacity?: number;
}

export interface LiveSubscribeOptions {
  /** Close time of a bar from its start; default start + interval (intraday bars) */
  closeTime?: (ts: number) => number;
  /** Called once when the subscription ends (kernel unsubscribe or stop) */
  onClose?: () => void;
}

const RESOLVED: Promise<void> = Promise.resolve();
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The one event source of all live (push) subscriptions. Producers (network callbacks, a replay
 * driver, a strategy's handler: any time, re-entrancy included) push bars through a subscription's
 * `LiveSubscription.push`; the feed keeps them in arrival order in a ring of typed arrays (no
 * allocation per bar; the ring doubles only when a burst outgrows it) and the kernel merges the
 * feed like any other source, so every live instrument costs one heap entry in total.
 *
 * - `nextTime`: event time of the oldest buffered bar (its close time, never later than the clock's
 *   now at arrival). Bars are delivered in arrival order, whatever their times.
 * - `needsRefill`: nothing buffered. `refill()` resolves when a bar is pushed, when the kernel's wake
 *   deadline passes (its next timer, the end of the run) or after `heartbeatMs` at the latest, so the
 *   kernel moves time forward with no data. Waking without data is the heartbeat: it dispatches
 *   nothing, the kernel advances to now and waits again.
 * - `dispatch()`: copies the oldest bar into its subscription's flyweight `Bar` and calls the
 *   subscription's `onBar`: the same kernel path as a pulled bar (venue, fills, mark, window,
 *   strategies).
 *
 * `nextTime` and `needsRefill` change only inside `dispatch()`, `refill()` and while the kernel is
 * waiting on `refill()`, the moments the kernel re-reads them: a push while the kernel is busy
 * elsewhere is buffered and seen at the feed's next turn, so the kernel's heap stays consistent.
 */
export class LiveFeed implements EventSource {
  /** Before any pulled source at equal times */
  readonly priority = -1;
  nextTime = Infinity;
  needsRefill = true;
  readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly heartbeatMs: number;
  // the ring, one typed array per field
  private subs: (LiveSubscription | undefined)[];
  private timeBuf: Float64Array;
  private tsBuf: Float64Array;
  private closeTimeBuf: Float64Array;
  private openBuf: Float64Array;
  private highBuf: Float64Array;
  private lowBuf: Float64Array;
  private closeBuf: Float64Array;
  private volumeBuf: Float64Array;
  private mask: number;
  private head = 0;
  private count = 0;
  private deadline: () => number = () => Infinity;
  private wait: Promise<void> | undefined;
  private resolveWait: (() => void) | undefined;
  private timer: unknown;
  private timerSet = false;
  private idleWaiters: (() => void)[] = [];
  private readonly active = new Set<LiveSubscription>();
  private closed = false;
  /** Bars accepted into the ring */
  pushed = 0;
  /** Bars delivered to their subscription */
  dispatched = 0;
  /** Buffered bars dropped because their subscription ended first */
  discarded = 0;
  /** Times the ring grew (steady traffic that fits the ring never reallocates) */
  reallocations = 0;
  /** Times a wait ended without data (heartbeat or wake deadline) */
  heartbeats = 0;

  constructor(options: LiveFeedOptions) {
    const heartbeatMs = options.heartbeatMs ?? 1000;
    const capacity = options.capacity ?? 1024;
    const problems: string[] = [];
    if (!(heartbeatMs > 0 && heartbeatMs <= MAX_TIMER_MS)) problems.push(`heartbeatMs: expected 0 < ms <= ${MAX_TIMER_MS}, was ${heartbeatMs}`);
    if (!(Number.isInteger(capacity) && capacity >= 1 && capacity <= 1 << 30)) problems.push(`capacity: expected an integer 1..2^30, was ${capacity}`);
    if (problems.length > 0) throw new ConfigError('LiveFeed', problems);
    this.clock = options.clock;
    this.scheduler = options.scheduler ?? realScheduler;
    this.heartbeatMs = heartbeatMs;
    let n = 1;
    while (n < capacity) n *= 2;
    this.mask = n - 1;
    this.subs = new Array<LiveSubscription | undefined>(n).fill(undefined);
    this.timeBuf = new Float64Array(n);
    this.tsBuf = new Float64Array(n);
    this.closeTimeBuf = new Float64Array(n);
    this.openBuf = new Float64Array(n);
    this.highBuf = new Float64Array(n);
    this.lowBuf = new Float64Array(n);
    this.closeBuf = new Float64Array(n);
    this.volumeBuf = new Float64Array(n);
  }

  /** Ring size in bars */
  get capacity(): number {
    return this.mask + 1;
  }

  /** Bars pushed and not yet dispatched */
  get buffered(): number {
    return this.count;
  }

  /** Subscriptions currently registered */
  get subscriptions(): number {
    return this.active.size;
  }

  /** The kernel tells the feed when it must wake up at the latest (its next timer, the end of the run) */
  setWakeDeadline(deadline: () => number): void {
    this.deadline = deadline;
  }

  /** Registers a subscription slot: bars pushed through the returned handle are written into `target` and announced by `onBar` */
  subscribe(subscription: ResolvedBarSubscription, target: Bar, onBar: () => void, after: number, options: LiveSubscribeOptions = {}): LiveSubscription {
    if (this.closed) throw new InvariantError('LiveFeed.subscribe after the feed was closed');
    const ms = intervalMs(subscription.interval);
    const handle = new LiveSubscription(this, subscription, target, onBar, after, options.closeTime ?? ((ts) => ts + ms), options.onClose);
    this.active.add(handle);
    return handle;
  }

  /** @internal LiveSubscription.push: append one bar (event time = min(close time, now)) */
  append(sub: LiveSubscription, ts: number, open: number, high: number, low: number, close: number, volume: number, closeTime: number): void {
    if (this.closed) return;
    if (this.count === this.mask + 1) this.grow();
    const i = (this.head + this.count) & this.mask;
    const now = this.clock.now();
    this.timeBuf[i] = closeTime < now ? closeTime : now;
    this.tsBuf[i] = ts;
    this.closeTimeBuf[i] = closeTime;
    this.openBuf[i] = open;
    this.highBuf[i] = high;
    this.lowBuf[i] = low;
    this.closeBuf[i] = close;
    this.volumeBuf[i] = volume;
    this.subs[i] = sub;
    this.count++;
    this.pushed++;
    // the kernel is blocked on us: wake it (it re-reads nextTime when it resumes)
    if (this.resolveWait !== undefined) this.release(false);
  }

  /** @internal LiveSubscription.close */
  unregister(sub: LiveSubscription): void {
    // its buffered bars are skipped when they reach the head
    this.active.delete(sub);
  }

  refill(): Promise<void> {
    if (this.count > 0 || this.closed) {
      this.sync();
      return RESOLVED;
    }
    // everything pushed so far has been processed
    if (this.idleWaiters.length > 0) this.notifyIdle();
    if (this.wait === undefined) {
      this.wait = new Promise<void>((resolve) => (this.resolveWait = resolve));
      const now = this.clock.now();
      const wakeAt = Math.min(this.deadline(), now + this.heartbeatMs);
      this.timer = this.scheduler.setTimeout(this.onTimeout, Math.min(MAX_TIMER_MS, Math.max(0, wakeAt - now)));
      this.timerSet = true;
    }
    return this.wait;
  }

  dispatch(): void {
    const i = this.head;
    const sub = this.subs[i];
    if (sub === undefined || this.count === 0) throw new InvariantError('LiveFeed.dispatch with nothing buffered');
    this.subs[i] = undefined;
    this.head = (i + 1) & this.mask;
    this.count--;
    this.dispatched++;
    const b = sub.target;
    b.ts = this.tsBuf[i]!;
    b.closeTime = this.closeTimeBuf[i]!;
    b.open = this.openBuf[i]!;
    b.high = this.highBuf[i]!;
    b.low = this.lowBuf[i]!;
    b.close = this.closeBuf[i]!;
    b.volume = this.volumeBuf[i]!;
    sub.onBar();
    // after the handlers, so bars they pushed are already visible
    this.sync();
  }

  /** Ends the current wait at once (the kernel's requestStop, or a change made from outside the run such as a new timer) */
  wake(): void {
    if (this.resolveWait !== undefined) this.release(false);
  }

  /**
   * Resolves once the kernel has processed everything pushed so far and waits for more: backpressure
   * for replay drivers, a synchronisation point for tests. Also resolves when the feed closes.
   */
  whenIdle(): Promise<void> {
    if (this.closed || (this.resolveWait !== undefined && this.count === 0)) return RESOLVED;
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops waiting and drops what is buffered; later pushes are ignored. The kernel calls it when the run ends */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (let k = 0; k < this.count; k++) this.subs[(this.head + k) & this.mask] = undefined;
    this.discarded += this.count;
    this.count = 0;
    this.release(false);
    this.nextTime = Infinity;
    this.needsRefill = false;
    this.notifyIdle();
  }

  private readonly onTimeout = (): void => {
    this.timerSet = false;
    this.release(true);
  };

  private release(timedOut: boolean): void {
    if (this.timerSet) {
      this.scheduler.clearTimeout(this.timer);
      this.timerSet = false;
    }
    const resolve = this.resolveWait;
    this.resolveWait = undefined;
    this.wait = undefined;
    if (timedOut && this.count === 0) this.heartbeats++;
    this.sync();
    resolve?.();
  }

  /** nextTime/needsRefill from the head, skipping bars of ended subscriptions */
  private sync(): void {
    while (this.count > 0 && !this.subs[this.head]!.isActive) {
      this.subs[this.head] = undefined;
      this.head = (this.head + 1) & this.mask;
      this.count--;
      this.discarded++;
    }
    if (this.count > 0) {
      this.nextTime = this.timeBuf[this.head]!;
      this.needsRefill = false;
    } else {
      this.nextTime = Infinity;
      this.needsRefill = !this.closed;
    }
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Doubles the ring, unwrapping it so the oldest bar is at 0 */
  private grow(): void {
    const n = this.mask + 1;
    const m = n * 2;
    const head = this.head;
    const unwrap = (a: Float64Array): Float64Array => {
      const b = new Float64Array(m);
      b.set(a.subarray(head));
      b.set(a.subarray(0, head), n - head);
      return b;
    };
    this.timeBuf = unwrap(this.timeBuf);
    this.tsBuf = unwrap(this.tsBuf);
    this.closeTimeBuf = unwrap(this.closeTimeBuf);
    this.openBuf = unwrap(this.openBuf);
    this.highBuf = unwrap(this.highBuf);
    this.lowBuf = unwrap(this.lowBuf);
    this.closeBuf = unwrap(this.closeBuf);
    this.volumeBuf = unwrap(this.volumeBuf);
    const subs = new Array<LiveSubscription | undefined>(m).fill(undefined);
    for (let k = 0; k < this.count; k++) subs[k] = this.subs[(head + k) & this.mask];
    this.subs = subs;
    this.head = 0;
    this.mask = m - 1;
    this.reallocations++;
  }
}

/**
 * One live bar subscription: what `DataClient.subscribeBars` returns for live data, and the handle
 * producers push its bars through. It is not merged by itself (the kernel merges its `LiveFeed`),
 * so its own EventSource members are inert: nextTime is always Infinity and dispatch() is never called.
 */
export class LiveSubscription implements EventSource {
  readonly priority: number;
  readonly nextTime = Infinity;
  readonly needsRefill = false;
  private active = true;
  private lastClose: number;
  /** Bars refused: closed at or before the subscription time (already history), duplicates, out of order, or after close() */
  dropped = 0;

  constructor(
    readonly feed: LiveFeed,
    readonly subscription: ResolvedBarSubscription,
    /** @internal the subscription slot's flyweight */
    readonly target: Bar,
    /** @internal the kernel's handler of this slot */
    readonly onBar: () => void,
    after: number,
    private readonly closeTimeOf: (ts: number) => number,
    private readonly onClose: (() => void) | undefined,
  ) {
    this.priority = subscription.priority;
    this.lastClose = after;
  }

  get isActive(): boolean {
    return this.active;
  }

  /**
   * Pushes one closed bar (start `ts`, epoch ms). Bars must arrive in time order per subscription;
   * one closing at or before the previous one (or the subscription time) is dropped and counted.
   * Safe at any time, including from inside the kernel's handlers.
   */
  push(ts: number, open: number, high: number, low: number, close: number, volume: number, closeTime = this.closeTimeOf(ts)): void {
    if (!this.active || !(closeTime > this.lastClose)) {
      this.dropped++;
      return;
    }
    this.lastClose = closeTime;
    this.feed.append(this, ts, open, high, low, close, volume, closeTime);
  }

  refill(): Promise<void> {
    return RESOLVED;
  }

  dispatch(): void {
    throw new InvariantError(`live subscription ${this.subscription.instrument} ${this.subscription.interval} is delivered through its LiveFeed`);
  }

  /** Ends the subscription: later pushes are dropped, buffered bars are skipped */
  close(): void {
    if (!this.active) return;
    this.active = false;
    this.feed.unregister(this);
    this.onClose?.();
  }
}
