/**
 * Decision-by-decision comparison of two legs' parity events (events.ts): both are put in the
 * canonical order and walked in step; the first pair that differs (kind, time, instrument or any
 * data field), or the first event one leg has and the other lacks, is the divergence, reported with
 * the events around it on both sides. Counts per kind and a multiset comparison (how many events of
 * each kind only one leg has) summarize the rest, since after a first divergence the legs rarely
 * line up again event for event.
 */
import { canonicalOrder, countByKind, PARITY_KINDS, type ParityEvent, type ParityKind, type ParityValue } from './events.js';

export interface ParityDiffOptions {
  /** Events shown before and after the divergence on each side (default 5) */
  context?: number;
  /** Numbers equal when |a - b| <= tolerance * max(1, |a|, |b|) (default 0: exactly equal) */
  tolerance?: number;
  /** Kinds left out of the comparison (e.g. ['state']) */
  ignore?: readonly ParityKind[];
}

export interface FieldDifference {
  field: string;
  backtest: ParityValue | undefined;
  runner: ParityValue | undefined;
}

export interface ParityDivergence {
  /** Position in the canonical order (both legs agree on everything before it) */
  index: number;
  backtest: ParityEvent | undefined;
  runner: ParityEvent | undefined;
  /** What differs: kind/ts/instrument and the data fields (empty when one side has no event) */
  differences: FieldDifference[];
  /** Events [index - context, index + context] of each leg */
  context: { backtest: { index: number; event: ParityEvent }[]; runner: { index: number; event: ParityEvent }[] };
}

export interface ParityDiff {
  /** True when the legs are identical event for event */
  equal: boolean;
  counts: { backtest: Record<ParityKind, number>; runner: Record<ParityKind, number> };
  /** Events both legs agree on before the first divergence (all of them when equal) */
  matched: number;
  firstDivergence: ParityDivergence | undefined;
  /** Per kind: events only the backtest / only the runner has (multiset over kind, time, instrument, data) */
  unmatched: Record<ParityKind, { backtest: number; runner: number }>;
}

export function diffParity(backtest: readonly ParityEvent[], runner: readonly ParityEvent[], options: ParityDiffOptions = {}): ParityDiff {
  const ignore = new Set(options.ignore ?? []);
  const a = canonicalOrder(backtest.filter((e) => !ignore.has(e.kind)));
  const b = canonicalOrder(runner.filter((e) => !ignore.has(e.kind)));
  const tol = options.tolerance ?? 0;
  const n = Math.max(a.length, b.length);
  let first: number | undefined;
  let differences: FieldDifference[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined) {
      first = i;
      break;
    }
    const d = compareEvents(x, y, tol);
    if (d.length > 0) {
      first = i;
      differences = d;
      break;
    }
  }
  const k = options.context ?? 5;
  const around = (list: ParityEvent[], i: number) => list.slice(Math.max(0, i - k), i + k + 1).map((event, j) => ({ index: Math.max(0, i - k) + j, event }));
  return {
    equal: first === undefined,
    counts: { backtest: countByKind(a), runner: countByKind(b) },
    matched: first ?? n,
    firstDivergence: first === undefined ? undefined : { index: first, backtest: a[first], runner: b[first], differences, context: { backtest: around(a, first), runner: around(b, first) } },
    unmatched: unmatchedByKind(a, b, tol),
  };
}

/** Differences between two events; empty when equal. */
export function compareEvents(x: ParityEvent, y: ParityEvent, tolerance = 0): FieldDifference[] {
  const out: FieldDifference[] = [];
  if (x.kind !== y.kind) out.push({ field: 'kind', backtest: x.kind, runner: y.kind });
  if (x.ts !== y.ts) out.push({ field: 'ts', backtest: x.ts, runner: y.ts });
  if (x.instrument !== y.instrument) out.push({ field: 'instrument', backtest: x.instrument, runner: y.instrument });
  // events of different kinds: their fields have nothing to compare
  if (x.kind !== y.kind) return out;
  const fields = new Set([...Object.keys(x.data), ...Object.keys(y.data)]);
  for (const f of fields) {
    const u = x.data[f];
    const v = y.data[f];
    if (!sameValue(u, v, tolerance)) out.push({ field: f, backtest: u, runner: v });
  }
  return out;
}

function sameValue(u: ParityValue | undefined, v: ParityValue | undefined, tolerance: number): boolean {
  if (u === v) return true;
  if (typeof u === 'number' && typeof v === 'number') {
    if (Number.isNaN(u) && Number.isNaN(v)) return true;
    return tolerance > 0 && Math.abs(u - v) <= tolerance * Math.max(1, Math.abs(u), Math.abs(v));
  }
  return false;
}

/** Multiset difference by exact key (with tolerance > 0 numbers are rounded to it, approximately) */
function unmatchedByKind(a: readonly ParityEvent[], b: readonly ParityEvent[], tolerance: number): Record<ParityKind, { backtest: number; runner: number }> {
  const out = Object.fromEntries(PARITY_KINDS.map((kind) => [kind, { backtest: 0, runner: 0 }])) as Record<ParityKind, { backtest: number; runner: number }>;
  const keyOf = (e: ParityEvent) => JSON.stringify([e.kind, e.ts, e.instrument, Object.entries(e.data).sort(([p], [q]) => (p < q ? -1 : 1)).map(([f, v]) => [f, typeof v === 'number' && tolerance > 0 ? Number(v.toPrecision(Math.max(1, Math.round(-Math.log10(tolerance))))) : v])]);
  const bag = new Map<string, number>();
  for (const e of a) bag.set(keyOf(e), (bag.get(keyOf(e)) ?? 0) + 1);
  for (const e of b) {
    const key = keyOf(e);
    const c = bag.get(key) ?? 0;
    if (c > 0) bag.set(key, c - 1);
    else out[e.kind].runner++;
  }
  for (const e of a) {
    const key = keyOf(e);
    const c = bag.get(key) ?? 0;
    if (c > 0) {
      out[e.kind].backtest++;
      bag.set(key, c - 1);
    }
  }
  return out;
}
