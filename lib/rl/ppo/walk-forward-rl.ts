import type { CommissionModelName } from '../../backtest/commission.js';
import type { MemorySeries } from '../../backtest/memory-data-client.js';
import { hashConfig } from '../../backtest/run-backtest.js';
import type { FillMode } from '../../backtest/sim-venue.js';
import { computeStatistics } from '../../backtest/statistics.js';
import { ConfigError } from '../../core/errors.js';
import { DAY_MS } from '../../core/time-zone.js';
import type { StrategyDefinition } from '../../engine/strategy.js';
import { tradingDayEnd } from '../../engine/trading-day.js';
import { loadBars } from '../../store/bar-query.js';
import type { Store } from '../../store/store.js';
import { backtestTaskRunner, type BacktestTaskInit, type BacktestTaskResult } from '../../walkforward/backtest-task.js';
import { makeFolds, type SplitSpec } from '../../walkforward/splits.js';
import { stitchDaily } from '../../walkforward/stitch.js';
import type { FoldResult, WalkForwardResult } from '../../walkforward/walk-forward.js';
import { envConfigHash, parseEnvConfig, type TradingEnvConfig } from '../env/config.js';
import { buildPolicyModel, type PolicyModel } from '../policy/policy-model.js';
import type { PpoConfigInput } from './ppo-config.js';
import type { TfBackendName } from './tf-loader.js';
import { trainPpo, type TrainMetrics } from './train.js';

export interface RlWalkForwardConfig {
  /** A trading env on store data: its symbols, interval and data range are what the folds cut */
  envConfig: TradingEnvConfig;
  /** Turns a fold's trained policy into the strategy evaluated out of sample (e.g. ppoStrategy) */
  strategyFor: (model: PolicyModel) => StrategyDefinition;
  /** Bars for the backtests (the env's store) */
  store: Store;
  split: SplitSpec;
  /** Env steps trained per fold */
  steps: number;
  seed: number;
  workers?: number;
  ppo?: PpoConfigInput;
  backend?: TfBackendName;
  /** Backtest costs; default the env's portfolio (cash, commission, slippage) */
  cash?: number;
  commission?: CommissionModelName;
  slippageBps?: number;
  fill?: FillMode;
  onProgress?: (p: { fold: number; folds: number; phase: 'train' | 'test'; envSteps?: number }) => void;
  stopwatch?: () => number;
}

export interface RlFold {
  /** The env config the fold's policy trained on (data range = the fold's train window) */
  envConfig: TradingEnvConfig;
  training: TrainMetrics;
  model: PolicyModel;
}

export interface RlWalkForwardResult extends WalkForwardResult {
  rl: RlFold[];
}

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Walk-forward for a learned policy: the env's sessions are cut into folds with the same splits
 * as rule strategies (lib/walkforward/splits.ts); on each fold PPO trains on the train window only
 * (the env's data range narrowed to it, so no episode sees a later bar), the policy becomes a
 * strategy, and that strategy is backtested on the test window (and on train, for the in- vs
 * out-of-sample charts) by the same backtest task as rule strategies. The test windows are
 * stitched into one out-of-sample curve, so the result is a WalkForwardResult: the same report,
 * storage and CLI summary as `monger walkforward`.
 */
export async function runRlWalkForward(c: RlWalkForwardConfig): Promise<RlWalkForwardResult> {
  const started = c.stopwatch?.() ?? 0;
  const env = c.envConfig;
  if (env.data.kind !== 'store' || env.data.symbols === undefined) throw new ConfigError('rl walk-forward', ['the env config needs store data with a symbols list']);
  const data = env.data;
  const symbols = data.symbols!;
  const blocks = await loadBars(c.store, { symbols, interval: data.interval, kind: 'trade', to: data.to, adjusted: data.adjusted });
  const series: MemorySeries[] = blocks.map(({ instrument, length, ts, open, high, low, close, volume }) => {
    const { instrumentId: _id, validFrom: _vf, validTo: _vt, ...spec } = instrument;
    return { instrument: spec, interval: data.interval, kind: 'trade', bars: { length, ts, open, high, low, close, volume } };
  });
  const from = data.from === undefined ? -Infinity : Date.parse(`${data.from}T00:00:00Z`);
  const days = new Set<number>();
  for (const s of series) for (let i = 0; i < s.bars.length; i++) if (s.bars.ts[i]! >= from) days.add(s.bars.ts[i]!);
  const sessions = Float64Array.from([...days].sort((a, b) => a - b));
  const folds = makeFolds(sessions, c.split);
  const size = (w: { first: number; last: number }) => w.last - w.first + 1;
  const split: Required<SplitSpec> = { mode: c.split.mode, folds: folds.length, train: size(folds[0]!.train), validation: c.split.validation ?? 0, test: size(folds[0]!.test), embargo: c.split.embargo ?? 0 };
  const portfolio = env.portfolio;
  const window = (w: { from: number; to: number }) => ({ from: tradingDayEnd(w.from - DAY_MS), to: tradingDayEnd(w.to) - 1 });

  const rl: RlFold[] = [];
  const foldResults: FoldResult[] = [];
  let strategy: StrategyDefinition | undefined;
  for (const fold of folds) {
    c.onProgress?.({ fold: fold.index, folds: folds.length, phase: 'train' });
    const trainWindow = fold.train;
    const foldEnv = parseEnvConfig({ ...env, data: { ...data, from: isoDate(trainWindow.from), to: isoDate(trainWindow.to) } }, `fold ${fold.index} env`);
    const trained = await trainPpo({
      envConfig: foldEnv,
      steps: c.steps,
      seed: c.seed,
      workers: c.workers,
      ppo: c.ppo,
      backend: c.backend,
      onIteration: (_m, p) => c.onProgress?.({ fold: fold.index, folds: folds.length, phase: 'train', envSteps: p.envSteps }),
    });
    const model = buildPolicyModel({ ...trained, envConfig: foldEnv, featureSetHash: null, envConfigHash: envConfigHash(foldEnv), metrics: trained.metrics });
    rl.push({ envConfig: foldEnv, training: trained.metrics, model });
    strategy = c.strategyFor(model);
    const init: BacktestTaskInit = {
      strategyModule: '',
      strategyName: strategy.name,
      strategyVersion: strategy.version,
      series,
      subscriptions: series.map((s) => ({ instrument: s.instrument.key, interval: s.interval, kind: 'trade', history: strategy!.warmup?.({}) ?? 1 })),
      baseParams: {},
      cash: c.cash ?? portfolio.cash,
      fill: c.fill ?? 'next-open',
      commission: c.commission ?? portfolio.commission,
      slippageBps: c.slippageBps ?? portfolio.slippageBps,
      seed: c.seed,
      objective: 'sharpe',
      minTrades: 0,
    };
    c.onProgress?.({ fold: fold.index, folds: folds.length, phase: 'test' });
    const run = backtestTaskRunner(strategy, init);
    const test: BacktestTaskResult = await run({ params: {}, ...window(fold.test), detail: true });
    const train: BacktestTaskResult = await run({ params: {}, ...window(fold.train), detail: true });
    foldResults.push({
      fold,
      chosen: 0,
      params: {},
      trainObjective: train.objective,
      train: train.statistics,
      test: test.statistics,
      trainDaily: train.daily!,
      testDaily: test.daily!,
      testTrades: test.trades!,
      testTradedNotional: test.tradedNotional,
    });
  }

  const cash = c.cash ?? portfolio.cash;
  const daily = stitchDaily(cash, foldResults.map((f) => f.testDaily));
  const trades = foldResults.flatMap((f) => f.testTrades);
  const statistics = computeStatistics({
    startingEquity: cash,
    daily,
    trades,
    feesPaid: foldResults.reduce((s, f) => s + f.test.feesPaid, 0),
    tradedNotional: foldResults.reduce((s, f) => s + f.testTradedNotional, 0),
  });
  const config = {
    strategy: strategy!.name,
    strategyVersion: strategy!.version,
    learner: 'ppo',
    envConfigHash: envConfigHash(env),
    steps: c.steps,
    seed: c.seed,
    workers: c.workers ?? 0,
    ppo: c.ppo ?? {},
    split,
    sessions: sessions.length,
    instruments: series.map((s) => `${s.instrument.key}:${s.interval}:trade`),
    cash,
    commission: c.commission ?? portfolio.commission,
    slippageBps: c.slippageBps ?? portfolio.slippageBps,
    fill: c.fill ?? 'next-open',
    adjusted: data.adjusted,
  };
  return {
    configHash: hashConfig(config),
    config,
    strategy: { name: strategy!.name, version: strategy!.version },
    objective: 'sharpe',
    axes: [],
    points: [{}],
    skipped: [],
    folds: foldResults,
    scores: foldResults.map((f, k) => ({ fold: k, point: 0, objective: f.trainObjective, sharpe: f.train.sharpe, totalReturn: f.train.totalReturn, maxDrawdown: f.train.maxDrawdown, trades: f.train.trades })),
    oos: { daily, statistics, trades: trades.length },
    workers: c.workers ?? 0,
    backtests: folds.length * 2,
    elapsedMs: (c.stopwatch?.() ?? 0) - started,
    rl,
  };
}
