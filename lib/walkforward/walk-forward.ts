import { availableParallelism } from 'node:os';
import { ConfigError } from '../core/errors.js';
import type { Interval, BarKind } from '../data/interval.js';
import { isIntraday } from '../data/interval.js';
import type { RiskLimits } from '../engine/risk-engine.js';
import type { StrategyDefinition } from '../engine/strategy.js';
import { validateStrategyParams } from '../engine/strategy-params.js';
import { DAY_MS } from '../core/time-zone.js';
import { tradingDayEnd, tradingDayOf } from '../engine/trading-day.js';
import type { MemorySeries } from '../backtest/memory-data-client.js';
import type { DailySeries, RunStatistics, TradeRecord } from '../backtest/result-types.js';
import { canonicalJson, hashConfig } from '../backtest/run-backtest.js';
import { computeStatistics } from '../backtest/statistics.js';
import type { CommissionModelName } from '../backtest/commission.js';
import type { FillMode } from '../backtest/sim-venue.js';
import { loadBars, boundToMs, type TimeBound } from '../store/bar-query.js';
import type { Store } from '../store/store.js';
import { locateProjectFile } from '../parallel/project-files.js';
import { runTasks } from '../parallel/worker-pool.js';
import { backtestTaskRunner, type BacktestTask, type BacktestTaskInit, type BacktestTaskResult } from './backtest-task.js';
import { bestIndex, type ObjectiveName } from './objective.js';
import { parseGrid, searchPoints, type GridAxis, type ParamPoint, type SearchSpec } from './param-grid.js';
import { makeFolds, type Fold, type SplitSpec } from './splits.js';
import { stitchDaily, type DailyPart } from './stitch.js';

export interface WalkForwardConfig {
  strategy: StrategyDefinition;
  /** Module the workers load the strategy from (default: the project's strategies/index.ts) */
  strategyModule?: string;
  /** Fixed parameters under every grid point (e.g. size) */
  baseParams?: Record<string, unknown>;
  grid: string | GridAxis[];
  search?: SearchSpec;
  split: SplitSpec;
  /** Bars from the store (symbols, interval) or already in memory */
  data: Store | MemorySeries[];
  symbols?: readonly string[];
  interval?: Interval;
  kind?: BarKind;
  adjusted?: boolean;
  /** Limits of the history cut into folds (earlier bars still warm indicators up) */
  from?: TimeBound;
  to?: TimeBound;
  cash: number;
  fill?: FillMode;
  commission?: CommissionModelName;
  slippageBps?: number;
  participationRate?: number;
  risk?: RiskLimits;
  seed?: number;
  objective?: ObjectiveName;
  /** Points with fewer round trips in a window score -Infinity there */
  minTrades?: number;
  /** With a validation window: how many of the best train points are re-scored on it */
  topK?: number;
  /** Worker threads; 0 runs in this thread. Default: the machine's parallelism */
  workers?: number;
  onProgress?: (p: { phase: 'train' | 'validation' | 'test'; done: number; total: number }) => void;
  /** Identifies the data in the config hash */
  dataFingerprint?: unknown;
  stopwatch?: () => number;
}

export interface PointScore {
  fold: number;
  point: number;
  objective: number;
  sharpe: number;
  totalReturn: number;
  maxDrawdown: number;
  trades: number;
}

export interface FoldResult {
  fold: Fold;
  /** Index into `points` of the chosen parameters, and the parameters themselves */
  chosen: number;
  params: ParamPoint;
  trainObjective: number;
  validationObjective?: number;
  train: RunStatistics;
  test: RunStatistics;
  trainDaily: DailyPart;
  testDaily: DailyPart;
  testTrades: TradeRecord[];
  testTradedNotional: number;
}

export interface WalkForwardResult {
  configHash: string;
  config: Record<string, unknown>;
  strategy: { name: string; version: string };
  objective: ObjectiveName;
  axes: GridAxis[];
  /** Valid points evaluated on every fold, in grid order */
  points: ParamPoint[];
  /** Grid points the strategy's schema rejected, with why */
  skipped: { params: ParamPoint; problems: string[] }[];
  folds: FoldResult[];
  /** Train score of every point on every fold (stability heatmap) */
  scores: PointScore[];
  /** Stitched out-of-sample curve and its statistics */
  oos: { daily: DailySeries; statistics: RunStatistics; trades: number };
  workers: number;
  backtests: number;
  elapsedMs: number;
}

/**
 * Walk-forward evaluation: cuts the history into folds, searches the parameter grid on each fold's
 * train window, optionally re-ranks the best on validation, runs the chosen point out of sample and
 * stitches the test windows into one curve. Every number comes from the same engine as
 * `runBacktest`; folds and points run on worker threads and the result does not depend on their count.
 */
export async function runWalkForward(c: WalkForwardConfig): Promise<WalkForwardResult> {
  const started = c.stopwatch?.() ?? 0;
  const objective = c.objective ?? 'sharpe';
  const axes = typeof c.grid === 'string' ? parseGrid(c.grid) : c.grid;
  const search = c.search ?? { method: 'grid' };
  const baseParams = c.baseParams ?? {};
  const { points, skipped } = validPoints(c.strategy, baseParams, searchPoints(axes, search));
  if (points.length === 0) throw new ConfigError('walk-forward grid', ['no grid point passes the strategy schema', ...skipped.slice(0, 5).map((s) => `${canonicalJson(s.params)}: ${s.problems.join('; ')}`)]);

  const series = Array.isArray(c.data) ? c.data : await loadSeries(c.data, c);
  if (series.length === 0) throw new ConfigError('walk-forward data', ['no bars to walk forward on']);
  const interval = series[0]!.interval;
  const sessions = sessionDates(series, interval, boundToMs(c.from, 'from'), boundToMs(c.to, 'to'));
  const folds = makeFolds(sessions, c.split);
  const size = (w: { first: number; last: number }) => w.last - w.first + 1;
  // the split as resolved against the sessions (defaults filled in): what the hash and reports show
  const split: Required<SplitSpec> = { mode: c.split.mode, folds: folds.length, train: size(folds[0]!.train), validation: c.split.validation ?? 0, test: size(folds[0]!.test), embargo: c.split.embargo ?? 0 };
  const warmup = Math.max(...points.map((p) => c.strategy.warmup?.(validateStrategyParams(c.strategy, { ...baseParams, ...p })) ?? 1));

  const init: BacktestTaskInit = {
    strategyModule: c.strategyModule ?? '',
    strategyName: c.strategy.name,
    strategyVersion: c.strategy.version,
    series,
    subscriptions: series.map((s) => ({ instrument: s.instrument.key, interval: s.interval, kind: s.kind ?? 'trade', history: warmup })),
    baseParams,
    cash: c.cash,
    fill: c.fill ?? 'next-open',
    commission: c.commission ?? 'none',
    slippageBps: c.slippageBps ?? 0,
    participationRate: c.participationRate,
    risk: c.risk,
    seed: c.seed ?? 1,
    objective,
    minTrades: c.minTrades ?? 0,
  };
  const workers = c.workers ?? Math.min(availableParallelism(), points.length * folds.length);
  if (workers > 0 && init.strategyModule === '') init.strategyModule = locateProjectFile('strategies/index.ts');
  // tasks may be a lazy iterable (the train phase streams folds x points): only scores are kept
  const run = async (tasks: Iterable<BacktestTask>, total: number, phase: 'train' | 'validation' | 'test', onResult: (i: number, r: BacktestTaskResult) => void) => {
    let done = 0;
    const report = (i: number, r: unknown) => {
      onResult(i, r as BacktestTaskResult);
      c.onProgress?.({ phase, done: ++done, total });
    };
    if (workers === 0) {
      const runner = backtestTaskRunner(c.strategy, init);
      let i = 0;
      for (const task of tasks) report(i++, await runner(task));
      return;
    }
    await runTasks<BacktestTask, BacktestTaskResult, BacktestTaskInit>(tasks, {
      module: locateProjectFile('lib/walkforward/backtest-task.ts'),
      factory: 'createBacktestTaskRunner',
      init,
      workers: Math.min(workers, total),
      onResult: report,
      keepResults: false,
    });
  };
  const window = (w: { from: number; to: number }) => ({ from: tradingDayEnd(w.from - DAY_MS), to: tradingDayEnd(w.to) - 1 });

  // 1. search: every point on every fold's train window; only scores are kept (memory bounded)
  const P = points.length;
  const trainScores = new Float64Array(folds.length * P);
  const scores: PointScore[] = new Array(folds.length * P);
  function* trainTasks(): Generator<BacktestTask> {
    for (const f of folds) for (const params of points) yield { params, ...window(f.train), detail: false };
  }
  await run(
    trainTasks(),
    trainScores.length,
    'train',
    (i, r) => {
      trainScores[i] = r.objective;
      const s = r.statistics;
      scores[i] = { fold: Math.floor(i / P), point: i % P, objective: r.objective, sharpe: s.sharpe, totalReturn: s.totalReturn, maxDrawdown: s.maxDrawdown, trades: s.trades };
    },
  );
  const chosen = folds.map((f) => bestIndex(trainScores.subarray(f.index * P, (f.index + 1) * P)));
  const validationObjective: (number | undefined)[] = folds.map(() => undefined);

  // 2. validation: the top-K train points of each fold re-scored on the window after train
  if (folds.some((f) => f.validation !== undefined)) {
    const topK = c.topK ?? 5;
    const candidates = folds.map((f) => rankDescending(trainScores.subarray(f.index * P, (f.index + 1) * P)).slice(0, topK));
    const tasks = folds.flatMap((f, k) => candidates[k]!.map((p) => ({ params: points[p]!, ...window(f.validation!), detail: false })));
    const offsets = candidates.map((_, k) => candidates.slice(0, k).reduce((n, x) => n + x.length, 0));
    const vScores = new Float64Array(tasks.length);
    await run(tasks, tasks.length, 'validation', (i, r) => (vScores[i] = r.objective));
    folds.forEach((_, k) => {
      const local = bestIndex(vScores.subarray(offsets[k]!, offsets[k]! + candidates[k]!.length));
      if (local >= 0) {
        chosen[k] = candidates[k]![local]!;
        validationObjective[k] = vScores[offsets[k]! + local]!;
      }
    });
  }

  // 3. out of sample: the chosen point on the test window, and on train again for the charts
  const unscored = folds.filter((_, k) => chosen[k]! < 0).map((f) => f.index);
  if (unscored.length) throw new ConfigError('walk-forward', [`no point scored above -Infinity on fold(s) ${unscored.join(', ')}: lower --min-trades or widen the train window`]);
  const finals: BacktestTaskResult[] = new Array(folds.length * 2);
  await run(
    folds.flatMap((f, k) => [
      { params: points[chosen[k]!]!, ...window(f.test), detail: true },
      { params: points[chosen[k]!]!, ...window(f.train), detail: true },
    ]),
    finals.length,
    'test',
    (i, r) => (finals[i] = r),
  );
  const foldResults: FoldResult[] = folds.map((fold, k) => {
    const test = finals[2 * k]!;
    const train = finals[2 * k + 1]!;
    return {
      fold,
      chosen: chosen[k]!,
      params: points[chosen[k]!]!,
      trainObjective: trainScores[k * P + chosen[k]!]!,
      validationObjective: validationObjective[k],
      train: train.statistics,
      test: test.statistics,
      trainDaily: train.daily!,
      testDaily: test.daily!,
      testTrades: test.trades!,
      testTradedNotional: test.tradedNotional,
    };
  });

  const daily = stitchDaily(c.cash, foldResults.map((f) => f.testDaily));
  const trades = foldResults.flatMap((f) => f.testTrades);
  const statistics = computeStatistics({
    startingEquity: c.cash,
    daily,
    trades,
    feesPaid: foldResults.reduce((s, f) => s + f.test.feesPaid, 0),
    tradedNotional: foldResults.reduce((s, f) => s + f.testTradedNotional, 0),
  });
  const config = {
    strategy: c.strategy.name,
    strategyVersion: c.strategy.version,
    baseParams,
    axes,
    search,
    split,
    sessions: sessions.length,
    objective,
    minTrades: c.minTrades ?? 0,
    topK: c.topK ?? 5,
    instruments: series.map((s) => `${s.instrument.key}:${s.interval}:${s.kind ?? 'trade'}`),
    from: boundToMs(c.from, 'from') ?? null,
    to: boundToMs(c.to, 'to') ?? null,
    cash: c.cash,
    fill: init.fill,
    commission: init.commission,
    slippageBps: init.slippageBps,
    participationRate: init.participationRate ?? null,
    risk: c.risk ?? {},
    seed: init.seed,
    adjusted: c.adjusted ?? false,
    data: c.dataFingerprint ?? null,
  };
  return {
    configHash: hashConfig(config),
    config,
    strategy: { name: c.strategy.name, version: c.strategy.version },
    objective,
    axes,
    points,
    skipped,
    folds: foldResults,
    scores,
    oos: { daily, statistics, trades: trades.length },
    workers,
    backtests: trainScores.length + (finals.length) + (folds.some((f) => f.validation) ? folds.length * Math.min(c.topK ?? 5, P) : 0),
    elapsedMs: (c.stopwatch?.() ?? 0) - started,
  };
}

/** Points the strategy schema accepts (with the base params merged), and the rejected ones with why. */
function validPoints(strategy: StrategyDefinition, base: Record<string, unknown>, all: ParamPoint[]) {
  const points: ParamPoint[] = [];
  const skipped: { params: ParamPoint; problems: string[] }[] = [];
  for (const p of all) {
    try {
      validateStrategyParams(strategy, { ...base, ...p });
      points.push(p);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      skipped.push({ params: p, problems: [...e.problems] });
    }
  }
  return { points, skipped };
}

/** Indices sorted by score, best first; ties keep grid order; -Infinity/NaN dropped. */
function rankDescending(scores: Float64Array): number[] {
  const idx = Array.from(scores.keys()).filter((i) => scores[i] !== -Infinity && !Number.isNaN(scores[i]!));
  return idx.sort((a, b) => scores[b]! - scores[a]! || a - b);
}

async function loadSeries(store: Store, c: WalkForwardConfig): Promise<MemorySeries[]> {
  if (!c.symbols?.length || c.interval === undefined) throw new ConfigError('walk-forward data', ['with a store, symbols and interval are required']);
  const kind = c.kind ?? 'trade';
  const blocks = await loadBars(store, { symbols: c.symbols, interval: c.interval, kind, to: c.to, adjusted: c.adjusted });
  return blocks.map(({ instrument, length, ts, open, high, low, close, volume }) => {
    const { instrumentId: _id, validFrom: _vf, validTo: _vt, ...spec } = instrument;
    return { instrument: spec, interval: c.interval!, kind, bars: { length, ts, open, high, low, close, volume } };
  });
}

/** Sorted distinct trading dates with a bar in any series, within the bounds. */
function sessionDates(series: readonly MemorySeries[], interval: Interval, from?: number, to?: number): Float64Array {
  const days = new Set<number>();
  const intraday = isIntraday(interval);
  for (const s of series) {
    const ts = s.bars.ts;
    for (let i = 0; i < s.bars.length; i++) {
      const day = intraday ? tradingDayOf(ts[i]!) : ts[i]!;
      if ((from === undefined || day >= tradingDayOf(from)) && (to === undefined || day <= to)) days.add(day);
    }
  }
  return Float64Array.from([...days].sort((a, b) => a - b));
}
