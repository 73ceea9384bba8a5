import { availableParallelism } from 'node:os';
import { importFiles } from '../../lib/ingest/import-files.js';
import { Store } from '../../lib/store/store.js';
import { runWalkForward, type WalkForwardConfig } from '../../lib/walkforward/walk-forward.js';
import { smaCross } from '../../strategies/sma-cross/index.js';
import type { BenchReport } from './harness.js';

const SYMBOLS = ['AAPL', 'AIG', 'BAC', 'BNO', 'EEM', 'FB', 'GOOG', 'GOOGL', 'IBM', 'IWM', 'QQQ', 'SPY', 'USO', 'WM'];

/**
 * The walk-forward target: sma-cross, a 100-point grid (fast 2..20 step 2 x slow 30..120
 * step 10), 10 rolling folds over 20 years of daily bars (2001-04..2021-03) of the 14 bundled
 * symbols, on all cores. Baseline: the same walk-forward in one thread, in the same run; the ratio
 * is the parallel speedup, and the results must be identical.
 */
export async function walkForwardBenchmarks(): Promise<BenchReport> {
  const store = await Store.open(':memory:');
  try {
    await importFiles(store, ['data/lean/equity/usa/daily']);
    const config = (workers: number): WalkForwardConfig => ({
      strategy: smaCross,
      baseParams: { size: 100 },
      grid: 'fast=2..20:2,slow=30..120:10',
      split: { mode: 'rolling', folds: 10 },
      data: store,
      symbols: SYMBOLS,
      interval: '1d',
      from: '2001-04-01',
      to: '2021-03-31',
      cash: 1_000_000,
      commission: 'ib-fixed',
      workers,
      stopwatch: () => performance.now(),
    });
    const workers = availableParallelism();
    const parallel = await runWalkForward(config(workers));
    const single = await runWalkForward(config(0));
    if (parallel.points.length !== 100) throw new Error(`expected a 100-point grid, got ${parallel.points.length}`);
    if (JSON.stringify(parallel.scores) !== JSON.stringify(single.scores) || parallel.configHash !== single.configHash) {
      throw new Error('walk-forward results differ between worker counts');
    }
    const seconds = parallel.elapsedMs / 1000;
    return {
      [`walk-forward sma-cross 100 points x 10 folds, 14 symbols x 20y daily (${workers} workers)`]: {
        value: seconds,
        unit: 's',
        baseline: { name: 'same walk-forward in one thread', value: single.elapsedMs / 1000 },
        ratio: single.elapsedMs / parallel.elapsedMs,
        target: '< 10 s',
        met: seconds < 10,
      },
      [`walk-forward backtests per second (${workers} workers)`]: {
        value: parallel.backtests / seconds,
        unit: 'backtests/s',
        baseline: { name: 'one thread', value: single.backtests / (single.elapsedMs / 1000) },
        ratio: (parallel.backtests / seconds) / (single.backtests / (single.elapsedMs / 1000)),
      },
    };
  } finally {
    store.close();
  }
}
