/**
 * A backtest of a signal-driven universe: `runBacktest` with a signal stream merged in time order
 * (ProviderSignalSource) and a KernelUniverse serving the strategy. No lookahead: a signal is seen
 * at its publication time; a symbol joins with its first visible signal (the signal table's
 * point-in-time membership) and its history is loaded up to that simulated time, its bars streaming
 * after it; retired symbols leave; scripted add/remove actions run at their times.
 *
 * Signals published at or before `from` are history and not replayed: membership starts empty (plus
 * the configured symbols) at the start of the run.
 */
import type { BarKind, Interval } from '../data/interval.js';
import type { Kernel } from '../engine/kernel.js';
import type { DataClient } from '../engine/ports.js';
import { validateStrategyParams } from '../engine/strategy-params.js';
import { runBacktest, type BacktestConfig } from '../backtest/run-backtest.js';
import type { BacktestResult } from '../backtest/backtest-result.js';
import { StoreDataClient } from '../backtest/store-data-client.js';
import { boundToMs } from '../store/bar-query.js';
import type { Store } from '../store/store.js';
import type { SignalProvider } from '../signals/provider.js';
import { ProviderSignalSource } from '../signals/signal-source.js';
import { LinePool } from './line-pool.js';
import { dataClientResolver, KernelUniverse, type UniverseAction, type UniverseActionResult } from './kernel-universe.js';
import type { UniverseEvent, UniverseOptions, UniverseStatus } from './universe-types.js';

export interface UniverseBacktestConfig extends Omit<BacktestConfig, 'subscriptions' | 'setup'> {
  signals: SignalProvider;
  universe: UniverseOptions & {
    /** Bars subscribed per instrument */
    interval: Interval;
    kind?: BarKind;
    /** Warm-up bars loaded at activation; default the strategy's warm-up, else 1 */
    history?: number;
    /** Instruments streaming at once (one line each); default unlimited */
    lineBudget?: number;
  };
  /** Operator add/remove at simulated times */
  actions?: readonly UniverseAction[];
  /** Signals per provider poll; default 10,000 */
  signalChunk?: number;
  setup?: (kernel: Kernel, universe: KernelUniverse) => void;
}

export interface UniverseBacktestResult extends BacktestResult {
  universe: UniverseStatus;
  /** Every state change of every symbol, in order */
  universeEvents: UniverseEvent[];
  actions: UniverseActionResult[];
  /** Signals the stream dispatched (delivered or not) */
  signalsSeen: number;
  /** Most lines held at once */
  peakLines: number;
}

export async function runUniverseBacktest(c: UniverseBacktestConfig): Promise<UniverseBacktestResult> {
  const from = boundToMs(c.from, 'from');
  const to = boundToMs(c.to, 'to');
  const data: DataClient = isDataClient(c.data) ? c.data : new StoreDataClient(c.data, { until: to, adjusted: c.adjusted });
  const params = validateStrategyParams(c.strategy, c.params ?? {});
  const { interval, kind, history, lineBudget, ...options } = c.universe;
  const lines = new LinePool(lineBudget ?? Infinity);
  const events: UniverseEvent[] = [];
  let universe: KernelUniverse | undefined;
  let source: ProviderSignalSource | undefined;
  const result = await runBacktest({
    ...c,
    data,
    subscriptions: [],
    // the universe and its signals are part of what the run is: they enter the config hash
    dataFingerprint: { data: c.dataFingerprint ?? data.name, signals: c.signals.name, universe: c.universe, actions: c.actions ?? [] },
    setup: (kernel) => {
      universe = new KernelUniverse(kernel, {
        ...options,
        strategyId: c.strategy.name,
        interval,
        kind,
        history: history ?? c.strategy.warmup?.(params) ?? 1,
        resolve: dataClientResolver(data),
        lines,
        actions: c.actions,
      });
      universe.manager.on((e) => events.push(e));
      source = new ProviderSignalSource({ provider: c.signals, after: from ?? -Infinity, until: to ?? Infinity, onSignal: universe.onSignal, chunkSize: c.signalChunk });
      kernel.addSource(source);
      c.setup?.(kernel, universe);
    },
  });
  return { ...result, universe: universe!.manager.status(), universeEvents: events, actions: universe!.actionResults, signalsSeen: source!.dispatched, peakLines: lines.peak };
}

function isDataClient(x: Store | DataClient): x is DataClient {
  return typeof (x as DataClient).subscribeBars === 'function';
}
