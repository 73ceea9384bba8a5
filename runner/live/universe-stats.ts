/**
 * The universe part of the run summary (universe-runner.ts): traders created and retired, invalid
 * symbols, who waited for lines, peak lines, time from a ticker's first signal to its trader being
 * ready (real ms), heap peak. Counted from the universe's state events.
 */
import { performance } from 'node:perf_hooks';
import type { LinePool } from '../../lib/universe/line-pool.js';
import type { UniverseState, UniverseStatus } from '../../lib/universe/universe-types.js';

/** The universe part of the run summary */
export interface UniverseSummary {
  mode: string;
  /** Traders active at the end, and the most at once */
  active: number;
  peakActive: number;
  /** Activations (a trader created or re-created), retirements, distinct invalid symbols */
  created: number;
  retired: number;
  invalid: number;
  /** Distinct symbols that waited for market-data lines, and those still waiting at the end */
  waited: number;
  /** Members retired to give their lines to a stronger waiter (preemption) */
  evicted: number;
  waitingAtEnd: number;
  lines: { budget: number; peak: number; atEnd: number };
  signals: { polled: number; delivered: number; ignored: number; skippedInvalid: number; droppedStale: number; symbols: number };
  /** Real ms from a ticker's first signal (while it had no trader) to its trader being ready */
  readyMs: { n: number; p50: number; p99: number };
  heapMb: { peak: number; end: number };
}

export class UniverseStats {
  /** Symbols whose readiness clock runs: when it started (performance.now) */
  private readonly waitingFor = new Map<string, number>();
  private readonly readyMs: number[] = [];
  private readonly waitedSet = new Set<string>();
  private readonly invalidSet = new Set<string>();
  private readonly symbolsSeen = new Set<string>();
  private created = 0;
  private retired = 0;
  private active = 0;
  private peakActive = 0;
  private peakHeap = 0;

  /** A state change of the universe */
  onState(e: { symbol: string; from: UniverseState | 'none'; to: UniverseState }): void {
    if (e.to === 'active') {
      this.created++;
      this.active++;
      this.peakActive = Math.max(this.peakActive, this.active);
      const t0 = this.waitingFor.get(e.symbol);
      if (t0 !== undefined) {
        this.readyMs.push(performance.now() - t0);
        this.waitingFor.delete(e.symbol);
      }
      this.sampleHeap();
    } else if (e.from === 'active') this.active--;
    if (e.to === 'retired') {
      this.retired += e.from === 'active' || e.from === 'retiring' ? 1 : 0;
      this.waitingFor.delete(e.symbol);
    }
    if (e.to === 'waiting-for-line') this.waitedSet.add(e.symbol);
    if (e.to === 'invalid') {
      this.invalidSet.add(e.symbol);
      this.waitingFor.delete(e.symbol);
    }
  }

  /** A signal handed to the universe */
  sawSignal(symbol: string): void {
    this.symbolsSeen.add(symbol);
  }

  /** A ticker without a trader: its clock for "first signal -> trader ready" starts now (unless running) */
  startReadyClock(symbol: string): void {
    if (!this.waitingFor.has(symbol)) this.waitingFor.set(symbol, performance.now());
  }

  isClockRunning(symbol: string): boolean {
    return this.waitingFor.has(symbol);
  }

  summary(st: UniverseStatus, lines: LinePool, polled: number): UniverseSummary {
    const c = st.counters;
    const sorted = [...this.readyMs].sort((a, b) => a - b);
    const q = (p: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!);
    this.sampleHeap();
    return {
      mode: st.mode,
      active: st.states.active,
      peakActive: this.peakActive,
      created: this.created,
      retired: this.retired,
      invalid: this.invalidSet.size,
      waited: this.waitedSet.size,
      evicted: c.evicted,
      waitingAtEnd: st.waiting.length,
      lines: { budget: lines.budget, peak: lines.peak, atEnd: lines.used },
      signals: { polled, delivered: c.delivered, ignored: c.ignored, skippedInvalid: c.skippedInvalid, droppedStale: c.droppedStale, symbols: this.symbolsSeen.size },
      readyMs: { n: sorted.length, p50: round(q(0.5)), p99: round(q(0.99)) },
      heapMb: { peak: round(this.peakHeap / 2 ** 20), end: round(process.memoryUsage().heapUsed / 2 ** 20) },
    };
  }

  /** Real ms from first signal to trader ready, per activation (bench) */
  readyLatencies(): readonly number[] {
    return this.readyMs;
  }

  private sampleHeap(): void {
    const h = process.memoryUsage().heapUsed;
    if (h > this.peakHeap) this.peakHeap = h;
  }
}

function round(x: number): number {
  return Number.isFinite(x) ? Math.round(x * 100) / 100 : x;
}
