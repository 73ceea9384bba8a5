/**
 * What TWS answers to reqHistoricalData (tws-protocol.md §2): its errors classified into
 * outcomes, bar dates read as epoch ms, and stock volume reported in lots converted back to
 * shares; `toSeries` turns an answer into the store's columns.
 */
import { CHICAGO, NEW_YORK, zonedWallToUtc } from '../core/time-zone.js';
import type { BarSeries } from '../data/bar-series.js';
import { isIntraday } from '../data/interval.js';
import { KIND_OF, type FetchWhatToShow } from './history-fetch-options.js';
import type { Job } from './history-targets.js';

/** What one request ended with. */
export type HistoryOutcome =
  | { kind: 'bars'; bars: RawBar[] }
  | { kind: 'empty'; code?: number; message: string }
  | { kind: 'expired'; code: number; message: string }
  | { kind: 'pacing'; code: number; message: string }
  | { kind: 'retry'; code?: number; message: string }
  | { kind: 'failed'; code: number; message: string };

/** A bar as stoqey emits it. */
export interface RawBar {
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** Codes IBApiNext also treats as warnings for a request (tws-protocol.md §2 error routing). */
const WARNING_CODES = new Set([10090, 10167, 399, 492]);

/**
 * An IB error for a historical request -> what to do: `ignore` (a warning), or an outcome.
 * 162 carries several answers: pacing violation, no data, cancelled, and refusals.
 */
export function classifyHistoryError(code: number, message: string): HistoryOutcome | 'ignore' {
  if ((code >= 2100 && code <= 2999) || WARNING_CODES.has(code) || /^Warning:/i.test(message)) return 'ignore';
  if (code === 162 || code === 165) {
    if (/pacing violation/i.test(message)) return { kind: 'pacing', code, message };
    if (/expired/i.test(message)) return { kind: 'expired', code, message };
    if (/returned no data|no data/i.test(message)) return { kind: 'empty', code, message };
    if (/query cancelled/i.test(message)) return { kind: 'retry', code, message };
  }
  // 366: no such query (an answer raced a cancel); 504: not connected; 1100-ish link loss
  if (code === 504 || code === 1100) return { kind: 'retry', code, message };
  return { kind: 'failed', code, message };
}

/** IB zone names in bar dates -> IANA. */
const IB_ZONES: Record<string, string> = { 'US/Eastern': NEW_YORK, 'US/Central': CHICAGO, EST: NEW_YORK, EDT: NEW_YORK, CST: CHICAGO, CDT: CHICAGO, GMT: 'UTC', UTC: 'UTC' };

/**
 * A bar date -> epoch ms of the bar start. `yyyyMMdd` (bars of a day or longer) -> 00:00 UTC of
 * that date; digits only -> epoch seconds (formatDate 2); `yyyyMMdd HH:mm:ss [zone]` -> that wall
 * time in the zone (default `zone`). NaN when unreadable.
 */
export function parseBarTime(text: string, zone: string): number {
  const t = text.trim();
  if (/^\d{8}$/.test(t)) return Date.UTC(Number(t.slice(0, 4)), Number(t.slice(4, 6)) - 1, Number(t.slice(6, 8)));
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const m = /^(\d{4})(\d{2})(\d{2})[ -]+(\d{2}):(\d{2}):(\d{2})(?:\s+(\S+))?$/.exec(t);
  if (!m) return NaN;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  const z = m[7] === undefined ? zone : (IB_ZONES[m[7]] ?? m[7]);
  try {
    return zonedWallToUtc(z, wall);
  } catch {
    return NaN;
  }
}

/** Shares from a volume reported in lots; float noise from the division is rounded away. */
export function volumeFromLots(reported: number, lot: number): number {
  if (!(reported >= 0)) return 0;
  const shares = reported * lot;
  const whole = Math.round(shares);
  return Math.abs(shares - whole) <= 1e-9 * Math.max(1, Math.abs(shares)) ? whole : shares;
}

/** The answer's bars inside the request's units, in our columns and sorted by start. */
export function toSeries(job: Job, raw: readonly RawBar[], lot: number, what: FetchWhatToShow): BarSeries {
  const t = job.target;
  const rows: { ts: number; bar: RawBar }[] = [];
  const daily = !isIntraday(job.interval);
  for (const bar of raw) {
    const ts = parseBarTime(bar.time, t.zone);
    if (!Number.isFinite(ts)) continue;
    // daily bars always stamped 00:00 UTC of their date, whatever form the date came in
    const stamp = daily ? Date.UTC(new Date(ts).getUTCFullYear(), new Date(ts).getUTCMonth(), new Date(ts).getUTCDate()) : ts;
    if (job.units.some((u) => stamp >= u.start && stamp < u.end)) rows.push({ ts: stamp, bar });
  }
  rows.sort((a, b) => a.ts - b.ts);
  // a repeated start (never expected from IB) keeps the last bar
  const unique = rows.filter((r, i) => i + 1 >= rows.length || rows[i + 1]!.ts !== r.ts);
  const n = unique.length;
  const col = () => new Float64Array(n);
  const s: BarSeries = { instrumentKey: t.spec.key, interval: job.interval, kind: KIND_OF[what], file: job.label, length: n, ts: col(), open: col(), high: col(), low: col(), close: col(), volume: col() };
  unique.forEach((r, i) => {
    s.ts[i] = r.ts;
    s.open[i] = r.bar.open;
    s.high[i] = r.bar.high;
    s.low[i] = r.bar.low;
    s.close[i] = r.bar.close;
    s.volume[i] = what === 'TRADES' ? volumeFromLots(r.bar.volume, lot) : 0;
  });
  return s;
}
