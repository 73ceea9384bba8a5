import { ConfigError, InvariantError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { BarKind, Interval } from '../data/interval.js';
import type { ExecutionReport, Fill, OrderEvent } from '../model/order-events.js';
import type { BracketRequest, Order, OrderChanges, OrderRequest } from '../model/orders.js';
import { Cache, type SubscriptionSlot } from './cache.js';
import type { Clock } from './clock.js';
import { SimulatedClock } from './clock.js';
import { SourceQueue, type EventSource } from './event-source.js';
import type { HistoryWindow } from './history-window.js';
import { InstrumentRegistry } from './instrument-registry.js';
import type { AddStrategyOptions, KernelConfig, RunObserver } from './kernel-config.js';
import { HeldWork } from './kernel-holds.js';
import { restoreKernelState, type KernelRestore } from './kernel-restore.js';
import { KernelSubscriptions } from './kernel-subscriptions.js';
import { LiveFeed } from './live-feed.js';
import { MessageBus } from './message-bus.js';
import { OrderManager } from './order-manager.js';
import { isMarketDrivenVenue, type DataClient, type ExecutionClient, type MarketDrivenVenue } from './ports.js';
import { Portfolio } from './portfolio.js';
import { RiskEngine } from './risk-engine.js';
import type { RoutedSignal } from '../signals/signal.js';
import type { BarSubscription, Environment, StrategyDefinition, UnsubscribeMode } from './strategy.js';
import { validateStrategyParams } from './strategy-params.js';
import { StrategyRuntime, type KernelServices } from './strategy-runtime.js';
import { TimerQueue } from './timers.js';
import { noTradingRules, TradingDesk } from '../trading/trading-desk.js';
import { tradingDayEnd, tradingDayOf } from './trading-day.js';

export type { AddStrategyOptions, KernelConfig, RunObserver } from './kernel-config.js';
export type { KernelRestore } from './kernel-restore.js';

/**
 * The one composition root: clock, bus, cache, portfolio, risk, order management, strategies,
 * wired to a data client and an execution client. Backtest, replay, paper and live differ only in
 * the clock and the two clients passed in. Bar subscriptions live in kernel-subscriptions.ts, held
 * work in kernel-holds.ts, the restore of a resumed run in kernel-restore.ts.
 */
export class Kernel implements KernelServices {
  readonly environment: Environment;
  readonly clock: Clock;
  readonly bus = new MessageBus();
  readonly instruments = new InstrumentRegistry();
  readonly cache = new Cache();
  readonly portfolio: Portfolio;
  readonly risk: RiskEngine;
  readonly orders: OrderManager;
  readonly log: Logger;
  /** The trading rules' desk (`KernelConfig.trading`), undefined without rules */
  readonly trading: TradingDesk | undefined;
  private readonly data: DataClient;
  private readonly venue: ExecutionClient;
  private readonly marketVenue: MarketDrivenVenue | undefined;
  private readonly queue = new SourceQueue();
  /** Live mode when set: the run waits for pushed data instead of ending when sources run dry */
  private readonly feed: LiveFeed | undefined;
  private readonly timers = new TimerQueue();
  private readonly strategies: StrategyRuntime[] = [];
  private readonly strategyById = new Map<string, StrategyRuntime>();
  private readonly observers: RunObserver[] = [];
  /** Bar subscriptions: attaching, draining, removing */
  private readonly subscriptions: KernelSubscriptions;
  /** Async work the run waits for before its next event (pull-driven runs; see hold()) */
  private readonly held = new HeldWork();
  /** Push sources whose nextTime changed outside the run (see sourceChanged()) */
  private readonly changedSources: { source: EventSource; refresh: (() => void) | undefined }[] = [];
  /** addSource() before run(): loaded (refill) and merged when the run starts */
  private readonly addedSources: EventSource[] = [];
  private readonly reports: ExecutionReport[] = [];
  private readonly events: OrderEvent[] = [];
  private readonly fills: Fill[] = [];
  private draining = false;
  private started = false;
  private stopped = false;
  private stopRequested = false;
  /** Inside the run's synchronous processing: venue reports queue and drain after the current handler */
  private busy = false;
  /** An event was dispatched at lastEventTime and equity was not sampled since */
  private unsampled = false;
  private lastEventTime = -Infinity;
  private day = NaN;
  private dayEnd = -Infinity;
  private publishBars = false;
  /** Events dispatched (bars) */
  eventCount = 0;

  constructor(private readonly config: KernelConfig) {
    if ((config.environment === 'backtest') !== (config.clock.kind === 'simulated') && config.environment !== 'replay') {
      throw new ConfigError('kernel', [`environment '${config.environment}' cannot run on a ${config.clock.kind} clock`]);
    }
    this.environment = config.environment;
    this.clock = config.clock;
    this.log = config.logger ?? silentLogger;
    this.data = config.dataClient;
    this.venue = config.executionClient;
    this.marketVenue = isMarketDrivenVenue(this.venue) ? this.venue : undefined;
    this.feed = config.liveFeed ?? (config.clock.kind === 'wall' ? new LiveFeed({ clock: config.clock }) : undefined);
    if (this.feed !== undefined && this.feed.clock !== config.clock) throw new ConfigError('kernel', ['liveFeed: must be built on the kernel clock']);
    this.portfolio = new Portfolio(config.startingCash, this.instruments);
    this.risk = new RiskEngine(config.risk ?? {}, this.portfolio);
    this.orders = new OrderManager(this.instruments, this.portfolio, this.risk, this.venue, {
      onEvent: (e) => {
        // journal and results hear it at once (before the venue acts); strategies after the handler returns
        this.bus.publish('order.event', e);
        this.events.push(e);
      },
      onFill: (f) => {
        this.bus.publish('order.fill', f);
        this.fills.push(f);
      },
    }, { clientOrderIdPrefix: config.clientOrderIdPrefix });
    // position limits judge the worst case of working orders too (risk-engine.ts)
    this.risk.setWorkingOrders((key) => this.orders.working(undefined, key));
    this.subscriptions = new KernelSubscriptions({
      clock: this.clock,
      data: this.data,
      instruments: this.instruments,
      portfolio: this.portfolio,
      cache: this.cache,
      bus: this.bus,
      orders: this.orders,
      queue: this.queue,
      feed: this.feed,
      onBar: (slot) => this.onBar(slot),
    });
    this.venue.attach((r) => {
      this.reports.push(r);
      // a report from outside the run's processing (a live venue's network callback while the
      // kernel waits) is applied at once; one caused by a handler is applied after it returns
      if (!this.draining && this.started && !this.busy) this.drain();
    });
    // last: the desk registers its internal strategy on the finished kernel
    this.trading = config.trading === undefined ? undefined : new TradingDesk(this, { ...config.trading, allowShort: config.trading.allowShort ?? config.risk?.allowShort });
  }

  addObserver(o: RunObserver): void {
    this.observers.push(o);
  }

  /** Adds a strategy: params are validated by its schema (a ConfigError lists every problem) */
  addStrategy(definition: StrategyDefinition, options: AddStrategyOptions = {}): StrategyRuntime {
    const id = options.id ?? definition.name;
    if (this.strategyById.has(id)) throw new ConfigError('kernel', [`strategy id '${id}' is already used`]);
    const params = validateStrategyParams(definition, options.params ?? {});
    const runtime = new StrategyRuntime(id, definition, params, this, this.log, this.config.seed ?? 0, options.state);
    this.strategies.push(runtime);
    this.strategyById.set(id, runtime);
    for (const s of options.subscriptions ?? []) this.subscriptions.pending.push({ runtime, subscription: s });
    return runtime;
  }

  now(): number {
    return this.clock.now();
  }

  /**
   * Before run(), for a resumed live run: registers the instruments named, sets positions and cash,
   * adopts orders (see OrderManager.adopt). Instruments the data client cannot resolve are skipped
   * and listed in `unresolved`. May be called again before run() (broker truth after reconciling).
   */
  async restore(state: KernelRestore): Promise<{ orders: Order[]; unresolved: string[] }> {
    if (this.started) throw new InvariantError('kernel.restore() after run()');
    return restoreKernelState({ instruments: this.instruments, portfolio: this.portfolio, orders: this.orders, data: this.data }, state);
  }

  /**
   * Before run(): applies the execution reports received so far (fills a reconciliation recovered for
   * adopted orders) to orders and portfolio now; strategies hear the events after their onStart.
   */
  applyPendingReports(): void {
    if (this.started) return;
    while (this.reports.length > 0) this.orders.apply(this.reports.shift()!);
  }

  /** The live feed producers push through (paper, live, paced replay); undefined for a pull-only kernel */
  get liveFeed(): LiveFeed | undefined {
    return this.feed;
  }

  /**
   * Runs the session. Pull-driven (no live feed: backtest, accelerated replay of stored data): merges
   * every source in time order until all are exhausted or `until` is reached. Live (a live feed: every
   * wall-clock kernel has one): also merges pushed bars as they arrive, moves time to the clock's now
   * whenever it waits (timers due by now fire, the trading day rolls), and ends only on
   * `requestStop()` or once `until` has passed. Then stops the strategies.
   */
  async run(until = Infinity): Promise<void> {
    if (this.started) throw new InvariantError('kernel.run() called twice');
    this.publishBars = this.bus.hasSubscribers('data.bar');
    if (this.feed !== undefined) {
      this.feed.setWakeDeadline(() => Math.min(this.timers.nextTime(), until));
      this.queue.push(this.feed);
    }
    await this.subscriptions.flush();
    for (const s of this.addedSources.splice(0)) {
      if (s.needsRefill) await s.refill();
      this.queue.push(s);
    }
    this.started = true;
    this.busy = true;
    for (const s of this.strategies) s.handlers.onStart?.();
    this.drain();
    for (;;) {
      const blocked = this.step(until);
      if (blocked === undefined) break;
      this.busy = false;
      await blocked;
      this.busy = true;
    }
    this.busy = false;
    this.stop();
  }

  /**
   * Asks the run to end: live bars already received are processed (nothing more is pulled), then
   * the strategies stop and `run()` resolves. Safe from any callback, also before `run()`.
   */
  requestStop(): void {
    this.stopRequested = true;
    this.feed?.wake();
  }

  /** Processes events synchronously until done (undefined) or until something must be awaited */
  private step(until: number): Promise<void> | undefined {
    const queue = this.queue;
    const feed = this.feed;
    const subscriptions = this.subscriptions;
    for (;;) {
      if (subscriptions.pending.length > 0) return subscriptions.flush();
      // a hold may have failed while we awaited something else (a subscription): held.size is 0 then
      this.held.throwError();
      if (this.held.size > 0) return this.held.wait(subscriptions);
      if (this.changedSources.length > 0) {
        for (const c of this.changedSources.splice(0)) {
          c.refresh?.();
          queue.update(c.source);
        }
      }
      const src = queue.peek();
      if (src === undefined) break;
      const live = feed !== undefined && src === feed;
      if (this.stopRequested && !live) break;
      if (src.needsRefill) {
        // a pull source out of loaded data, or live bars pushed while the kernel was busy elsewhere
        if (!live || feed.buffered > 0) return src.refill().then(() => queue.update(src));
        // live, nothing buffered: time moves to now (timers due by now fire, the day rolls), then
        // wait for a push, the next timer or the heartbeat
        const now = Math.min(this.clock.now(), until);
        if (now >= this.lastEventTime) this.advanceTo(now, true);
        if (subscriptions.removals.length > 0) subscriptions.applyRemovals();
        if (subscriptions.pending.length > 0 || feed.buffered > 0 || this.changedSources.length > 0) continue;
        if (this.stopRequested || now >= until) break;
        return src.refill().then(() => queue.update(src));
      }
      const t = src.nextTime;
      if (t > until || t === Infinity) break;
      // a timer due before t fires alone first: work it holds (a universe activation) completes at
      // the timer's time, before the next event, as work held by an event does
      if (t > this.lastEventTime && this.fireDueTimer(t)) continue;
      // live bars may arrive after time moved past their close: they never move time back
      if (t > this.lastEventTime) this.advanceTo(t);
      src.dispatch();
      this.eventCount++;
      this.unsampled = true;
      if (this.reports.length > 0 || this.events.length > 0) this.drain();
      if (subscriptions.removals.length > 0) subscriptions.applyRemovals();
      else queue.updateTop();
      // a pull source out of loaded data has nextTime Infinity: refilled now, before anything later,
      // or it would sink in the heap and its remaining events would come late or never
      if (!live && src.needsRefill) return src.refill().then(() => queue.update(src));
    }
    // a pull-driven run ends at its last event: timers due by then fire, later ones do not
    if (this.lastEventTime > -Infinity) this.advanceTo(this.lastEventTime, true);
    return undefined;
  }

  /** Moves time to `t`: fires earlier timers, closes trading days, samples equity */
  private advanceTo(t: number, inclusive = false): void {
    while (this.fireDueTimer(t, inclusive));
    if (this.unsampled && t > this.lastEventTime) this.sampleEquity(this.lastEventTime);
    this.moveClock(t);
  }

  /** Fires the next timer due before `t` (at `t` too when inclusive), if any: true when one fired */
  private fireDueTimer(t: number, inclusive = false): boolean {
    const timerAt = this.timers.nextTime();
    if (!(inclusive ? timerAt <= t : timerAt < t)) return false;
    // the equity of the last event is sampled before time moves on
    if (this.unsampled && t > this.lastEventTime) this.sampleEquity(this.lastEventTime);
    this.moveClock(timerAt);
    const timer = this.timers.pop()!;
    const runtime = this.strategyById.get(timer.strategyId);
    this.bus.publish('engine.timer', { name: timer.name, strategyId: timer.strategyId, ts: timerAt });
    runtime?.handlers.onTimer?.(timer.name, timerAt);
    this.drain();
    this.sampleEquity(timerAt);
    return true;
  }

  private moveClock(t: number): void {
    if (t >= this.dayEnd) this.rollDay(t);
    if (this.clock instanceof SimulatedClock) this.clock.advanceTo(t);
    if (t > this.lastEventTime) this.lastEventTime = t;
    this.marketVenue?.onTime(t);
    if (this.reports.length > 0) this.drain();
  }

  private rollDay(t: number): void {
    if (!Number.isNaN(this.day)) for (const o of this.observers) o.onDayEnd?.(this.day);
    this.day = tradingDayOf(t);
    this.dayEnd = tradingDayEnd(this.day);
  }

  private sampleEquity(ts: number): void {
    this.unsampled = false;
    if (this.observers.length === 0) return;
    const e = this.portfolio.equity();
    for (const o of this.observers) o.onEquity?.(ts, e);
  }

  /** Ends the run: strategies' onStop, final samples. Idempotent */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    const busy = this.busy;
    this.busy = true;
    for (const s of this.strategies) s.handlers.onStop?.();
    this.drain();
    this.busy = busy;
    if (this.lastEventTime > -Infinity) {
      this.sampleEquity(this.lastEventTime);
      for (const o of this.observers) o.onDayEnd?.(this.day);
    }
    for (const slot of this.cache.allSlots()) slot.source?.close();
    this.feed?.close();
  }

  /** Applies venue reports and delivers order events until both queues are empty */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (;;) {
        if (this.reports.length > 0) {
          this.orders.apply(this.reports.shift()!);
          continue;
        }
        if (this.events.length > 0) {
          const e = this.events.shift()!;
          const runtime = this.strategyById.get(e.order.strategyId);
          runtime?.handlers.onOrderEvent?.(e);
          if (e.fill !== undefined) runtime?.handlers.onFill?.(e.fill);
          continue;
        }
        break;
      }
      this.fills.length = 0;
    } finally {
      this.draining = false;
    }
  }

  // ---- bars -------------------------------------------------------------------------------

  private onBar(slot: SubscriptionSlot): void {
    const bar = slot.bar;
    this.marketVenue?.onBar(bar);
    // fills this bar caused happened inside it: settle them before anyone sees its close
    if (this.reports.length > 0) this.drain();
    if (bar.kind === 'trade' || bar.kind === 'mid') this.portfolio.mark(bar.instrumentIndex, bar.close);
    slot.window.push(bar.ts, bar.open, bar.high, bar.low, bar.close, bar.volume);
    if (this.publishBars) this.bus.publish('data.bar', bar);
    const listeners = slot.listeners;
    for (let i = 0; i < listeners.length; i++) listeners[i]!.handlers.onBar?.(bar);
    if (slot.draining.length > 0) {
      // fills from this bar settle first, so a position closed on it counts as flat
      this.drain();
      this.subscriptions.checkDraining(slot);
    }
  }

  // ---- KernelServices (what strategy contexts call) ----------------------------------------

  history(instrument: string, interval: Interval | undefined, kind: BarKind | undefined): HistoryWindow {
    const slots = this.cache.slotsOf(instrument).filter((s) => (interval === undefined || s.subscription.interval === interval) && (kind === undefined || s.subscription.kind === kind));
    const slot = slots[0];
    if (slot === undefined) throw new InvariantError(`no subscription for ${instrument}${interval ? ' ' + interval : ''}${kind ? ' ' + kind : ''}: subscribe first`);
    return slot.window;
  }

  instrumentsOf(runtime: StrategyRuntime): string[] {
    const out: string[] = [];
    for (const slot of this.cache.allSlots()) {
      const i = slot.subscription.instrument;
      if ((slot.listeners.includes(runtime) || slot.draining.includes(runtime)) && !out.includes(i)) out.push(i);
    }
    return out;
  }

  instrumentIndex(instrument: string): number {
    return this.instruments.require(instrument);
  }

  submit(runtime: StrategyRuntime, request: OrderRequest): Readonly<Order> {
    return this.orders.submit(request, runtime.id, this.clock.now());
  }

  signal(runtime: StrategyRuntime, instrument: string, value: number): void {
    if (this.trading === undefined) throw noTradingRules(runtime.id);
    this.trading.signal(runtime, instrument, value);
  }

  submitBracket(runtime: StrategyRuntime, request: BracketRequest): { entry: Readonly<Order>; takeProfit: Readonly<Order>; stopLoss: Readonly<Order> } {
    return this.orders.submitBracket(request, runtime.id, this.clock.now());
  }

  modify(runtime: StrategyRuntime, id: number, changes: OrderChanges): void {
    if (this.orders.get(id)?.strategyId !== runtime.id) return;
    this.orders.modify(id, changes, this.clock.now());
  }

  cancel(runtime: StrategyRuntime, id: number): void {
    if (this.orders.get(id)?.strategyId !== runtime.id) return;
    this.orders.cancel(id, this.clock.now());
  }

  openOrders(runtime: StrategyRuntime, instrument: string | undefined): Readonly<Order>[] {
    return this.orders.working(runtime.id, instrument);
  }

  subscribe(runtime: StrategyRuntime, subscription: BarSubscription): void {
    this.subscriptions.pending.push({ runtime, subscription });
    this.held.notify();
    this.wakeLive();
  }

  /**
   * Subscribes for `runtime` (as its ctx.subscribe) and resolves once the subscription is attached:
   * history up to now loaded, its source merged. An attach error rejects the promise and does not
   * end the run (the universe records the symbol as invalid).
   */
  attachSubscription(runtime: StrategyRuntime, subscription: BarSubscription): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.subscriptions.pending.push({ runtime, subscription, settle: (error, failed) => (failed ? reject(error) : resolve()) });
      this.held.notify();
      this.wakeLive();
    });
  }

  /**
   * Pull-driven runs (backtests, accelerated replay) process no later event until `work` settles, so
   * async work a handler starts (the universe resolving and subscribing a new symbol) completes at
   * the handler's simulated time, deterministically; subscriptions it requests meanwhile are attached
   * at once. A rejection ends the run with its error. Live runs do not wait (the work completes when
   * it does, as it would in reality); a rejection is logged.
   */
  hold(work: Promise<unknown>): void {
    if (this.feed !== undefined) {
      work.catch((e: unknown) => this.log.error('held work failed', { error: e instanceof Error ? e.message : String(e) }));
      return;
    }
    this.held.add(work);
  }

  /** Merges another time-ordered source with the bars (a signal stream), before run(); it dispatches its own events */
  addSource(source: EventSource): void {
    if (this.started) throw new InvariantError('kernel.addSource() after run()');
    this.addedSources.push(source);
  }

  /**
   * A merged push source got events outside the run (a live signal arrived): at the next turn the
   * kernel calls `refresh` (the source recomputes nextTime then, never while the heap holds the old
   * value) and re-orders it; a waiting live kernel wakes.
   */
  sourceChanged(source: EventSource, refresh?: () => void): void {
    this.changedSources.push({ source, refresh });
    this.wakeLive();
  }

  /** Hands a signal to the strategies' onSignal (one strategy when given) and settles what they did */
  deliverSignal(signal: Readonly<RoutedSignal>, runtime?: StrategyRuntime): void {
    const busy = this.busy;
    this.busy = true;
    try {
      if (runtime !== undefined) runtime.handlers.onSignal?.(signal);
      else for (const s of this.strategies) s.handlers.onSignal?.(signal);
    } finally {
      this.busy = busy;
    }
    if (this.reports.length > 0 || this.events.length > 0) this.drain();
  }

  unsubscribe(runtime: StrategyRuntime, instrument: string, mode: UnsubscribeMode): void {
    this.subscriptions.unsubscribe(runtime, instrument, mode);
    if (!this.draining) this.drain();
    this.wakeLive();
  }

  setTimer(runtime: StrategyRuntime, name: string, at: number, everyMs: number): void {
    this.timers.set(runtime.id, name, at, everyMs);
    this.wakeLive();
  }

  /** A change made from outside the run's processing (the runner adding a symbol) is acted on now, not at the next heartbeat */
  private wakeLive(): void {
    if (this.started && !this.busy) this.feed?.wake();
  }

  cancelTimer(runtime: StrategyRuntime, name: string): void {
    this.timers.cancel(runtime.id, name);
  }

  /** Read-only list of strategies (results, journal) */
  strategyList(): readonly StrategyRuntime[] {
    return this.strategies;
  }

  /** Sources still merged (diagnostics) */
  activeSources(): EventSource[] {
    return this.cache.allSlots().flatMap((s) => (s.source ? [s.source] : []));
  }
}
