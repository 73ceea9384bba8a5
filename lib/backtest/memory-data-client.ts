import { DataError } from '../core/errors.js';
import type { BarColumns } from '../data/bar-series.js';
import type { InstrumentSpec } from '../data/instrument.js';
import type { BarKind, Interval } from '../data/interval.js';
import type { EventSource } from '../engine/event-source.js';
import type { DataClient, ResolvedBarSubscription } from '../engine/ports.js';
import type { Bar } from '../model/market.js';
import { closeTimeFunction } from './bar-close-time.js';
import { BarStream } from './bar-stream.js';
import { calendarOrUndefined } from './calendar-lookup.js';

export interface MemorySeries {
  instrument: InstrumentSpec;
  interval: Interval;
  kind?: BarKind;
  bars: BarColumns;
}

/**
 * Bars already in memory (a notebook's frames, generated benchmark data, tests), served through
 * the same port and the same chunked stream as the store.
 */
export class MemoryDataClient implements DataClient {
  readonly name = 'memory';
  private readonly specs = new Map<string, InstrumentSpec>();
  private readonly series = new Map<string, BarColumns>();

  constructor(
    series: readonly MemorySeries[],
    private readonly options: { until?: number; chunkSize?: number } = {},
  ) {
    for (const s of series) {
      this.specs.set(s.instrument.key, s.instrument);
      this.series.set(key(s.instrument.key, s.interval, s.kind ?? 'trade'), s.bars);
    }
  }

  async resolve(instrument: string): Promise<InstrumentSpec> {
    const spec = this.specs.get(instrument);
    if (spec === undefined) throw new DataError('UNKNOWN_SYMBOL', { file: '(memory)' }, `no data for instrument '${instrument}'`);
    return spec;
  }

  private bars(sub: ResolvedBarSubscription): BarColumns {
    const b = this.series.get(key(sub.instrument, sub.interval, sub.kind));
    if (b === undefined) throw new DataError('UNKNOWN_SYMBOL', { file: '(memory)' }, `no ${sub.interval} ${sub.kind} bars for '${sub.instrument}'`);
    return b;
  }

  async history(sub: ResolvedBarSubscription, count: number, now: number): Promise<BarColumns> {
    const b = this.bars(sub);
    const closeTime = closeTimeFunction(sub.interval, calendarOrUndefined(await this.resolve(sub.instrument)));
    let end = upperBound(b.ts, now);
    while (end > 0 && closeTime(b.ts[end - 1]!) > now) end--;
    return slice(b, Math.max(0, end - count), end);
  }

  async subscribeBars(sub: ResolvedBarSubscription, now: number, target: Bar, onBar: () => void): Promise<EventSource> {
    const b = this.bars(sub);
    const stream = new BarStream({
      loader: async (afterTs, limit) => {
        const from = upperBound(b.ts, afterTs);
        return slice(b, from, Math.min(b.length, from + limit));
      },
      closeTime: closeTimeFunction(sub.interval, calendarOrUndefined(await this.resolve(sub.instrument))),
      after: now,
      until: this.options.until ?? Infinity,
      priority: sub.priority,
      target,
      onBar,
      chunkSize: this.options.chunkSize ?? 1 << 20,
    });
    await stream.refill();
    return stream;
  }
}

function key(instrument: string, interval: string, kind: string): string {
  return `${instrument}|${interval}|${kind}`;
}

/** First index with ts > t */
function upperBound(ts: Float64Array, t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function slice(b: BarColumns, from: number, to: number): BarColumns {
  return {
    length: to - from,
    ts: b.ts.subarray(from, to),
    open: b.open.subarray(from, to),
    high: b.high.subarray(from, to),
    low: b.low.subarray(from, to),
    close: b.close.subarray(from, to),
    volume: b.volume.subarray(from, to),
  };
}
