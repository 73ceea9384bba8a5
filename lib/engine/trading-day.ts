import { DAY_MS, NEW_YORK, utcOffsetMs } from '../core/time-zone.js';

// The trading day rolls at 17:00 New York: after the US equity close and at the CME Globex
// daily break, so one label fits stocks and futures sessions alike
const ROLL_HOUR_MS = 7 * 3_600_000;

/** Trading date (00:00 UTC of the label) of instant `ts` */
export function tradingDayOf(ts: number): number {
  const wall = ts + utcOffsetMs(NEW_YORK, ts) + ROLL_HOUR_MS;
  return Math.floor(wall / DAY_MS) * DAY_MS;
}

/** First instant at which the trading day after `day`'s begins (17:00 New York on `day`) */
export function tradingDayEnd(day: number): number {
  const wallRoll = day + DAY_MS - ROLL_HOUR_MS;
  // the offset at the roll instant itself; DST changes happen at 02:00, far from 17:00
  const guess = wallRoll - utcOffsetMs(NEW_YORK, wallRoll);
  return wallRoll - utcOffsetMs(NEW_YORK, guess);
}
