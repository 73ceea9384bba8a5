/** The parity check's outcome as text for people and as one JSON object for machines. */
import type { ParityDiff } from './diff.js';
import { describeEvent, isoTime, PARITY_KINDS, type ParityEvent } from './events.js';

/** What was compared: printed at the top of the report and echoed in the JSON. */
export interface ParitySubject {
  /** As given: `sma-cross`, `sma-cross@dev`, `sma-cross@1.2.0` */
  strategy: string;
  version: string;
  params: Record<string, unknown>;
  symbols: readonly string[];
  interval: string;
  from: number;
  to: number;
  /** Fill model, commission, slippage, supervisor settings… */
  settings: Record<string, unknown>;
}

export interface ParityResult {
  subject: ParitySubject;
  diff: ParityDiff;
  /** Facts about the runner leg (journal, its summary, stalls of the lock-step replay) */
  runner: Record<string, unknown>;
  elapsedMs: { backtest: number; runner: number };
}

export function parityReportText(r: ParityResult): string {
  const s = r.subject;
  const d = r.diff;
  const lines: string[] = [];
  lines.push(`parity ${s.strategy} (version ${s.version}) ${s.interval} ${s.symbols.join(',')} ${isoTime(s.from)} .. ${isoTime(s.to)}`);
  lines.push(`params ${JSON.stringify(s.params)}; ${Object.entries(s.settings).map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ')}`);
  lines.push('');
  lines.push(`${'events'.padEnd(10)}${'backtest'.padStart(10)}${'runner'.padStart(10)}${'only bt'.padStart(10)}${'only run'.padStart(10)}`);
  for (const k of PARITY_KINDS) {
    lines.push(`${k.padEnd(10)}${String(d.counts.backtest[k]).padStart(10)}${String(d.counts.runner[k]).padStart(10)}${String(d.unmatched[k].backtest).padStart(10)}${String(d.unmatched[k].runner).padStart(10)}`);
  }
  lines.push('');
  if (d.equal) {
    lines.push(`EMPTY DIFF: the runner did exactly what the backtest did, ${d.matched} events, decision by decision.`);
  } else {
    const f = d.firstDivergence!;
    lines.push(`DIVERGENCE at event #${f.index} (${d.matched} events equal before it)`);
    lines.push(`  backtest: ${f.backtest ? describeEvent(f.backtest) : '(no more events)'}`);
    lines.push(`  runner:   ${f.runner ? describeEvent(f.runner) : '(no more events)'}`);
    for (const x of f.differences) lines.push(`  differs: ${x.field}: backtest ${show(x.backtest)}, runner ${show(x.runner)}`);
    lines.push('');
    lines.push('context (backtest):');
    for (const c of f.context.backtest) lines.push(`  ${c.index === f.index ? '>' : ' '} #${c.index} ${line(c.event)}`);
    lines.push('context (runner):');
    for (const c of f.context.runner) lines.push(`  ${c.index === f.index ? '>' : ' '} #${c.index} ${line(c.event)}`);
  }
  const stalls = Array.isArray(r.runner.stalls) ? (r.runner.stalls as string[]) : [];
  if (stalls.length > 0) {
    lines.push('');
    lines.push(`the lock-step replay stalled ${stalls.length} time(s); first: ${stalls[0]}`);
  }
  lines.push('');
  lines.push(`elapsed: backtest ${Math.round(r.elapsedMs.backtest)} ms, runner ${Math.round(r.elapsedMs.runner)} ms`);
  return lines.join('\n');
}

/** The JSON form: subject, verdict, counts, the first divergence with context, runner facts. */
export function parityReportJson(r: ParityResult): Record<string, unknown> {
  const s = r.subject;
  return {
    strategy: s.strategy,
    version: s.version,
    params: s.params,
    symbols: s.symbols,
    interval: s.interval,
    from: isoTime(s.from),
    to: isoTime(s.to),
    settings: s.settings,
    equal: r.diff.equal,
    matched: r.diff.matched,
    counts: r.diff.counts,
    unmatched: r.diff.unmatched,
    firstDivergence: r.diff.firstDivergence ?? null,
    runner: r.runner,
    elapsedMs: r.elapsedMs,
  };
}

function line(e: ParityEvent): string {
  const ctx = e.context ? Object.entries(e.context).filter(([, v]) => v !== null && v !== undefined) : [];
  return describeEvent(e) + (ctx.length > 0 ? `  (${ctx.map(([k, v]) => `${k} ${String(v)}`).join(', ')})` : '');
}

function show(v: unknown): string {
  if (v === undefined) return '(absent)';
  if (typeof v === 'number' && Number.isFinite(v) && v > 1e11) return `${v} (${isoTime(v)})`;
  return JSON.stringify(v);
}
