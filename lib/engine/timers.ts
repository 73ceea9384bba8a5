/** A strategy timer; `everyMs` > 0 repeats it */
export interface Timer {
  strategyId: string;
  name: string;
  at: number;
  everyMs: number;
  seq: number;
}

/** Pending timers ordered by (time, creation order), so equal times fire deterministically. */
export class TimerQueue {
  private timers: Timer[] = [];
  private seq = 0;

  get size(): number {
    return this.timers.length;
  }

  nextTime(): number {
    return this.timers.length === 0 ? Infinity : this.timers[0]!.at;
  }

  set(strategyId: string, name: string, at: number, everyMs = 0): void {
    this.cancel(strategyId, name);
    this.insert({ strategyId, name, at, everyMs, seq: this.seq++ });
  }

  cancel(strategyId: string, name: string): void {
    this.timers = this.timers.filter((t) => !(t.strategyId === strategyId && t.name === name));
  }

  cancelAll(strategyId: string): void {
    this.timers = this.timers.filter((t) => t.strategyId !== strategyId);
  }

  /** Removes and returns the earliest timer; a repeating one is re-armed first */
  pop(): Timer | undefined {
    const t = this.timers.shift();
    if (t !== undefined && t.everyMs > 0) this.insert({ ...t, at: t.at + t.everyMs, seq: this.seq++ });
    return t;
  }

  // timers are few; a sorted array keeps the order obvious
  private insert(t: Timer): void {
    let i = this.timers.length;
    while (i > 0 && (this.timers[i - 1]!.at > t.at || (this.timers[i - 1]!.at === t.at && this.timers[i - 1]!.seq > t.seq))) i--;
    this.timers.splice(i, 0, t);
  }
}
