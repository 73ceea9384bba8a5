/**
 * Time-zone arithmetic on epoch milliseconds with `Intl` only (no dependency).
 * Offsets are cached per zone and UTC hour, so converting millions of bar timestamps
 * costs one Map lookup each; DST transitions happen on hour boundaries in every zone we use.
 */

const HOUR_MS = 3_600_000;
const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, Map<number, number>>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

function computeOffset(timeZone: string, utcMs: number): number {
  const parts = formatterFor(timeZone).formatToParts(new Date(utcMs));
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** Offset of `timeZone` from UTC at the instant `utcMs`, in ms (New York in winter: -18,000,000). */
export function utcOffsetMs(timeZone: string, utcMs: number): number {
  let cache = offsetCache.get(timeZone);
  if (!cache) {
    cache = new Map();
    offsetCache.set(timeZone, cache);
  }
  const hourKey = Math.floor(utcMs / HOUR_MS);
  let off = cache.get(hourKey);
  if (off === undefined) {
    off = computeOffset(timeZone, hourKey * HOUR_MS);
    cache.set(hourKey, off);
  }
  return off;
}

/**
 * Converts a wall-clock time in `timeZone` (given as the epoch ms it would have in UTC)
 * to the true UTC instant. Nonexistent local times (spring-forward gap) map forward;
 * ambiguous ones (fall-back) take the earlier, daylight-time instant.
 */
export function zonedWallToUtc(timeZone: string, wallAsUtcMs: number): number {
  const guess = wallAsUtcMs - utcOffsetMs(timeZone, wallAsUtcMs);
  const off = utcOffsetMs(timeZone, guess);
  const candidate = wallAsUtcMs - off;
  if (utcOffsetMs(timeZone, candidate) === off) {
    // For ambiguous times prefer the earlier instant (the larger offset)
    const earlierOff = utcOffsetMs(timeZone, candidate - HOUR_MS);
    if (earlierOff !== off && utcOffsetMs(timeZone, wallAsUtcMs - earlierOff) === earlierOff) {
      return wallAsUtcMs - earlierOff;
    }
    return candidate;
  }
  return wallAsUtcMs - utcOffsetMs(timeZone, candidate);
}

/** Wall-clock time in `timeZone` for a UTC instant, as epoch ms read as UTC fields. */
export function utcToZonedWall(timeZone: string, utcMs: number): number {
  return utcMs + utcOffsetMs(timeZone, utcMs);
}

/** `YYYY-MM-DD` for an epoch-ms instant read as UTC fields. */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Epoch ms of `YYYY-MM-DD` at 00:00 UTC; throws on a malformed date. */
export function parseIsoDate(s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) throw new RangeError(`expected a date as YYYY-MM-DD, was '${s}'`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (isoDate(ms) !== s) throw new RangeError(`expected a real calendar date, was '${s}'`);
  return ms;
}

export const DAY_MS = 86_400_000;
export const NEW_YORK = 'America/New_York';
export const CHICAGO = 'America/Chicago';
