/**
 * Signals as an event stream the kernel merges with bars (`kernel.addSource`), so a strategy sees
 * them at the same moments in a backtest and live:
 *
 * - `ProviderSignalSource` (backtests, accelerated replay): pulls a provider in chunks by watermark,
 *   from the run's start to its end, and dispatches each signal at its publication time
 *   (availableAt). Loading a chunk of future signals is not lookahead: the kernel dispatches a
 *   signal only once the clock reaches it, after the bars closing at the same time (priority).
 * - `PushSignalSource` (live): a poller pushes what it polled; each signal is stamped with
 *   min(availableAt, now) at arrival (never later than the clock, never before the previous one) and
 *   the kernel is told (`sourceChanged`) so it re-orders the stream and wakes.
 *
 * Both hand each signal to `onSignal` (the universe, or `kernel.deliverSignal`).
 */
import type { Clock } from '../engine/clock.js';
import type { EventSource } from '../engine/event-source.js';
import { DEFAULT_POLL_LIMIT, watermarkAt, type SignalProvider, type SignalWatermark } from './provider.js';
import type { Signal } from './signal.js';

/** After every bar source at equal times: a signal stamped t may use the bars that closed at t */
export const SIGNAL_PRIORITY = Number.MAX_SAFE_INTEGER;

export interface ProviderSignalSourceOptions {
  provider: SignalProvider;
  /** Signals published at or before this time are history (the run's start; -Infinity: all) */
  after: number;
  /** Signals published after this time are not delivered (the run's end) */
  until: number;
  onSignal: (signal: Signal) => void;
  /** Signals per poll; default 10,000 */
  chunkSize?: number;
}

export class ProviderSignalSource implements EventSource {
  readonly priority = SIGNAL_PRIORITY;
  nextTime = Infinity;
  needsRefill = true;
  private buffer: Signal[] = [];
  private i = 0;
  private more = true;
  private closed = false;
  private watermarkValue: SignalWatermark;
  /** Signals dispatched */
  dispatched = 0;

  constructor(private readonly o: ProviderSignalSourceOptions) {
    this.watermarkValue = watermarkAt(o.after);
  }

  /** Where the stream stands in the provider (what was loaded, not what was dispatched) */
  get watermark(): SignalWatermark {
    return this.watermarkValue;
  }

  async refill(): Promise<void> {
    while (this.needsRefill && !this.closed) {
      const batch = await this.o.provider.poll(this.watermarkValue, { until: this.o.until, limit: this.o.chunkSize ?? DEFAULT_POLL_LIMIT });
      this.buffer = batch.signals;
      this.i = 0;
      this.watermarkValue = batch.watermark;
      this.more = batch.more;
      this.settle();
    }
  }

  private settle(): void {
    if (this.i < this.buffer.length) {
      this.nextTime = this.buffer[this.i]!.availableAt;
      this.needsRefill = false;
    } else {
      this.nextTime = Infinity;
      this.needsRefill = this.more && !this.closed;
    }
  }

  dispatch(): void {
    const s = this.buffer[this.i++]!;
    this.dispatched++;
    this.settle();
    this.o.onSignal(s);
  }

  close(): void {
    this.closed = true;
    this.nextTime = Infinity;
    this.needsRefill = false;
  }
}

export interface PushSignalSourceOptions {
  clock: Clock;
  onSignal: (signal: Signal) => void;
  /** Called on every push with the function that brings nextTime up to date: the kernel's `sourceChanged` */
  changed: (source: PushSignalSource, refresh: () => void) => void;
}

export class PushSignalSource implements EventSource {
  readonly priority = SIGNAL_PRIORITY;
  nextTime = Infinity;
  readonly needsRefill = false;
  private readonly queue: { at: number; signal: Signal }[] = [];
  private head = 0;
  private lastStamp = -Infinity;
  private closed = false;
  private readonly refresh = () => this.settle();
  pushed = 0;
  dispatched = 0;

  constructor(private readonly o: PushSignalSourceOptions) {}

  /** Buffers polled signals (in the order given) and tells the kernel */
  push(signals: readonly Signal[]): void {
    if (this.closed || signals.length === 0) return;
    const now = this.o.clock.now();
    for (const s of signals) {
      this.lastStamp = Math.max(this.lastStamp, Math.min(s.availableAt, now));
      this.queue.push({ at: this.lastStamp, signal: s });
      this.pushed++;
    }
    // nextTime moves only when the kernel asks (refresh), so its heap never holds a stale order
    this.o.changed(this, this.refresh);
  }

  get buffered(): number {
    return this.queue.length - this.head;
  }

  /** Never needed (needsRefill is false): pushes arrive through `changed` */
  async refill(): Promise<void> {}

  private settle(): void {
    this.nextTime = this.head < this.queue.length ? this.queue[this.head]!.at : Infinity;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  dispatch(): void {
    const { signal } = this.queue[this.head++]!;
    this.dispatched++;
    this.settle();
    this.o.onSignal(signal);
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.head = 0;
    this.nextTime = Infinity;
  }
}
