/**
 * The comparable form of what one leg of a parity check did (a backtest, or the runner replayed
 * against the TWS simulator): one flat list of events, each with the fields that must be equal in
 * `data` and what only helps a reader in `context` (ids that differ by construction, free text).
 *
 * Kinds:
 * - `warmup`: a bar of a subscription's warm-up history at the start (ts = bar start).
 * - `bar`: a bar the strategies saw (ts = its close; data: start, OHLCV).
 * - `decision`: an order a strategy (or the runner's supervisor) submitted (ts = submit time; data:
 *   the order's ordinal `ref`, side, type, quantity, prices, tif).
 * - `order`: what happened to an order other than fills: rejected, pending_cancel, cancelled (an
 *   expiry counts as cancelled: IB reports a DAY order's expiry as a cancellation), modified,
 *   cancel/modify rejected. Acknowledgements ('accepted') and trigger notices ('triggered') are left
 *   out: they are messages of the venue's protocol, not outcomes.
 * - `fill`: price, quantity, commission, liquidity (ts = the fill's time).
 * - `state`: after everything at a bar close time: cash, equity, commissions and every position.
 *
 * Orders are named by `ref` = `<strategy id>#<n>`, the n-th order that strategy submitted, because
 * client order ids carry a per-process prefix in the runner.
 */

export const PARITY_KINDS = ['warmup', 'bar', 'decision', 'order', 'fill', 'state'] as const;
export type ParityKind = (typeof PARITY_KINDS)[number];

export type ParityValue = number | string | boolean | null;

export interface ParityEvent {
  kind: ParityKind;
  /** Epoch ms UTC */
  ts: number;
  /** Instrument key; '' for account-wide events (state) */
  instrument: string;
  /** Compared field by field */
  data: Record<string, ParityValue>;
  /** Shown, never compared */
  context?: Record<string, ParityValue>;
}

/** Order inside one instant: warm-up bars first, account states last; the rest keeps its recorded order. */
const KIND_RANK: Record<ParityKind, number> = { warmup: 0, bar: 1, decision: 1, order: 1, fill: 1, state: 2 };

/**
 * The canonical order both legs are compared in: by time, then (states last) by instrument, then
 * as recorded. Per instrument each leg records the same sequence at an instant (fill, bar,
 * decisions); what differs legitimately is only how instruments interleave (the runner hears every
 * fill of an instant before its bars, the backtest fills an instrument's order when that
 * instrument's bar is dispatched), which this order removes.
 */
export function canonicalOrder(events: readonly ParityEvent[]): ParityEvent[] {
  const indexed = events.map((e, i) => ({ e, i }));
  indexed.sort((a, b) => {
    const x = a.e;
    const y = b.e;
    if (x.ts !== y.ts) return x.ts - y.ts;
    const rank = KIND_RANK[x.kind] - KIND_RANK[y.kind];
    if (rank !== 0) return rank;
    if (x.instrument !== y.instrument) return x.instrument < y.instrument ? -1 : 1;
    return a.i - b.i;
  });
  return indexed.map((x) => x.e);
}

/** Events per kind. */
export function countByKind(events: readonly ParityEvent[]): Record<ParityKind, number> {
  const out = Object.fromEntries(PARITY_KINDS.map((k) => [k, 0])) as Record<ParityKind, number>;
  for (const e of events) out[e.kind]++;
  return out;
}

/** One line for reports: `2013-10-08T14:31:00Z fill SPY ref=sma-cross#1 side=BUY quantity=100 price=168.42 …`. */
export function describeEvent(e: ParityEvent): string {
  const fields = Object.entries(e.data).map(([k, v]) => `${k}=${formatValue(v)}`);
  return `${isoTime(e.ts)} ${e.kind}${e.instrument ? ` ${e.instrument}` : ''} ${fields.join(' ')}`.trimEnd();
}

export function isoTime(ts: number): string {
  return Number.isFinite(ts) ? new Date(ts).toISOString().replace('.000Z', 'Z') : String(ts);
}

function formatValue(v: ParityValue): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(12)));
  return String(v);
}
