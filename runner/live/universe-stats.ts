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

/** What a stale-drop alert carries (universe-runner.ts journals it as an `alert`) */
export interface StaleDropAlert {
  level: 'warning';
  kind: 'signals-stale';
  /** Signals dropped since the previous alert (this one included) */
  dropped: number;
  /** The oldest of them: now - availableAt, ms */
  oldestAgeMs: number;
  maxAgeMs: number;
  /** The symbol of the drop that raised the alert */
  symbol: string;
  message: string;
}

/**
 * Stale drops as alerts, not only notes: a producer whose clock runs behind (or a stuck pipeline)
 * has every signal dropped and the universe empties without a sound. The first drop of the run is
 * an alert; later drops are counted and alerted at most once per `everyMs` of engine time, on the
 * first drop after that (drops that stop within the window stay in the summary's droppedStale).
 */
export class StaleDropAlerts {
  private lastAt = -Infinity;
  private dropped = 0;
  private oldestAgeMs = 0;

  constructor(private readonly everyMs = 10 * 60_000) {}

  /** A dropped signal at engine time `now`; returns the alert to journal now, if one is due */
  drop(now: number, symbol: string, ageMs: number, maxAgeMs: number): StaleDropAlert | undefined {
    this.dropped++;
    this.oldestAgeMs = Math.max(this.oldestAgeMs, ageMs);
    if (now - this.lastAt < this.everyMs) return undefined;
    const first = this.lastAt === -Infinity;
    const alert: StaleDropAlert = {
      level: 'warning',
      kind: 'signals-stale',
      dropped: this.dropped,
      oldestAgeMs: this.oldestAgeMs,
      maxAgeMs,
      symbol,
      message: `${this.dropped} signal(s) dropped as older than signals.maxAgeSeconds (${maxAgeMs / 1000} s) ${first ? 'for the first time in this run' : 'since the last alert'}, the oldest ${Math.round(this.oldestAgeMs / 1000)} s old (e.g. ${symbol}): a backlog, or the signal producer's clock runs behind`,
    };
    this.lastAt = now;
    this.dropped = 0;
    this.oldestAgeMs = 0;
    return alert;
  }
}
