import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFiles } from '../../lib/ingest/import-files.js';
import { writeWalkForwardReport } from '../../lib/report/walkforward-report.js';
import { parseEnvConfig } from '../../lib/rl/env/config.js';
import { runRlWalkForward } from '../../lib/rl/ppo/walk-forward-rl.js';
import { Store } from '../../lib/store/store.js';
import { saveWalkForward } from '../../lib/walkforward/save-walk-forward.js';
import { ppoStrategy } from './index.js';

const LEAN = 'data/lean/equity/usa';
const SYMBOLS = ['SPY', 'QQQ', 'IWM'];
let store: Store;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'monger-rl-wf-'));
  // a file: the env opens the store itself (its config is plain data that crosses to workers)
  store = await Store.open(join(dir, 'wf.duckdb'));
  await importFiles(store, [...SYMBOLS.map((s) => `${LEAN}/daily/${s.toLowerCase()}.csv`), `${LEAN}/factor_files`, `${LEAN}/map_files`]);
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('walk-forward for the PPO strategy', () => {
  it('trains on each train window only, backtests out of sample, and reports like a rule strategy', async () => {
    const envConfig = parseEnvConfig({
      data: { kind: 'store', db: join(dir, 'wf.duckdb'), symbols: SYMBOLS, interval: '1d', adjusted: true, featureSet: 'data/feature-sets/core-daily.yaml', from: '2012-01-01', to: '2017-12-31', columns: ['ret_1_z252', 'ret_20_z252', 'rsi_14_z252'] },
      universe: { slots: 3 },
      episode: { length: 60, window: 2 },
    });
    const progress: string[] = [];
    const r = await runRlWalkForward({
      envConfig,
      strategyFor: (model) => ppoStrategy(model),
      store,
      split: { mode: 'rolling', folds: 2, train: 500, test: 250 },
      steps: 2048,
      seed: 5,
      workers: 0,
      backend: 'wasm',
      ppo: { numEnvs: 4, rolloutSteps: 256, hidden: [16], inputRows: 1 },
      onProgress: (p) => progress.push(`${p.fold}:${p.phase}`),
    });
    expect(r.folds).toHaveLength(2);
    expect(r.rl).toHaveLength(2);
    r.folds.forEach((f, k) => {
      // the policy never trained on a bar of (or after) its test window
      const trainedTo = Date.parse(`${r.rl[k]!.envConfig.data.kind === 'store' ? r.rl[k]!.envConfig.data.to : ''}T00:00:00Z`);
      expect(trainedTo).toBe(f.fold.train.to);
      expect(trainedTo).toBeLessThan(f.fold.test.from);
      expect(r.rl[k]!.training.envSteps).toBe(2048);
      expect(f.testTradedNotional).toBeGreaterThan(0); // the fold's policy traded out of sample
      expect(f.testDaily.equity.length).toBeGreaterThan(200);
    });
    // contiguous test windows stitched into one out-of-sample curve
    expect(r.folds[1]!.fold.test.first).toBe(r.folds[0]!.fold.test.last + 1);
    expect(r.oos.daily.equity.length).toBe(r.folds[0]!.testDaily.equity.length + r.folds[1]!.testDaily.equity.length);
    expect(Number.isFinite(r.oos.statistics.sharpe)).toBe(true);
    expect(progress.filter((p) => p.endsWith(':test'))).toEqual(['0:test', '1:test']);
    // the rule strategies' report and storage take it as it is
    const report = writeWalkForwardReport(join(dir, 'wf.html'), r);
    expect(existsSync(report)).toBe(true);
    expect(readFileSync(report, 'utf8')).toContain('ppo-voltarget');
    expect(await saveWalkForward(store, r)).toBeGreaterThan(0);
  });
});
