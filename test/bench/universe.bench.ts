/**
 * Issue 10 part 2: "time from a new ticker's first signal to its trader being ready (p50/p99) and
 * memory per active trader", against the TWS simulator.
 *
 * Setup (test/integration/universe-fixture.ts): the whole runner in replay mode (runRunner, the
 * simulator in this process on a temp DuckDB store) with a dynamic universe trading signal-trader;
 * TICKERS synthetic stocks, one signal each at a seeded minute of the session, nothing retired, a
 * line budget large enough that nobody waits (2 lines per ticker, allowMoreLines): the latency is
 * the activation path alone. IB pacing is off (session budget, simulator's message limit and
 * historical pacing): a real account would pace the warm-up requests.
 *
 * - Ready latency (real ms, performance.now()): from the moment the runner first sees a ticker (the
 *   signal poller reports a new symbol, or its signal is dispatched) to its UniverseManager state
 *   `active`: contract resolved through the ContractResolver (reqContractDetails round trip), trading
 *   parameters checked, lines taken, L1 requested, WARMUP bars of 1-minute history loaded
 *   (reqHistoricalData round trip), realtime bars requested. Baseline: one replayed minute in real
 *   ms at this speed (the replay's grain: a latency below it is invisible to a 1-minute strategy).
 * - Memory per active trader: heap after a full GC once all TICKERS are active, minus the heap after
 *   a full GC before the first activation, divided by TICKERS. It includes each trader's share of
 *   the kernel (instrument registry, subscription, bar series of WARMUP + streamed minutes), the
 *   market-data entry (aggregators, quote, lag window), the universe entry, and the journal notes
 *   the run accumulated meanwhile; GC is forced through v8 flags. Baseline: the heap per ticker
 *   before any activation (the store and fixture overhead divided the same way).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { silentLogger } from '../../lib/core/logger.js';
import { Store } from '../../lib/store/store.js';
import { runRunner } from '../../runner/live/live-runner.js';
import type { UniverseRunner } from '../../runner/live/universe-runner.js';
import { OPEN, planSignals, seedSignals, seedStore, syntheticSymbol, universeConfig, universeSimFeatures, UNPACED } from '../integration/universe-fixture.js';
import type { BenchReport } from './harness.js';

const TICKERS = 200;
const SPEED = 60;
const WARMUP = 5;

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function universeBenchmarks(): Promise<BenchReport> {
  const dir = mkdtempSync(join(tmpdir(), 'monger-universe-bench-'));
  try {
    const db = join(dir, 'day.duckdb');
    const store = await Store.open(db);
    await seedStore(store, TICKERS);
    const symbols = Array.from({ length: TICKERS }, (_, i) => syntheticSymbol(i));
    // one signal per ticker, below the trade threshold: no orders
    const signals = planSignals({ symbols, from: OPEN + 5 * 60_000, to: OPEN + 45 * 60_000, tradeShare: 0, maxPerSymbol: 1 });
    await seedSignals(store, signals);
    store.close();

    const lines = 2 * TICKERS + 10;
    const config = universeConfig({ db, journal: join(dir, 'journal.duckdb'), lineBudget: lines, speed: SPEED, warmup: WARMUP, to: '2013-10-08T14:25:00Z', pollSeconds: 10 });
    let universe: UniverseRunner | undefined;
    let heap0 = NaN;
    let heap1 = NaN;
    const watcher = setInterval(() => {
      if (universe === undefined || !Number.isNaN(heap1)) return;
      if (universe.status().states.active >= TICKERS) heap1 = heapAfterGc();
    }, 100);
    let summary;
    try {
      summary = await runRunner(config, {
        logger: silentLogger,
        pacing: UNPACED,
        onUniverse: (u) => {
          universe = u;
          heap0 = heapAfterGc();
        },
        simulatorFeatures: (s) => universeSimFeatures(s, lines).features,
      });
    } finally {
      clearInterval(watcher);
    }
    const ready = [...universe!.readyLatencies()].sort((a, b) => a - b);
    const minuteMs = 60_000 / SPEED;
    const perTrader = (heap1 - heap0) / TICKERS / 1024;
    const basePerTicker = heap0 / TICKERS / 1024;
    process.stderr.write(`  universe: ${ready.length} activations, ready p50 ${quantile(ready, 0.5).toFixed(1)} ms p99 ${quantile(ready, 0.99).toFixed(1)} ms; heap ${(heap0 / 2 ** 20).toFixed(1)} -> ${(heap1 / 2 ** 20).toFixed(1)} MB with ${TICKERS} active; summary ${JSON.stringify(summary.universe)}\n`);
    const what = `${TICKERS} tickers, dynamic universe on tws-sim over TCP at ${SPEED}x, warm-up ${WARMUP} bars, IB pacing off`;
    const minute = { name: 'one replayed minute (real ms)', value: minuteMs };
    return {
      [`universe first signal -> trader ready p50 (${what})`]: { value: quantile(ready, 0.5), unit: 'ms', baseline: minute, ratio: quantile(ready, 0.5) / minuteMs },
      [`universe first signal -> trader ready p99 (${what})`]: { value: quantile(ready, 0.99), unit: 'ms', baseline: minute, ratio: quantile(ready, 0.99) / minuteMs },
      [`universe memory per active trader (${what}; heap after GC)`]: {
        value: perTrader,
        unit: 'KiB',
        baseline: { name: 'heap per ticker before any activation (KiB)', value: basePerTicker },
        ratio: perTrader / basePerTicker,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
