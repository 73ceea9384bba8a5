/**
 * The trading supervisor of the live runner (issue 6, "Risk, sessions, health"): the one place that
 * halts, resumes and flattens. It sits on a Kernel as an internal strategy (id `supervisor`), so its
 * timers run on the kernel's clock and its closing orders take the same order path as every other
 * order (order manager, risk check, venue, journal); it hears marks and fills on the kernel bus.
 *
 * This file composes its parts and owns its lifecycle and reporting:
 * - supervisor-session-guard.ts: the session phase of each instrument from its exchange calendar
 *   (no new entries, then flatten, before the close; halted outside sessions).
 * - supervisor-halts.ts: halts by source, whole book and per instrument, merged onto the RiskEngine
 *   (the supervisor owns the RiskEngine's halts: do not call `kernel.risk.halt` next to it).
 * - supervisor-account-limits.ts: loss per trade, cumulative loss, drawdown breaker, clip, and the
 *   loss baseline a resumed run restores.
 * - supervisor-closing.ts: cancelling working orders and closing positions under SUPERVISOR_ID.
 * - supervisor-config.ts: option checks and the options/limits from the runner config.
 * - supervisor-types.ts: the shared vocabulary (sources, options, actions, status).
 * It also attaches the order manager's working-order count to the RiskEngine (`maxOpenOrders`).
 *
 * Restarts: a resumed run passes the journal's last baseline and halts back (`restore`). Only the
 * sticky sources (`STICKY_SOURCES`: they wait for an operator) are re-applied, before the strategies
 * start: the others are re-derived by their owners (session guard, health, staleness). An operator
 * lifts a sticky halt with `resume` (supervisor-operator.ts: the control API's rules), journaled as a
 * `resume` record, so a restart after the lift does not bring it back.
 *
 * Everything it does is reported through `onAction` (journal) and logged with its context.
 * Construct it before `kernel.run()` (ideally before adding the strategies, so its onStart runs first).
 * Every export of its parts that importers use is re-exported here.
 */
import { z } from 'zod';
import { ConfigError } from '../../lib/core/errors.js';
import type { Logger } from '../../lib/core/logger.js';
import type { Kernel } from '../../lib/engine/kernel.js';
import { defineStrategy, type StrategyContext } from '../../lib/engine/strategy.js';
import type { StrategyRuntime } from '../../lib/engine/strategy-runtime.js';
import type { Bar } from '../../lib/model/market.js';
import type { Fill, OrderEvent } from '../../lib/model/order-events.js';
import { AccountLimits } from './supervisor-account-limits.js';
import { SupervisorCloser } from './supervisor-closing.js';
import { optionProblems } from './supervisor-config.js';
import { SupervisorHalts } from './supervisor-halts.js';
import { SessionGuard, sessionSettings } from './supervisor-session-guard.js';
import {
  SOURCES,
  SUPERVISOR_ID,
  SUPERVISOR_VERSION,
  type HaltControl,
  type HaltInForce,
  type SessionPhase,
  type SupervisorAction,
  type SupervisorOptions,
  type SupervisorSessionSettings,
  type SupervisorStatus,
} from './supervisor-types.js';

export { riskLimitsFromConfig, supervisorOptionsFromConfig } from './supervisor-config.js';
export { SOURCES, STICKY_SOURCES, SUPERVISOR_ID, SUPERVISOR_VERSION } from './supervisor-types.js';
export type {
  HaltControl,
  HaltInForce,
  SessionPhase,
  SupervisorAction,
  SupervisorActionType,
  SupervisorLossLimits,
  SupervisorOptions,
  SupervisorRestore,
  SupervisorSessionSettings,
  SupervisorStatus,
} from './supervisor-types.js';

export class TradingSupervisor implements HaltControl {
  readonly id: string;
  readonly runtime: StrategyRuntime;
  private readonly ctx: StrategyContext;
  private readonly log: Logger;
  private readonly settings: SupervisorSessionSettings;
  private readonly halts: SupervisorHalts;
  private readonly closer: SupervisorCloser;
  private readonly guard: SessionGuard;
  private readonly limits: AccountLimits;
  private readonly unsubscribers: (() => void)[] = [];
  private started = false;

  constructor(
    private readonly kernel: Kernel,
    private readonly options: SupervisorOptions = {},
  ) {
    this.settings = sessionSettings(options.session);
    const loss = options.account ?? {};
    const problems = optionProblems(this.settings, loss, options.drawdownHaltPct);
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
        onTimer: (name: string) => this.guard.onTimer(name),
        onOrderEvent: (e: OrderEvent) => this.closer.onOwnOrderEvent(e),
        onStop: () => this.stop(),
      }),
    });
    this.runtime = kernel.addStrategy(definition, { id: this.id });
    this.ctx = this.runtime.context;

    const report = (a: Omit<SupervisorAction, 'ts'>) => this.report(a);
    this.halts = new SupervisorHalts(kernel, report);
    this.closer = new SupervisorCloser(kernel, this.ctx, this.id, report);
    const ensureFlat = (index: number, source: string, reason: string) => this.closer.ensureFlat(index, source, reason);
    this.guard = new SessionGuard({ kernel, ctx: this.ctx, settings: this.settings, calendar: options.calendar, report, halts: this.halts, ensureFlat });
    this.limits = new AccountLimits({ kernel, loss, drawdownHaltPct: options.drawdownHaltPct, report, halts: this.halts, closer: this.closer });

    kernel.risk.setOpenOrderCounter(() => kernel.orders.working().length);
    this.unsubscribers.push(
      kernel.bus.subscribe('engine.subscription', (m) => {
        if (m.action === 'subscribed') this.onInstrument(m.instrument);
      }),
      kernel.bus.subscribe('data.bar', (bar) => this.onBar(bar)),
      kernel.bus.subscribe('order.fill', (fill) => this.onFill(fill)),
    );
    for (const key of kernel.instruments.keys()) this.onInstrument(key);
    // a resumed run: the sticky halts the journal left in force, before any strategy starts
    this.halts.restore(options.restore?.halts ?? {}, (source) => this.limits.restoredHalt(source), options.restore?.instrumentHalts);
  }

  get session(): Readonly<SupervisorSessionSettings> {
    return this.settings;
  }

  // ---- halts by source (supervisor-halts.ts) -----------------------------------------------

  /** Halts new risk-increasing orders of the whole book for `source` (exits still go); `context` is journaled with it */
  halt(source: string, detail = '', context?: Record<string, unknown>): void {
    this.halts.halt(source, detail, context);
  }

  /**
   * Removes `source`'s halt; the book trades again once no source is left. Lifting `loss:cumulative`
   * or `drawdown` re-bases that limit on the equity now (journaled as a `baseline`, so a restart
   * measures from there too). False when `source` did not halt the book.
   */
  resume(source: string, context?: Record<string, unknown>): boolean {
    if (!this.halts.resume(source, () => this.limits.rebase(source), context)) return false;
    if (this.started && (source === SOURCES.cumulativeLoss || source === SOURCES.drawdown)) this.limits.reportBaseline(`re-based by the resume of ${source}`);
    return true;
  }

  haltInstrument(instrument: string, source: string, detail = '', context?: Record<string, unknown>): void {
    this.halts.haltInstrument(instrument, source, detail, context);
  }

  /** False when `source` did not halt the instrument */
  resumeInstrument(instrument: string, source: string, context?: Record<string, unknown>): boolean {
    return this.halts.resumeInstrument(instrument, source, context);
  }

  /** Every halt in force, whole book and per instrument, with when it began */
  haltsInForce(): HaltInForce[] {
    return this.halts.inForce();
  }

  /** Whole-book halt sources and their details */
  haltSources(): Record<string, string> {
    return this.halts.haltSources();
  }

  instrumentHaltSources(instrument: string): Record<string, string> {
    return this.halts.instrumentHaltSources(instrument);
  }

  phase(instrument: string): SessionPhase | undefined {
    const i = this.kernel.instruments.indexOf(instrument);
    return i === undefined ? undefined : this.guard.phaseAt(i);
  }

  /** Closes one instrument's position now (its working orders cancelled first); no halt */
  closeInstrument(instrument: string, source: string, reason: string): void {
    const i = this.kernel.instruments.indexOf(instrument);
    if (i !== undefined) this.closer.ensureFlat(i, source, reason);
  }

  /** Closes every position now (working orders cancelled first); no halt */
  closeAll(source: string = SOURCES.operator, reason = 'close all positions'): void {
    this.closer.closeAll(source, reason);
  }

  status(): SupervisorStatus {
    return {
      halted: this.halts.halted,
      halts: this.halts.haltSources(),
      instrumentHalts: this.halts.instrumentHalts(),
      sessions: this.guard.sessions(),
      ...this.limits.status(),
    };
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  private start(): void {
    this.started = true;
    this.limits.start(this.options.restore);
    for (let i = 0; i < this.kernel.instruments.size; i++) this.guard.evaluate(i);
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
    this.halts.applyInstrument(key);
    if (this.started && this.guard.phaseAt(index) === undefined) this.guard.evaluate(index);
  }

  // ---- marks and fills ---------------------------------------------------------------------

  private onBar(bar: Readonly<Bar>): void {
    if (!this.started) return;
    const i = bar.instrumentIndex;
    this.recheckFlat(i);
    this.limits.checkTrade(i);
    this.limits.checkAccount();
  }

  private onFill(fill: Fill): void {
    if (!this.started) return;
    const i = fill.instrumentIndex;
    this.recheckFlat(i);
    this.limits.checkTrade(i);
    this.limits.checkAccount();
  }

  /** An instrument that must be flat (flatten phase, cumulative loss) but is not: close it again */
  private recheckFlat(index: number): void {
    if (this.kernel.portfolio.quantityAt(index) === 0) return;
    const flattening = this.limits.flattening;
    if (this.guard.phaseAt(index) === 'flatten') this.closer.ensureFlat(index, SOURCES.session, 'position open in the flatten window');
    else if (flattening !== undefined) this.closer.ensureFlat(index, flattening, 'every position is being closed');
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

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
