/**
 * The trading supervisor's vocabulary, shared by its parts (session guard, halts, account limits,
 * closing) and by its users: ids, halt sources, options, the actions it reports and its status.
 * Kept apart so the parts depend on these types, not on the supervisor that composes them.
 */
import type { ExchangeCalendar } from '../../lib/calendar/index.js';
import type { Logger } from '../../lib/core/logger.js';
import type { InstrumentSpec } from '../../lib/data/instrument.js';
import type { InstrumentRiskLimits } from '../../lib/engine/risk-engine.js';
import type { OrderSide } from '../../lib/model/orders.js';

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
  /** A symbol removed from the universe with flatten 'market' (no entries, closed at market) */
  removal: 'removal',
} as const;

/** Halt sources that only an operator lifts: a resumed run re-applies them (see `restore`) */
export const STICKY_SOURCES: ReadonlySet<string> = new Set([SOURCES.cumulativeLoss, SOURCES.drawdown, SOURCES.operator]);

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

/** How the supervisor's parts report an action: the supervisor stamps the engine time, logs and forwards it */
export type SupervisorReport = (action: Omit<SupervisorAction, 'ts'>) => void;

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

/** A resumed run's supervisor state: halts in force (source -> detail) and the loss baseline */
export interface SupervisorRestore {
  halts?: Readonly<Record<string, string>>;
  /** instrument -> source -> detail (only the sticky sources are re-applied: an operator's) */
  instrumentHalts?: Readonly<Record<string, Readonly<Record<string, string>>>>;
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

/** One halt in force (the operator's `GET /status`) */
export interface HaltInForce {
  source: string;
  /** Absent: the whole book */
  instrument?: string;
  /** Engine time it began; for a halt a resumed run re-applied, the time of that restore */
  since: number;
  detail: string;
  /** Re-applied from the journal by a resumed run */
  restored?: true;
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

export function iso(ts: number): string {
  return Number.isFinite(ts) ? new Date(ts).toISOString() : String(ts);
}
