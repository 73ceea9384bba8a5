/**
 * REQ_HISTORICAL_DATA (20) as the v>=124 client sends it, and IB's textual parameters:
 * endDateTime, durationStr and barSizeSetting (tws-protocol.md §2, §5).
 */
import { isInterval, type Interval } from '../../lib/data/interval.js';
import { DAY_MS, parseIsoDate, zonedWallToUtc, isoDate } from '../../lib/core/time-zone.js';
import { readContract, type ContractQuery } from './contract-match.js';
import { instrumentCalendar, sessionsBetween, tradingDate, tradingDateSpan, type HoursSubject } from './trading-hours.js';
import type { FieldReader } from './types.js';

export interface HistoricalRequest {
  reqId: number;
  contract: ContractQuery;
  /** '' means now */
  endDateTime: string;
  barSizeSetting: string;
  durationStr: string;
  useRTH: boolean;
  /** Upper-cased */
  whatToShow: string;
  /** 1 text dates, 2 epoch seconds */
  formatDate: number;
  keepUpToDate: boolean;
}

/** Reads the fields after the message id (no version field from server version 124). */
export function readHistoricalRequest(r: FieldReader): HistoricalRequest {
  const reqId = r.int();
  const contract = readContract(r);
  const includeExpired = r.bool();
  const endDateTime = r.string().trim();
  const barSizeSetting = r.string().trim();
  const durationStr = r.string().trim();
  const useRTH = r.bool();
  const whatToShow = r.string().trim().toUpperCase();
  const formatDate = r.int();
  // combo legs are sent for BAG only; the simulator has no combos but must stay in step
  if (contract.secType === 'BAG') r.skip(r.int() * 4);
  const keepUpToDate = r.bool();
  r.skip(r.remaining()); // chartOptions
  return { reqId, contract: { ...contract, includeExpired }, endDateTime, barSizeSetting, durationStr, useRTH, whatToShow, formatDate, keepUpToDate };
}

// IB's words (case-insensitive) and its one-letter `1W` / `1M` forms (case-sensitive)
const BAR_UNITS: Record<string, string> = { sec: 's', secs: 's', min: 'm', mins: 'm', hour: 'h', hours: 'h', day: 'd', days: 'd', week: 'w', weeks: 'w', month: 'M', months: 'M', W: 'w', M: 'M' };

export const LEGAL_BAR_SIZES = '1 secs, 5 secs, 10 secs, 15 secs, 30 secs, 1 min, 2 mins, 3 mins, 5 mins, 10 mins, 15 mins, 20 mins, 30 mins, 1 hour, 2 hours, 3 hours, 4 hours, 8 hours, 1 day, 1W, 1M';

/** `5 mins` -> `5m`; IB's sizes map one to one onto the store's intervals. Undefined when not a legal size. */
export function parseBarSize(s: string): Interval | undefined {
  const m = /^(\d+)\s*([a-z]+)$/i.exec(s.trim());
  if (!m) return undefined;
  const word = m[2]!;
  const unit = BAR_UNITS[word.length === 1 ? word : word.toLowerCase()];
  const name = `${Number(m[1])}${unit}`;
  return unit && isInterval(name) ? name : undefined;
}

export type DurationUnit = 'S' | 'D' | 'W' | 'M' | 'Y';
export interface Duration {
  n: number;
  unit: DurationUnit;
}

export function parseDuration(s: string): Duration | undefined {
  const m = /^(\d+)\s+([SDWMY])$/i.exec(s.trim());
  if (!m || Number(m[1]) <= 0) return undefined;
  return { n: Number(m[1]), unit: m[2]!.toUpperCase() as DurationUnit };
}

function isZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * `yyyyMMdd HH:mm:ss [zone]` (no zone: `defaultZone`, TWS's login zone) or `yyyyMMdd-HH:mm:ss`
 * (UTC) -> epoch ms; undefined when malformed.
 */
export function parseEndDateTime(s: string, defaultZone: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(?:-|\s+)(\d{2}):(\d{2}):(\d{2})(?:\s+(\S+))?$/.exec(s.trim());
  if (!m) return undefined;
  const dashed = s.trim().charAt(8) === '-';
  if (dashed && m[7] !== undefined) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) return undefined;
  const wall = Date.UTC(y, mo - 1, d, h, mi, se);
  if (new Date(wall).getUTCDate() !== d) return undefined;
  const zone = dashed ? 'UTC' : (m[7] ?? defaultZone);
  if (!isZone(zone)) return undefined;
  return zonedWallToUtc(zone, wall);
}

/**
 * First instant the duration covers back from `end`: seconds exactly, `N D` as the last N trading
 * dates (by the exchange calendar; 24-hour days without one), weeks and calendar months/years back.
 */
export function durationStart(inst: HoursSubject, end: number, d: Duration): number {
  switch (d.unit) {
    case 'S':
      return end - d.n * 1000;
    case 'W':
      return end - d.n * 7 * DAY_MS;
    case 'M':
    case 'Y': {
      // calendar months back, the day clamped to the month's end (1 M before Mar 31 is Feb 29)
      const t = new Date(end);
      const months = t.getUTCFullYear() * 12 + t.getUTCMonth() - (d.unit === 'M' ? d.n : 12 * d.n);
      const year = Math.floor(months / 12);
      const month = months - year * 12;
      const day = Math.min(t.getUTCDate(), new Date(Date.UTC(year, month + 1, 0)).getUTCDate());
      return Date.UTC(year, month, day) + (end - Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate()));
    }
    case 'D': {
      const cal = instrumentCalendar(inst);
      if (!cal) return end - d.n * DAY_MS;
      const last = tradingDate(inst, end - 1);
      const dates = sessionsBetween(cal, isoDate(parseIsoDate(last) - (d.n * 2 + 10) * DAY_MS), last).map((s) => s.date);
      const first = dates[Math.max(0, dates.length - d.n)];
      return first === undefined ? end - d.n * DAY_MS : tradingDateSpan(inst, first).start;
    }
  }
}

/** Nominal length in seconds, for IB's bar-size-versus-duration limits. */
export function durationSeconds(d: Duration): number {
  const unit = { S: 1, D: 86_400, W: 604_800, M: 2_592_000, Y: 31_536_000 }[d.unit];
  return d.n * unit;
}

/**
 * Smallest bar IB serves for a duration (historical_limitations: 60 S..1800 S 1 secs, 3600 S 5 secs,
 * 14400 S 10 secs, 28800 S 30 secs, 1 D 1 min, 2 D 2 mins, 1 W 3 mins, 1 M 30 mins, 1 Y 1 day).
 */
export function smallestBarSeconds(d: Duration): number {
  const s = durationSeconds(d);
  const steps: [number, number][] = [
    [1_800, 1],
    [3_600, 5],
    [14_400, 10],
    [28_800, 30],
    [86_400, 60],
    [172_800, 120],
    [604_800, 180],
    [2_678_400, 1_800],
  ];
  return steps.find(([limit]) => s <= limit)?.[1] ?? 86_400;
}
