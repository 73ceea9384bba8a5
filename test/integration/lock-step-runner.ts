/**
 * Test fixture (runner-control-halt, runner-universe-add, runner-universe-remove): the runner in
 * replay against the TWS simulator over TCP, moved in lock step (runner/parity/lock-step.ts) so every
 * step settles before time moves on, with the control API enabled. The simulator fills with its
 * backtest model (the next bar's open, IB fixed commission, no slippage); staleness and health halts
 * are off, since they would react to the lock-step pacing rather than to what a test drives.
 */
import { parseCommissionModel } from '../../lib/backtest/commission.js';
import { silentLogger } from '../../lib/core/logger.js';
import type { StrategyDefinition } from '../../lib/engine/strategy.js';
import { importFiles } from '../../lib/ingest/import-files.js';
import { readJournal, type JournalRecord } from '../../lib/journal/journal.js';
import { loadBars } from '../../lib/store/bar-query.js';
import { Store } from '../../lib/store/store.js';
import { validateRunnerConfig, type RunnerConfig } from '../../runner/live/config.js';
import { ControlClient } from '../../runner/live/control-client.js';
import { runRunner, type RunnerOptions, type RunSummary } from '../../runner/live/live-runner.js';
import type { UniverseRunner } from '../../runner/live/universe-runner.js';
import { LockStepDriver, type LockStepOptions } from '../../runner/parity/lock-step.js';
import { PARITY_DEFAULT_LIMITS } from '../../runner/parity/run-parity.js';
import { contractDetailsFeature } from '../../runner/tws-sim/contract-details.js';
import { historicalFeature } from '../../runner/tws-sim/historical.js';
import { marketDataFeature, type MarketDataFeature } from '../../runner/tws-sim/market-data.js';
import { ordersFeature, type OrdersFeature } from '../../runner/tws-sim/orders.js';
import { StoreQuoteBook } from '../../runner/tws-sim/replay-quotes.js';

const MIN = 60_000;
export const CONTROL_TOKEN = 'test-token-0123456789abcdef';

/** Imports `files` into the store at `db`; the close times of `symbols`' minute bars in (from, to], per symbol */
export async function importCloses(db: string, files: readonly string[], symbols: readonly string[], from: number, to: number): Promise<Map<string, number[]>> {
  const closes = new Map<string, number[]>();
  const store = await Store.open(db);
  try {
    await importFiles(store, [...files]);
    for (const s of await loadBars(store, { symbols: [...symbols], interval: '1m', from: from - MIN, to })) {
      closes.set(s.instrument.symbol, [...s.ts].map((t) => t + MIN).filter((c) => c > from && c <= to));
    }
  } finally {
    store.close();
  }
  return closes;
}

/** A driver stepping every minute in (from, to] that stops at the first stall (a stall fails the test anyway) */
export function lockStepDriver(o: Omit<LockStepOptions, 'steps'>): LockStepDriver {
  const steps: number[] = [];
  for (let t = o.from + MIN; t <= o.to; t += MIN) steps.push(t);
  const driver: LockStepDriver = new LockStepDriver({
    ...o,
    steps,
    afterStep: async (t): Promise<void> => {
      if (driver.stalls.length > 0) {
        driver.stop();
        return;
      }
      await o.afterStep?.(t);
    },
  });
  return driver;
}

type DrivenParts = Parameters<NonNullable<RunnerOptions['replayDriver']>['attach']>[0];

export interface LockStepRunOptions {
  /** The config's source name */
  name: string;
  driver: LockStepDriver;
  strategy: StrategyDefinition;
  symbols: readonly string[];
  /** The bar store and the journal file */
  db: string;
  journal: string;
  from: number;
  to: number;
  startingCash: number;
  /** Risk limits over PARITY_DEFAULT_LIMITS.risk */
  risk?: Partial<Record<keyof typeof PARITY_DEFAULT_LIMITS.risk, number>>;
  onAttach?: (parts: DrivenParts) => void;
  onUniverse?: (u: UniverseRunner) => void;
  onControl?: (api: ControlClient, address: { host: string; port: number }) => void;
  onSimulator?: (f: { marketData: MarketDataFeature; orders: OrdersFeature }) => void;
}

export interface LockStepRun {
  config: RunnerConfig;
  summary: RunSummary;
}

/** Runs the replay to its end; the driver stopped and finished, its error (or the runner's) thrown */
export async function runLockStep(o: LockStepRunOptions): Promise<LockStepRun> {
  const { driver, strategy } = o;
  const config = validateRunnerConfig(
    {
      mode: 'replay',
      ib: { clientId: 1, account: 'DU1234567' },
      strategy: { name: strategy.name, interval: '1m' },
      universe: { mode: 'static', symbols: [...o.symbols] },
      ...PARITY_DEFAULT_LIMITS,
      ...(o.risk ? { risk: { ...PARITY_DEFAULT_LIMITS.risk, ...o.risk } } : {}),
      data: { staleSeconds: 1e9 },
      health: { eventLoopLagMs: 1e9 },
      journal: { path: o.journal },
      control: { enabled: true, port: 0, token: CONTROL_TOKEN },
      replay: { db: o.db, from: new Date(o.from).toISOString(), to: new Date(o.to).toISOString(), speed: 1 },
    },
    o.name,
    {},
    { strategy },
  );
  let summary: RunSummary | undefined;
  let error: unknown;
  try {
    summary = await runRunner(config, {
      logger: silentLogger,
      strategy,
      startingCash: o.startingCash,
      replayDriver: {
        clock: driver.clock,
        scheduler: driver.scheduler,
        attach: (parts) => {
          o.onAttach?.(parts);
          driver.attach(parts);
        },
      },
      ...(o.onUniverse ? { onUniverse: o.onUniverse } : {}),
      onControl: (a) => o.onControl?.(new ControlClient(a.host, a.port, CONTROL_TOKEN), a),
      simulatorFeatures: (s) => {
        const quotes = new StoreQuoteBook(s);
        const md = marketDataFeature({ quotes, tickIntervalMs: 0, realtimeDelay: 'slot' });
        const orders = ordersFeature({ quotes, fillModel: 'backtest', slippageBps: 0, commission: parseCommissionModel('ib-fixed') });
        o.onSimulator?.({ marketData: md, orders });
        driver.drive(orders, md);
        return [contractDetailsFeature(), historicalFeature(), md, orders];
      },
    });
  } catch (e) {
    error = e;
  }
  driver.stop();
  await driver.finished();
  if (error !== undefined || driver.error !== undefined) throw error ?? driver.error;
  return { config, summary: summary! };
}

/** The journal records of the run */
export async function readRunJournal(run: LockStepRun): Promise<JournalRecord[]> {
  const js = await Store.open(run.config.journal.path);
  try {
    return await readJournal(js, run.summary.journal.runId);
  } finally {
    js.close();
  }
}
