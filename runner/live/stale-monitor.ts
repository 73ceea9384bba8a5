import type { Session } from '../../lib/calendar/index.js';

// ---------------------------------------------------------------------------------------------
// Staleness (pure)

/** What the stale monitor needs of an exchange calendar. */
export type StaleCalendar = { isOpen(ts: number): boolean; sessionAt(ts: number): Session | undefined };

export interface StaleMonitorOptions {
  staleMs: number;
  onStale?: (instrument: string, sinceMs: number) => void;
  onFresh?: (instrument: string) => void;
}

interface Watched {
  calendar: StaleCalendar | undefined;
  last: number;
  staleSince: number | undefined;
}

/**
 * Per-instrument freshness. `touch` on every update; `check(now)` reports instruments quiet for
 * `staleMs` of OPEN exchange time: the quiet time counts from the later of the last update and the
 * start of trading (session open, or the end of its break), so a market that just opened is not
 * stale because nothing came overnight, and a closed market is never stale. Without a calendar
 * the market is always open. A stale instrument stays stale (closed market included) until data
 * returns.
 */
export class StaleMonitor {
  private readonly watched = new Map<string, Watched>();

  constructor(private readonly options: StaleMonitorOptions) {
    if (!(options.staleMs > 0)) throw new RangeError(`staleMs must be positive, was ${options.staleMs}`);
  }

  /** Starts watching (quiet time counts from `now`); a no-op for a watched instrument */
  add(instrument: string, calendar: StaleCalendar | undefined, now: number): void {
    if (!this.watched.has(instrument)) this.watched.set(instrument, { calendar, last: now, staleSince: undefined });
  }

  remove(instrument: string): void {
    this.watched.delete(instrument);
  }

  has(instrument: string): boolean {
    return this.watched.has(instrument);
  }

  /** Data arrived: a stale instrument turns fresh (onFresh) */
  touch(instrument: string, now: number): void {
    const w = this.watched.get(instrument);
    if (!w) return;
    if (now > w.last) w.last = now;
    if (w.staleSince !== undefined) {
      w.staleSince = undefined;
      this.options.onFresh?.(instrument);
    }
  }

  /** Marks (and reports) the instruments that became stale by `now`; returns them */
  check(now: number): string[] {
    const out: string[] = [];
    for (const [instrument, w] of this.watched) {
      if (w.staleSince !== undefined) continue;
      const from = quietFrom(w, now);
      if (from === undefined || now - from < this.options.staleMs) continue;
      w.staleSince = w.last;
      out.push(instrument);
      this.options.onStale?.(instrument, w.last);
    }
    return out;
  }

  isStale(instrument: string): boolean {
    return this.watched.get(instrument)?.staleSince !== undefined;
  }

  /** Time of the last update (or of `add`) */
  lastUpdate(instrument: string): number | undefined {
    return this.watched.get(instrument)?.last;
  }

  /** Stale instruments, sorted */
  staleKeys(): string[] {
    return [...this.watched].filter(([, w]) => w.staleSince !== undefined).map(([k]) => k).sort();
  }
}

/** Start of the quiet time that counts, or undefined when the market is closed now. */
function quietFrom(w: Watched, now: number): number | undefined {
  const cal = w.calendar;
  if (!cal) return w.last;
  try {
    if (!cal.isOpen(now)) return undefined;
    const s = cal.sessionAt(now);
    const opened = s === undefined ? -Infinity : s.breakEnd !== undefined && now >= s.breakEnd ? s.breakEnd : s.open;
    return Math.max(w.last, opened);
  } catch {
    // outside the calendar's years: judge by the data alone
    return w.last;
  }
}
