import { pathToFileURL } from 'node:url';
import { ConfigError } from '../core/errors.js';
import type { RiskLimits } from '../engine/risk-engine.js';
import type { StrategyDefinition } from '../engine/strategy.js';
import { MemoryDataClient, type MemorySeries } from '../backtest/memory-data-client.js';
import type { RunStatistics, TradeRecord } from '../backtest/result-types.js';
import { runBacktest, type BacktestSubscription } from '../backtest/run-backtest.js';
import type { CommissionModelName } from '../backtest/commission.js';
import type { FillMode } from '../backtest/sim-venue.js';
import { objectiveValue, type ObjectiveName } from './objective.js';
import type { ParamPoint } from './param-grid.js';

/** Everything a worker needs once: the data and the fixed part of every backtest config. */
export interface BacktestTaskInit {
  /** Module exporting `STRATEGIES` (a name -> definition record) or the definition by name */
  strategyModule: string;
  strategyName: string;
  strategyVersion: string;
  series: MemorySeries[];
  subscriptions: BacktestSubscription[];
  baseParams: Record<string, unknown>;
  cash: number;
  fill: FillMode;
  commission: CommissionModelName;
  slippageBps: number;
  participationRate?: number;
  risk?: RiskLimits;
  seed: number;
  objective: ObjectiveName;
  minTrades: number;
}

/** One backtest over a window: epoch-ms bounds, the point's params over the base params. */
export interface BacktestTask {
  params: ParamPoint;
  from: number;
  to: number;
  /** Return the daily series and trades (needed for charts and stitching, not for scoring) */
  detail: boolean;
}

export interface BacktestTaskResult {
  objective: number;
  statistics: RunStatistics;
  orders: number;
  bars: number;
  tradedNotional: number;
  configHash: string;
  daily?: { ts: Float64Array; equity: Float64Array; gross: Float64Array; net: Float64Array };
  trades?: TradeRecord[];
}

export type BacktestTaskRunner = (task: BacktestTask) => Promise<BacktestTaskResult>;

/** Runs tasks in this thread with a definition already at hand (notebooks, workers = 0). */
export function backtestTaskRunner(strategy: StrategyDefinition, init: BacktestTaskInit): BacktestTaskRunner {
  const data = new MemoryDataClient(init.series);
  return async (task) => {
    const r = await runBacktest({
      strategy,
      params: { ...init.baseParams, ...task.params },
      subscriptions: init.subscriptions,
      data,
      from: task.from,
      to: task.to,
      cash: init.cash,
      fill: init.fill,
      commission: init.commission,
      slippageBps: init.slippageBps,
      participationRate: init.participationRate,
      risk: init.risk,
      seed: init.seed,
    });
    const out: BacktestTaskResult = {
      objective: objectiveValue(r.statistics, init.objective, init.minTrades),
      statistics: r.statistics,
      orders: r.orders.length,
      bars: r.bars,
      tradedNotional: r.tradedNotional,
      configHash: r.configHash,
    };
    if (task.detail) {
      out.daily = { ts: r.daily.ts, equity: r.daily.equity, gross: r.daily.grossExposure, net: r.daily.netExposure };
      out.trades = r.trades;
    }
    return out;
  };
}

/** Worker factory (see lib/parallel): loads the strategy from its module, checks its version. */
export async function createBacktestTaskRunner(init: BacktestTaskInit): Promise<BacktestTaskRunner> {
  const mod = (await import(pathToFileURL(init.strategyModule).href)) as Record<string, unknown>;
  const registry = mod.STRATEGIES as Record<string, StrategyDefinition> | undefined;
  const strategy = registry?.[init.strategyName] ?? (mod[init.strategyName] as StrategyDefinition | undefined);
  if (strategy === undefined) {
    throw new ConfigError('walk-forward worker', [`strategy '${init.strategyName}' is not exported by ${init.strategyModule}; run with workers = 0 for strategies defined outside a module`]);
  }
  if (strategy.version !== init.strategyVersion) {
    throw new ConfigError('walk-forward worker', [`${init.strategyModule} has ${init.strategyName} ${strategy.version}, the run asked for ${init.strategyVersion}`]);
  }
  return backtestTaskRunner(strategy, init);
}
