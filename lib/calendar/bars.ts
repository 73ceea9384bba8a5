/**
 * Expected bar grid of a session. Bars are wall-clock buckets of the exchange's zone aligned
 * to the interval from local midnight (1h bars start 09:00, 10:00…), which is how IB and most
 * vendors label intraday bars; a bucket that starts before trading is reported from the
 * moment trading starts (NYSE 1h: 09:30, 10:00 … 15:00 → 7 bars).
 */
import { DAY_MS } from '../core/time-zone.js';
import { CalendarError } from './errors.js';
import type { Session } from './types.js';
import { fastUtcToWall, fastWallToUtc } from './zone-offsets.js';

/**
 * Start instants of the bars of `session` at `intervalMs`, in `timeZone` wall-clock buckets.
 * Buckets overlapping only a break produce no bar; a bucket straddling a break counts once.
 * In a DST fall-back the repeated wall-clock hour is one set of buckets (no real session spans one).
 * For intervals of a day or more there is one bar per session, starting at the open.
 */
export function expectedBarStarts(session: Session, intervalMs: number, timeZone: string): number[] {
  if (!Number.isInteger(intervalMs) || intervalMs <= 0) {
    throw new CalendarError('BAD_ARGUMENT', `expected a positive whole number of ms as bar interval, was ${intervalMs}`);
  }
  if (intervalMs >= DAY_MS) return [session.open];
  const segments: [number, number][] =
    session.breakStart !== undefined && session.breakEnd !== undefined
      ? [
          [session.open, session.breakStart],
          [session.breakEnd, session.close],
        ]
      : [[session.open, session.close]];
  const starts: number[] = [];
  let lastBucketEnd = -Infinity; // end (UTC) of the bucket that produced the latest bar
  for (const [segStart, segEnd] of segments) {
    let cursor = segStart;
    while (cursor < segEnd) {
      const wall = fastUtcToWall(timeZone, cursor);
      const midnight = Math.floor(wall / DAY_MS) * DAY_MS;
      const k = Math.floor((wall - midnight) / intervalMs);
      // Buckets restart at midnight, so a last partial bucket of the day ends there
      const bucketEndWall = Math.min(midnight + (k + 1) * intervalMs, midnight + DAY_MS);
      let bucketEnd = fastWallToUtc(timeZone, bucketEndWall);
      if (bucketEnd <= cursor) bucketEnd = cursor + intervalMs; // DST fall-back repeats wall time: keep moving
      if (cursor >= lastBucketEnd) starts.push(cursor); // else: same bucket as before the break
      lastBucketEnd = bucketEnd;
      cursor = bucketEnd;
    }
  }
  return starts;
}
