/**
 * `monger parity`: the backtest and the runner over the same stored minute bars and window, each
 * recorded as parity events (lib/parity/recorder.ts), then diffed decision by decision.
 *
 * - Backtest leg: `runBacktest` on the store (fill next-open, the chosen commission and slippage)
 *   with the runner's trading supervisor on its kernel and the runner's risk limits. The runner
 *   always runs under the supervisor (session guard: no entries before the close, flat 5 minutes
 *   before it; loss limits), so a backtest without it could not match what the runner does.
 * - Runner leg: `runRunner` in replay mode against the in-process TWS simulator, moved in lock step
 *   (lock-step.ts), with the simulator's 'backtest' fill model (same prices, commission model and
 *   slippage as the backtest's venue) and 5-second bars sent at their own end. Health and staleness
 *   halts react to the replay machinery (event-loop lag, the time between steps), not to the
 *   strategy, so their thresholds are out of reach; every other runner setting is the real one.
 * Legs run one after the other on the same store file (a DuckDB file has one writer at a time).
 * Strategies run on 1-minute bars, the runner's own (the simulator fills on the finest stored bars,
 * so coarser derived bars would get the backtest's prices at other times). Lock step moves time in
 * minutes: a strategy timer between two minute boundaries fires at the next one in the runner leg.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommissionModel, type CommissionModelName } from '../../lib/backtest/commission.js';
import { runBacktest } from '../../lib/backtest/run-backtest.js';
import { calendarForInstrument } from '../../lib/calendar/index.js';
import { ConfigError } from '../../lib/core/errors.js';
import { silentLogger, type Logger } from '../../lib/core/logger.js';
import { isoDate } from '../../lib/core/time-zone.js';
import type { StrategyDefinition } from '../../lib/engine/strategy.js';
import type { StrategyProvenance } from '../../lib/promotion/load-strategy.js';
import { validateStrategyParams } from '../../lib/engine/strategy-params.js';
import { diffParity, type ParityDiffOptions } from '../../lib/parity/diff.js';
import type { ParityEvent } from '../../lib/parity/events.js';
import { ParityRecorder } from '../../lib/parity/recorder.js';
import type { ParityResult } from '../../lib/parity/report.js';
import { loadBars } from '../../lib/store/bar-query.js';
import { requireInstruments } from '../../lib/store/instruments.js';
import { Store } from '../../lib/store/store.js';
import { tradingRules, validateRunnerConfig, type RunnerConfig } from '../live/config.js';
import { runRunner } from '../live/live-runner.js';
import { riskLimitsFromConfig, supervisorOptionsFromConfig, TradingSupervisor } from '../live/supervisor.js';
import { contractDetailsFeature } from '../tws-sim/contract-details.js';
import { historicalFeature } from '../tws-sim/historical.js';
import { marketDataFeature } from '../tws-sim/market-data.js';
import { ordersFeature } from '../tws-sim/orders.js';
import { StoreQuoteBook } from '../tws-sim/replay-quotes.js';
import { LockStepDriver } from './lock-step.js';

const MINUTE = 60_000;

/** What one leg may do differently (tests prove a divergence is found; nothing else should use it). */
export interface LegOverrides {
  params?: Record<string, unknown>;
  slippageBps?: number;
}

/** The runner config sections the supervisor and risk engine read (both legs use them). */
export type ParityLimits = Pick<RunnerConfig, 'trading' | 'account' | 'risk' | 'session'>;

export interface ParityOptions {
  /** The strategy both legs run (the working tree's, or a promoted version) */
  strategy: StrategyDefinition;
  /** As the user named it (`sma-cross`, `sma-cross@dev`, `sma-cross@1.2.0`), for the report */
  spec: string;
  /** Where the code came from (lib/promotion loadStrategy): its version goes on the runner's orders and journal */
  provenance?: StrategyProvenance;
  params?: Record<string, unknown>;
  symbols: readonly string[];
  /** Epoch ms: the window; warm-up history comes from before `from` */
  from: number;
  to: number;
  /** The store holding the bars (a file: each leg opens it in turn) */
  db: string;
  cash?: number;
  commission?: CommissionModelName;
  slippageBps?: number;
  /** Supervisor and risk settings (default: a permissive parity config; the session guard keeps its defaults) */
  limits?: ParityLimits;
  /** Journal of the runner leg (default: a temporary file, removed afterwards) */
  journal?: string;
  /** Real ms a lock-step step may take to settle before it counts as a stall (default 30 000) */
  stallMs?: number;
  diff?: ParityDiffOptions;
  legs?: { backtest?: LegOverrides; runner?: LegOverrides };
  logger?: Logger;
  /** Injected wall clock for elapsed times (lib code never reads it itself) */
  stopwatch?: () => number;
}

/** Permissive limits: only the session guard (15/5 minutes before the close) and the strategy act */
export const PARITY_DEFAULT_LIMITS = {
  trading: { defaults: { unitSize: 1e9, maxPosition: 1e9 } },
  account: { maxLossPerTrade: 1e12, maxCumulativeLoss: 1e12 },
  risk: { maxOrderQuantity: 1e9, maxOrderNotional: 1e15, maxPositionNotionalPerSymbol: 1e15, maxGrossLeverage: 1e6, maxOpenOrders: 100_000, drawdownHaltPct: 99.99 },
} as const;

export async function runParity(o: ParityOptions): Promise<ParityResult> {
  const watch = o.stopwatch ?? (() => 0);
  const log = o.logger ?? silentLogger;
  if (!(o.to > o.from)) throw new ConfigError('parity', [`to (${new Date(o.to).toISOString()}) must be after from (${new Date(o.from).toISOString()})`]);
  const commission = o.commission ?? 'ib-fixed';
  parseCommissionModel(commission);
  const interval = '1m' as const;
  const paramsOf = (leg?: LegOverrides) => validateStrategyParams(o.strategy, { ...(o.params ?? {}), ...(leg?.params ?? {}) });
  const btParams = paramsOf(o.legs?.backtest);
  const rnParams = paramsOf(o.legs?.runner);
  const slippage = (leg?: LegOverrides) => leg?.slippageBps ?? o.slippageBps ?? 0;
  const dir = o.journal === undefined ? mkdtempSync(join(tmpdir(), 'monger-parity-')) : undefined;
  const config = runnerConfig(o, rnParams, dir !== undefined ? join(dir, 'journal.duckdb') : o.journal!);
  try {
    const plan = await planReplay(o);

    // 1. the backtest, with the runner's supervisor and limits
    let btRecorder: ParityRecorder | undefined;
    const t0 = watch();
    const store = await Store.open(o.db);
    try {
      await runBacktest({
        strategy: o.strategy,
        params: btParams,
        subscriptions: o.symbols.map((instrument) => ({ instrument, interval })),
        data: store,
        from: o.from,
        to: o.to,
        cash: o.cash ?? 1_000_000,
        fill: 'next-open',
        commission,
        slippageBps: slippage(o.legs?.backtest),
        risk: riskLimitsFromConfig(config),
        // the runner's trading rules (exits protecting positions, ctx.signal), as its kernel has them
        trading: tradingRules(config),
        setup: (kernel) => {
          new TradingSupervisor(kernel, supervisorOptionsFromConfig(config));
          btRecorder = ParityRecorder.attach(kernel, { sampleOnEquity: true });
        },
      });
    } finally {
      store.close();
    }
    const t1 = watch();

    // 2. the runner, in lock step against the simulator with the backtest's fill model
    const driver = new LockStepDriver({ from: o.from, to: o.to, steps: plan.steps, expectedBars: plan.expectedBars, streams: o.symbols.length, stallMs: o.stallMs });
    const simFeaturesFor = (s: Store) => {
      const quotes = new StoreQuoteBook(s);
      const marketData = marketDataFeature({ quotes, tickIntervalMs: 0, realtimeDelay: 'slot' });
      const orders = ordersFeature({ quotes, fillModel: 'backtest', slippageBps: slippage(o.legs?.runner), commission: parseCommissionModel(commission) });
      driver.drive(orders, marketData);
      return [contractDetailsFeature(), historicalFeature(), marketData, orders];
    };
    let summary: Awaited<ReturnType<typeof runRunner>> | undefined;
    let runnerError: unknown;
    try {
      summary = await runRunner(config, {
        logger: log,
        strategy: o.strategy,
        provenance: o.provenance,
        startingCash: o.cash ?? 1_000_000,
        simulatorFeatures: simFeaturesFor,
        replayDriver: driver,
      });
    } catch (e) {
      runnerError = e;
    }
    driver.stop();
    await driver.finished();
    const t2 = watch();
    if (runnerError !== undefined || driver.error !== undefined) throw runnerError ?? driver.error;
    const runnerEvents: ParityEvent[] = driver.recorder?.events() ?? [];
    return {
      subject: {
        strategy: o.spec,
        version: o.provenance?.version ?? o.strategy.version,
        params: btParams,
        symbols: o.symbols,
        interval,
        from: o.from,
        to: o.to,
        settings: {
          fill: 'next-open (simulator: backtest model)',
          commission,
          slippageBps: slippage(o.legs?.backtest),
          ...(o.legs?.runner ? { runnerOverrides: o.legs.runner } : {}),
          session: config.session,
        },
      },
      diff: diffParity(btRecorder?.events() ?? [], runnerEvents, o.diff),
      runner: { steps: driver.steps ?? 0, stalls: driver.stalls ?? [], summary: summary ?? null, journal: dir === undefined ? o.journal : null },
      elapsedMs: { backtest: t1 - t0, runner: t2 - t1 },
    };
  } finally {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The lock-step schedule and the bars the runner must receive: every minute boundary from the
 * earlier of a day's first stored bar and its session open to one minute past the later of its
 * last bar's close and the session close (so the supervisor's timers at the open and before the
 * close fire on their minute), across the instruments' calendars; nights and weekends are skipped.
 * Expected bars: the universe's stored minutes closing in (from, t].
 */
async function planReplay(o: ParityOptions): Promise<{ steps: number[]; expectedBars: (t: number) => number }> {
  const store = await Store.open(o.db);
  try {
    const instruments = await requireInstruments(store, o.symbols);
    const series = await loadBars(store, { symbols: o.symbols, interval: '1m', from: o.from - MINUTE, to: o.to });
    const closes: number[] = [];
    const spans: [number, number][] = [];
    for (const s of series) {
      for (let i = 0; i < s.length; i++) {
        const close = s.ts[i]! + MINUTE;
        if (close > o.from && close <= o.to) closes.push(close);
      }
    }
    closes.sort((a, b) => a - b);
    if (closes.length === 0) throw new ConfigError('parity', [`no 1m bars of ${o.symbols.join(', ')} between ${new Date(o.from).toISOString()} and ${new Date(o.to).toISOString()} in ${o.db}`]);
    // days with data: the session span of each calendar plus the data's own span
    const byDay = new Map<string, [number, number]>();
    for (const c of closes) {
      const day = isoDate(c - 4 * 3_600_000);
      const span = byDay.get(day);
      if (span === undefined) byDay.set(day, [c - MINUTE, c]);
      else span[1] = c;
    }
    for (const inst of instruments) {
      let cal;
      try {
        cal = calendarForInstrument(inst.secType, inst.symbol);
      } catch {
        continue;
      }
      for (const s of cal.sessions(isoDate(o.from), isoDate(o.to))) {
        const span = byDay.get(isoDate(s.close));
        if (span !== undefined) spans.push([Math.min(span[0], s.open), Math.max(span[1], s.close)]);
      }
    }
    for (const span of byDay.values()) spans.push(span);
    const steps = new Set<number>();
    for (const [a, b] of spans) {
      for (let t = Math.ceil(a / MINUTE) * MINUTE; t <= b + MINUTE; t += MINUTE) if (t > o.from && t <= o.to) steps.add(t);
    }
    const expectedBars = (t: number) => upperBound(closes, t);
    return { steps: [...steps].sort((a, b) => a - b), expectedBars };
  } finally {
    store.close();
  }
}

/** Count of values <= t in an ascending array. */
function upperBound(a: readonly number[], t: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The runner config of the runner leg: replay on `db` over the window, the limits of both legs. */
function runnerConfig(o: ParityOptions, params: Record<string, unknown>, journal: string): RunnerConfig {
  const limits = o.limits;
  const doc = {
    mode: 'replay',
    ib: { clientId: 1, account: 'DU1234567' },
    strategy: { name: o.strategy.name, interval: '1m', params },
    universe: { symbols: [...o.symbols] },
    trading: limits?.trading ?? PARITY_DEFAULT_LIMITS.trading,
    account: limits?.account ?? PARITY_DEFAULT_LIMITS.account,
    risk: limits?.risk ?? PARITY_DEFAULT_LIMITS.risk,
    ...(limits?.session ? { session: limits.session } : {}),
    // staleness and health halts would react to the lock-step replay, not to the strategy
    data: { staleSeconds: 1e9 },
    health: { eventLoopLagMs: 1e9 },
    journal: { path: journal },
    replay: { db: o.db, from: new Date(o.from).toISOString(), to: new Date(o.to).toISOString(), speed: 1 },
  };
  // validated against the definition that runs (a promoted release's schema, not the working tree's)
  const config = validateRunnerConfig(doc, 'parity', {}, { strategy: o.strategy });
  return { ...config, strategy: { ...config.strategy, version: o.provenance?.version ?? o.strategy.version } };
}
