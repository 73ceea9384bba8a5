import { calendarForInstrument, getCalendar } from '../calendar/index.js';
import type { BarKind, Interval } from '../data/interval.js';
import { loadBars } from '../store/bar-query.js';
import type { Store } from '../store/store.js';
import { auditBars, type AuditResult } from './audit-bars.js';

export interface StoreAuditRequest {
  symbol: string;
  interval: Interval;
  kind?: BarKind;
  fromDate?: string;
  toDate?: string;
  /** Calendar name; default from the instrument (STK -> XNYS, ES -> CME_EQUITY…) */
  calendar?: string;
  jumpSigmas?: number;
  /** Store the result as an audit_reports row (default true) */
  save?: boolean;
}

export interface StoreAuditResult extends AuditResult {
  symbol: string;
  interval: Interval;
  kind: BarKind;
  reportId?: number;
}

/** Audits stored bars of one instrument/interval/kind and records the report row. */
export async function auditStoredBars(store: Store, req: StoreAuditRequest): Promise<StoreAuditResult> {
  const kind = req.kind ?? 'trade';
  const [bars] = await loadBars(store, { symbols: [req.symbol], interval: req.interval, kind, from: req.fromDate, to: req.toDate });
  const instrument = bars!.instrument;
  const calendar = req.calendar ? getCalendar(req.calendar) : calendarForInstrument(instrument.secType, instrument.symbol);
  const result = auditBars(bars!, { interval: req.interval, calendar, fromDate: req.fromDate, toDate: req.toDate, jumpSigmas: req.jumpSigmas });
  const out: StoreAuditResult = { ...result, symbol: req.symbol, interval: req.interval, kind };
  if (req.save !== false) {
    const rows = await store.all<{ id: number }>(
      `INSERT INTO audit_reports (instrument_id, interval, kind, calendar, from_ts, to_ts, sessions, expected_bars, actual_bars, in_session_bars,
         coverage, gaps, missing_bars, duplicates, non_monotonic, ohlc_violations, nonpositive_prices, jumps, details)
       VALUES ($1, $2, $3, $4, CAST($5 AS TIMESTAMP), CAST($6 AS TIMESTAMP), $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, CAST($19 AS JSON))
       RETURNING report_id AS id`,
      [
        instrument.instrumentId,
        req.interval,
        kind,
        result.calendar,
        result.fromDate || null,
        result.toDate || null,
        result.sessions,
        result.expectedBars,
        result.actualBars,
        result.inSessionBars,
        Number.isFinite(result.coverage) ? result.coverage : null,
        result.gaps,
        result.missingBars,
        result.duplicates,
        result.nonMonotonic,
        result.ohlcViolations,
        result.nonpositivePrices,
        result.jumps,
        JSON.stringify({ ...result.details, jumpThreshold: result.jumpThreshold, emptySessions: result.emptySessions, outsideSessionBars: result.outsideSessionBars }),
      ],
    );
    out.reportId = rows[0]!.id;
  }
  return out;
}

/** Every (instrument, interval, kind) combination that has bars, for auditing them all. */
export async function listBarSeries(store: Store): Promise<{ symbol: string; interval: Interval; kind: BarKind; rows: number; first: Date; last: Date }[]> {
  return store.all(
    `SELECT i.key AS symbol, CAST(b.interval AS VARCHAR) AS interval, CAST(b.kind AS VARCHAR) AS kind, count(*) AS rows, min(b.ts) AS first, max(b.ts) AS last
     FROM bars b JOIN instruments i USING (instrument_id) GROUP BY i.key, b.interval, b.kind ORDER BY i.key, b.interval, b.kind`,
  );
}
