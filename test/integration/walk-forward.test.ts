import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../../lib/core/time-zone.js';
import { tradingDayEnd } from '../../lib/engine/trading-day.js';
import { importFiles } from '../../lib/ingest/import-files.js';
import { runBacktest } from '../../lib/backtest/run-backtest.js';
import { Store } from '../../lib/store/store.js';
import { saveWalkForward } from '../../lib/walkforward/save-walk-forward.js';
import { runWalkForward, type WalkForwardConfig, type WalkForwardResult } from '../../lib/walkforward/walk-forward.js';
import { smaCross } from '../../strategies/sma-cross/index.js';

const SYMBOLS = ['SPY', 'QQQ', 'IWM'];
let store: Store;

beforeAll(async () => {
  store = await Store.open(':memory:');
  await importFiles(store, SYMBOLS.map((s) => `data/lean/equity/usa/daily/${s.toLowerCase()}.csv`));
});
afterAll(() => store.close());

const config = (over: Partial<WalkForwardConfig> = {}): WalkForwardConfig => ({
  strategy: smaCross,
  baseParams: { size: 100 },
  grid: 'fast=5..15:5,slow=10..50:20',
  split: { mode: 'rolling', folds: 3, train: 500, test: 250, embargo: 5 },
  data: store,
  symbols: SYMBOLS,
  interval: '1d',
  from: '2005-01-01',
  to: '2012-12-31',
  cash: 100_000,
  commission: 'ib-fixed',
  workers: 0,
  ...over,
});

describe('walk-forward on real daily bars', () => {
  let inThread: WalkForwardResult;
  beforeAll(async () => {
    inThread = await runWalkForward(config());
  }, 120_000);

  it('skips grid points the strategy schema rejects and names why', () => {
    // fast 10 and 15 with slow 10 violate slow > fast
    expect(inThread.skipped.map((s) => s.params)).toEqual([
      { fast: 10, slow: 10 },
      { fast: 15, slow: 10 },
    ]);
    expect(inThread.skipped[0]!.problems.join()).toMatch(/slow must be greater than fast/);
    expect(inThread.points).toHaveLength(3 * 3 - 2);
  });

  it('chooses, on every fold, the point with the best train score (first on ties)', () => {
    for (const f of inThread.folds) {
      const scores = inThread.scores.filter((s) => s.fold === f.fold.index);
      expect(scores).toHaveLength(inThread.points.length);
      const best = Math.max(...scores.map((s) => s.objective));
      expect(f.chosen).toBe(scores.findIndex((s) => s.objective === best));
      expect(f.trainObjective).toBe(best);
      expect(f.train.sharpe).toBe(best);
    }
  });

  it('reports test numbers identical to a plain backtest of the chosen point over the test window', async () => {
    for (const f of inThread.folds) {
      const direct = await runBacktest({
        strategy: smaCross,
        params: { size: 100, ...f.params },
        subscriptions: SYMBOLS.map((instrument) => ({ instrument, interval: '1d', history: 50 })),
        data: store,
        from: tradingDayEnd(f.fold.test.from - DAY_MS),
        to: tradingDayEnd(f.fold.test.to) - 1,
        cash: 100_000,
        commission: 'ib-fixed',
      });
      expect(f.test).toEqual(direct.statistics);
      expect(Array.from(f.testDaily.equity)).toEqual(Array.from(direct.daily.equity));
    }
  });

  it('stitches the test windows into one continuous out-of-sample curve', () => {
    const days = inThread.folds.reduce((n, f) => n + f.testDaily.ts.length, 0);
    expect(inThread.oos.daily.ts.length).toBe(days);
    const ts = Array.from(inThread.oos.daily.ts);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    // the first fold's curve passes through unchanged (it starts from the same cash)
    const first = inThread.folds[0]!.testDaily.equity;
    expect(inThread.oos.daily.equity[first.length - 1]).toBeCloseTo(first[first.length - 1]!, 6);
    expect(inThread.oos.trades).toBe(inThread.folds.reduce((n, f) => n + f.test.trades, 0));
  });

  it('gives the same result on 2 worker threads as in this thread', async () => {
    const parallel = await runWalkForward(config({ workers: 2 }));
    expect(parallel.configHash).toBe(inThread.configHash);
    expect(parallel.scores).toEqual(inThread.scores);
    expect(parallel.folds.map((f) => [f.params, f.test])).toEqual(inThread.folds.map((f) => [f.params, f.test]));
    expect(Array.from(parallel.oos.daily.equity)).toEqual(Array.from(inThread.oos.daily.equity));
    expect(parallel.workers).toBe(2);
  }, 120_000);

  it('re-ranks the top train points on a validation window when one is given', async () => {
    const r = await runWalkForward(config({ split: { mode: 'anchored', folds: 2, train: 500, validation: 120, test: 250 }, topK: 2 }));
    for (const f of r.folds) {
      expect(f.validationObjective).toBeDefined();
      const scores = r.scores.filter((s) => s.fold === f.fold.index).map((s) => s.objective);
      const top2 = scores
        .map((v, i) => [v, i] as const)
        .sort((a, b) => b[0] - a[0] || a[1] - b[1])
        .slice(0, 2)
        .map(([, i]) => i);
      expect(top2).toContain(f.chosen);
      expect(f.fold.train.first).toBe(0);
      expect(f.fold.validation!.first).toBe(f.fold.train.last + 1);
    }
  }, 120_000);

  it('stores the run: folds, every score and the stitched curve', async () => {
    const runId = await saveWalkForward(store, inThread);
    const count = async (table: string) => (await store.all<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE run_id = $1`, [runId]))[0]!.n;
    expect(await count('walkforward_runs')).toBe(1);
    expect(await count('walkforward_folds')).toBe(3);
    expect(await count('walkforward_scores')).toBe(3 * inThread.points.length);
    expect(await count('walkforward_equity')).toBe(inThread.oos.daily.ts.length);
    const [row] = await store.all<{ params: string; test_from: string }>(`SELECT params, CAST(test_from AS VARCHAR) AS test_from FROM walkforward_folds WHERE run_id = $1 AND fold = 0`, [runId]);
    expect(JSON.parse(row!.params)).toEqual(inThread.folds[0]!.params);
    expect(row!.test_from).toBe(new Date(inThread.folds[0]!.fold.test.from).toISOString().slice(0, 10));
  });
});
