/**
 * What the fetcher reads from the store to plan (stored bars per unit, complete sessions, the
 * marks of earlier fetches in `ib_fetch_ranges`) and the marks it writes there.
 */
import type { ExchangeCalendar } from '../calendar/index.js';
import { intervalMs, type BarKind, type Interval } from '../data/interval.js';
import type { Store } from '../store/store.js';
import type { PlanUnit } from './history-plan.js';
import type { Target } from './history-targets.js';

export interface RangeMark {
  /** 'ok': bars were stored (provenance); 'empty' / 'expired': IB had nothing, not asked again */
  status: 'ok' | 'empty' | 'expired';
}

export async function loadMarks(store: Store, instrumentId: number, interval: Interval, what: string, useRTH: boolean): Promise<Map<number, RangeMark>> {
  const rows = await store.all<{ start: number; status: RangeMark['status'] }>(
    `SELECT CAST(epoch_ms(range_start) AS DOUBLE) AS start, status FROM ib_fetch_ranges
     WHERE instrument_id = $1 AND interval = $2 AND what_to_show = $3 AND use_rth = $4`,
    [instrumentId, interval, what, useRTH],
  );
  return new Map(rows.map((r) => [Number(r.start), { status: r.status }]));
}

/**
 * Starts of the units whose regular session holds every bar the calendar expects (bars in
 * [open, close) counted against `expectedBarCount`); units without a session count as complete.
 */
export async function completeUnits(store: Store, instrumentId: number, interval: Interval, kind: BarKind, units: readonly PlanUnit[], calendar: ExchangeCalendar): Promise<Set<number>> {
  const complete = new Set<number>();
  const step = intervalMs(interval);
  for (const u of units) {
    const session = calendar.session(u.date);
    if (session === undefined) {
      complete.add(u.start);
      continue;
    }
    const [row] = await store.all<{ n: number }>(
      `SELECT CAST(count(*) AS DOUBLE) AS n FROM bars WHERE instrument_id = $1 AND interval = $2 AND kind = $3
         AND ts >= make_timestamp(CAST($4 AS BIGINT)) AND ts < make_timestamp(CAST($5 AS BIGINT))`,
      [instrumentId, interval, kind, session.open * 1000, session.close * 1000],
    );
    if ((row?.n ?? 0) >= calendar.expectedBarCount(session, step)) complete.add(u.start);
  }
  return complete;
}

/** Starts of the units that hold at least one stored bar of the interval and kind. */
export async function unitsWithBars(store: Store, instrumentId: number, interval: Interval, kind: BarKind, units: readonly PlanUnit[]): Promise<Set<number>> {
  if (units.length === 0) return new Set();
  const rows = await store.all<{ s: number }>(
    `WITH u AS (SELECT unnest(from_json($1, '["BIGINT"]')) AS s, unnest(from_json($2, '["BIGINT"]')) AS e)
     SELECT CAST(u.s AS DOUBLE) AS s FROM u
     WHERE EXISTS (SELECT 1 FROM bars b WHERE b.instrument_id = $3 AND b.interval = $4 AND b.kind = $5
                   AND b.ts >= make_timestamp(u.s * 1000) AND b.ts < make_timestamp(u.e * 1000))`,
    [JSON.stringify(units.map((u) => u.start)), JSON.stringify(units.map((u) => u.end)), instrumentId, interval, kind],
  );
  return new Set(rows.map((r) => Number(r.s)));
}

export async function recordRanges(
  store: Store,
  t: Target,
  o: { interval: Interval; what: string; useRTH: boolean },
  units: readonly { unit: PlanUnit; status: RangeMark['status']; bars: number }[],
  detail: string | undefined,
  runId: number | undefined,
  at: number,
): Promise<void> {
  for (const { unit, status, bars } of units) {
    if (unit.open) continue;
    await store.run(
      `INSERT OR REPLACE INTO ib_fetch_ranges (instrument_id, interval, what_to_show, use_rth, range_start, range_end, session_date, status, bars, detail, run_id, fetched_at)
       VALUES ($1, $2, $3, $4, make_timestamp(CAST($5 AS BIGINT)), make_timestamp(CAST($6 AS BIGINT)), CAST($7 AS DATE), $8, $9, $10, $11, make_timestamp(CAST($12 AS BIGINT)))`,
      [t.instrumentId, o.interval, o.what, o.useRTH, unit.start * 1000, unit.end * 1000, unit.date, status, bars, detail ?? null, runId ?? null, Math.round(at) * 1000],
    );
  }
}
