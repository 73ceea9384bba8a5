import type { BarColumns } from '../data/bar-series.js';
import type { EventSource } from '../engine/event-source.js';
import type { Bar } from '../model/market.js';

/** Loads up to `limit` bars starting strictly after `afterTs`, oldest first */
export type ChunkLoader = (afterTs: number, limit: number) => Promise<BarColumns>;

export interface BarStreamOptions {
  loader: ChunkLoader;
  closeTime: (ts: number) => number;
  /** Deliver bars closing strictly after this time */
  after: number;
  /** Deliver bars closing at or before this time */
  until: number;
  priority: number;
  target: Bar;
  onBar: () => void;
  chunkSize?: number;
}

const DEFAULT_CHUNK = 16_384;
const LOOKBACK_MS = 40 * 86_400_000;

/**
 * Streams one subscription's bars in chunks, so memory stays flat in the length of the run. The
 * next chunk is prefetched while the current one is consumed. Dispatch writes the bar into the
 * subscription's flyweight and calls the kernel: no allocation per bar.
 */
export class BarStream implements EventSource {
  readonly priority: number;
  nextTime = Infinity;
  needsRefill = true;
  private chunk: BarColumns | undefined;
  private closes = new Float64Array(0);
  private i = 0;
  private exhausted = false;
  private lastTs: number;
  private prefetch: Promise<BarColumns> | undefined;
  private readonly chunkSize: number;
  private closed = false;

  constructor(private readonly o: BarStreamOptions) {
    this.priority = o.priority;
    this.chunkSize = o.chunkSize ?? DEFAULT_CHUNK;
    // bars that started before `after` may still close after it (daily bars, long intervals)
    this.lastTs = o.after - LOOKBACK_MS;
  }

  async refill(): Promise<void> {
    while (this.needsRefill && !this.closed) {
      const next = await (this.prefetch ?? this.o.loader(this.lastTs, this.chunkSize));
      this.prefetch = undefined;
      this.load(next);
    }
  }

  private load(c: BarColumns): void {
    this.chunk = c;
    this.i = 0;
    if (c.length < this.chunkSize) this.exhausted = true;
    if (c.length > 0) this.lastTs = c.ts[c.length - 1]!;
    if (this.closes.length < c.length) this.closes = new Float64Array(c.length);
    for (let k = 0; k < c.length; k++) this.closes[k] = this.o.closeTime(c.ts[k]!);
    // skip what closed at or before the subscription time (already history)
    while (this.i < c.length && this.closes[this.i]! <= this.o.after) this.i++;
    this.settle();
  }

  private settle(): void {
    const c = this.chunk!;
    if (this.i < c.length) {
      const t = this.closes[this.i]!;
      this.nextTime = t <= this.o.until ? t : Infinity;
      this.needsRefill = false;
      if (!this.exhausted && this.prefetch === undefined && this.i >= c.length >> 1) {
        this.prefetch = this.o.loader(this.lastTs, this.chunkSize);
      }
    } else if (this.exhausted) {
      this.nextTime = Infinity;
      this.needsRefill = false;
    } else {
      this.needsRefill = true;
      this.nextTime = Infinity;
    }
  }

  dispatch(): void {
    const c = this.chunk!;
    const i = this.i;
    const b = this.o.target;
    b.ts = c.ts[i]!;
    b.closeTime = this.closes[i]!;
    b.open = c.open[i]!;
    b.high = c.high[i]!;
    b.low = c.low[i]!;
    b.close = c.close[i]!;
    b.volume = c.volume[i]!;
    this.i = i + 1;
    if (this.i < c.length) {
      const t = this.closes[this.i]!;
      this.nextTime = t <= this.o.until ? t : Infinity;
      if (!this.exhausted && this.prefetch === undefined && this.i >= c.length >> 1) {
        this.prefetch = this.o.loader(this.lastTs, this.chunkSize);
      }
    } else {
      this.settle();
    }
    this.o.onBar();
  }

  close(): void {
    this.closed = true;
    this.nextTime = Infinity;
    this.needsRefill = false;
    // a prefetch in flight must not surface as an unhandled rejection later
    this.prefetch?.catch(() => undefined);
    this.prefetch = undefined;
  }
}
