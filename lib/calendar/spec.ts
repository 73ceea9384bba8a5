/**
 * Declarative description of a calendar (hours + holiday rules + ad-hoc tables) and the
 * builder that turns one year of it into sessions. Times are minutes from local midnight of
 * the session date; a negative open (e.g. -420 = 17:00 the day before) starts the previous evening.
 */
import { DAY_MS } from '../core/time-zone.js';
import { dayOf, isWeekday, labelOf } from './civil-dates.js';
import type { CalendarName, Session } from './types.js';
import { fastWallToUtc } from './zone-offsets.js';
import { ruleDay, type DateRule } from './us-holidays.js';

const MINUTE_MS = 60_000;

/** Regular hours of one session date, in local minutes from its midnight. */
export interface DayHours {
  open: number;
  close: number;
  breakStart?: number;
  breakEnd?: number;
}

/** Sessions closing early at `close` (local minutes) on the dates `rules` yield. */
export interface EarlyCloseGroup {
  close: number;
  rules: readonly DateRule[];
}

/** Everything needed to generate a calendar's sessions. */
export interface CalendarSpec {
  name: CalendarName;
  timeZone: string;
  /** Years of session dates the rules are meant for; other years are refused. */
  firstYear: number;
  lastYear: number;
  /** Regular hours for a weekday session date given as `YYYY-MM-DD` (lets hours change over time). */
  hours(date: string): DayHours;
  /** Full-day closures by rule. */
  holidays: readonly DateRule[];
  /** Full-day closures that no rule produces (days of mourning, storms…), `YYYY-MM-DD`. */
  adhocClosures: readonly string[];
  /** Early closes by rule; if several hit one date the earliest close wins. */
  earlyCloses: readonly EarlyCloseGroup[];
  /** Early closes no rule produces. */
  adhocEarlyCloses: readonly { date: string; close: number }[];
}

/** Hours of `HH:MM`, for readable specs. */
export function hm(hours: number, minutes = 0): number {
  return hours * 60 + minutes;
}

/** All sessions whose date falls in `year`, in order. */
export function buildYear(spec: CalendarSpec, year: number): Session[] {
  const closed = new Set<number>();
  for (const rule of spec.holidays) {
    const d = ruleDay(rule, year);
    if (d !== undefined) closed.add(d);
  }
  const early = new Map<number, number>();
  const addEarly = (d: number, close: number): void => {
    const prev = early.get(d);
    early.set(d, prev === undefined ? close : Math.min(prev, close));
  };
  for (const group of spec.earlyCloses) {
    for (const rule of group.rules) {
      const d = ruleDay(rule, year);
      if (d !== undefined) addEarly(d, group.close);
    }
  }
  const prefix = `${year}-`;
  for (const date of spec.adhocClosures) if (date.startsWith(prefix)) closed.add(dayOfLabel(date));
  for (const e of spec.adhocEarlyCloses) if (e.date.startsWith(prefix)) addEarly(dayOfLabel(e.date), e.close);

  const sessions: Session[] = [];
  const last = dayOf(year, 12, 31);
  for (let d = dayOf(year, 1, 1); d <= last; d++) {
    if (!isWeekday(d) || closed.has(d)) continue;
    const date = labelOf(d);
    const hours = spec.hours(date);
    const earlyClose = early.get(d);
    const isEarly = earlyClose !== undefined && earlyClose < hours.close;
    const close = isEarly ? earlyClose : hours.close;
    const at = (minutes: number): number => fastWallToUtc(spec.timeZone, d * DAY_MS + minutes * MINUTE_MS);
    const session: Session = { date, open: at(hours.open), close: at(close), earlyClose: isEarly };
    // A break survives only if trading resumes before the (possibly early) close
    if (hours.breakStart !== undefined && hours.breakEnd !== undefined && hours.breakEnd < close) {
      session.breakStart = at(hours.breakStart);
      session.breakEnd = at(hours.breakEnd);
    } else if (hours.breakStart !== undefined && hours.breakStart < close) {
      session.close = at(hours.breakStart); // early close inside the break: trading ended at the break
    }
    sessions.push(session);
  }
  return sessions;
}

function dayOfLabel(date: string): number {
  return dayOf(Number(date.slice(0, 4)), Number(date.slice(5, 7)), Number(date.slice(8, 10)));
}
