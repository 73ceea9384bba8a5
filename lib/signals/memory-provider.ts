/**
 * Signals held in memory (a notebook's model output, tests, generated benchmarks) behind the same
 * provider interface and the same watermark logic as the tables. `append` adds signals later (a
 * live producer in tests).
 */
import { isAfter, pollRows, type RejectedRow, type SignalBatch, type SignalPollOptions, type SignalProvider, type SignalRows, type SignalWatermark } from './provider.js';
import { compareSignals, type Signal } from './signal.js';

export class MemorySignalProvider implements SignalProvider, SignalRows {
  readonly name: string;
  private rows: Signal[] = [];

  constructor(
    signals: readonly Signal[] = [],
    private readonly onRejected?: RejectedRow,
    name = 'memory',
  ) {
    this.name = name;
    this.append(signals);
  }

  append(signals: readonly Signal[]): void {
    this.rows.push(...signals);
    this.rows.sort(compareSignals);
  }

  poll(since: SignalWatermark, options: SignalPollOptions): Promise<SignalBatch> {
    return pollRows(this, since, options, this.onRejected);
  }

  async after(since: SignalWatermark, until: number, limit: number): Promise<Signal[]> {
    const out: Signal[] = [];
    for (const s of this.rows) {
      if (s.availableAt > until || out.length >= limit) break;
      if (isAfter(s, since)) out.push(s);
    }
    return out;
  }

  async window(from: number, since: SignalWatermark): Promise<Signal[]> {
    return this.rows.filter((s) => s.availableAt > from && !isAfter(s, since));
  }

  async close(): Promise<void> {}
}
