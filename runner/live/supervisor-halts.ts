/**
 * The supervisor's halts, tracked by source (`session`, `loss:cumulative`, `drawdown`,
 * `health:event-loop-lag`, `health:stale`, `reconcile`, …) for the whole book and per instrument, so
 * one source resuming never clears another's halt. The RiskEngine keeps one reason per halt: this is
 * where the sources are merged into it, which is why the supervisor owns the RiskEngine's halts (do
 * not call `kernel.risk.halt` next to it).
 */
import type { Kernel } from '../../lib/engine/kernel.js';
import { formatSources, STICKY_SOURCES, type SupervisorReport } from './supervisor-types.js';

export class SupervisorHalts {
  private readonly globalSources = new Map<string, string>();
  private readonly instrumentSources = new Map<string, Map<string, string>>();

  constructor(
    private readonly kernel: Kernel,
    private readonly report: SupervisorReport,
  ) {}

  /** Whether `source` halts the whole book */
  has(source: string): boolean {
    return this.globalSources.has(source);
  }

  get halted(): boolean {
    return this.globalSources.size > 0;
  }

  /**
   * A resumed run: the sticky halts the journal left in force, before any strategy starts; the
   * other sources are re-derived by their owners (session guard, health, staleness).
   * `onRestored` runs for each before it is reported.
   */
  restore(halts: Readonly<Record<string, string>>, onRestored: (source: string) => void): void {
    for (const [source, detail] of Object.entries(halts)) {
      if (!STICKY_SOURCES.has(source) || this.globalSources.has(source)) continue;
      this.globalSources.set(source, detail);
      this.applyGlobal();
      onRestored(source);
      this.report({ type: 'halt', source, reason: detail || source, context: { restored: true, halts: formatSources(this.globalSources) } });
    }
  }

  /** Halts new risk-increasing orders of the whole book for `source` (exits still go) */
  halt(source: string, detail = ''): void {
    const known = this.globalSources.get(source);
    if (known === detail) return;
    this.globalSources.set(source, detail);
    this.applyGlobal();
    if (known === undefined) this.report({ type: 'halt', source, reason: detail || source, context: { halts: formatSources(this.globalSources) } });
  }

  /**
   * Removes `source`'s halt; the book trades again once no source is left. `onRemoved` runs once the
   * source is gone, before the RiskEngine is updated (re-basing the loss limits). False when
   * `source` did not halt the book.
   */
  resume(source: string, onRemoved: () => void): boolean {
    if (!this.globalSources.delete(source)) return false;
    onRemoved();
    this.applyGlobal();
    this.report({ type: 'resume', source, reason: this.globalSources.size === 0 ? 'trading resumed' : `still halted: ${formatSources(this.globalSources)}` });
    return true;
  }

  haltInstrument(instrument: string, source: string, detail = ''): void {
    let sources = this.instrumentSources.get(instrument);
    if (sources === undefined) {
      sources = new Map();
      this.instrumentSources.set(instrument, sources);
    }
    const known = sources.get(source);
    if (known === detail) return;
    sources.set(source, detail);
    this.applyInstrument(instrument);
    if (known === undefined) this.report({ type: 'halt-instrument', source, instrument, reason: detail || source, context: { halts: formatSources(sources) } });
  }

  resumeInstrument(instrument: string, source: string): void {
    const sources = this.instrumentSources.get(instrument);
    if (sources === undefined || !sources.delete(source)) return;
    if (sources.size === 0) this.instrumentSources.delete(instrument);
    this.applyInstrument(instrument);
    this.report({ type: 'resume-instrument', source, instrument, reason: sources.size === 0 ? 'entries resumed' : `still halted: ${formatSources(sources)}` });
  }

  /** Whole-book halt sources and their details */
  haltSources(): Record<string, string> {
    return Object.fromEntries(this.globalSources);
  }

  instrumentHaltSources(instrument: string): Record<string, string> {
    return Object.fromEntries(this.instrumentSources.get(instrument) ?? []);
  }

  /** instrument -> source -> detail, of every instrument halted */
  instrumentHalts(): Record<string, Record<string, string>> {
    const out: Record<string, Record<string, string>> = {};
    for (const [k, m] of this.instrumentSources) out[k] = Object.fromEntries(m);
    return out;
  }

  /** Puts the instrument's halt sources on the RiskEngine (again, once the instrument is registered) */
  applyInstrument(instrument: string): void {
    const index = this.kernel.instruments.indexOf(instrument);
    if (index === undefined) return; // applied when the instrument is registered
    const sources = this.instrumentSources.get(instrument);
    if (sources === undefined || sources.size === 0) this.kernel.risk.resumeInstrument(index);
    else this.kernel.risk.haltInstrument(index, formatSources(sources));
  }

  private applyGlobal(): void {
    if (this.globalSources.size === 0) this.kernel.risk.resume();
    else this.kernel.risk.halt(formatSources(this.globalSources));
  }
}
