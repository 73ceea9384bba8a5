import type { Clock } from './clock.js';
import type { Scheduler } from './live-feed.js';

interface PendingTimer {
  id: number;
  at: number;
  callback: () => void;
}

/** One macrotask turn: every promise continuation queued so far has run */
export function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * Hand-driven wall time for tests and deterministic simulations of a live session: a 'wall'-kind
 * clock whose now() moves only when told, and the scheduler the LiveFeed sets its wake-ups on.
 * `set(t)` moves time without firing timers (a push arriving at t comes first); `advanceTo(t)`
 * fires the timers due by t in time order, each with now at its own time.
 */
export class ManualTime implements Clock, Scheduler {
  readonly kind = 'wall' as const;
  private t: number;
  private timers: PendingTimer[] = [];
  private seq = 0;
  /** Timer callbacks run so far */
  fired = 0;

  constructor(start: number) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  /** Moves now to `t` (never back) without running timers */
  set(t: number): void {
    if (t > this.t) this.t = t;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { id: ++this.seq, at: this.t + Math.max(0, ms), callback };
    let i = this.timers.length;
    while (i > 0 && this.timers[i - 1]!.at > timer.at) i--;
    this.timers.splice(i, 0, timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Timers not yet run */
  get pending(): number {
    return this.timers.length;
  }

  /** When the earliest pending timer is due (Infinity when none) */
  nextTimerAt(): number {
    return this.timers.length > 0 ? this.timers[0]!.at : Infinity;
  }

  /**
   * Runs every timer due by `t` in time order (including timers they set), with now at each timer's
   * time, awaiting `settle` after each so what it woke (the kernel) runs; then moves now to `t`.
   */
  async advanceTo(t: number, settle: () => Promise<void> = nextTurn): Promise<void> {
    for (;;) {
      const next = this.timers[0];
      if (next === undefined || next.at > t) break;
      this.timers.shift();
      this.set(next.at);
      this.fired++;
      next.callback();
      await settle();
    }
    this.set(t);
  }
}
