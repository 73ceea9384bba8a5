/**
 * A time-ordered stream of events the kernel merges with others (a bar series, a quote series, a
 * live feed). The kernel reads `nextTime`, calls `dispatch()` for the earliest source, and awaits
 * `refill()` when a pull source has run out of loaded data or the live feed has nothing buffered.
 * Live subscriptions are `LiveSubscription` handles delivered through the kernel's one `LiveFeed`
 * (live-feed.ts), so 500 live instruments are one heap entry.
 */
export interface EventSource {
  /** Time of the next event; Infinity when the source has nothing more (ever, or for now) */
  readonly nextTime: number;
  /** Tie-break for equal times, lower first: finer intervals before coarser, then subscription order */
  readonly priority: number;
  /** True when more data must be loaded (await refill()) before nextTime is valid */
  readonly needsRefill: boolean;
  refill(): Promise<void>;
  /** Delivers the event at nextTime and advances to the next one */
  dispatch(): void;
  /** Frees resources; the kernel calls it when the source is removed */
  close(): void;
}

/** Min-heap of sources by (nextTime, priority), so merging k streams costs O(log k) per event. */
export class SourceQueue {
  private heap: EventSource[] = [];

  get size(): number {
    return this.heap.length;
  }

  peek(): EventSource | undefined {
    return this.heap[0];
  }

  push(s: EventSource): void {
    this.heap.push(s);
    this.up(this.heap.length - 1);
  }

  remove(s: EventSource): boolean {
    const i = this.heap.indexOf(s);
    if (i < 0) return false;
    const last = this.heap.pop()!;
    if (i < this.heap.length) {
      this.heap[i] = last;
      this.down(i);
      this.up(i);
    }
    return true;
  }

  /** Restores order after the top source advanced */
  updateTop(): void {
    this.down(0);
  }

  /** Restores order after any source changed its nextTime */
  update(s: EventSource): void {
    const i = this.heap.indexOf(s);
    if (i < 0) return;
    this.down(i);
    this.up(i);
  }

  private less(a: EventSource, b: EventSource): boolean {
    const ta = a.nextTime;
    const tb = b.nextTime;
    return ta < tb || (ta === tb && a.priority < b.priority);
  }

  private up(i: number): void {
    const h = this.heap;
    const item = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!this.less(item, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = item;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    if (n === 0) return;
    const item = h[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(h[r]!, h[l]!) ? r : l;
      if (!this.less(h[c]!, item)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = item;
  }
}
