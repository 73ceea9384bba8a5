/**
 * What an operator may do to the halts of a running runner (the control API's `GET /status`,
 * `POST /halt`, `POST /resume`; `monger status|halt|resume`), and what not:
 * - halt: source `operator`, the whole book or one instrument, with a reason. Journaled as a halt
 *   record like every supervisor halt and sticky: a restart re-applies it until an operator resumes it.
 *   Halting what the operator already halted changes nothing (the first reason stays).
 * - resume `operator` (whole book, or `instrument`): lifted at once.
 * - resume `loss:cumulative` / `drawdown` (whole book): sticky risk halts, lifted only with `confirm`.
 *   Lifting re-bases the limit on the equity now (supervisor-account-limits.ts), and the answer says
 *   what was lifted and the new baseline. Journaled as a resume record (and the new baseline as a
 *   note), so a restart after the lift does not bring the halt back.
 * - refused, changing nothing: the halts their owners lift by themselves (session guard, health
 *   monitor, stale data, a universe removal: `HALT_SELF_LIFTING`, naming who lifts it), unknown
 *   sources, an instrument the run does not know, a source not in force (`HALT_NOT_IN_FORCE`, listing
 *   what is), a risk halt without `confirm`.
 */
import { WorkbenchError } from '../../lib/core/errors.js';
import type { Kernel } from '../../lib/engine/kernel.js';
import { iso, SOURCES, type HaltInForce, type SessionPhase } from './supervisor-types.js';
import type { TradingSupervisor } from './supervisor.js';

export type HaltRequestErrorCode = 'HALT_BAD_REQUEST' | 'HALT_UNKNOWN_SOURCE' | 'HALT_UNKNOWN_INSTRUMENT' | 'HALT_NOT_IN_FORCE' | 'HALT_CONFIRM_REQUIRED' | 'HALT_SELF_LIFTING';

/** A refused operator request (nothing changed); the control API answers `httpStatus` */
export class HaltRequestError extends WorkbenchError {
  constructor(
    readonly code: HaltRequestErrorCode,
    message: string,
  ) {
    super(message);
  }

  get httpStatus(): number {
    return this.code === 'HALT_BAD_REQUEST' || this.code === 'HALT_UNKNOWN_SOURCE' ? 400 : this.code === 'HALT_UNKNOWN_INSTRUMENT' ? 404 : 409;
  }
}

/** Who lifts a halt: an operator, an operator with confirm, or its owner by itself */
export type HaltLift = 'operator' | 'operator-confirm' | 'automatic';

/** Sticky risk halts: lifting one re-bases its limit, so it takes `confirm` */
const CONFIRM_SOURCES: ReadonlySet<string> = new Set([SOURCES.cumulativeLoss, SOURCES.drawdown]);
const LIFTABLE = `${SOURCES.operator}, ${SOURCES.cumulativeLoss} (with confirm), ${SOURCES.drawdown} (with confirm)`;

/** Who lifts a source's halt by itself, or undefined when that is not a self-lifting source */
function owner(source: string): string | undefined {
  if (source === SOURCES.session) return "the session guard lifts it when the instrument's session allows entries again";
  if (source === SOURCES.removal) return 'the universe removal holds it until the symbol retires; add the symbol again once it retired (monger symbol add)';
  if (source === 'stale' || source === 'health:stale') return "it lifts itself when the instrument's market data is fresh again";
  if (source.startsWith('health:')) return 'the health monitor lifts it when the condition clears (see GET /health)';
  return undefined;
}

export function liftOf(source: string): HaltLift {
  if (source === SOURCES.operator) return 'operator';
  if (CONFIRM_SOURCES.has(source)) return 'operator-confirm';
  return 'automatic';
}

/** A halt as the API shows it: times in ISO, and who lifts it */
export interface HaltView {
  source: string;
  instrument?: string;
  since: string;
  detail: string;
  restored?: true;
  lift: HaltLift;
}

export interface OperatorStatus {
  runId: string;
  mode: string;
  /** name@version */
  strategy: string;
  /** The IB session's state (connected, degraded, reconnecting, …) */
  connection?: string;
  /** Engine time */
  now: string;
  /** Whether the whole book is halted */
  halted: boolean;
  halts: HaltView[];
  positions: { instrument: string; quantity: number; avgPrice: number; lastPrice: number; unrealizedPnl: number }[];
  workingOrders: number;
  /** instrument -> its trading-session phase (the supervisor's session guard) */
  sessions: Record<string, { phase: SessionPhase; close?: string }>;
  account: { equity: number; startEquity: number; peakEquity: number; cumulativePnl: number; drawdownPct: number; flattening?: string };
}

export interface HaltAnswer {
  halted: HaltView;
  /** The operator had already halted it: nothing changed */
  already: boolean;
  halts: HaltView[];
}

export interface ResumeAnswer {
  lifted: HaltView;
  /** The limit's new baseline (a lifted loss:cumulative or drawdown) */
  rebased?: { startEquity: number; peakEquity: number };
  /** Whether the whole book is still halted (by another source) */
  halted: boolean;
  halts: HaltView[];
}

export interface OperatorControlOptions {
  supervisor: TradingSupervisor;
  kernel: Kernel;
  run: { runId: string; mode: string; strategy: string; version: string };
  /** The IB session's state, for the status */
  connection?: () => string;
}

/** Requests the control API passes on, as parsed JSON (checked here) */
export interface HaltRequest {
  reason?: unknown;
  instrument?: unknown;
}
export interface ResumeRequest {
  source?: unknown;
  instrument?: unknown;
  confirm?: unknown;
}

const VIA = { via: 'operator' } as const;
const MAX_REASON = 500;

export class OperatorControl {
  constructor(private readonly o: OperatorControlOptions) {}

  status(): OperatorStatus {
    const { kernel, supervisor, run } = this.o;
    const s = supervisor.status();
    const positions: OperatorStatus['positions'] = [];
    for (const key of kernel.instruments.keys()) {
      const quantity = kernel.portfolio.position(key);
      if (quantity !== 0) positions.push({ instrument: key, quantity, avgPrice: kernel.portfolio.averagePrice(key), lastPrice: kernel.portfolio.lastPrice(key), unrealizedPnl: kernel.portfolio.unrealizedPnl(key) });
    }
    return {
      runId: run.runId,
      mode: run.mode,
      strategy: `${run.strategy}@${run.version}`,
      ...(this.o.connection !== undefined ? { connection: this.o.connection() } : {}),
      now: iso(kernel.now()),
      halted: s.halted,
      halts: this.views(),
      positions,
      workingOrders: kernel.orders.working().length,
      sessions: s.sessions,
      account: { equity: s.equity, startEquity: s.startEquity, peakEquity: s.peakEquity, cumulativePnl: s.cumulativePnl, drawdownPct: s.drawdownPct, ...(s.flattening !== undefined ? { flattening: s.flattening } : {}) },
    };
  }

  /** An operator halt of the whole book or of one instrument */
  halt(req: HaltRequest): HaltAnswer {
    const reason = typeof req.reason === 'string' ? req.reason.trim() : '';
    if (reason === '') throw new HaltRequestError('HALT_BAD_REQUEST', 'expected a JSON body { "reason": "why", "instrument"?: "SYM" } with a non-empty reason');
    if (reason.length > MAX_REASON) throw new HaltRequestError('HALT_BAD_REQUEST', `reason: at most ${MAX_REASON} characters, got ${reason.length}`);
    const instrument = this.instrumentOf(req.instrument, false);
    const { supervisor } = this.o;
    const already = this.find(SOURCES.operator, instrument) !== undefined;
    if (!already) {
      if (instrument === undefined) supervisor.halt(SOURCES.operator, reason, VIA);
      else supervisor.haltInstrument(instrument, SOURCES.operator, reason, VIA);
    }
    return { halted: view(this.find(SOURCES.operator, instrument)!), already, halts: this.views() };
  }

  /** Lifts a halt an operator may lift (see the module comment); refusals change nothing */
  resume(req: ResumeRequest): ResumeAnswer {
    const source = typeof req.source === 'string' ? req.source.trim() : '';
    if (source === '') throw new HaltRequestError('HALT_BAD_REQUEST', 'expected a JSON body { "source": "operator", "instrument"?: "SYM", "confirm"?: true }');
    const instrument = this.instrumentOf(req.instrument, true);
    const where = instrument === undefined ? 'the whole book' : instrument;
    const self = owner(source);
    if (self !== undefined) throw new HaltRequestError('HALT_SELF_LIFTING', `${source}: not lifted by hand: ${self}`);
    const lift = liftOf(source);
    if (lift === 'automatic') throw new HaltRequestError('HALT_UNKNOWN_SOURCE', `${source}: not a halt source an operator lifts (${LIFTABLE})${this.inForceText()}`);
    if (lift === 'operator-confirm' && instrument !== undefined) throw new HaltRequestError('HALT_BAD_REQUEST', `${source} halts the whole book, not one instrument: resume it without an instrument`);
    const halt = this.find(source, instrument);
    if (halt === undefined) throw new HaltRequestError('HALT_NOT_IN_FORCE', `${source} does not halt ${where}${this.inForceText()}`);
    if (lift === 'operator-confirm' && req.confirm !== true) {
      throw new HaltRequestError(
        'HALT_CONFIRM_REQUIRED',
        `${source} is a risk limit's halt (${halt.detail || source}): lifting it re-bases the limit on the equity now and lets entries through again; confirm it ("confirm": true, monger resume ${source} --confirm)`,
      );
    }
    const { supervisor } = this.o;
    const context = { ...VIA, lifted: halt.detail, since: iso(halt.since), ...(lift === 'operator-confirm' ? { confirm: true } : {}) };
    if (instrument === undefined) supervisor.resume(source, context);
    else supervisor.resumeInstrument(instrument, source, context);
    const s = supervisor.status();
    return { lifted: view(halt), ...(lift === 'operator-confirm' ? { rebased: { startEquity: s.startEquity, peakEquity: s.peakEquity } } : {}), halted: s.halted, halts: this.views() };
  }

  private views(): HaltView[] {
    return this.o.supervisor.haltsInForce().map(view);
  }

  private find(source: string, instrument: string | undefined): HaltInForce | undefined {
    return this.o.supervisor.haltsInForce().find((h) => h.source === source && h.instrument === instrument);
  }

  private inForceText(): string {
    const h = this.o.supervisor.haltsInForce();
    return h.length === 0 ? '; no halt is in force' : `; in force: ${h.map((x) => (x.instrument === undefined ? x.source : `${x.source} ${x.instrument}`)).join(', ')}`;
  }

  /**
   * The instrument key a request names: a key of the run, else the one instrument whose symbol it is;
   * `halted`: also an instrument with a halt in force (a restored halt of an instrument not registered now)
   */
  private instrumentOf(v: unknown, halted: boolean): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw new HaltRequestError('HALT_BAD_REQUEST', `instrument: expected a symbol, got ${JSON.stringify(v)}`);
    const name = v.trim();
    const { kernel } = this.o;
    const keys = kernel.instruments.keys();
    if (halted) for (const h of this.o.supervisor.haltsInForce()) if (h.instrument !== undefined && !keys.includes(h.instrument)) keys.push(h.instrument);
    for (const candidate of [name, name.toUpperCase()]) {
      if (keys.includes(candidate)) return candidate;
      const bySymbol = keys.filter((k) => {
        const i = kernel.instruments.indexOf(k);
        return i !== undefined && kernel.instruments.spec(i).symbol === candidate;
      });
      if (bySymbol.length === 1) return bySymbol[0];
    }
    throw new HaltRequestError('HALT_UNKNOWN_INSTRUMENT', `${name}: not an instrument of this run (${keys.length > 0 ? `instruments: ${keys.join(', ')}` : 'no instruments yet'})`);
  }
}

function view(h: HaltInForce): HaltView {
  return { source: h.source, ...(h.instrument !== undefined ? { instrument: h.instrument } : {}), since: iso(h.since), detail: h.detail, ...(h.restored ? { restored: true as const } : {}), lift: liftOf(h.source) };
}
