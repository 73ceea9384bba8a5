/** One trading session. All instants are epoch milliseconds (UTC). */
export interface Session {
  /** Trading-date label, `YYYY-MM-DD` (for CME the day the session closes, not the day it opens). */
  date: string;
  /** First instant of trading. */
  open: number;
  /** End of trading (exclusive). */
  close: number;
  /** Start of an intra-session halt, if the session has one. */
  breakStart?: number;
  /** End of the intra-session halt (trading resumes at this instant). */
  breakEnd?: number;
  /** True when `close` is earlier than the calendar's regular close for that date. */
  earlyClose: boolean;
}

/** Canonical calendar names; `getCalendar` also accepts the alias `CME` for `CME_EQUITY`. */
export type CalendarName = 'XNYS' | 'CME_EQUITY' | 'CME_FX' | 'CME_ENERGY_METALS';

/** Every canonical calendar name, in display order. */
export const CALENDAR_NAMES: readonly CalendarName[] = ['XNYS', 'CME_EQUITY', 'CME_FX', 'CME_ENERGY_METALS'];

/**
 * Sessions and open/closed queries for one exchange. Methods throw `CalendarError` with code
 * `OUT_OF_RANGE` for instants or dates outside the years the calendar's rules cover.
 *
 * "Open" means trading: a session's [open, close) minus its break, if any. `nextOpen` and
 * `nextClose` therefore also report the end and start of an intra-session break.
 */
export interface ExchangeCalendar {
  readonly name: CalendarName;
  /** IANA zone the exchange's rules are written in. */
  readonly timeZone: string;
  /** First and last calendar year (of session dates) the rules cover. */
  readonly firstYear: number;
  readonly lastYear: number;
  /** Sessions whose date lies in [fromDate, toDate], both `YYYY-MM-DD`, in order. */
  sessions(fromDate: string, toDate: string): Session[];
  /** The session labelled `date`, or undefined if `date` is not a trading day. */
  session(date: string): Session | undefined;
  /** The session whose [open, close) contains `ts` (its break included), if any. */
  sessionAt(ts: number): Session | undefined;
  /** True while trading: inside a session and not inside its break. */
  isOpen(ts: number): boolean;
  /** First instant strictly after `ts` at which trading starts (session open or break end). */
  nextOpen(ts: number): number;
  /** First instant strictly after `ts` at which trading stops (break start or session close). */
  nextClose(ts: number): number;
  /** Minutes (possibly fractional) from `ts` until trading next stops; undefined when closed. */
  minutesToClose(ts: number): number | undefined;
  /**
   * Number of bars a complete series of `intervalMs` bars has for `session`: wall-clock buckets
   * aligned to the interval from local midnight that overlap trading time. 1 for intervals >= 1 day.
   */
  expectedBarCount(session: Session, intervalMs: number): number;
  /** Start instants of those bars, each bucket start clipped to the start of trading within it. */
  expectedBarStarts(session: Session, intervalMs: number): number[];
}
