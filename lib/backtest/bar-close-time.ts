import type { ExchangeCalendar } from '../calendar/index.js';
import { DAY_MS, isoDate } from '../core/time-zone.js';
import { intervalMs, isIntraday, type Interval } from '../data/interval.js';

/**
 * When a bar becomes known. Intraday bars close at start + interval. A daily bar (stamped 00:00 UTC
 * of its session date) closes at that session's close on the instrument's calendar, so it arrives
 * together with the day's last intraday bar and never before the day is over. Without a session
 * (data on a day the calendar calls closed) it closes at the end of the UTC day.
 */
export function closeTimeFunction(interval: Interval, calendar: ExchangeCalendar | undefined): (ts: number) => number {
  const ms = intervalMs(interval);
  if (isIntraday(interval)) return (ts) => ts + ms;
  if (interval !== '1d' || calendar === undefined) return (ts) => ts + ms;
  let closes = DAILY_CLOSES.get(calendar);
  if (closes === undefined) DAILY_CLOSES.set(calendar, (closes = new Map()));
  const cache = closes;
  return (ts) => {
    let close = cache.get(ts);
    if (close === undefined) {
      const day = isoDate(ts);
      const year = Number(day.slice(0, 4));
      close = year < calendar.firstYear || year > calendar.lastYear ? ts + DAY_MS : (calendar.session(day)?.close ?? ts + DAY_MS);
      cache.set(ts, close);
    }
    return close;
  };
}

// Session closes by daily-bar stamp, per calendar: formatting dates per bar dominated short
// backtests (walk-forward runs thousands), and a calendar's sessions never change
const DAILY_CLOSES = new WeakMap<ExchangeCalendar, Map<number, number>>();
