/**
 * The live runner: one composition of the same kernel and strategy code as the backtest with the
 * IB clients of the client layer. For `replay` it first starts the TWS simulator on stored data
 * (accelerated), so the whole runner can be rehearsed offline; `paper` and `live` connect to TWS or
 * IB Gateway. Order of start-up:
 *   journal → (simulator) → IB session → contracts → market data (warm start, lines) →
 *   execution client (reconciliation) → kernel + supervisor + journal observer → health → run.
 * Every new order is journaled durably (`order_intent`) before it is sent; fills, order events and
 * snapshots are journaled by the observer; halts, alerts and reconciliations as they happen.
 *
 * Restart. The journal run to continue is chosen by run-resume.ts (an unfinished run of the same
 * strategy, mode and config is resumed; `--resume` / `--new-run` override). A resumed run recovers
 * before the strategy sees any data (resume-run.ts): strategy state from the last snapshot, orders
 * the journal left unconfirmed or open adopted and looked up at IB by orderRef (never sent again),
 * positions and cash from IB, sticky halts and the loss baseline for the supervisor. A new run adopts
 * IB's positions in the universe (resume-run.ts adoptBrokerPositions). A signal-driven universe polls
 * on from its journaled watermark and brings its members back at the start (universe-resume.ts). Each process gets its own
 * client order id prefix, so a new decision never reuses an orderRef IB already has.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../../lib/core/errors.js';
import type { Logger } from '../../lib/core/logger.js';
import type { Clock } from '../../lib/engine/clock.js';
import { WallClock } from '../../lib/engine/clock.js';
import { Kernel } from '../../lib/engine/kernel.js';
import { LiveFeed, type Scheduler } from '../../lib/engine/live-feed.js';
import { ContractResolver } from '../../lib/ib/contract-resolver.js';
import { IbSession } from '../../lib/ib/ib-session.js';
import { importFiles } from '../../lib/ingest/import-files.js';
import { Journal } from '../../lib/journal/journal.js';
import { JournalObserver } from '../../lib/journal/journal-observer.js';
import { PromotionError } from '../../lib/promotion/errors.js';
import type { StrategyProvenance } from '../../lib/promotion/load-strategy.js';
import { recover, type Recovery } from '../../lib/journal/recovery.js';
import { Store } from '../../lib/store/store.js';
import { TRADING_RULES_ID, TRADING_RULES_VERSION } from '../../lib/trading/trading-desk.js';
import type { StrategyDefinition } from '../../lib/engine/strategy.js';
import { STRATEGIES } from '../../strategies/index.js';
import { parseCommissionModel } from '../../lib/backtest/commission.js';
import { simFeatures } from '../tws-sim/features.js';
import { TwsSimulator } from '../tws-sim/server.js';
import { replayClock } from '../tws-sim/sim-clock.js';
import type { SimClock, SimFeature } from '../tws-sim/types.js';
import { currentTimeSamples } from './broker-queries.js';
import { startingCash } from './account-summary.js';
import { tradingRules, type RunnerConfig } from './config.js';
import { HealthMonitor } from './health.js';
import { IbExecutionClient } from './ib-execution-client.js';
import { IbMarketData, universeInstruments } from './ib-market-data.js';
import { estimateReplayClock } from './replay-clock-sync.js';
import { adoptBrokerPositions, completeResume, ExpectedPositions, positionsBefore, prepareResume, type PreparedResume, type ResumeSummary } from './resume-run.js';
import { chooseRun, clientOrderIdPrefix, keepUnfinished, supervisorRestore } from './run-resume.js';
import { adoptionScope, externalHoldings } from './adoption-policy.js';
import type { ReconcileReport } from './execution-types.js';
import { ControlApi } from './control-api.js';
import { OperatorControl } from './supervisor-operator.js';
import { removalHooks, UniverseRunner, type UniverseSummary } from './universe-runner.js';
import { heldInstruments, readUniverseResume } from './universe-resume.js';
import type { IbSessionOptions } from '../../lib/ib/ib-session.js';
import { riskLimitsFromConfig, STICKY_SOURCES, SUPERVISOR_ID, SUPERVISOR_VERSION, supervisorOptionsFromConfig, TradingSupervisor } from './supervisor.js';

export interface RunnerOptions {
  logger: Logger;
  /** Stop after this much engine time from the start (replay: simulated time) */
  durationMs?: number;
  /** Aborting stops the run gracefully (SIGINT/SIGTERM in the CLI) */
  signal?: AbortSignal;
  /** Starting cash of the engine's portfolio (default: the broker's NetLiquidation, else TotalCashValue, else 1,000,000 with a warning) */
  startingCash?: number;
  /** Called once the simulator of a replay is up, with its features (tests inspect its account) */
  onSimulator?: (sim: TwsSimulator, features: readonly SimFeature[]) => void;
  /**
   * Replay tests and benches: IB's message pacing opened (the session's budget, the simulator's
   * 50 msg/s rule): an accelerated replay of hundreds of tickers would otherwise queue against real
   * seconds while simulated minutes pass (see test/bench/runner.bench.ts)
   */
  pacing?: { session?: Pick<IbSessionOptions, 'messagesPerSecond' | 'messageBurst' | 'maxQueuedRequests' | 'clientMaxReqPerSec'>; simulatorMaxMessagesPerSecond?: number };
  /** The signal-driven universe once composed, and the control API's address once listening (tests, benches) */
  onUniverse?: (universe: UniverseRunner) => void;
  onControl?: (address: { host: string; port: number }) => void;
  /** Builds the replay simulator's features on its store instead of `simFeatures(store)` (tests wire fault injection here) */
  simulatorFeatures?: (store: Store) => SimFeature[];
  /** Runs this strategy instead of STRATEGIES[config.strategy.name] (a promoted version; `monger parity`) */
  strategy?: StrategyDefinition;
  /**
   * Where `strategy` came from (lib/promotion loadStrategy): its version (X.Y.Z, or X.Y.Z-dev for
   * working-tree code) goes into every order reference and the journal. Live mode requires a
   * promoted release (source `tag`) and refuses anything else before opening anything.
   */
  provenance?: StrategyProvenance;
  /**
   * Replay only: who moves time (runner/parity/lock-step.ts). Its clock replaces the accelerated
   * replay clock, its scheduler the live feed's timers, and it gets the composed parts before the run.
   */
  replayDriver?: {
    readonly clock: SimClock;
    readonly scheduler: Scheduler;
    attach(parts: { kernel: Kernel; feed: LiveFeed; execution: IbExecutionClient }): void;
  };
  /** `--resume <runId>`: continue this journal run */
  resume?: string;
  /** `--new-run`: never continue an unfinished run */
  newRun?: boolean;
  /**
   * Test-only crash injection (the CLI passes $MONGER_TEST_FAULT; inert when unset):
   * `kill-after-first-intent` SIGKILLs this process once the first order intent is durable, before
   * the order is written to the socket.
   */
  testFault?: string;
}

/** The JSON summary the CLI prints as its last line. */
export interface RunSummary {
  mode: string;
  strategy: string;
  version: string;
  journal: { path: string; runId: string };
  /** Set when this process resumed an unfinished run */
  resumed?: ResumeSummary;
  /** A new run: instruments whose position the engine took over from IB at the start */
  positionsAdopted?: string[];
  orders: { total: number; filled: number; cancelled: number; rejected: number; working: number };
  fills: number;
  positions: Record<string, number>;
  equity: number;
  /** Every halt during the run (`source instrument?`), in order, and those still in force */
  halts: string[];
  haltedAtEnd: Record<string, string>;
  reconnects: number;
  alerts: number;
  stopReason: string;
  engineTime: { from: string; to: string };
  /** A signal-driven universe (universe.mode dynamic/mixed, signals, or the control API) */
  universe?: UniverseSummary;
}

/** Real timers for waits measured on a clock running `speed` times faster than real time */
function scaledScheduler(speed: number): Scheduler {
  return {
    setTimeout: (callback, ms) => setTimeout(callback, ms / speed),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
}

/** Runs until the replay data ends, `durationMs` passes, or the signal aborts; returns the summary. */
export async function runRunner(config: RunnerConfig, options: RunnerOptions): Promise<RunSummary> {
  const log = options.logger;
  const definition = options.strategy ?? STRATEGIES[config.strategy.name]!;
  if (config.mode === 'live' && options.provenance?.source !== 'tag') {
    throw new PromotionError('STRATEGY_LIVE_REFUSED', `live trading runs only a promoted release loaded from its tag (--strategy ${config.strategy.name}@X.Y.Z); ${config.strategy.name} ${options.provenance?.version ?? definition.version} is ${options.provenance ? 'working-tree code' : 'not from a tag'}`);
  }
  const version = options.provenance?.version ?? definition.version;
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (e) {
        log.warn('cleanup failed', { error: (e as Error).message });
      }
    }
  };
  let failure: unknown;
  try {
    // 1. the journal first: nothing happens that it has not heard of
    const journalStore = await Store.open(config.journal.path);
    cleanups.push(() => journalStore.close());
    const configHash = createHash('sha256').update(JSON.stringify({ ...config, source: undefined })).digest('hex');
    const choice = chooseRun(
      await Journal.list(journalStore, 100_000),
      { mode: config.mode, strategy: config.strategy.name, configHash },
      { resume: options.resume, newRun: options.newRun, autoResume: config.mode !== 'replay' || config.replay?.connect === true },
    );
    let recovery: Recovery | undefined;
    let journal: Journal;
    if (choice.action === 'resume') {
      journal = await Journal.resume(journalStore, choice.run.runId);
      recovery = await recover(journalStore, journal.runId);
      log.info('resuming journal run', { runId: journal.runId, restarts: journal.run.restarts, reason: choice.reason });
    } else {
      journal = await Journal.open(journalStore, { mode: config.mode, strategy: config.strategy.name, strategyVersion: config.strategy.version, configHash });
      log.info('new journal run', { runId: journal.runId, reason: choice.reason });
    }
    if (options.provenance !== undefined) journal.append('note', { payload: { strategy: options.provenance } });
    let stopReason = 'stopped';
    let intents = 0;
    // set once the supervisor exists (a failure before that holds no halt)
    let stickyHaltInForce = (): boolean => false;
    cleanups.push(async () => {
      // a run that failed after it may have traded stays unfinished: the next start resumes it
      if (failure !== undefined && keepUnfinished(intents, recovery, stickyHaltInForce())) {
        journal.append('note', { payload: { event: 'failed', error: failure instanceof Error ? failure.message : String(failure) } });
        await journal.flush();
        return;
      }
      await journal.close(failure !== undefined ? `failed: ${failure instanceof Error ? failure.message : String(failure)}` : stopReason);
    });
    if (recovery !== undefined && !recovery.contiguous) {
      throw new ConfigError('monger run', [`journal run '${journal.runId}' has gaps in its seq numbers (damaged journal): investigate it, or start a new run with --new-run`]);
    }

    // 2. replay: the simulator on stored data, on a clock the engine shares
    let host = config.ib.host;
    let port = config.ib.port;
    let clock: Clock = new WallClock();
    let simClock: SimClock | undefined;
    let replayStore: Store | undefined;
    if (config.mode === 'replay' && config.replay !== undefined) {
      const r = config.replay;
      simClock = options.replayDriver?.clock ?? replayClock({ start: r.fromMs, speed: r.speed });
      clock = { kind: 'wall', now: () => simClock!.now() };
      if (!r.connect) {
        const store = await Store.open(r.db);
        replayStore = store;
        cleanups.push(() => store.close());
        if (r.import?.length) await importFiles(store, r.import);
        const features = options.simulatorFeatures?.(store) ?? simFeatures(store, { fillModel: r.fillModel, commission: parseCommissionModel(r.commission), slippageBps: r.slippageBps });
        const sim = new TwsSimulator({ store, port: r.simulator.port, serverVersion: r.simulator.serverVersion, account: config.ib.account, clock: simClock!, features, logger: log, ...(options.pacing?.simulatorMaxMessagesPerSecond !== undefined ? { maxMessagesPerSecond: options.pacing.simulatorMaxMessagesPerSecond } : {}) });
        const bound = await sim.start();
        cleanups.push(() => sim.stop());
        host = '127.0.0.1';
        port = bound.port;
        options.onSimulator?.(sim, features);
        log.info('replay simulator started', { port, from: new Date(r.fromMs).toISOString(), speed: r.speed });
      }
    }
    const now = () => clock.now();

    // 3. the IB session, contracts and market data
    const session = new IbSession({ host, port: port!, clientId: config.ib.clientId!, logger: log, ...options.pacing?.session });
    let reconnects = 0;
    session.on('transition', (t) => {
      if (t.to === 'reconnecting') reconnects++;
      journal.append('note', { ts: now(), payload: { session: `${t.from}>${t.to}`, reason: t.reason } });
    });
    session.start();
    cleanups.push(() => session.stop());
    await session.ready(30_000);
    if (config.replay?.connect) {
      // a simulator started elsewhere runs its own replay clock: follow it, not one started at replay.from
      const speed = config.replay.speed;
      const samples = await currentTimeSamples(session);
      if (samples.length === 0) throw new ConfigError('monger run', [`replay.connect: the simulator at ${host}:${port} did not answer reqCurrentTime`]);
      const est = estimateReplayClock(samples, speed);
      simClock = { now: () => est.simAt + (Date.now() - est.realAt) * speed, speed };
      log.info('following the simulator clock', { now: new Date(simClock.now()).toISOString(), uncertaintyMs: est.uncertaintyMs, consistent: est.consistent, samples: samples.length });
    }
    const resolver = new ContractResolver({ session, logger: log });
    cleanups.push(() => resolver.close());

    // the supervisor exists only once the kernel does: market data reaches it through this
    let supervisor: TradingSupervisor | undefined;
    // An accelerated replay delivers data in bursts every few real hundred milliseconds, i.e. every
    // `speed` times as many simulated seconds: staleness is judged on that grain (2 real seconds)
    const staleSeconds = config.replay !== undefined ? Math.max(config.data.staleSeconds, 2 * config.replay.speed) : config.data.staleSeconds;
    const signalDriven = config.universe.mode !== 'static' || config.signals !== undefined || config.control.enabled;
    const marketData = new IbMarketData({
      session,
      resolver,
      // a signal-driven universe takes every line itself (runner/live/universe-runner.ts)
      instruments: signalDriven ? [] : universeInstruments(config.universe),
      data: { ...config.data, staleSeconds },
      now,
      logger: log,
      onStale: (instrument, since) => {
        journal.append('halt', { ts: now(), instrument, payload: { source: 'stale', since } });
        supervisor?.haltInstrument(instrument, 'stale', `no data since ${new Date(since).toISOString()}`);
      },
      onFresh: (instrument) => {
        journal.append('resume', { ts: now(), instrument, payload: { source: 'stale' } });
        supervisor?.resumeInstrument(instrument, 'stale');
      },
      onIssue: (issue) => journal.append('alert', { ts: now(), payload: issue }),
    });
    const mdStatus = await marketData.start();
    cleanups.push(() => marketData.stop());
    if (mdStatus.notSubscribed.length > 0) log.warn('instruments without market data', { notSubscribed: mdStatus.notSubscribed });

    // 4. execution: every new order journaled durably before it is sent
    let alerts = 0;
    const expected = new ExpectedPositions(recovery !== undefined ? positionsBefore(recovery) : undefined);
    // later reconciliations (reconnect, missing fills) refresh the universe's external holdings (set after adoption)
    let laterReconcile: ((report: ReconcileReport) => void) | undefined;
    const execution = new IbExecutionClient({
      session,
      contracts: resolver,
      account: config.ib.account ?? '',
      // the supervisor's closing orders (session flatten, loss limits) go to IB as well
      versions: { [definition.name]: version, [SUPERVISOR_ID]: SUPERVISOR_VERSION, [TRADING_RULES_ID]: TRADING_RULES_VERSION },
      now,
      logger: log,
      // what a restart expects IB to hold before this process's fills: the journal's positions
      // (positions taken from IB at the start are added: resume-run.ts ExpectedPositions)
      positionsBefore: expected.before,
      beforeSend: async (orderRef, order, spec) => {
        intents++;
        // everything a restart needs to adopt the order again (run-resume.ts adoptionPlan)
        await journal.appendDurable('order_intent', {
          ts: now(),
          decisionId: orderRef,
          clientOrderId: order.clientOrderId,
          instrument: spec.key,
          payload: {
            orderRef,
            strategyId: order.strategyId,
            instrument: spec.key,
            side: order.side,
            type: order.type,
            quantity: order.quantity,
            limitPrice: order.limitPrice,
            stopPrice: order.stopPrice,
            trailingAmount: order.trailingAmount,
            trailingPercent: order.trailingPercent,
            tif: order.tif,
            tag: order.tag,
          },
        });
        if (options.testFault === 'kill-after-first-intent') {
          log.warn('test fault: SIGKILL after the first durable order intent', { orderRef });
          process.kill(process.pid, 'SIGKILL');
        }
      },
      onAlert: (a) => {
        alerts++;
        journal.append('alert', { ts: now(), payload: a });
      },
      onReconcile: (report) => {
        journal.append('reconcile', { ts: now(), payload: report });
        laterReconcile?.(report);
      },
    });
    cleanups.push(() => execution.close());

    // 5. the kernel: the backtest's engine on a live feed
    // an accelerated replay's clock runs `speed` times faster than the real timers the feed waits
    // on: scale its waits, or the kernel's timers (session guard: no-entries, flatten) fire only
    // with the next data burst, minutes of replayed time late, and can skip the flatten window
    const speed = config.replay?.speed ?? 1;
    const driver = options.replayDriver;
    const feed = new LiveFeed(driver ? { clock, scheduler: driver.scheduler } : speed === 1 ? { clock } : { clock, scheduler: scaledScheduler(speed), heartbeatMs: 1000 * speed });
    const kernel = new Kernel({
      environment: config.mode,
      clock,
      dataClient: marketData.dataClient(feed),
      executionClient: execution,
      startingCash: await startingCash(session, config.ib.account ?? '', log, options.startingCash),
      // trading rules: ctx.signal through per-symbol Traders priced from L1; exits protect every position
      trading: { rules: tradingRules(config), quotes: (key) => marketData.quote(key), onAction: (a) => journal.append('note', { ts: now(), payload: a }) },
      risk: riskLimitsFromConfig(config),
      logger: log,
      liveFeed: feed,
      clientOrderIdPrefix: clientOrderIdPrefix(journal.runId, journal.run.restarts),
    });
    const halts: string[] = [];
    supervisor = new TradingSupervisor(kernel, {
      ...supervisorOptionsFromConfig(config),
      // a resumed run: sticky halts and the loss baseline as the journal left them
      ...(recovery !== undefined ? { restore: supervisorRestore(recovery) } : {}),
      onAction: (a) => {
        if (a.type === 'halt' || a.type === 'halt-instrument') halts.push(a.instrument ? `${a.source} ${a.instrument}` : a.source);
        journal.append(a.type === 'halt' || a.type === 'halt-instrument' ? 'halt' : a.type === 'resume' || a.type === 'resume-instrument' ? 'resume' : 'note', { ts: now(), payload: a });
      },
    });
    stickyHaltInForce = () => supervisor!.haltsInForce().some((h) => STICKY_SOURCES.has(h.source));
    // a new run of a signal-driven universe adopts only what its policy allows (adoption-policy.ts)
    const adoptable = recovery === undefined ? await adoptionScope(journalStore, { strategy: config.strategy.name, mode: config.mode, runId: journal.runId, universe: config.universe }) : undefined;
    if (adoptable !== undefined) {
      const scope = { event: 'adoption-scope', policy: 'journal', previousRun: adoptable.previousRunId ?? null, previousPositions: adoptable.previousPositions, adoptable: [...adoptable.instruments].sort(), ...(adoptable.previousError !== undefined ? { previousError: adoptable.previousError } : {}) };
      journal.append('note', { ts: now(), payload: scope });
      log.info('new run: adopts broker positions in these instruments only (universe.adoptPositions: journal)', scope);
    }
    // the universe's internal strategy goes first: configured symbols are requested before anyone trades
    const universe = signalDriven
      ? await UniverseRunner.create({ config, kernel, marketData, strategyId: definition.name, clock, scheduler: driver?.scheduler ?? (speed === 1 ? { setTimeout, clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) } : scaledScheduler(speed)), replayStore, logger: log, note: (payload) => journal.append('note', { ts: now(), payload }), alert: (payload) => (alerts++, journal.append('alert', { ts: now(), payload })), removal: removalHooks(supervisor), ...(recovery !== undefined ? { resume: await readUniverseResume(journalStore, journal.runId) } : {}), ...(adoptable !== undefined ? { adoptable } : {}) })
      : undefined;
    if (universe !== undefined) {
      cleanups.push(() => universe.stop());
      options.onUniverse?.(universe);
    }
    kernel.addStrategy(definition, {
      params: config.strategy.params,
      // ctx.state as the last snapshot left it
      state: recovery?.strategyState[definition.name],
      subscriptions: (universe !== undefined ? [] : config.universe.symbols).map((instrument) => ({ instrument, interval: config.strategy.interval, kind: 'trade' as const, history: config.strategy.warmup })),
    });
    const observer = JournalObserver.attach(kernel, journal);
    cleanups.push(() => observer.detach());
    driver?.attach({ kernel, feed, execution });
    let fills = 0;
    kernel.bus.subscribe('order.fill', () => fills++);

    // a resumed run: positions, cash and the orders IB may still have, adopted before the first reconciliation
    // a signal-driven universe's instruments are in no market-data list yet: resolve the journal's first
    if (recovery !== undefined) await universe?.registerHeld(heldInstruments(recovery));
    const prepared: PreparedResume | undefined = recovery === undefined ? undefined : await prepareResume(recovery, kernel, execution, journal, log);
    const reconcile = await execution.start();
    log.info('reconciled', { externalOrders: reconcile.externalOrders.length, externalPositions: reconcile.externalPositions.length, recoveredFills: reconcile.recoveredFills.length });
    let resumed: ResumeSummary | undefined;
    if (recovery !== undefined && prepared !== undefined) {
      resumed = await completeResume({ recovery, prepared, report: reconcile, kernel, journal, session, account: config.ib.account ?? '', resolve: (i) => universe?.resolveHeld(i) ?? marketData.resolve(i), now, log, expected });
    }
    // a new run: IB's positions in the universe are the engine's (a clean stop left them at IB)
    // (a signal-driven universe: the positions its adoption policy allows, as members: adoption-policy.ts, universe-resume.ts)
    const positionsAdopted = recovery === undefined ? await adoptBrokerPositions({ report: reconcile, kernel, journal, resolve: (i) => universe?.resolveHeld(i) ?? marketData.resolve(i), now, log, expected }) : [];
    // what IB holds outside the runner (not adopted): a signal does not activate it; installed before
    // universe.start() and kernel.run (the universe's first signal activation waits for it anyway)
    if (universe !== undefined) {
      const held = (i: string) => kernel.instruments.indexOf(i) !== undefined && (kernel.portfolio.position(i) !== 0 || kernel.orders.working(undefined, i).length > 0);
      universe.setExternalPositions(externalHoldings(reconcile.externalPositions, held));
      laterReconcile = (r) => universe.setExternalPositions(externalHoldings(r.externalPositions, held));
    }

    // 6. health: connection, data freshness, event-loop lag, memory; degradation halts trading
    const health = new HealthMonitor({ control: supervisor, now: Date.now, eventLoopLagMs: config.health.eventLoopLagMs, memoryMb: config.health.memoryMb, host: config.health.host, port: config.health.port, logger: log });
    health.attachSession(session);
    await health.start();
    cleanups.push(() => health.stop());
    if (config.control.enabled) {
      // status and halts for the operator (supervisor-operator.ts); symbols only with a universe
      const operator = new OperatorControl({ supervisor, kernel, run: { runId: journal.runId, mode: config.mode, strategy: definition.name, version }, connection: () => session.state });
      const control = new ControlApi({ host: config.control.host, port: config.control.port, token: config.control.token!, target: universe === undefined ? undefined : { add: (sym, wait) => universe.add(sym, wait), remove: (sym, immediate, flatten) => universe.remove(sym, immediate, flatten), list: () => universe.list() }, operator, durable: () => journal.flush(), logger: log });
      // started before onControl is asked: `onControl?.(await control.start())` skips the start without a listener (the CLI)
      const address = await control.start();
      options.onControl?.(address);
      cleanups.push(() => control.stop());
    }
    universe?.start();

    // 7. run until the data ends, the duration passes or the operator stops
    const startedAt = now();
    const dataEnd = config.replay?.toMs ?? Infinity;
    const durationEnd = Math.min(options.durationMs !== undefined ? startedAt + options.durationMs : Infinity, config.replay?.durationMs !== undefined ? startedAt + config.replay.durationMs : Infinity);
    const until = Math.min(dataEnd, durationEnd);
    const onAbort = () => {
      stopReason = 'signal';
      kernel.requestStop();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => options.signal?.removeEventListener('abort', onAbort));
    // the summary says which bound ended the run: the requested duration or the end of the replayed data
    if (Number.isFinite(until)) stopReason = durationEnd < dataEnd ? 'duration' : 'end of replay';
    await kernel.run(until);
    marketData.flush(now());

    const orders = [...kernel.orders.all()];
    const count = (status: string) => orders.filter((o) => o.status === status).length;
    const positions: Record<string, number> = {};
    for (const key of kernel.instruments.keys()) {
      const q = kernel.portfolio.position(key);
      if (q !== 0) positions[key] = q;
    }
    const summary: RunSummary = {
      mode: config.mode,
      strategy: definition.name,
      version,
      journal: { path: config.journal.path, runId: journal.runId },
      ...(resumed !== undefined ? { resumed } : {}),
      ...(positionsAdopted.length > 0 ? { positionsAdopted } : {}),
      orders: { total: orders.length, filled: count('FILLED'), cancelled: count('CANCELLED'), rejected: count('REJECTED'), working: orders.filter((o) => kernel.orders.working().includes(o)).length },
      fills,
      positions,
      equity: kernel.portfolio.equity(),
      halts,
      haltedAtEnd: supervisor.haltSources(),
      reconnects,
      alerts,
      stopReason,
      engineTime: { from: new Date(startedAt).toISOString(), to: new Date(now()).toISOString() },
      ...(universe !== undefined ? { universe: universe.summary() } : {}),
    };
    await journal.appendDurable('note', { ts: now(), payload: { summary } });
    return summary;
  } catch (e) {
    failure = e;
    throw e;
  } finally {
    await cleanup();
  }
}
