import { createHash } from 'node:crypto';
import type { Logger } from '../core/logger.js';
import type { BarKind, Interval } from '../data/interval.js';
import { SimulatedClock } from '../engine/clock.js';
import { Kernel, type RunObserver } from '../engine/kernel.js';
import type { DataClient } from '../engine/ports.js';
import type { RiskLimits } from '../engine/risk-engine.js';
import type { StrategyDefinition } from '../engine/strategy.js';
import { validateStrategyParams } from '../engine/strategy-params.js';
import type { TradingRules } from '../trading/trading-params.js';
import { boundToMs, type TimeBound } from '../store/bar-query.js';
import type { Store } from '../store/store.js';
import type { BacktestResult } from './backtest-result.js';
import { parseCommissionModel, type CommissionModelName } from './commission.js';
import { ResultsRecorder } from './results-recorder.js';
import { SimulatedVenue, type FillMode } from './sim-venue.js';
import { computeStatistics } from './statistics.js';
import { StoreDataClient } from './store-data-client.js';

export interface BacktestSubscription {
  instrument: string;
  interval: Interval;
  kind?: BarKind;
  /** Warm-up bars loaded before the start (default: the strategy's own warm-up, else 1) */
  history?: number;
}

export interface BacktestConfig {
  strategy: StrategyDefinition;
  params?: Record<string, unknown>;
  subscriptions: readonly BacktestSubscription[];
  /** Bars come from the store (streamed) or any data client (e.g. MemoryDataClient) */
  data: Store | DataClient;
  from?: TimeBound;
  to?: TimeBound;
  cash: number;
  fill?: FillMode;
  commission?: CommissionModelName;
  slippageBps?: number;
  participationRate?: number;
  risk?: RiskLimits;
  /**
   * Trading rules (the runner config's `trading` section): `ctx.signal` trades through them, and
   * their exits (take-profit, stop-loss, trailing, max hold) protect every position, as in the
   * runner. Without them a strategy's own orders run exactly as before.
   */
  trading?: TradingRules;
  seed?: number;
  /** Store only: split/dividend-adjusted prices (default raw) */
  adjusted?: boolean;
  logger?: Logger;
  /** Identifies the data in the config hash (e.g. files and their content hashes) */
  dataFingerprint?: unknown;
  /** Extra observers (journal, progress, memory probes) */
  observers?: readonly RunObserver[];
  /** Called with the composed kernel before the strategy is added (parity: the runner's supervisor, a recorder) */
  setup?: (kernel: Kernel) => void;
  /** Injected for elapsed time; backtests never read the wall clock themselves */
  stopwatch?: () => number;
}

/**
 * Runs a strategy over history: the kernel composed with a simulated clock, a historical data
 * client and the simulated venue. Deterministic: the same config gives the same result.
 */
export async function runBacktest(c: BacktestConfig): Promise<BacktestResult> {
  const started = c.stopwatch?.() ?? 0;
  const from = boundToMs(c.from, 'from');
  const to = boundToMs(c.to, 'to');
  const data: DataClient = isDataClient(c.data) ? c.data : new StoreDataClient(c.data, { until: to, adjusted: c.adjusted });
  const fill = c.fill ?? 'next-open';
  const commission = c.commission ?? 'none';
  const venue = new SimulatedVenue({ fill, commission: parseCommissionModel(commission), slippageBps: c.slippageBps ?? 0, participationRate: c.participationRate });
  const kernel = new Kernel({
    environment: 'backtest',
    clock: new SimulatedClock(from ?? -Infinity),
    dataClient: data,
    executionClient: venue,
    startingCash: c.cash,
    risk: c.risk,
    seed: c.seed ?? 1,
    logger: c.logger,
    ...(c.trading !== undefined ? { trading: { rules: c.trading } } : {}),
  });
  const recorder = new ResultsRecorder(kernel);
  for (const o of c.observers ?? []) kernel.addObserver(o);
  c.setup?.(kernel);
  const parsedParams = validateStrategyParams(c.strategy, c.params ?? {});
  const warmup = c.strategy.warmup?.(parsedParams) ?? 1;
  const subscriptions = c.subscriptions.map((s) => ({ ...s, kind: s.kind ?? 'trade', history: s.history ?? warmup }));
  kernel.addStrategy(c.strategy, { params: c.params ?? {}, subscriptions });
  await kernel.run(to ?? Infinity);

  const daily = recorder.daily();
  const equity = recorder.equityCurve();
  const p = kernel.portfolio;
  const config = {
    strategy: c.strategy.name,
    strategyVersion: c.strategy.version,
    params: parsedParams,
    subscriptions,
    from: from ?? null,
    to: to ?? null,
    cash: c.cash,
    fill,
    commission,
    slippageBps: c.slippageBps ?? 0,
    participationRate: c.participationRate ?? null,
    risk: c.risk ?? {},
    // absent without rules, so the hash of a run without them is unchanged
    trading: c.trading,
    seed: c.seed ?? 1,
    adjusted: c.adjusted ?? false,
    data: c.dataFingerprint ?? data.name,
  };
  const statistics = computeStatistics({
    startingEquity: c.cash,
    daily,
    trades: recorder.roundTrips.trades,
    feesPaid: p.commissions(),
    tradedNotional: recorder.tradedNotional,
  });
  return {
    configHash: hashConfig(config),
    environment: 'backtest',
    strategy: { name: c.strategy.name, version: c.strategy.version },
    params: parsedParams,
    config,
    from: equity.ts.length > 0 ? equity.ts[0]! : NaN,
    to: equity.ts.length > 0 ? equity.ts[equity.ts.length - 1]! : NaN,
    bars: kernel.eventCount,
    startingCash: c.cash,
    finalValue: p.equity(),
    orders: recorder.orders(),
    fills: recorder.fills,
    trades: recorder.roundTrips.trades,
    openPositions: kernel.instruments
      .keys()
      .filter((k) => p.position(k) !== 0)
      .map((k) => ({ instrument: k, quantity: p.position(k), averagePrice: p.averagePrice(k), lastPrice: p.lastPrice(k) })),
    statistics,
    tradedNotional: recorder.tradedNotional,
    daily,
    equity,
    allocation: recorder.allocationSeries(),
    elapsedMs: (c.stopwatch?.() ?? 0) - started,
  };
}

function isDataClient(x: Store | DataClient): x is DataClient {
  return typeof (x as DataClient).subscribeBars === 'function';
}

/** sha256 over JSON with sorted keys, so key order never changes the hash */
export function hashConfig(config: unknown): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}

export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
}
