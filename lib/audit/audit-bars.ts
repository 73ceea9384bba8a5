import type { BarColumns } from '../data/bar-series.js';
import { isIntraday, intervalMs, type Interval } from '../data/interval.js';
import type { ExchangeCalendar } from '../calendar/index.js';
import { isoDate, utcToZonedWall } from '../core/time-zone.js';

export interface AuditOptions {
  interval: Interval;
  calendar: ExchangeCalendar;
  /** Session date range to judge coverage over; defaults to the sessions the bars span */
  fromDate?: string;
  toDate?: string;
  /** A close-to-close move is a jump when |log return| exceeds this many robust sigmas */
  jumpSigmas?: number;
}

export interface GapInfo {
  session: string;
  from: string;
  to: string;
  missing: number;
}

export interface AuditResult {
  calendar: string;
  fromDate: string;
  toDate: string;
  sessions: number;
  /** Sessions without a single bar */
  emptySessions: number;
  expectedBars: number;
  actualBars: number;
  /** Bars that sit on the calendar's expected grid */
  inSessionBars: number;
  /** Bars outside regular sessions (extended hours) or off the grid */
  outsideSessionBars: number;
  /** inSessionBars / expectedBars */
  coverage: number;
  /** Coverage over only the sessions that have at least one bar (sparse samples) */
  coverageOfActiveSessions: number;
  /** Runs of consecutive missing expected bars */
  gaps: number;
  missingBars: number;
  duplicates: number;
  nonMonotonic: number;
  ohlcViolations: number;
  nonpositivePrices: number;
  jumps: number;
  jumpThreshold: number;
  details: {
    largestGaps: GapInfo[];
    duplicateTimes: string[];
    nonMonotonicTimes: string[];
    ohlcViolationTimes: string[];
    nonpositiveTimes: string[];
    jumpTimes: { ts: string; logReturn: number }[];
  };
}

const EXAMPLES = 10;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Audits one bar series against an exchange calendar: coverage of the expected bar grid,
 * gaps, duplicates, non-monotonic timestamps, OHLC sanity, non-positive prices and
 * suspicious jumps (|log return| above `jumpSigmas` x a MAD-based sigma).
 * Pure: arrays in, numbers out, so it audits a file before import as well as the store.
 */
export function auditBars(bars: BarColumns, o: AuditOptions): AuditResult {
  const n = bars.length;
  const { ts, open, high, low, close } = bars;
  const details: AuditResult['details'] = { largestGaps: [], duplicateTimes: [], nonMonotonicTimes: [], ohlcViolationTimes: [], nonpositiveTimes: [], jumpTimes: [] };
  let duplicates = 0;
  let nonMonotonic = 0;
  let ohlcViolations = 0;
  let nonpositive = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0) {
      if (ts[i] === ts[i - 1]) {
        duplicates++;
        if (details.duplicateTimes.length < EXAMPLES) details.duplicateTimes.push(iso(ts[i]!));
      } else if (ts[i]! < ts[i - 1]!) {
        nonMonotonic++;
        if (details.nonMonotonicTimes.length < EXAMPLES) details.nonMonotonicTimes.push(iso(ts[i]!));
      }
    }
    const o_ = open[i]!;
    const h = high[i]!;
    const l = low[i]!;
    const c = close[i]!;
    if (!(h >= l && h >= o_ && h >= c && l <= o_ && l <= c)) {
      ohlcViolations++;
      if (details.ohlcViolationTimes.length < EXAMPLES) details.ohlcViolationTimes.push(iso(ts[i]!));
    }
    if (!(o_ > 0 && h > 0 && l > 0 && c > 0)) {
      nonpositive++;
      if (details.nonpositiveTimes.length < EXAMPLES) details.nonpositiveTimes.push(iso(ts[i]!));
    }
  }
  const jumps = findJumps(bars, o.jumpSigmas ?? 10);
  details.jumpTimes = jumps.examples;

  // coverage against the calendar grid
  const fromDate = o.fromDate ?? (n ? sessionDateOf(ts[0]!, o) : '');
  const toDate = o.toDate ?? (n ? sessionDateOf(ts[n - 1]!, o) : '');
  const sessions = n || o.fromDate ? o.calendar.sessions(fromDate, toDate) : [];
  const step = intervalMs(o.interval);
  const present = new Set<number>();
  for (let i = 0; i < n; i++) present.add(ts[i]!);
  let expected = 0;
  let inSession = 0;
  let missing = 0;
  let gaps = 0;
  let emptySessions = 0;
  let expectedActive = 0;
  const allGaps: GapInfo[] = [];
  for (const s of sessions) {
    const starts = isIntraday(o.interval) ? o.calendar.expectedBarStarts(s, step) : [Date.parse(`${s.date}T00:00:00Z`)];
    expected += starts.length;
    let run = 0;
    let runStart = 0;
    let hits = 0;
    const closeRun = (endTs: number) => {
      if (run === 0) return;
      gaps++;
      allGaps.push({ session: s.date, from: iso(runStart), to: iso(endTs), missing: run });
      run = 0;
    };
    for (const t of starts) {
      if (present.has(t)) {
        hits++;
        closeRun(t);
      } else {
        if (run === 0) runStart = t;
        run++;
        missing++;
      }
    }
    closeRun(s.close);
    inSession += hits;
    if (hits === 0) emptySessions++;
    else expectedActive += starts.length;
  }
  allGaps.sort((a, b) => b.missing - a.missing);
  details.largestGaps = allGaps.slice(0, EXAMPLES);
  return {
    calendar: o.calendar.name,
    fromDate,
    toDate,
    sessions: sessions.length,
    emptySessions,
    expectedBars: expected,
    actualBars: n,
    inSessionBars: inSession,
    outsideSessionBars: n - duplicates - inSession,
    coverage: expected ? inSession / expected : NaN,
    coverageOfActiveSessions: expectedActive ? inSession / expectedActive : NaN,
    gaps,
    missingBars: missing,
    duplicates,
    nonMonotonic,
    ohlcViolations,
    nonpositivePrices: nonpositive,
    jumps: jumps.count,
    jumpThreshold: jumps.threshold,
    details,
  };
}

/** Session date a bar belongs to: daily bars carry it at 00:00 UTC, intraday bars by calendar. */
function sessionDateOf(t: number, o: AuditOptions): string {
  if (!isIntraday(o.interval)) return isoDate(t);
  const s = o.calendar.sessionAt(t);
  if (s) return s.date;
  // extended-hours bar: the session of its local date, else the next session
  const local = isoDate(utcToZonedWall(o.calendar.timeZone, t));
  if (o.calendar.session(local)) return local;
  return o.calendar.sessionAt(o.calendar.nextOpen(t))?.date ?? local;
}

function findJumps(bars: BarColumns, sigmas: number): { count: number; threshold: number; examples: { ts: string; logReturn: number }[] } {
  const n = bars.length;
  const r = new Float64Array(Math.max(0, n - 1));
  let m = 0;
  for (let i = 1; i < n; i++) {
    const a = bars.close[i - 1]!;
    const b = bars.close[i]!;
    if (a > 0 && b > 0) r[m++] = Math.log(b / a);
  }
  if (m < 10) return { count: 0, threshold: NaN, examples: [] };
  const abs = Float64Array.from(r.subarray(0, m), Math.abs).sort();
  // MAD of returns around ~0 is the median absolute return; 1.4826 makes it a sigma for normal data
  const sigma = 1.4826 * abs[Math.floor(m / 2)]!;
  const threshold = Math.max(sigmas * sigma, 1e-4);
  let count = 0;
  const examples: { ts: string; logReturn: number }[] = [];
  for (let i = 1; i < n; i++) {
    const a = bars.close[i - 1]!;
    const b = bars.close[i]!;
    if (!(a > 0 && b > 0)) continue;
    const lr = Math.log(b / a);
    if (Math.abs(lr) > threshold) {
      count++;
      if (examples.length < EXAMPLES) examples.push({ ts: iso(bars.ts[i]!), logReturn: Number(lr.toFixed(6)) });
    }
  }
  return { count, threshold, examples };
}
