/**
 * The supervisor's session guard, per instrument, from its exchange calendar
 * (`kernel.instruments.calendar`):
 * - `open`: entries allowed.
 * - `no-entries`: from `noNewEntriesMinutesBeforeClose` before the session close: the instrument is
 *   halted for risk-increasing orders (exits still go).
 * - `flatten`: from `flattenMinutesBeforeClose` before the close: working orders of the instrument
 *   (of every strategy) are cancelled, then the position is closed with a market order; a fill that
 *   re-opens it until the close (a cancel that raced a fill) is closed again (the supervisor rechecks).
 * - `closed` / `break`: outside sessions (holidays, weekends, overnight, an intra-session break):
 *   halted unless `tradeOutsideSessions`.
 * - `no-calendar`: no calendar covers the instrument or the date: halted (fail closed).
 * The close is the session's own (13:00 New York on early-close days; holidays have no session),
 * and each phase arms a timer (`session:<key>`, on the supervisor's context, so the kernel's clock)
 * for the next boundary, so the guard re-arms itself for every session.
 */
import type { ExchangeCalendar, Session } from '../../lib/calendar/index.js';
import type { InstrumentSpec } from '../../lib/data/instrument.js';
import type { Kernel } from '../../lib/engine/kernel.js';
import type { StrategyContext } from '../../lib/engine/strategy.js';
import { iso, SOURCES, type HaltControl, type SessionPhase, type SupervisorReport, type SupervisorSessionSettings, type SupervisorStatus } from './supervisor-types.js';

const MIN = 60_000;
const TIMER_PREFIX = 'session:';

/** The session settings with their defaults */
export function sessionSettings(s: Partial<SupervisorSessionSettings> = {}): SupervisorSessionSettings {
  return {
    noNewEntriesMinutesBeforeClose: s.noNewEntriesMinutesBeforeClose ?? 15,
    flattenMinutesBeforeClose: s.flattenMinutesBeforeClose ?? 5,
    tradeOutsideSessions: s.tradeOutsideSessions ?? false,
  };
}

export interface SessionGuardDeps {
  kernel: Kernel;
  /** The supervisor's strategy context: its timers */
  ctx: StrategyContext;
  settings: SupervisorSessionSettings;
  /** Overrides the instrument registry's calendar (SupervisorOptions.calendar) */
  calendar?: (spec: InstrumentSpec) => ExchangeCalendar | undefined;
  report: SupervisorReport;
  halts: Pick<HaltControl, 'haltInstrument' | 'resumeInstrument'>;
  /** Closes the instrument's position (the flatten phase) */
  ensureFlat(index: number, source: string, reason: string): void;
}

interface InstrumentState {
  phase: SessionPhase | undefined;
  close: number;
}

export class SessionGuard {
  private readonly states: (InstrumentState | undefined)[] = [];

  constructor(private readonly deps: SessionGuardDeps) {}

  /** The instrument's phase, undefined until it was first evaluated */
  phaseAt(index: number): SessionPhase | undefined {
    return this.states[index]?.phase;
  }

  /** The guard's timer fired: re-evaluates its instrument. Other timers are ignored */
  onTimer(name: string): void {
    if (!name.startsWith(TIMER_PREFIX)) return;
    const index = this.deps.kernel.instruments.indexOf(name.slice(TIMER_PREFIX.length));
    if (index !== undefined) this.evaluate(index);
  }

  /** instrument -> phase and the close it refers to, of every instrument evaluated */
  sessions(): SupervisorStatus['sessions'] {
    const sessions: SupervisorStatus['sessions'] = {};
    for (let i = 0; i < this.states.length; i++) {
      const st = this.states[i];
      if (st?.phase === undefined) continue;
      sessions[this.deps.kernel.instruments.spec(i).key] = Number.isFinite(st.close) ? { phase: st.phase, close: iso(st.close) } : { phase: st.phase };
    }
    return sessions;
  }

  private calendarOf(index: number): ExchangeCalendar | undefined {
    const { kernel, calendar } = this.deps;
    const spec = kernel.instruments.spec(index);
    if (calendar !== undefined) return calendar(spec);
    try {
      return kernel.instruments.calendar(index);
    } catch {
      return undefined;
    }
  }

  /** Works out the instrument's phase now, applies it and arms the timer of the next boundary */
  evaluate(index: number): void {
    const { kernel, ctx, settings: s } = this.deps;
    const spec = kernel.instruments.spec(index);
    const key = spec.key;
    const now = kernel.now();
    let phase: SessionPhase;
    let detail: string;
    let close = NaN;
    let next = Infinity;
    const cal = this.calendarOf(index);
    if (cal === undefined) {
      phase = 'no-calendar';
      detail = `no exchange calendar for ${key}`;
    } else {
      let session: Session | undefined;
      try {
        session = cal.sessionAt(now);
        if (session === undefined) next = cal.nextOpen(now);
      } catch {
        session = undefined;
        next = NaN;
      }
      if (Number.isNaN(next)) {
        phase = 'no-calendar';
        detail = `calendar ${cal.name} does not cover ${iso(now)}`;
        next = Infinity;
      } else if (session === undefined) {
        phase = 'closed';
        detail = `outside trading sessions (next open ${iso(next)})`;
      } else if (session.breakStart !== undefined && session.breakEnd !== undefined && now >= session.breakStart && now < session.breakEnd) {
        phase = 'break';
        close = session.close;
        next = session.breakEnd;
        detail = `inside the session break until ${iso(session.breakEnd)}`;
      } else {
        close = session.close;
        const noNewAt = close - s.noNewEntriesMinutesBeforeClose * MIN;
        const flattenAt = close - s.flattenMinutesBeforeClose * MIN;
        const closeText = `${session.earlyClose ? 'early ' : ''}close at ${localTime(close, cal.timeZone)} (${session.date})`;
        if (now >= flattenAt) {
          phase = 'flatten';
          detail = `flattening ${s.flattenMinutesBeforeClose} min before the ${closeText}`;
        } else if (now >= noNewAt) {
          phase = 'no-entries';
          detail = `no new entries within ${s.noNewEntriesMinutesBeforeClose} min of the ${closeText}`;
        } else {
          phase = 'open';
          detail = `session open until the ${closeText}`;
        }
        for (const t of [noNewAt, flattenAt, close, session.breakStart ?? Infinity]) if (t > now && t < next) next = t;
      }
    }

    let st = this.states[index];
    if (st === undefined) {
      st = { phase: undefined, close: NaN };
      this.states[index] = st;
    }
    const previous = st.phase;
    st.phase = phase;
    st.close = close;
    if (previous !== phase) {
      const position = kernel.portfolio.quantityAt(index);
      const context: Record<string, unknown> = { phase, previous: previous ?? null, next: Number.isFinite(next) ? iso(next) : null };
      if (Number.isFinite(close)) context.close = iso(close);
      if ((phase === 'closed' || phase === 'break') && previous === 'flatten' && position !== 0) context.positionLeftOpen = position;
      this.deps.report({ type: 'session', source: SOURCES.session, instrument: key, reason: detail, context });
    }

    const blocked = phase === 'no-entries' || phase === 'flatten' || phase === 'no-calendar' || ((phase === 'closed' || phase === 'break') && !s.tradeOutsideSessions);
    if (blocked) this.deps.halts.haltInstrument(key, SOURCES.session, detail);
    else this.deps.halts.resumeInstrument(key, SOURCES.session);
    if (phase === 'flatten') this.deps.ensureFlat(index, SOURCES.session, detail);
    if (Number.isFinite(next)) ctx.setTimer(`${TIMER_PREFIX}${key}`, next);
    else ctx.cancelTimer(`${TIMER_PREFIX}${key}`);
  }
}

function localTime(ts: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ts) + ` ${timeZone}`;
}
