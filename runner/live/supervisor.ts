/**
 * The trading supervisor of the live runner (issue 6, "Risk, sessions, health"): the one place that
 * halts, resumes and flattens. It sits on a Kernel as an internal strategy (id `supervisor`), so its
 * timers run on the kernel's clock and its closing orders take the same order path as every other
 * order (order manager, risk check, venue, journal); it hears marks and fills on the kernel bus.
 *
 * Session guard, per instrument, from its exchange calendar (`kernel.instruments.calendar`):
 * - `open`: entries allowed.
 * - `no-entries`: from `noNewEntriesMinutesBeforeClose` before the session close: the instrument is
 *   halted for risk-increasing orders (exits still go).
 * - `flatten`: from `flattenMinutesBeforeClose` before the close: working orders of the instrument
 *   (of every strategy) are cancelled, then the position is closed with a market order; a fill that
 *   re-opens it until the close (a cancel that raced a fill) is closed again.
 * - `closed` / `break`: outside sessions (holidays, weekends, overnight, an intra-session break):
 *   halted unless `tradeOutsideSessions`.
 * - `no-calendar`: no calendar covers the instrument or the date: halted (fail closed).
 * The close is the session's own (13:00 New York on early-close days; holidays have no session),
 * and each phase arms a timer for the next boundary, so the guard re-arms itself for every session.
 *
 * Loss limits (checked on every mark of an instrument and on every fill):
 * - `maxLossPerTrade`: a position whose unrealized loss reaches it is closed (working orders of the
 *   instrument cancelled first).
 * - `maxCumulativeLoss`: equity − equity at start (realized + unrealized, commissions included)
 *   reaching −limit halts all new entries and flattens every position, sticky until
 *   `resume('loss:cumulative')` (which re-bases the loss on the equity then).
 * - `drawdownHaltPct`: equity this many percent below its peak halts new entries (exits still go),
 *   sticky until `resume('drawdown')` (which restarts the peak from the equity then).
 * - clip: once the unrealized gain of the account exceeds `clipActivation`, the highest unrealized
 *   gain since is tracked; when the gain falls back to `clipStopLoss` x that peak, every position is
 *   closed (no halt), and the clip re-arms on the next activation.
 *
 * Halts are tracked by source (`session`, `loss:cumulative`, `drawdown`, `health:event-loop-lag`,
 * `health:stale`, `reconcile`, …): `halt(source)` / `resume(source)` for the whole book and
 * `haltInstrument` / `resumeInstrument` for one instrument, so one source resuming never clears
 * another's halt. The supervisor owns the RiskEngine's halts: do not call `kernel.risk.halt` next to
 * it. It also attaches the order manager's working-order count to the RiskEngine (`maxOpenOrders`).
 *
 * Restarts. The loss baseline (start and peak equity) is reported as a `baseline` action when it is
 * set (start, a resume that re-bases it) and, throttled to one a minute of engine time, when the
 * peak rises; the runner journals it and a resumed run passes the last one back (`restore`), with
 * the whole-book halts then in force. Only the sticky sources (`STICKY_SOURCES`: they wait for an
 * operator) are re-applied, before the strategies start: the others are re-derived by their owners
 * (session guard, health, staleness). A restored `loss:cumulative` halt also closes every position
 * again, as when it fired.
 *
 * Everything it does is reported through `onAction` (journal) and logged with its context.
 * Construct it before `kernel.run()` (ideally before adding the strategies, so its onStart runs first).
 */
import { z } from 'zod';
import type { ExchangeCalendar, Session } from '../../lib/calendar/index.js';
import { ConfigError } from '../../lib/core/errors.js';
import type { Logger } from '../../lib/core/logger.js';
import type { InstrumentSpec } from '../../lib/data/instrument.js';
import type { Kernel } from '../../lib/engine/kernel.js';
import type { InstrumentRiskLimits, RiskLimits } from '../../lib/engine/risk-engine.js';
import { defineStrategy, type StrategyContext } from '../../lib/engine/strategy.js';
import type { StrategyRuntime } from '../../lib/engine/strategy-runtime.js';
import type { Bar } from '../../lib/model/market.js';
import type { Fill, OrderEvent } from '../../lib/model/order-events.js';
import { isTerminal } from '../../lib/model/order-state.js';
import type { Order, OrderSide } from '../../lib/model/orders.js';
import { resolveTradingParams, toRiskLimits, type RunnerConfig } from './config.js';

export const SUPERVISOR_ID = 'supervisor';
/** The version in the orderRef of the supervisor's own (closing) orders */
export const SUPERVISOR_VERSION = '1.0.0';

/** Halt sources the supervisor itself uses */
export const SOURCES = {
  session: 'session',
  lossPerTrade: 'loss:per-trade',
  cumulativeLoss: 'loss:cumulative',
  drawdown: 'drawdown',
  clip: 'clip',
  operator: 'operator',
} as const;

/** Halt sources that only an operator lifts: a resumed run re-applies them (see `restore`) */
export const STICKY_SOURCES: ReadonlySet<string> = new Set([SOURCES.cumulativeLoss, SOURCES.drawdown, SOURCES.operator]);

const MIN = 60_000;
/** A rising equity peak is reported (journaled) at most this often, in engine time */
const PEAK_REPORT_MS = MIN;

export type SessionPhase = 'open' | 'no-entries' | 'flatten' | 'closed' | 'break' | 'no-calendar';

export interface SupervisorSessionSettings {
  /** Entries of an instrument stop this many minutes before its session close; default 15 */
  noNewEntriesMinutesBeforeClose: number;
  /** Positions of an instrument are closed this many minutes before its session close; default 5 */
  flattenMinutesBeforeClose: number;
  /** Allow entries outside sessions (the pre-close halt and the flatten still apply); default false */
  tradeOutsideSessions: boolean;
}

/** Account loss limits in the account currency (see runner/live/config.ts `account`) */
export interface SupervisorLossLimits {
  maxLossPerTrade?: number;
  maxCumulativeLoss?: number;
  clipActivation?: number;
  /** Fraction in (0, 1) of the peak unrealized gain kept when the clip fires */
  clipStopLoss?: number;
}

export type SupervisorActionType =
  /** a halt source was added (whole book) */
  | 'halt'
  /** a halt source was removed (whole book) */
  | 'resume'
  | 'halt-instrument'
  | 'resume-instrument'
  /** an instrument's session phase changed */
  | 'session'
  /** a loss limit, the drawdown breaker or the clip fired */
  | 'breach'
  /** the clip armed (unrealized gain above clipActivation) */
  | 'clip-armed'
  /** a working order was cancelled before a close */
  | 'cancel'
  /** a closing market order was submitted */
  | 'close'
  /** a closing order filled (in part or completely) */
  | 'close-filled'
  /** a closing order ended without filling completely (rejected, cancelled, expired) */
  | 'close-ended'
  /** the loss baseline was set, re-based, or its peak rose: context `{ startEquity, peakEquity }` */
  | 'baseline';

/** One thing the supervisor did, with its context (journal and logs) */
export interface SupervisorAction {
  type: SupervisorActionType;
  /** Engine time */
  ts: number;
  /** The halt source / rule: 'session', 'loss:per-trade', 'health:stale', … */
  source: string;
  /** Human-readable */
  reason: string;
  instrument?: string;
  orderId?: number;
  side?: OrderSide;
  quantity?: number;
  context?: Record<string, unknown>;
}

export interface SupervisorOptions {
  session?: Partial<SupervisorSessionSettings>;
  account?: SupervisorLossLimits;
  /** Equity drawdown from its peak, percent, that halts new entries */
  drawdownHaltPct?: number;
  /** Position limits per instrument, by instrument key or symbol, set on the RiskEngine when the instrument is registered */
  instrumentLimits?: Readonly<Record<string, InstrumentRiskLimits>>;
  onAction?(action: SupervisorAction): void;
  /** Default: the kernel's logger */
  logger?: Logger;
  /** Strategy id; default 'supervisor' */
  id?: string;
  /** The calendar of an instrument; default the instrument registry's (calendarForInstrument) */
  calendar?(spec: InstrumentSpec): ExchangeCalendar | undefined;
  /** What a resumed run carries over from its journal (runner/live/run-resume.ts `supervisorRestore`) */
  restore?: SupervisorRestore;
}

/** A resumed run's supervisor state: whole-book halts in force (source -> detail) and the loss baseline */
export interface SupervisorRestore {
  halts?: Readonly<Record<string, string>>;
  startEquity?: number;
  peakEquity?: number;
}

/** What the health monitor (and any other input) needs of the supervisor */
export interface HaltControl {
  halt(source: string, detail?: string): void;
  resume(source: string): void;
  haltInstrument(instrument: string, source: string, detail?: string): void;
  resumeInstrument(instrument: string, source: string): void;
}

export interface SupervisorStatus {
  halted: boolean;
  /** source -> detail of the whole-book halts */
  halts: Record<string, string>;
  /** instrument -> source -> detail */
  instrumentHalts: Record<string, Record<string, string>>;
  /** instrument -> session phase and the close it refers to (ISO) */
  sessions: Record<string, { phase: SessionPhase; close?: string }>;
  startEquity: number;
  peakEquity: number;
  equity: number;
  cumulativePnl: number;
  drawdownPct: number;
  clip: { armed: boolean; peakGain: number };
  /** Every position is being closed (cumulative loss) */
  flattening: string | undefined;
}

interface InstrumentState {
  phase: SessionPhase | undefined;
  close: number;
}

function formatSources(sources: ReadonlyMap<string, string>): string {
  return [...sources].map(([s, d]) => (d === '' ? s : `${s}: ${d}`)).join('; ');
}

function iso(ts: number): string {
  return Number.isFinite(ts) ? new Date(ts).toISOString() : String(ts);
}

function localTime(ts: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ts) + ` ${timeZone}`;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class TradingSupervisor implements HaltControl {
  readonly id: string;
  readonly runtime: StrategyRuntime;
  private readonly ctx: StrategyContext;
  private readonly log: Logger;
  private readonly settings: SupervisorSessionSettings;
  private readonly loss: SupervisorLossLimits;
  private readonly drawdownHaltPct: number | undefined;
  private readonly globalSources = new Map<string, string>();
  private readonly instrumentSources = new Map<string, Map<string, string>>();
  private readonly states: (InstrumentState | undefined)[] = [];
  /** The supervisor's own closing order per instrument index */
  private readonly closing = new Map<number, Readonly<Order>>();
  /** Instruments inside ensureFlat (re-entrancy guard: a venue may report synchronously) */
  private readonly flatteningNow = new Set<number>();
  private readonly unsubscribers: (() => void)[] = [];
  private started = false;
  private startEquity = NaN;
  private peakEquity = NaN;
  private clipArmed = false;
  private clipPeak = 0;
  /** Set while every position must be closed (cumulative loss): the source that asked */
  private flattenAllSource: string | undefined;
  /** Engine time of the last `baseline` report, and the peak it reported */
  private baselineReportedAt = -Infinity;
  private reportedPeak = NaN;

  constructor(
    private readonly kernel: Kernel,
    private readonly options: SupervisorOptions = {},
  ) {
    const s = options.session ?? {};
    this.settings = {
      noNewEntriesMinutesBeforeClose: s.noNewEntriesMinutesBeforeClose ?? 15,
      flattenMinutesBeforeClose: s.flattenMinutesBeforeClose ?? 5,
      tradeOutsideSessions: s.tradeOutsideSessions ?? false,
    };
    this.loss = options.account ?? {};
    this.drawdownHaltPct = options.drawdownHaltPct;
    const problems = optionProblems(this.settings, this.loss, this.drawdownHaltPct);
    if (problems.length > 0) throw new ConfigError('TradingSupervisor', problems);
    this.id = options.id ?? SUPERVISOR_ID;
    this.log = (options.logger ?? kernel.log).child({ component: 'supervisor' });

    const definition = defineStrategy({
      name: 'supervisor',
      version: SUPERVISOR_VERSION,
      description: 'Session guard, loss limits and halts of the live runner',
      params: z.object({}),
      create: () => ({
        onStart: () => this.start(),
        onTimer: (name: string) => this.onTimer(name),
        onOrderEvent: (e: OrderEvent) => this.onOwnOrderEvent(e),
        onStop: () => this.stop(),
      }),
    });
    this.runtime = kernel.addStrategy(definition, { id: this.id });
    this.ctx = this.runtime.context;
    kernel.risk.setOpenOrderCounter(() => kernel.orders.working().length);
    this.unsubscribers.push(
      kernel.bus.subscribe('engine.subscription', (m) => {
        if (m.action === 'subscribed') this.onInstrument(m.instrument);
      }),
      kernel.bus.subscribe('data.bar', (bar) => this.onBar(bar)),
      kernel.bus.subscribe('order.fill', (fill) => this.onFill(fill)),
    );
    for (const key of kernel.instruments.keys()) this.onInstrument(key);
    this.restoreHalts(options.restore?.halts ?? {});
  }

  /** A resumed run: the sticky halts the journal left in force, before any strategy starts */
  private restoreHalts(halts: Readonly<Record<string, string>>): void {
    for (const [source, detail] of Object.entries(halts)) {
      if (!STICKY_SOURCES.has(source) || this.globalSources.has(source)) continue;
      this.globalSources.set(source, detail);
      this.applyGlobal();
      // the cumulative loss closed every position when it fired: positions IB still holds are closed again
      if (source === SOURCES.cumulativeLoss) this.flattenAllSource = source;
      this.report({ type: 'halt', source, reason: detail || source, context: { restored: true, halts: formatSources(this.globalSources) } });
    }
  }

  get session(): Readonly<SupervisorSessionSettings> {
    return this.settings;
  }

  // ---- halts by source ---------------------------------------------------------------------

  /** Halts new risk-increasing orders of the whole book for `source` (exits still go) */
  halt(source: string, detail = ''): void {
    const known = this.globalSources.get(source);
    if (known === detail) return;
    this.globalSources.set(source, detail);
    this.applyGlobal();
    if (known === undefined) this.report({ type: 'halt', source, reason: detail || source, context: { halts: formatSources(this.globalSources) } });
  }

  /** Removes `source`'s halt; the book trades again once no source is left */
  resume(source: string): void {
    if (!this.globalSources.delete(source)) return;
    if (source === SOURCES.cumulativeLoss) {
      this.startEquity = this.kernel.portfolio.equity();
      if (this.flattenAllSource === source) this.flattenAllSource = undefined;
    }
    if (source === SOURCES.drawdown) this.peakEquity = this.kernel.portfolio.equity();
    this.applyGlobal();
    this.report({ type: 'resume', source, reason: this.globalSources.size === 0 ? 'trading resumed' : `still halted: ${formatSources(this.globalSources)}` });
    if (this.started && (source === SOURCES.cumulativeLoss || source === SOURCES.drawdown)) this.reportBaseline(`re-based by the resume of ${source}`);
  }

  haltInstrument(instrument: string, source: string, detail = ''): void {
    let sources = this.instrumentSources.get(instrument);
    if (sources === undefined) {
      sources = new Map();
      this.instrumentSources.set(instrument, sources);
    }
    const known = sources.get(source);
    if (known === detail) return;
    sources.set(source, detail);
    this.applyInstrument(instrument);
    if (known === undefined) this.report({ type: 'halt-instrument', source, instrument, reason: detail || source, context: { halts: formatSources(sources) } });
  }

  resumeInstrument(instrument: string, source: string): void {
    const sources = this.instrumentSources.get(instrument);
    if (sources === undefined || !sources.delete(source)) return;
    if (sources.size === 0) this.instrumentSources.delete(instrument);
    this.applyInstrument(instrument);
    this.report({ type: 'resume-instrument', source, instrument, reason: sources.size === 0 ? 'entries resumed' : `still halted: ${formatSources(sources)}` });
  }

  /** Whole-book halt sources and their details */
  haltSources(): Record<string, string> {
    return Object.fromEntries(this.globalSources);
  }

  instrumentHaltSources(instrument: string): Record<string, string> {
    return Object.fromEntries(this.instrumentSources.get(instrument) ?? []);
  }

  phase(instrument: string): SessionPhase | undefined {
    const i = this.kernel.instruments.indexOf(instrument);
    return i === undefined ? undefined : this.states[i]?.phase;
  }

  /** Closes every position now (working orders cancelled first); no halt */
  closeAll(source: string = SOURCES.operator, reason = 'close all positions'): void {
    for (let i = 0; i < this.kernel.instruments.size; i++) this.ensureFlat(i, source, reason);
  }

  status(): SupervisorStatus {
    const p = this.kernel.portfolio;
    const equity = p.equity();
    const instrumentHalts: Record<string, Record<string, string>> = {};
    for (const [k, m] of this.instrumentSources) instrumentHalts[k] = Object.fromEntries(m);
    const sessions: SupervisorStatus['sessions'] = {};
    for (let i = 0; i < this.states.length; i++) {
      const st = this.states[i];
      if (st?.phase === undefined) continue;
      sessions[this.kernel.instruments.spec(i).key] = Number.isFinite(st.close) ? { phase: st.phase, close: iso(st.close) } : { phase: st.phase };
    }
    return {
      halted: this.globalSources.size > 0,
      halts: this.haltSources(),
      instrumentHalts,
      sessions,
      startEquity: this.startEquity,
      peakEquity: this.peakEquity,
      equity,
      cumulativePnl: equity - this.startEquity,
      drawdownPct: this.peakEquity > 0 ? ((this.peakEquity - equity) / this.peakEquity) * 100 : 0,
      clip: { armed: this.clipArmed, peakGain: this.clipPeak },
      flattening: this.flattenAllSource,
    };
  }

  private applyGlobal(): void {
    if (this.globalSources.size === 0) this.kernel.risk.resume();
    else this.kernel.risk.halt(formatSources(this.globalSources));
  }

  private applyInstrument(instrument: string): void {
    const index = this.kernel.instruments.indexOf(instrument);
    if (index === undefined) return; // applied when the instrument is registered
    const sources = this.instrumentSources.get(instrument);
    if (sources === undefined || sources.size === 0) this.kernel.risk.resumeInstrument(index);
    else this.kernel.risk.haltInstrument(index, formatSources(sources));
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  private start(): void {
    this.started = true;
    const equity = this.kernel.portfolio.equity();
    const r = this.options.restore;
    const restored = r?.startEquity !== undefined && Number.isFinite(r.startEquity);
    this.startEquity = restored ? r!.startEquity! : equity;
    const peak = r?.peakEquity !== undefined && Number.isFinite(r.peakEquity) ? r.peakEquity : equity;
    this.peakEquity = Number.isFinite(equity) && !(peak >= equity) ? equity : peak;
    this.reportBaseline(restored ? 'restored from the journal' : 'equity at start');
    for (let i = 0; i < this.kernel.instruments.size; i++) this.evaluate(i);
  }

  private reportBaseline(reason: string): void {
    this.baselineReportedAt = this.kernel.now();
    this.reportedPeak = this.peakEquity;
    this.report({ type: 'baseline', source: 'baseline', reason, context: { startEquity: this.startEquity, peakEquity: this.peakEquity } });
  }

  private stop(): void {
    for (const u of this.unsubscribers.splice(0)) u();
  }

  private onInstrument(key: string): void {
    const index = this.kernel.instruments.indexOf(key);
    if (index === undefined) return;
    const spec = this.kernel.instruments.spec(index);
    const limits = this.options.instrumentLimits?.[key] ?? this.options.instrumentLimits?.[spec.symbol];
    if (limits !== undefined && this.kernel.risk.instrumentLimitsOf(key) === undefined) this.kernel.risk.setInstrumentLimits(key, limits);
    this.applyInstrument(key);
    if (this.started && this.states[index]?.phase === undefined) this.evaluate(index);
  }

  private onTimer(name: string): void {
    if (!name.startsWith('session:')) return;
    const index = this.kernel.instruments.indexOf(name.slice('session:'.length));
    if (index !== undefined) this.evaluate(index);
  }

  // ---- session guard -----------------------------------------------------------------------

  private calendarOf(index: number): ExchangeCalendar | undefined {
    const spec = this.kernel.instruments.spec(index);
    if (this.options.calendar !== undefined) return this.options.calendar(spec);
    try {
      return this.kernel.instruments.calendar(index);
    } catch {
      return undefined;
    }
  }

  /** Works out the instrument's phase now, applies it and arms the timer of the next boundary */
  private evaluate(index: number): void {
    const spec = this.kernel.instruments.spec(index);
    const key = spec.key;
    const now = this.kernel.now();
    const s = this.settings;
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
      const position = this.kernel.portfolio.quantityAt(index);
      const context: Record<string, unknown> = { phase, previous: previous ?? null, next: Number.isFinite(next) ? iso(next) : null };
      if (Number.isFinite(close)) context.close = iso(close);
      if ((phase === 'closed' || phase === 'break') && previous === 'flatten' && position !== 0) context.positionLeftOpen = position;
      this.report({ type: 'session', source: SOURCES.session, instrument: key, reason: detail, context });
    }

    const blocked = phase === 'no-entries' || phase === 'flatten' || phase === 'no-calendar' || ((phase === 'closed' || phase === 'break') && !s.tradeOutsideSessions);
    if (blocked) this.haltInstrument(key, SOURCES.session, detail);
    else this.resumeInstrument(key, SOURCES.session);
    if (phase === 'flatten') this.ensureFlat(index, SOURCES.session, detail);
    if (Number.isFinite(next)) this.ctx.setTimer(`session:${key}`, next);
    else this.ctx.cancelTimer(`session:${key}`);
  }

  // ---- marks and fills ---------------------------------------------------------------------

  private onBar(bar: Readonly<Bar>): void {
    if (!this.started) return;
    const i = bar.instrumentIndex;
    this.recheckFlat(i);
    this.checkTrade(i);
    this.checkAccount();
  }

  private onFill(fill: Fill): void {
    if (!this.started) return;
    const i = fill.instrumentIndex;
    this.recheckFlat(i);
    this.checkTrade(i);
    this.checkAccount();
  }

  /** An instrument that must be flat (flatten phase, cumulative loss) but is not: close it again */
  private recheckFlat(index: number): void {
    if (this.kernel.portfolio.quantityAt(index) === 0) return;
    if (this.states[index]?.phase === 'flatten') this.ensureFlat(index, SOURCES.session, 'position open in the flatten window');
    else if (this.flattenAllSource !== undefined) this.ensureFlat(index, this.flattenAllSource, 'every position is being closed');
  }

  private checkTrade(index: number): void {
    const limit = this.loss.maxLossPerTrade;
    if (limit === undefined) return;
    const p = this.kernel.portfolio;
    const qty = p.quantityAt(index);
    if (qty === 0 || this.closeWorking(index)) return;
    const key = this.kernel.instruments.spec(index).key;
    const unrealized = p.unrealizedPnl(key);
    if (!(unrealized <= -limit)) return;
    const reason = `unrealized loss ${(-unrealized).toFixed(2)} of ${key} reached maxLossPerTrade ${limit}`;
    this.report({ type: 'breach', source: SOURCES.lossPerTrade, instrument: key, reason, context: { position: qty, averagePrice: p.averagePrice(key), lastPrice: p.lastPrice(key), unrealized, limit } });
    this.ensureFlat(index, SOURCES.lossPerTrade, reason);
  }

  private checkAccount(): void {
    const p = this.kernel.portfolio;
    const equity = p.equity();
    if (!Number.isFinite(equity)) return;
    if (!(equity <= this.peakEquity)) this.peakEquity = equity;
    // a higher peak is journaled at most once a minute: a crash loses at most the last minute's rise
    if (Number.isFinite(this.peakEquity) && !(this.peakEquity <= this.reportedPeak) && this.kernel.now() - this.baselineReportedAt >= PEAK_REPORT_MS) this.reportBaseline('equity peak rose');
    const maxLoss = this.loss.maxCumulativeLoss;
    if (maxLoss !== undefined && !this.globalSources.has(SOURCES.cumulativeLoss)) {
      const pnl = equity - this.startEquity;
      if (pnl <= -maxLoss) {
        const reason = `cumulative loss ${(-pnl).toFixed(2)} reached maxCumulativeLoss ${maxLoss}`;
        this.report({ type: 'breach', source: SOURCES.cumulativeLoss, reason, context: { equity, startEquity: this.startEquity, realized: p.realizedPnl(), unrealized: p.unrealizedPnl(), limit: maxLoss } });
        this.halt(SOURCES.cumulativeLoss, reason);
        this.flattenAllSource = SOURCES.cumulativeLoss;
        this.closeAll(SOURCES.cumulativeLoss, reason);
      }
    }
    const ddLimit = this.drawdownHaltPct;
    if (ddLimit !== undefined && !this.globalSources.has(SOURCES.drawdown) && this.peakEquity > 0) {
      const dd = ((this.peakEquity - equity) / this.peakEquity) * 100;
      if (dd >= ddLimit) {
        const reason = `drawdown ${dd.toFixed(2)}% from the equity peak ${this.peakEquity.toFixed(2)} reached drawdownHaltPct ${ddLimit}`;
        this.report({ type: 'breach', source: SOURCES.drawdown, reason, context: { equity, peakEquity: this.peakEquity, drawdownPct: dd, limit: ddLimit } });
        this.halt(SOURCES.drawdown, reason);
      }
    }
    const { clipActivation, clipStopLoss } = this.loss;
    if (clipActivation !== undefined && clipStopLoss !== undefined) {
      const gain = p.unrealizedPnl();
      if (!this.clipArmed) {
        if (gain > clipActivation) {
          this.clipArmed = true;
          this.clipPeak = gain;
          this.report({ type: 'clip-armed', source: SOURCES.clip, reason: `unrealized gain ${gain.toFixed(2)} above clipActivation ${clipActivation}`, context: { gain, clipActivation, clipStopLoss } });
        }
      } else {
        if (gain > this.clipPeak) this.clipPeak = gain;
        const stop = clipStopLoss * this.clipPeak;
        if (gain <= stop) {
          const reason = `unrealized gain ${gain.toFixed(2)} fell to the clip stop ${stop.toFixed(2)} (${clipStopLoss} x peak ${this.clipPeak.toFixed(2)})`;
          this.report({ type: 'breach', source: SOURCES.clip, reason, context: { gain, peakGain: this.clipPeak, stop } });
          this.clipArmed = false;
          this.clipPeak = 0;
          this.closeAll(SOURCES.clip, reason);
        }
      }
    }
  }

  // ---- closing -----------------------------------------------------------------------------

  private closeWorking(index: number): boolean {
    const o = this.closing.get(index);
    return o !== undefined && !isTerminal(o.status);
  }

  /**
   * Cancels the working orders of the instrument (every strategy's but the supervisor's own), then
   * closes its position with a market order unless a closing order is already working. Idempotent.
   */
  private ensureFlat(index: number, source: string, reason: string): void {
    if (this.flatteningNow.has(index)) return;
    this.flatteningNow.add(index);
    try {
      const key = this.kernel.instruments.spec(index).key;
      const now = this.kernel.now();
      for (const o of this.kernel.orders.working(undefined, key)) {
        if (o.strategyId === this.id || o.status === 'PENDING_CANCEL') continue;
        this.report({ type: 'cancel', source, instrument: key, orderId: o.id, side: o.side, quantity: o.quantity - o.filledQuantity, reason: `cancelled before closing: ${reason}`, context: { strategy: o.strategyId, orderType: o.type, status: o.status } });
        this.kernel.orders.cancel(o.id, now);
      }
      const qty = this.kernel.portfolio.quantityAt(index);
      if (qty === 0 || this.closeWorking(index)) return;
      const side: OrderSide = qty > 0 ? 'SELL' : 'BUY';
      const order = this.ctx.submit(this.ctx.orders.market(key, side, Math.abs(qty), { tag: `${this.id}:${source}` }));
      this.closing.set(index, order);
      this.report({ type: 'close', source, instrument: key, orderId: order.id, side, quantity: Math.abs(qty), reason, context: { position: qty, lastPrice: this.kernel.portfolio.lastPrice(key), status: order.status } });
    } finally {
      this.flatteningNow.delete(index);
    }
  }

  private onOwnOrderEvent(e: OrderEvent): void {
    const o = e.order;
    const source = o.tag.startsWith(`${this.id}:`) ? o.tag.slice(this.id.length + 1) : SOURCES.operator;
    if (e.fill !== undefined) {
      this.report({ type: 'close-filled', source, instrument: o.instrument, orderId: o.id, side: o.side, quantity: e.fill.quantity, reason: `${e.type} at ${e.fill.price}`, context: { price: e.fill.price, filled: o.filledQuantity, ordered: o.quantity, position: this.kernel.portfolio.quantityAt(o.instrumentIndex) } });
      return;
    }
    if (e.type === 'rejected' || e.type === 'cancelled' || e.type === 'expired') {
      this.report({ type: 'close-ended', source, instrument: o.instrument, orderId: o.id, side: o.side, quantity: o.quantity - o.filledQuantity, reason: `closing order ${e.type}${e.reason ? `: ${e.reason}` : ''}`, context: { position: this.kernel.portfolio.quantityAt(o.instrumentIndex) } });
    }
  }

  private report(a: Omit<SupervisorAction, 'ts'>): void {
    const action: SupervisorAction = { ts: this.kernel.now(), ...a };
    const warn = action.type === 'breach' || action.type === 'halt' || action.type === 'halt-instrument' || action.type === 'close-ended' || action.context?.positionLeftOpen !== undefined;
    const fields = { action: action.type, source: action.source, instrument: action.instrument, orderId: action.orderId, side: action.side, quantity: action.quantity, reason: action.reason, ...action.context };
    if (warn) this.log.warn(`supervisor ${action.type}`, fields);
    else this.log.info(`supervisor ${action.type}`, fields);
    try {
      this.options.onAction?.(action);
    } catch (e) {
      this.log.error('supervisor onAction failed', { error: message(e), action: action.type });
    }
  }
}

function optionProblems(s: SupervisorSessionSettings, loss: SupervisorLossLimits, dd: number | undefined): string[] {
  const problems: string[] = [];
  const nonNegative = (v: number, path: string) => {
    if (!(Number.isFinite(v) && v >= 0)) problems.push(`${path}: expected a number >= 0, got ${v}`);
  };
  nonNegative(s.noNewEntriesMinutesBeforeClose, 'session.noNewEntriesMinutesBeforeClose');
  nonNegative(s.flattenMinutesBeforeClose, 'session.flattenMinutesBeforeClose');
  for (const k of ['maxLossPerTrade', 'maxCumulativeLoss', 'clipActivation'] as const) {
    const v = loss[k];
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) problems.push(`account.${k}: expected a positive amount, got ${v}`);
  }
  if (loss.clipStopLoss !== undefined && !(loss.clipStopLoss > 0 && loss.clipStopLoss < 1)) problems.push(`account.clipStopLoss: expected a fraction above 0 and below 1, got ${loss.clipStopLoss}`);
  if ((loss.clipActivation === undefined) !== (loss.clipStopLoss === undefined)) problems.push('account: clipActivation and clipStopLoss go together');
  if (dd !== undefined && !(dd > 0 && dd < 100)) problems.push(`drawdownHaltPct: expected a percentage above 0 and below 100, got ${dd}`);
  return problems;
}

// ---- from the runner config -------------------------------------------------------------------

type LimitsConfig = Pick<RunnerConfig, 'risk' | 'trading' | 'universe'>;

/**
 * Every pre-trade limit of the config the RiskEngine enforces: `toRiskLimits` plus net leverage,
 * open orders and the per-symbol allocation (`maxPositionNotionalPerSymbol`). Per-symbol
 * `maxPosition` goes through `supervisorOptionsFromConfig(...).instrumentLimits`.
 */
export function riskLimitsFromConfig(config: LimitsConfig): RiskLimits {
  const r = config.risk;
  return {
    ...toRiskLimits(config),
    maxPositionNotional: r.maxPositionNotionalPerSymbol,
    maxOpenOrders: r.maxOpenOrders,
    ...(r.maxNetLeverage !== undefined ? { maxNetLeverage: r.maxNetLeverage } : {}),
  };
}

/** The supervisor's settings from the runner config (session guard, account limits, drawdown breaker, per-symbol maxPosition) */
export function supervisorOptionsFromConfig(config: LimitsConfig & Pick<RunnerConfig, 'session' | 'account'>): Pick<SupervisorOptions, 'session' | 'account' | 'drawdownHaltPct' | 'instrumentLimits'> {
  const instrumentLimits: Record<string, InstrumentRiskLimits> = {};
  for (const sym of config.universe.symbols) instrumentLimits[sym] = { maxPositionQuantity: resolveTradingParams(config, sym).maxPosition };
  return {
    session: { ...config.session },
    account: { ...config.account },
    drawdownHaltPct: config.risk.drawdownHaltPct,
    instrumentLimits,
  };
}
