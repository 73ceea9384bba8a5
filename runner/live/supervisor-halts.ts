/**
 * The supervisor's halts, tracked by source (`session`, `loss:cumulative`, `drawdown`, `operator`,
 * `health:event-loop-lag`, `health:stale`, `reconcile`, …) for the whole book and per instrument, so
 * one source resuming never clears another's halt. The RiskEngine keeps one reason per halt: this is
 * where the sources are merged into it, which is why the supervisor owns the RiskEngine's halts (do
 * not call `kernel.risk.halt` next to it). Each halt keeps when it began (engine time) for the
 * operator's `GET /status`; a halt restored from the journal begins at its restore and says so.
 */
import type { Kernel } from '../../lib/engine/kernel.js';
import { STICKY_SOURCES, type HaltInForce, type SupervisorReport } from './supervisor-types.js';

interface Halt {
  detail: string;
  /** Engine time the halt began (its restore, for a halt a resumed run re-applied) */
  since: number;
  restored: boolean;
}

type Context = Record<string, unknown>;

export class SupervisorHalts {
  private readonly globalSources = new Map<string, Halt>();
  private readonly instrumentSources = new Map<string, Map<string, Halt>>();

  constructor(
    private readonly kernel: Kernel,
    private readonly report: SupervisorReport,
  ) {}

  /** Whether `source` halts the whole book */
  has(source: string): boolean {
    return this.globalSources.has(source);
  }

  /** Whether `source` halts the instrument */
  hasInstrument(instrument: string, source: string): boolean {
    return this.instrumentSources.get(instrument)?.has(source) === true;
  }

  get halted(): boolean {
    return this.globalSources.size > 0;
  }

  /**
   * A resumed run: the sticky halts the journal left in force (whole book, then per instrument),
   * before any strategy starts; the other sources are re-derived by their owners (session guard,
   * health, staleness). `onRestored` runs for each whole-book one before it is reported.
   */
  restore(halts: Readonly<Record<string, string>>, onRestored: (source: string) => void, instrumentHalts: Readonly<Record<string, Readonly<Record<string, string>>>> = {}): void {
    for (const [source, detail] of Object.entries(halts)) {
      if (!STICKY_SOURCES.has(source) || this.globalSources.has(source)) continue;
      this.globalSources.set(source, { detail, since: this.kernel.now(), restored: true });
      this.applyGlobal();
      onRestored(source);
      this.report({ type: 'halt', source, reason: detail || source, context: { restored: true, halts: formatHalts(this.globalSources) } });
    }
    for (const [instrument, sources] of Object.entries(instrumentHalts)) {
      for (const [source, detail] of Object.entries(sources)) {
        if (!STICKY_SOURCES.has(source) || this.hasInstrument(instrument, source)) continue;
        const map = this.instrumentMap(instrument);
        map.set(source, { detail, since: this.kernel.now(), restored: true });
        this.applyInstrument(instrument);
        this.report({ type: 'halt-instrument', source, instrument, reason: detail || source, context: { restored: true, halts: formatHalts(map) } });
      }
    }
  }

  /** Halts new risk-increasing orders of the whole book for `source` (exits still go); `context` goes into the journaled action */
  halt(source: string, detail = '', context?: Context): void {
    const known = this.globalSources.get(source);
    if (known?.detail === detail) return;
    this.globalSources.set(source, { detail, since: known?.since ?? this.kernel.now(), restored: known?.restored ?? false });
    this.applyGlobal();
    if (known === undefined) this.report({ type: 'halt', source, reason: detail || source, context: { ...context, halts: formatHalts(this.globalSources) } });
  }

  /**
   * Removes `source`'s halt; the book trades again once no source is left. `onRemoved` runs once the
   * source is gone, before the RiskEngine is updated (re-basing the loss limits) and the resume is
   * reported. False when `source` did not halt the book.
   */
  resume(source: string, onRemoved: () => void, context?: Context): boolean {
    if (!this.globalSources.delete(source)) return false;
    onRemoved();
    this.applyGlobal();
    this.report({ type: 'resume', source, reason: this.globalSources.size === 0 ? 'trading resumed' : `still halted: ${formatHalts(this.globalSources)}`, ...(context !== undefined ? { context } : {}) });
    return true;
  }

  haltInstrument(instrument: string, source: string, detail = '', context?: Context): void {
    const sources = this.instrumentMap(instrument);
    const known = sources.get(source);
    if (known?.detail === detail) return;
    sources.set(source, { detail, since: known?.since ?? this.kernel.now(), restored: known?.restored ?? false });
    this.applyInstrument(instrument);
    if (known === undefined) this.report({ type: 'halt-instrument', source, instrument, reason: detail || source, context: { ...context, halts: formatHalts(sources) } });
  }

  /** False when `source` did not halt the instrument */
  resumeInstrument(instrument: string, source: string, context?: Context): boolean {
    const sources = this.instrumentSources.get(instrument);
    if (sources === undefined || !sources.delete(source)) return false;
    if (sources.size === 0) this.instrumentSources.delete(instrument);
    this.applyInstrument(instrument);
    this.report({ type: 'resume-instrument', source, instrument, reason: sources.size === 0 ? 'entries resumed' : `still halted: ${formatHalts(sources)}`, ...(context !== undefined ? { context } : {}) });
    return true;
  }

  /** Whole-book halt sources and their details */
  haltSources(): Record<string, string> {
    return detailsOf(this.globalSources);
  }

  instrumentHaltSources(instrument: string): Record<string, string> {
    const m = this.instrumentSources.get(instrument);
    return m === undefined ? {} : detailsOf(m);
  }

  /** instrument -> source -> detail, of every instrument halted */
  instrumentHalts(): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const [k, m] of this.instrumentSources) out[k] = detailsOf(m);
    return out;
  }

  /** Every halt in force: the whole book's first, then per instrument, each in the order it began */
  inForce(): HaltInForce[] {
    const view = (source: string, h: Halt, instrument?: string): HaltInForce => ({ source, ...(instrument !== undefined ? { instrument } : {}), since: h.since, detail: h.detail, ...(h.restored ? { restored: true } : {}) });
    const out = [...this.globalSources].map(([s, h]) => view(s, h));
    for (const [instrument, m] of this.instrumentSources) for (const [s, h] of m) out.push(view(s, h, instrument));
    return out;
  }

  /** Puts the instrument's halt sources on the RiskEngine (again, once the instrument is registered) */
  applyInstrument(instrument: string): void {
    const index = this.kernel.instruments.indexOf(instrument);
    if (index === undefined) return; // applied when the instrument is registered
    const sources = this.instrumentSources.get(instrument);
    if (sources === undefined || sources.size === 0) this.kernel.risk.resumeInstrument(index);
    else this.kernel.risk.haltInstrument(index, formatHalts(sources));
  }

  private instrumentMap(instrument: string): Map<string, Halt> {
    let sources = this.instrumentSources.get(instrument);
    if (sources === undefined) {
      sources = new Map();
      this.instrumentSources.set(instrument, sources);
    }
    return sources;
  }

  private applyGlobal(): void {
    if (this.globalSources.size === 0) this.kernel.risk.resume();
    else this.kernel.risk.halt(formatHalts(this.globalSources));
  }
}

function detailsOf(m: ReadonlyMap<string, Halt>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [s, h] of m) out[s] = h.detail;
  return out;
}

/** `source: detail; …`, the one reason the RiskEngine keeps per halt */
function formatHalts(m: ReadonlyMap<string, Halt>): string {
  return [...m].map(([s, h]) => (h.detail === '' ? s : `${s}: ${h.detail}`)).join('; ');
}
