/**
 * `ExchangeCalendar` over a `CalendarSpec`: sessions are generated per year on first use and
 * cached, so a 30-year range costs ~8k session constructions once, then array slices and
 * binary searches.
 */
import { DAY_MS, isoDate, parseIsoDate } from '../core/time-zone.js';
import { expectedBarStarts } from './bars.js';
import { CalendarError } from './errors.js';
import { buildYear, type CalendarSpec } from './spec.js';
import type { CalendarName, ExchangeCalendar, Session } from './types.js';

interface YearSessions {
  list: Session[];
  byDate: Map<string, Session>;
}

/** Trading intervals of a session: [open, close) split around its break. */
function tradingSegments(s: Session): [number, number][] {
  if (s.breakStart === undefined || s.breakEnd === undefined) return [[s.open, s.close]];
  return [
    [s.open, s.breakStart],
    [s.breakEnd, s.close],
  ];
}

/** A calendar generated from declarative rules; see `CalendarSpec`. */
export class RuleCalendar implements ExchangeCalendar {
  readonly name: CalendarName;
  readonly timeZone: string;
  readonly firstYear: number;
  readonly lastYear: number;
  private readonly years = new Map<number, YearSessions>();

  constructor(private readonly spec: CalendarSpec) {
    this.name = spec.name;
    this.timeZone = spec.timeZone;
    this.firstYear = spec.firstYear;
    this.lastYear = spec.lastYear;
  }

  sessions(fromDate: string, toDate: string): Session[] {
    const from = this.parseDate(fromDate, 'fromDate');
    const to = this.parseDate(toDate, 'toDate');
    if (from > to) throw new CalendarError('BAD_ARGUMENT', `${this.name}: fromDate ${fromDate} is after toDate ${toDate}`);
    const out: Session[] = [];
    for (let y = Number(fromDate.slice(0, 4)); y <= Number(toDate.slice(0, 4)); y++) {
      for (const s of this.year(y).list) if (s.date >= fromDate && s.date <= toDate) out.push(s);
    }
    return out;
  }

  session(date: string): Session | undefined {
    this.parseDate(date, 'date');
    return this.year(Number(date.slice(0, 4))).byDate.get(date);
  }

  sessionAt(ts: number): Session | undefined {
    this.checkInstant(ts);
    // A session's date is the UTC date of its close, and sessions last under a day: check the neighbours
    for (const offset of [-DAY_MS, 0, DAY_MS]) {
      const date = isoDate(ts + offset);
      const y = Number(date.slice(0, 4));
      if (y < this.firstYear || y > this.lastYear) continue;
      const s = this.year(y).byDate.get(date);
      if (s && s.open <= ts && ts < s.close) return s;
    }
    return undefined;
  }

  isOpen(ts: number): boolean {
    const s = this.sessionAt(ts);
    return s !== undefined && tradingSegments(s).some(([a, b]) => a <= ts && ts < b);
  }

  nextOpen(ts: number): number {
    return this.nextEdge(ts, 0);
  }

  nextClose(ts: number): number {
    return this.nextEdge(ts, 1);
  }

  minutesToClose(ts: number): number | undefined {
    if (!this.isOpen(ts)) return undefined;
    return (this.nextClose(ts) - ts) / 60_000;
  }

  expectedBarCount(session: Session, intervalMs: number): number {
    return expectedBarStarts(session, intervalMs, this.timeZone).length;
  }

  expectedBarStarts(session: Session, intervalMs: number): number[] {
    return expectedBarStarts(session, intervalMs, this.timeZone);
  }

  /** First trading-segment start (`which` 0) or end (1) strictly after `ts`. */
  private nextEdge(ts: number, which: 0 | 1): number {
    this.checkInstant(ts);
    // Start a year early: a session dated in January can open on Dec 31
    for (let y = Math.max(this.firstYear, new Date(ts).getUTCFullYear() - 1); y <= this.lastYear; y++) {
      const list = this.year(y).list;
      for (let i = firstClosingAfter(list, ts); i < list.length; i++) {
        for (const seg of tradingSegments(list[i] as Session)) if (seg[which] > ts) return seg[which];
      }
    }
    const what = which === 0 ? 'open' : 'close';
    throw new CalendarError('OUT_OF_RANGE', `${this.name}: no ${what} after ${new Date(ts).toISOString()} within ${this.lastYear}`);
  }

  private year(y: number): YearSessions {
    if (!Number.isInteger(y) || y < this.firstYear || y > this.lastYear) {
      throw new CalendarError('OUT_OF_RANGE', `${this.name}: year ${y} is outside ${this.firstYear}..${this.lastYear}, the years its rules cover`);
    }
    let entry = this.years.get(y);
    if (!entry) {
      const list = buildYear(this.spec, y);
      entry = { list, byDate: new Map(list.map((s) => [s.date, s])) };
      this.years.set(y, entry);
    }
    return entry;
  }

  private parseDate(date: string, what: string): number {
    try {
      return parseIsoDate(date);
    } catch (err) {
      throw new CalendarError('BAD_ARGUMENT', `${this.name}: ${what}: ${(err as Error).message}`, { cause: err });
    }
  }

  private checkInstant(ts: number): void {
    if (!Number.isFinite(ts)) throw new CalendarError('BAD_ARGUMENT', `${this.name}: expected an epoch-ms instant, was ${ts}`);
    const y = new Date(ts).getUTCFullYear();
    if (y < this.firstYear || y > this.lastYear) {
      throw new CalendarError('OUT_OF_RANGE', `${this.name}: ${new Date(ts).toISOString()} is outside ${this.firstYear}..${this.lastYear}, the years its rules cover`);
    }
  }
}

/** Index of the first session whose close is after `ts` (list sorted, sessions disjoint). */
function firstClosingAfter(list: readonly Session[], ts: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((list[mid] as Session).close > ts) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
