/**
 * Fast UTC-offset lookups for calendar generation. `lib/core/time-zone.ts` caches offsets per
 * UTC hour, but a cold 30-year calendar touches ~50k distinct hours, each an `Intl` call
 * (~300 ms). Here each zone-year is sampled monthly with `utcOffsetMs` and the DST transitions
 * bisected to the hour (~35 calls per year); between transitions offsets are plain arithmetic.
 * Assumes at most one offset change per calendar month and changes on whole hours, which holds
 * for the US zones the calendars use.
 */
import { DAY_MS, utcOffsetMs, zonedWallToUtc } from '../core/time-zone.js';

const HOUR_MS = 3_600_000;

interface YearOffsets {
  /** Instants from which `offsets[i]` applies; `from[0]` is Jan 1 00:00 UTC. */
  from: number[];
  offsets: number[];
}

const tables = new Map<string, Map<number, YearOffsets>>();

function buildYear(timeZone: string, year: number): YearOffsets {
  let prevT = Date.UTC(year, 0, 1);
  let prevOff = utcOffsetMs(timeZone, prevT);
  const table: YearOffsets = { from: [prevT], offsets: [prevOff] };
  for (let m = 1; m <= 12; m++) {
    const t = Date.UTC(year, m, 1);
    const off = utcOffsetMs(timeZone, t);
    if (off !== prevOff) {
      // Bisect on whole hours for the first hour that has the new offset
      let lo = prevT / HOUR_MS;
      let hi = t / HOUR_MS;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (utcOffsetMs(timeZone, mid * HOUR_MS) === prevOff) lo = mid;
        else hi = mid;
      }
      table.from.push(hi * HOUR_MS);
      table.offsets.push(off);
    }
    prevT = t;
    prevOff = off;
  }
  return table;
}

/** Offset of `timeZone` from UTC at `utcMs`, in ms; same result as `utcOffsetMs`. */
export function fastOffsetMs(timeZone: string, utcMs: number): number {
  let byYear = tables.get(timeZone);
  if (!byYear) {
    byYear = new Map();
    tables.set(timeZone, byYear);
  }
  const year = new Date(utcMs).getUTCFullYear();
  let table = byYear.get(year);
  if (!table) {
    table = buildYear(timeZone, year);
    byYear.set(year, table);
  }
  let off = table.offsets[0] as number;
  for (let i = 1; i < table.from.length; i++) if (utcMs >= (table.from[i] as number)) off = table.offsets[i] as number;
  return off;
}

/** Wall-clock time (as UTC fields) of a UTC instant; same result as `utcToZonedWall`. */
export function fastUtcToWall(timeZone: string, utcMs: number): number {
  return utcMs + fastOffsetMs(timeZone, utcMs);
}

/**
 * UTC instant of a wall-clock time; same result as `zonedWallToUtc`, which it defers to within
 * a day of a transition (gaps and repeated hours need its resolution rules).
 */
export function fastWallToUtc(timeZone: string, wallAsUtcMs: number): number {
  const before = fastOffsetMs(timeZone, wallAsUtcMs - DAY_MS);
  if (before === fastOffsetMs(timeZone, wallAsUtcMs + DAY_MS)) return wallAsUtcMs - before;
  return zonedWallToUtc(timeZone, wallAsUtcMs);
}
