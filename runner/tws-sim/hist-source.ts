/**
 * What the historical feature reads from the store: which intervals exist for an instrument and
 * bar kind, the bars of a time range (stitched across months for CONTFUT), and the first bar.
 */
import type { BarColumns } from '../../lib/data/bar-series.js';
import { isInterval, type BarKind, type Interval } from '../../lib/data/interval.js';
import { loadBars } from '../../lib/store/bar-query.js';
import type { InstrumentRow } from '../../lib/store/instruments.js';
import type { Store } from '../../lib/store/store.js';
import { tradingDateSpan } from './trading-hours.js';

/** One instrument's share of a series: its bars in [from, to) (a CONTFUT month until its expiry). */
export interface Segment {
  inst: InstrumentRow;
  from: number;
  to: number;
}

/** How whatToShow reads the store: the kinds that must exist, and the kind loaded per leg. */
export interface SourceKind {
  /** Kinds loaded and aggregated separately (BID_ASK needs both sides) */
  legs: BarKind[];
  /** Kinds that must be stored at the chosen interval */
  needs: BarKind[];
  adjusted: boolean;
}

export const WHAT_TO_SHOW: Readonly<Record<string, SourceKind>> = {
  TRADES: { legs: ['trade'], needs: ['trade'], adjusted: false },
  ADJUSTED_LAST: { legs: ['trade'], needs: ['trade'], adjusted: true },
  BID: { legs: ['bid'], needs: ['bid'], adjusted: false },
  ASK: { legs: ['ask'], needs: ['ask'], adjusted: false },
  // the store's mid is (bid + ask) / 2 of the same bar start
  MIDPOINT: { legs: ['mid'], needs: ['bid', 'ask'], adjusted: false },
  BID_ASK: { legs: ['bid', 'ask'], needs: ['bid', 'ask'], adjusted: false },
};

/** A single contract's segment: all of time. */
export function wholeSegment(inst: InstrumentRow): Segment[] {
  return [{ inst, from: -Infinity, to: Infinity }];
}

/** CONTFUT: each month from the previous month's expiry to its own (futures sorted by expiry). */
export function continuousSegments(futures: readonly InstrumentRow[]): Segment[] {
  let from = -Infinity;
  return futures
    .filter((f) => f.expiry !== undefined)
    .map((inst) => {
      const to = tradingDateSpan(inst, inst.expiry!).end;
      const seg = { inst, from, to };
      from = to;
      return seg;
    });
}

/** Intervals at which every segment overlapping [from, to) stores every needed kind. */
export async function availableIntervals(store: Store, segments: readonly Segment[], needs: readonly BarKind[], from: number, to: number): Promise<Set<Interval>> {
  let common: Set<Interval> | undefined;
  for (const s of segments) {
    if (s.to <= from || s.from >= to) continue;
    const rows = await store.all<{ iv: string; k: string }>('SELECT DISTINCT CAST(interval AS VARCHAR) AS iv, CAST(kind AS VARCHAR) AS k FROM bars WHERE instrument_id = $1', [s.inst.instrumentId]);
    const has = (iv: string) => needs.every((k) => rows.some((r) => r.iv === iv && r.k === k));
    const mine = new Set(rows.map((r) => r.iv).filter((iv): iv is Interval => isInterval(iv) && has(iv)));
    common = common ? new Set([...common].filter((iv) => mine.has(iv))) : mine;
  }
  return common ?? new Set();
}

const EMPTY = (): BarColumns => ({ length: 0, ts: new Float64Array(0), open: new Float64Array(0), high: new Float64Array(0), low: new Float64Array(0), close: new Float64Array(0), volume: new Float64Array(0) });

function concat(blocks: readonly BarColumns[]): BarColumns {
  if (blocks.length === 1) return blocks[0]!;
  const out = EMPTY();
  const length = blocks.reduce((n, b) => n + b.length, 0);
  const cols = ['ts', 'open', 'high', 'low', 'close', 'volume'] as const;
  for (const c of cols) {
    const a = new Float64Array(length);
    let at = 0;
    for (const b of blocks) {
      a.set(b[c].subarray(0, b.length), at);
      at += b.length;
    }
    out[c] = a;
  }
  out.length = length;
  return out;
}

/** Bars starting in [from, to) of one kind, in time order across segments. */
export async function loadSegments(store: Store, segments: readonly Segment[], interval: Interval, kind: BarKind, adjusted: boolean, from: number, to: number): Promise<BarColumns> {
  const blocks: BarColumns[] = [];
  for (const s of segments) {
    const lo = Math.max(from, s.from);
    const hi = Math.min(to, s.to);
    if (lo >= hi) continue;
    const [bars] = await loadBars(store, {
      symbols: [s.inst.key],
      interval,
      kind,
      adjusted,
      from: Number.isFinite(lo) ? lo : undefined,
      to: Number.isFinite(hi) ? hi - 1 : undefined,
    });
    if (bars && bars.length > 0) blocks.push(bars);
  }
  return blocks.length === 0 ? EMPTY() : concat(blocks);
}

/** Earliest stored bar start per interval over the segments, for kinds (any of them). */
export async function firstBars(store: Store, segments: readonly Segment[], kinds: readonly BarKind[]): Promise<{ interval: Interval; first: number }[]> {
  const out = new Map<Interval, number>();
  for (const s of segments) {
    const rows = await store.all<{ iv: string; first: number }>(
      `SELECT CAST(interval AS VARCHAR) AS iv, CAST(epoch_ms(min(ts)) AS DOUBLE) AS first FROM bars
       WHERE instrument_id = $1 AND list_contains(from_json($2, '["VARCHAR"]'), CAST(kind AS VARCHAR)) GROUP BY interval`,
      [s.inst.instrumentId, JSON.stringify(kinds)],
    );
    for (const r of rows) {
      if (!isInterval(r.iv)) continue;
      out.set(r.iv, Math.min(out.get(r.iv) ?? Infinity, r.first));
    }
  }
  return [...out].map(([interval, first]) => ({ interval, first }));
}
