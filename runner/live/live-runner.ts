/**
 * The live runner: one composition of the same kernel and strategy code as the backtest with the
 * IB clients of the client layer. For `replay` it first starts the TWS simulator on stored data
 * (accelerated), so the whole runner can be rehearsed offline; `paper` and `live` connect to TWS or
 * IB Gateway. Order of start-up:
 *   journal → (simulator) → IB session → contracts → market data (warm start, lines) →
 *   execution client (reconciliation) → kernel + supervisor + journal observer → health → run.
 * Every new order is journaled durably (`order_intent`) before it is sent; fills, order events and
 * snapshots are journaled by the observer; halts, alerts and reconciliations as they happen.
 */
import { createHash } from 'node:crypto';
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
import { Store } from '../../lib/store/store.js';
import { STRATEGIES } from '../../strategies/index.js';
import { simFeatures } from '../tws-sim/features.js';
import { TwsSimulator } from '../tws-sim/server.js';
import { replayClock } from '../tws-sim/sim-clock.js';
import type { SimFeature } from '../tws-sim/types.js';
import type { RunnerConfig } from './config.js';
import { HealthMonitor } from './health.js';
import { IbExecutionClient } from './ib-execution-client.js';
import { IbMarketData, universeInstruments } from './ib-market-data.js';
import { riskLimitsFromConfig, SUPERVISOR_ID, SUPERVISOR_VERSION, supervisorOptionsFromConfig, TradingSupervisor } from './supervisor.js';

export interface RunnerOptions {
  logger: Logger;
  /** Stop after this much engine time from the start (replay: simulated time) */
  durationMs?: number;
  /** Aborting stops the run gracefully (SIGINT/SIGTERM in the CLI) */
  signal?: AbortSignal;
  /** Starting cash of the engine's portfolio (default 1,000,000: the simulator's paper account) */
  startingCash?: number;
  /** Called once the simulator of a replay is up, with its features (tests inspect its account) */
  onSimulator?: (sim: TwsSimulator, features: readonly SimFeature[]) => void;
  /** Builds the replay simulator's features on its store instead of `simFeatures(store)` (tests wire fault injection here) */
  simulatorFeatures?: (store: Store) => SimFeature[];
}

/** The JSON summary the CLI prints as its last line. */
export interface RunSummary {
  mode: string;
  strategy: string;
  version: string;
  journal: { path: string; runId: string };
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
  const definition = STRATEGIES[config.strategy.name]!;
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
  try {
    // 1. the journal first: nothing happens that it has not heard of
    const journalStore = await Store.open(config.journal.path);
    cleanups.push(() => journalStore.close());
    const configHash = createHash('sha256').update(JSON.stringify({ ...config, source: undefined })).digest('hex');
    const journal = await Journal.open(journalStore, { mode: config.mode, strategy: config.strategy.name, strategyVersion: config.strategy.version, configHash });
    let stopReason = 'stopped';
    cleanups.push(() => journal.close(stopReason));

    // 2. replay: the simulator on stored data, on a clock the engine shares
    let host = config.ib.host;
    let port = config.ib.port;
    let clock: Clock = new WallClock();
    if (config.mode === 'replay' && config.replay !== undefined) {
      const r = config.replay;
      const simClock = replayClock({ start: r.fromMs, speed: r.speed });
      clock = { kind: 'wall', now: () => simClock.now() };
      if (!r.connect) {
        const store = await Store.open(r.db);
        cleanups.push(() => store.close());
        if (r.import?.length) await importFiles(store, r.import);
        const features = options.simulatorFeatures?.(store) ?? simFeatures(store);
        const sim = new TwsSimulator({ store, port: r.simulator.port, serverVersion: r.simulator.serverVersion, account: config.ib.account, clock: simClock, features, logger: log });
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
    const session = new IbSession({ host, port: port!, clientId: config.ib.clientId!, logger: log });
    let reconnects = 0;
    session.on('transition', (t) => {
      if (t.to === 'reconnecting') reconnects++;
      journal.append('note', { ts: now(), payload: { session: `${t.from}>${t.to}`, reason: t.reason } });
    });
    session.start();
    cleanups.push(() => session.stop());
    await session.ready(30_000);
    const resolver = new ContractResolver({ session, logger: log });
    cleanups.push(() => resolver.close());

    // the supervisor exists only once the kernel does: market data reaches it through this
    let supervisor: TradingSupervisor | undefined;
    // An accelerated replay delivers data in bursts every few real hundred milliseconds, i.e. every
    // `speed` times as many simulated seconds: staleness is judged on that grain (2 real seconds)
    const staleSeconds = config.replay !== undefined ? Math.max(config.data.staleSeconds, 2 * config.replay.speed) : config.data.staleSeconds;
    const marketData = new IbMarketData({
      session,
      resolver,
      instruments: universeInstruments(config.universe),
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
    const execution = new IbExecutionClient({
      session,
      contracts: resolver,
      account: config.ib.account ?? '',
      // the supervisor's closing orders (session flatten, loss limits) go to IB as well
      versions: { [definition.name]: definition.version, [SUPERVISOR_ID]: SUPERVISOR_VERSION },
      now,
      logger: log,
      beforeSend: async (orderRef, order, spec) => {
        await journal.appendDurable('order_intent', {
          ts: now(),
          decisionId: orderRef,
          clientOrderId: order.clientOrderId,
          instrument: spec.key,
          payload: { orderRef, side: order.side, type: order.type, quantity: order.quantity, limitPrice: order.limitPrice, stopPrice: order.stopPrice, tif: order.tif },
        });
      },
      onAlert: (a) => {
        alerts++;
        journal.append('alert', { ts: now(), payload: a });
      },
      onReconcile: (report) => journal.append('reconcile', { ts: now(), payload: report }),
    });
    cleanups.push(() => execution.close());

    // 5. the kernel: the backtest's engine on a live feed
    // an accelerated replay's clock runs `speed` times faster than the real timers the feed waits
    // on: scale its waits, or the kernel's timers (session guard: no-entries, flatten) fire only
    // with the next data burst, minutes of replayed time late, and can skip the flatten window
    const speed = config.replay?.speed ?? 1;
    const feed = new LiveFeed(speed === 1 ? { clock } : { clock, scheduler: scaledScheduler(speed), heartbeatMs: 1000 * speed });
    const kernel = new Kernel({
      environment: config.mode,
      clock,
      dataClient: marketData.dataClient(feed),
      executionClient: execution,
      startingCash: options.startingCash ?? 1_000_000,
      risk: riskLimitsFromConfig(config),
      logger: log,
      liveFeed: feed,
    });
    const halts: string[] = [];
    supervisor = new TradingSupervisor(kernel, {
      ...supervisorOptionsFromConfig(config),
      onAction: (a) => {
        if (a.type === 'halt' || a.type === 'halt-instrument') halts.push(a.instrument ? `${a.source} ${a.instrument}` : a.source);
        journal.append(a.type === 'halt' || a.type === 'halt-instrument' ? 'halt' : a.type === 'resume' || a.type === 'resume-instrument' ? 'resume' : 'note', { ts: now(), payload: a });
      },
    });
    kernel.addStrategy(definition, {
      params: config.strategy.params,
      subscriptions: config.universe.symbols.map((instrument) => ({ instrument, interval: config.strategy.interval, kind: 'trade' as const, history: config.strategy.warmup })),
    });
    const observer = JournalObserver.attach(kernel, journal);
    cleanups.push(() => observer.detach());
    let fills = 0;
    kernel.bus.subscribe('order.fill', () => fills++);

    const reconcile = await execution.start();
    log.info('reconciled', { externalOrders: reconcile.externalOrders.length, externalPositions: reconcile.externalPositions.length, recoveredFills: reconcile.recoveredFills.length });

    // 6. health: connection, data freshness, event-loop lag, memory; degradation halts trading
    const health = new HealthMonitor({ control: supervisor, now: Date.now, eventLoopLagMs: config.health.eventLoopLagMs, memoryMb: config.health.memoryMb, host: config.health.host, port: config.health.port, logger: log });
    health.attachSession(session);
    await health.start();
    cleanups.push(() => health.stop());

    // 7. run until the data ends, the duration passes or the operator stops
    const startedAt = now();
    const until = Math.min(config.replay?.toMs ?? Infinity, options.durationMs !== undefined ? startedAt + options.durationMs : Infinity, config.replay?.durationMs !== undefined ? startedAt + config.replay.durationMs : Infinity);
    const onAbort = () => {
      stopReason = 'signal';
      kernel.requestStop();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => options.signal?.removeEventListener('abort', onAbort));
    if (Number.isFinite(until)) stopReason = 'end of replay';
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
      version: definition.version,
      journal: { path: config.journal.path, runId: journal.runId },
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
    };
    await journal.appendDurable('note', { ts: now(), payload: { summary } });
    return summary;
  } finally {
    await cleanup();
  }
}
