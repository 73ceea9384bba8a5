/**
 * The runner's signal-driven universe (universe.mode dynamic / mixed, or static with `signals`):
 * lib/universe's KernelUniverse with the runner's ports, composed here so live-runner.ts stays lean.
 *
 * - resolve: the IB contract resolver behind IbMarketData.addInstrument (cache, rate limit and
 *   circuit breaker, `ib_invalid_symbols`): no security definition = invalid (recorded, its signals
 *   skipped), anything else (timeout, disconnected, circuit open) = failed (the next signal retries).
 * - lines: a LinePool over `data.lineBudget`, one line per L1 stream and one per realtime-bar
 *   stream an instrument takes. Only the universe takes lines (IbMarketData gets no static
 *   instruments in this mode), so the budget is never exceeded: an instrument's streams start only
 *   after its lines were acquired and its lines are released only after its streams were cancelled
 *   (the cancels are queued on the socket before any later request).
 * - traders: the trading rules' defaults merged with the ticker's overrides, checked at activation
 *   (missing sizes = invalid); warm-up: `strategy.warmup` bars through the kernel subscription.
 * - signals: a SignalPoller on the configured provider (lib/signals) polling every `pollSeconds` of
 *   engine time into a PushSignalSource merged by the kernel; the watermark starts at the run's
 *   start (older signals are history, as in a backtest) and is journaled with every batch handed on
 *   (universe-resume.ts): a resumed run polls on from the last one, so a signal published while the
 *   runner was down is delivered and one that traded is not delivered again. A signal older than
 *   `signals.maxAgeSeconds` when it is dispatched (a downtime backlog; an accelerated replay: at least
 *   10 × speed seconds) is dropped (`droppedStale`, one `{signals: 'stale'}` note per symbol) and a
 *   new ticker seen only in such signals is not activated. Drops are also alerts (`signals-stale`):
 *   the run's first, then at most one per 10 minutes of engine time while they go on (a producer
 *   clock running behind would otherwise empty the universe silently).
 * - restart: the resumed run's positions (and a new run's adopted ones) are resolved here
 *   (`resolveHeld`: the universe's instruments are in no market-data list until it activates them);
 *   at the start the universe brings back the members the journal, the positions and the adopted
 *   working orders call for (KernelUniverse `restore`, universe-resume.ts restorePlan). A held symbol
 *   that does not come back (resolution, invalid, no trader) is an alert, and so is a symbol holding
 *   a position or working orders that waits for a line longer than a minute (no data: no exits).
 * - external holdings: a ticker IB holds outside the runner (a position the engine did not adopt,
 *   `setExternalPositions` from the start's reconciliation, refreshed by later ones) is not activated
 *   for a signal: `invalid` (its signals skipped), one `signal-for-external-position` alert. Its
 *   trader would see position 0 and trade beside the holding. Configured and added symbols are the
 *   operator's choice and resolve as usual. Signal-driven activations wait until the set is known.
 *
 * Stats for the run summary: universe-stats.ts; the signals provider: signal-provider-factory.ts.
 */
import { ConfigError } from '../../lib/core/errors.js';
import type { Logger } from '../../lib/core/logger.js';
import type { InstrumentSpec } from '../../lib/data/instrument.js';
import type { Clock } from '../../lib/engine/clock.js';
import type { Kernel } from '../../lib/engine/kernel.js';
import type { Scheduler } from '../../lib/engine/live-feed.js';
import { ContractNotFoundError } from '../../lib/ib/contract-resolver.js';
import { watermarkAt, type SignalProvider, type SignalWatermark } from '../../lib/signals/provider.js';
import type { Signal } from '../../lib/signals/signal.js';
import { SignalPoller } from '../../lib/signals/signal-poller.js';
import { PushSignalSource } from '../../lib/signals/signal-source.js';
import type { Store } from '../../lib/store/store.js';
import { KernelUniverse, type RemovalHooks } from '../../lib/universe/kernel-universe.js';
import { LinePool } from '../../lib/universe/line-pool.js';
import type { RemovalFlatten, ResolveOutcome, UniverseEntryView, UniverseStatus } from '../../lib/universe/universe-types.js';
import type { RunnerConfig } from './config.js';
import { signalAgeOptions } from './config-schema-signals.js';
import { preemptionOptions } from './config-schema-strategy.js';
import type { ControlList } from './control-api.js';
import { SOURCES } from './supervisor-types.js';
import { universeInstruments, type IbMarketData } from './ib-market-data.js';
import { restorePlan, watermarkNote, type UniverseResume } from './universe-resume.js';
import { openSignalProvider } from './signal-provider-factory.js';
import { heldOutsideReason, notAdoptedReason, PositionNotAdoptedError, type AdoptionScope } from './adoption-policy.js';
import { StaleDropAlerts, UniverseStats, type UniverseSummary } from './universe-stats.js';

export type { UniverseSummary } from './universe-stats.js';

export interface UniverseRunnerOptions {
  config: RunnerConfig;
  kernel: Kernel;
  marketData: IbMarketData;
  /** The strategy that trades the signals (its onSignal; signal-trader routes them to ctx.signal) */
  strategyId: string;
  clock: Clock;
  /** The poller's timers (a replay: scaled to its speed) */
  scheduler: Scheduler;
  /** Replay: the simulator's store, the default signals store */
  replayStore?: Store;
  logger: Logger;
  /** Journal notes (state changes, poll errors) */
  note: (payload: Record<string, unknown>) => void;
  /** Journal alerts (a held symbol that does not come back at restore, a position without a line); default: notes */
  alert?: (payload: Record<string, unknown>) => void;
  env?: Readonly<Record<string, string | undefined>>;
  /** How a flattening removal halts entries and closes (the supervisor's halts and closer: it owns the RiskEngine's halts) */
  removal?: RemovalHooks;
  /** A resumed run: the journal's watermarks and members (universe-resume.ts readUniverseResume) */
  resume?: UniverseResume;
  /**
   * A new run under `universe.adoptPositions: journal` (adoption-policy.ts): the broker positions it
   * may adopt; `resolveHeld` refuses the others (they stay external). Undefined: every position
   * (`all`, or a static universe's own rule). Ignored on a resumed run: it restores its journal's.
   */
  adoptable?: AdoptionScope;
}

export class UniverseRunner {
  readonly universe: KernelUniverse;
  readonly lines: LinePool;
  readonly source: PushSignalSource;
  private readonly poller: SignalPoller | undefined;
  private readonly provider: SignalProvider | undefined;
  private readonly stores: Store[] = [];
  /** A removal's flatten override until its `retiring` state note is written */
  private readonly removing = new Map<string, RemovalFlatten>();
  private readonly stats = new UniverseStats();
  private readonly staleAlerts = new StaleDropAlerts();
  /** The universe's maxSignalAgeMs (a replay: scaled to its speed); Infinity without signals */
  private readonly maxSignalAgeMs: number;
  /** The last watermark journaled (JSON), so an unchanged one is not journaled again */
  private journaledWatermark: string | undefined;
  /** Tickers the poller saw for the first time, noticed once a batch brings a fresh signal of theirs */
  private readonly unnoticed = new Set<string>();
  /** Symbols holding a position while waiting for a line: the alert's timers */
  private readonly lineWaits = new Map<string, unknown>();
  private stopped = false;
  /** IB's positions outside the runner (instrument -> quantity): not activated for a signal */
  private external = new Map<string, number>();
  /** Symbols already alerted as held outside the runner (one alert each) */
  private readonly externalAlerted = new Set<string>();
  /** Opens once the external set is known (setExternalPositions, or stop): signal activations wait for it */
  private openExternalGate: () => void = () => undefined;
  private readonly externalGate = new Promise<void>((r) => (this.openExternalGate = r));
  private alert: (payload: Record<string, unknown>) => void;

  private constructor(
    private readonly o: UniverseRunnerOptions,
    provider: SignalProvider | undefined,
    stores: Store[],
  ) {
    const { config, kernel, marketData } = o;
    this.provider = provider;
    this.stores = stores;
    const perInstrument = 1 + (config.data.realtimeBars ? 1 : 0);
    this.lines = new LinePool(config.data.lineBudget, perInstrument);
    const idleMs = config.universe.retireAfterMinutes !== undefined ? config.universe.retireAfterMinutes * 60_000 : undefined;
    const configured = this.configured;
    const alert = o.alert ?? ((payload) => o.note({ alert: true, ...payload }));
    this.alert = alert;
    // an accelerated replay ages signals in simulated seconds: scaled to its speed (config-schema-signals.ts)
    const ageOptions = signalAgeOptions(config.signals, config.replay?.speed);
    this.maxSignalAgeMs = ageOptions.maxSignalAgeMs ?? Infinity;
    this.universe = new KernelUniverse(kernel, {
      mode: config.universe.mode,
      symbols: configured,
      ...(idleMs !== undefined ? { idleMs } : {}),
      // finite (config default 5 min): a resumed run's downtime backlog must not trade, see config-schema-signals.ts
      ...ageOptions,
      ...preemptionOptions(config.universe),
      strategyId: o.strategyId,
      interval: config.strategy.interval,
      history: config.strategy.warmup,
      lines: this.lines,
      resolve: (symbol) => this.resolve(symbol),
      streams: { start: (i) => marketData.startInstrument(i), stop: (i) => marketData.removeInstrument(i) },
      removal: { flatten: config.universe.removal.flatten, ...(o.removal !== undefined ? { hooks: o.removal } : {}) },
      // asked when the kernel starts: the positions are the engine's by then (journal, then broker)
      restore: () => {
        const positions = kernel.instruments.keys().filter((k) => kernel.portfolio.position(k) !== 0);
        // adopted working orders (prepareResume) on a flat symbol need their member too: fills, cancels, exits
        const workingOrders = [...new Set(kernel.orders.working().map((w) => w.instrument))];
        const plan = restorePlan({ configured, positions, workingOrders, ...(o.resume !== undefined ? { members: o.resume.members } : {}) });
        // a removal repeated with its own policy journals that policy again (a second restart)
        for (const r of plan.removing) if (r.flatten !== undefined) this.removing.set(r.symbol, r.flatten);
        if (plan.signal.length + plan.added.length + plan.removing.length > 0) {
          o.logger.info('universe: members restored at the start', plan);
          o.note({ event: 'universe-restored', ...plan });
        }
        return plan;
      },
      onRestoreResult: (r) => {
        if (r.ok) return;
        const position = kernel.instruments.indexOf(r.symbol) !== undefined ? kernel.portfolio.position(r.symbol) : 0;
        const orders = kernel.orders.working(undefined, r.symbol).length;
        alert({
          level: position !== 0 ? 'critical' : 'warning',
          kind: 'universe-restore',
          symbol: r.symbol,
          as: r.as,
          position,
          workingOrders: orders,
          message: `${r.symbol} (${r.as}) did not come back at the restart: ${r.error ?? 'unknown'}${position !== 0 ? `; its position of ${position} has no market data and no exits` : ''}`,
        });
      },
    });
    const m = this.universe.manager;
    m.on((e) => {
      if (e.type === 'stale') {
        // a downtime backlog: one note per symbol (the universe counts every dropped signal)
        if (e.first) o.note({ signals: 'stale', symbol: e.symbol, availableAt: e.availableAt, ageMs: e.ageMs, maxAgeMs: e.maxAgeMs });
        // drops that go on (a producer clock behind) empty the universe: an alert, throttled
        const a = this.staleAlerts.drop(e.ts, e.symbol, e.ageMs, e.maxAgeMs);
        if (a !== undefined) alert({ ...a });
        return;
      }
      if (e.type !== 'state') return;
      this.stats.onState(e);
      if (e.to === 'waiting-for-line') this.watchLineWait(e.symbol, alert);
      // a symbol that left (or never made it) holds no market-data entry
      if (e.to === 'retired' || e.to === 'invalid') marketData.removeInstrument(e.symbol);
      // origin and removal policy: what a resumed run needs to bring the member back as it was
      const origin = m.entry(e.symbol)?.origin;
      const flatten = e.to === 'retiring' ? (this.removing.get(e.symbol) ?? config.universe.removal.flatten) : undefined;
      if (e.to === 'retiring') this.removing.delete(e.symbol);
      o.note({ universe: e.symbol, from: e.from, to: e.to, ...(origin !== undefined ? { origin } : {}), ...(flatten !== undefined ? { flatten } : {}), ...(e.reason !== undefined ? { reason: e.reason } : {}) });
    });
    this.source = new PushSignalSource({ clock: o.clock, onSignal: (s) => this.onSignal(s), changed: (src, refresh) => kernel.sourceChanged(src, refresh) });
    kernel.addSource(this.source);
    const sig = config.signals;
    this.poller = sig === undefined || provider === undefined ? undefined : new SignalPoller({
      provider,
      clock: o.clock,
      scheduler: o.scheduler,
      intervalMs: sig.pollSeconds * 1000,
      lateMs: sig.lateSeconds * 1000,
      // a resumed run polls on from its last journaled watermark; a new one from its start
      watermark: this.startWatermark(provider),
      onSignals: (signals, watermark) => {
        // journaled at hand-off, before the batch goes into the source: every order it causes is
        // journaled durably after this note, which makes the note durable too (at most once). An
        // append that throws fails the hand-off before anything was pushed, so the poller's retry
        // does not push the batch twice
        this.journalWatermark(provider!.name, watermark);
        this.noticeFresh(signals);
        this.source.push(signals);
      },
      // resolving starts before the signal is dispatched, for tickers with a fresh signal (noticeFresh)
      onNewSymbols: (symbols) => {
        if (m.mode !== 'static') for (const sym of symbols) this.unnoticed.add(sym);
      },
      onError: (error, failures) => {
        o.logger.warn('signal poll failed', { error: error.message, failures });
        if (failures === 1) o.note({ signals: 'poll failed', error: error.message });
      },
    });
  }

  /** Opens the signals provider of the config and composes the universe on the kernel (before run) */
  static async create(o: UniverseRunnerOptions): Promise<UniverseRunner> {
    const s = o.config.signals;
    if (s === undefined) {
      if (o.config.universe.mode !== 'static') throw new ConfigError('monger run', ['signals: required with a signal-driven universe']);
      return new UniverseRunner(o, undefined, []);
    }
    const { provider, stores } = await openSignalProvider(s, o);
    return new UniverseRunner(o, provider, stores);
  }

  start(): void {
    // a new run's starting point: a crash before its first batch resumes from here, not from the restart
    if (this.poller !== undefined && this.provider !== undefined) this.journalWatermark(this.provider.name, this.poller.watermark);
    this.poller?.start();
  }

  /**
   * IB's positions outside the runner (adoption-policy.ts externalHoldings): the start's
   * reconciliation after adoption, then each later one (reconnect, missing fills) replaces the set.
   * A holding bought by hand while the session stays connected is seen only at the next
   * reconciliation or restart. A ticker already refused stays `invalid` for the run.
   */
  setExternalPositions(positions: ReadonlyMap<string, number>): void {
    this.external = new Map(positions);
    if (positions.size > 0) this.o.logger.info('universe: tickers held outside the runner are not activated for signals', { positions: Object.fromEntries(positions) });
    this.openExternalGate();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.openExternalGate();
    for (const h of this.lineWaits.values()) this.o.scheduler.clearTimeout(h);
    this.lineWaits.clear();
    this.poller?.stop();
    const closable = this.provider as Partial<{ close(): Promise<void> }> | undefined;
    if (typeof closable?.close === 'function') await closable.close();
    for (const st of this.stores.splice(0)) st.close();
  }

  // ---- the control API's operations -----------------------------------------------------------

  /** Adds a symbol by hand (kept until removed); `wait: false` returns once accepted (resolving) */
  async add(symbol: string, wait = true): Promise<UniverseEntryView> {
    const done = this.universe.manager.add(symbol);
    if (wait) return done;
    // a refusal that is known at once (duplicate, malformed) still throws
    const early = await Promise.race([done, new Promise<undefined>((r) => setImmediate(() => r(undefined)))]);
    done.catch(() => undefined);
    return early ?? this.universe.manager.entry(symbol) ?? { symbol, instrument: undefined, state: 'pending', origin: 'added', pinned: true, lastSignalAt: -Infinity, lastValue: NaN, reason: undefined, activations: 0, delivered: 0 };
  }

  remove(symbol: string, immediate: boolean, flatten?: RemovalFlatten): UniverseEntryView {
    // the policy goes into the `retiring` state note (a resumed run removes the symbol again with it)
    if (flatten !== undefined) this.removing.set(symbol, flatten);
    try {
      return this.universe.manager.remove(symbol, immediate ? 'immediate' : 'graceful', flatten !== undefined ? { flatten } : {});
    } finally {
      this.removing.delete(symbol);
    }
  }

  /**
   * The instrument spec of a position the run holds or adopts before the universe starts (resume-run.ts
   * `resolve`): the universe's instruments are in IbMarketData only once activated, so it is added
   * (contract resolved, no stream) here. A static universe takes only its configured symbols and the
   * members the journal names; other positions stay external. A new run of a signal-driven universe
   * under `adoptPositions: journal` refuses what its scope does not name (PositionNotAdoptedError).
   */
  async resolveHeld(instrument: string): Promise<InstrumentSpec> {
    const u = this.o.config.universe;
    const journaled = this.o.resume?.members.has(instrument) === true;
    if (u.mode === 'static' && !this.configured.includes(instrument) && !journaled) return this.o.marketData.resolve(instrument);
    const scope = this.o.adoptable;
    if (u.mode !== 'static' && this.o.resume === undefined && scope !== undefined && !scope.instruments.has(instrument)) throw new PositionNotAdoptedError(notAdoptedReason(scope, instrument));
    const [spec] = universeInstruments({ ...u, symbols: [instrument] });
    return this.o.marketData.addInstrument(spec!);
  }

  /** Resolves the instruments of a resumed run's positions and orders before the kernel restores them; returns those that failed */
  async registerHeld(instruments: readonly string[]): Promise<string[]> {
    const failed: string[] = [];
    await Promise.all(
      instruments.map((i) =>
        this.resolveHeld(i).catch((e: unknown) => {
          failed.push(i);
          this.o.logger.warn('cannot resolve a held instrument', { instrument: i, error: e instanceof Error ? e.message : String(e) });
        }),
      ),
    );
    return failed.sort();
  }

  status(): UniverseStatus {
    return this.universe.manager.status();
  }

  /** What `monger symbol list` shows: every symbol's state, its streams, position and working orders */
  list(): ControlList {
    const st = this.status();
    const streams = new Map(this.o.marketData.status().instruments.map((i) => [i.instrument, i.streams]));
    const k = this.o.kernel;
    return {
      mode: st.mode,
      lines: { budget: st.lines.budget, used: st.lines.used, peak: this.lines.peak },
      waiting: st.waiting.map((w) => ({ symbol: w.symbol, reason: w.reason })),
      symbols: st.entries.map((e) => ({
        ...e,
        streams: e.instrument !== undefined ? streams.get(e.instrument) : undefined,
        position: e.instrument !== undefined && k.instruments.indexOf(e.instrument) !== undefined ? k.portfolio.position(e.instrument) : 0,
        workingOrders: e.instrument !== undefined ? k.orders.working(undefined, e.instrument).length : 0,
      })),
    };
  }

  summary(): UniverseSummary {
    return this.stats.summary(this.status(), this.lines, this.poller?.delivered ?? 0);
  }

  /** Real ms from first signal to trader ready, per activation (bench) */
  readyLatencies(): readonly number[] {
    return this.stats.readyLatencies();
  }

  // ---- ports ----------------------------------------------------------------------------------

  private get configured(): string[] {
    return this.o.config.universe.mode === 'dynamic' ? [] : [...this.o.config.universe.symbols];
  }

  private startWatermark(provider: SignalProvider): SignalWatermark {
    const journaled = this.o.resume?.watermarks.get(provider.name);
    if (journaled !== undefined) {
      this.journaledWatermark = JSON.stringify(journaled);
      this.o.logger.info('signals: resuming from the journaled watermark', { provider: provider.name, watermark: journaled });
      return journaled;
    }
    if (this.o.resume !== undefined) this.o.logger.warn('signals: no watermark in the journal of the resumed run, polling from now', { provider: provider.name });
    return watermarkAt(this.o.clock.now());
  }

  private journalWatermark(provider: string, watermark: SignalWatermark): void {
    const json = JSON.stringify(watermark);
    if (json === this.journaledWatermark) return;
    this.o.note({ ...watermarkNote(provider, watermark) });
    // only once written: an append that threw is tried again with the batch
    this.journaledWatermark = json;
  }

  /**
   * New tickers of a batch start resolving before their signals are dispatched, if one of their
   * signals in it is fresh: a stale one is dropped by the universe and would only take lines
   */
  private noticeFresh(signals: readonly Signal[]): void {
    if (this.unnoticed.size === 0) return;
    const m = this.universe.manager;
    const now = this.o.kernel.now();
    const fresh: string[] = [];
    for (const s of signals) {
      if (!this.unnoticed.has(s.symbol) || now - s.availableAt > this.maxSignalAgeMs) continue;
      this.unnoticed.delete(s.symbol);
      fresh.push(s.symbol);
      // the readiness clock starts with the resolution
      if (!this.stats.isClockRunning(s.symbol) && m.entry(s.symbol) === undefined) this.stats.startReadyClock(s.symbol);
    }
    // the others were seen only in stale signals: a later fresh signal activates them as usual
    this.unnoticed.clear();
    if (fresh.length > 0) m.notice(fresh);
  }

  /** A symbol holding a position or working orders waits for a line: an alert once it has waited a minute (no data: no exits, orders unwatched) */
  private watchLineWait(symbol: string, alert: (payload: Record<string, unknown>) => void): void {
    const k = this.o.kernel;
    const position = () => (k.instruments.indexOf(symbol) !== undefined ? k.portfolio.position(symbol) : 0);
    const orders = () => k.orders.working(undefined, symbol).length;
    const held = () => position() !== 0 || orders() > 0;
    if (this.stopped || !held() || this.lineWaits.has(symbol)) return;
    const since = k.now();
    this.lineWaits.set(
      symbol,
      this.o.scheduler.setTimeout(() => {
        this.lineWaits.delete(symbol);
        const e = this.universe.manager.entry(symbol);
        if (this.stopped || e?.state !== 'waiting-for-line' || !held()) return;
        const [pos, workingOrders] = [position(), orders()];
        const waitedMs = k.now() - since;
        const holds = [pos !== 0 ? `a position of ${pos}` : '', workingOrders > 0 ? `${workingOrders} working order(s)` : ''].filter((x) => x !== '').join(' and ');
        alert({ level: 'critical', kind: 'universe-line-wait', symbol, position: pos, workingOrders, waitedMs, message: `${symbol} holds ${holds} and has waited ${Math.round(waitedMs / 1000)} s for a market-data line: no data, no exits (${e.reason ?? 'line budget used up'})` });
      }, LINE_WAIT_ALERT_MS),
    );
  }

  private onSignal(signal: Signal): void {
    this.stats.sawSignal(signal.symbol);
    const e = this.universe.manager.entry(signal.symbol);
    // a ticker without a trader: the clock for "first signal -> trader ready" starts now, if the
    // signal is fresh (the universe drops a stale one: it activates nothing)
    const fresh = this.o.kernel.now() - signal.availableAt <= this.maxSignalAgeMs;
    if (fresh && (e === undefined || e.state === 'retired')) this.stats.startReadyClock(signal.symbol);
    this.universe.onSignal(signal);
  }

  private async resolve(symbol: string): Promise<ResolveOutcome> {
    const refused = await this.heldOutside(symbol);
    if (refused !== undefined) return refused;
    const [instrument] = universeInstruments({ ...this.o.config.universe, symbols: [symbol] });
    try {
      await this.o.marketData.addInstrument(instrument!);
      return { status: 'ok', instrument: symbol };
    } catch (e) {
      if (e instanceof ContractNotFoundError) return { status: 'invalid', reason: e.message };
      return { status: 'failed', reason: e instanceof Error ? e.message : String(e) };
    }
  }

  /** A signal's ticker IB holds outside the runner: invalid (its signals skipped), alerted once */
  private async heldOutside(symbol: string): Promise<ResolveOutcome | undefined> {
    // configured (static) and added symbols are the operator's choice
    if (this.universe.manager.entry(symbol)?.origin !== 'signal') return undefined;
    await this.externalGate;
    const quantity = this.external.get(symbol);
    const k = this.o.kernel;
    // the engine's own position (adopted, or traded this run) is never external
    if (quantity === undefined || (k.instruments.indexOf(symbol) !== undefined && k.portfolio.position(symbol) !== 0)) return undefined;
    const reason = heldOutsideReason(symbol, quantity, this.o.config.universe.adoptPositions ?? 'journal');
    if (!this.externalAlerted.has(symbol)) {
      this.externalAlerted.add(symbol);
      this.o.logger.warn('universe: a signal for a ticker held outside the runner is skipped', { symbol, quantity });
      this.alert({ level: 'warning', kind: 'signal-for-external-position', symbol, broker: quantity, message: reason });
    }
    return { status: 'invalid', reason };
  }
}

/** A symbol holding a position that waits this long for a line is an alert */
const LINE_WAIT_ALERT_MS = 60_000;

/**
 * A flattening removal in the runner goes through the supervisor: it owns the RiskEngine's halts
 * (an instrument halt with source `removal`, lifted when the symbol is active again) and its closer
 * cancels the instrument's orders and sends one closing market order down the IB order path.
 */
export function removalHooks(supervisor: {
  haltInstrument(instrument: string, source: string, detail?: string): void;
  resumeInstrument(instrument: string, source: string): void;
  closeInstrument(instrument: string, source: string, reason: string): void;
}): RemovalHooks {
  return {
    stopEntries: (instrument, reason) => supervisor.haltInstrument(instrument, SOURCES.removal, reason),
    resumeEntries: (instrument) => supervisor.resumeInstrument(instrument, SOURCES.removal),
    close: (instrument, reason) => supervisor.closeInstrument(instrument, SOURCES.removal, reason),
  };
}
