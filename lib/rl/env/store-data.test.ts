import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { computeFeatures } from '../../features/compute-features.js';
import { loadFeatureSetFile } from '../../features/feature-set.js';
import { importFiles } from '../../ingest/import-files.js';
import { loadBars } from '../../store/bar-query.js';
import { Store } from '../../store/store.js';
import { parseEnvConfig, type TradingEnvConfigInput } from './config.js';
import { realizedVolatility } from './dataset.js';
import { loadEnvDataset } from './make-env.js';
import { TradingVecEnv } from './vec-env.js';

const LEAN = 'data/lean/equity/usa';
const COLUMNS = ['ret_1_z252', 'rsi_14_z252', 'trend_20_14_20_label'];
let store: Store;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'monger-rl-store-'));
  store = await Store.open(':memory:');
  await importFiles(store, [...['spy', 'qqq', 'iwm'].map((s) => `${LEAN}/daily/${s}.csv`), `${LEAN}/factor_files`, `${LEAN}/map_files`]);
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const config = (data: object): TradingEnvConfigInput => ({
  data: { kind: 'store', interval: '1d', adjusted: true, featureSet: 'data/feature-sets/core-daily.yaml', columns: COLUMNS, from: '2004-01-01', ...data },
  episode: { length: 60, window: 5 },
});

describe('store dataset', () => {
  it('aligns the bundled daily bars and the cached core-daily features on one time index', async () => {
    const d = await loadEnvDataset(config({ symbols: ['SPY', 'QQQ', 'IWM'] }), { store });
    expect(d.symbols).toEqual(['SPY', 'QQQ', 'IWM']);
    expect(d.columns).toEqual(COLUMNS);
    expect(d.featureSetHash).toBe(loadFeatureSetFile('data/feature-sets/core-daily.yaml').hash);
    expect(new Date(d.ts[0]!).toISOString().slice(0, 10) >= '2004-01-01').toBe(true);
    // the same numbers as computing the set over IWM's whole adjusted history (warm-up before `from`)
    const [iwm] = await loadBars(store, { symbols: ['IWM'], interval: '1d', adjusted: true });
    const set = loadFeatureSetFile('data/feature-sets/core-daily.yaml');
    const frame = computeFeatures(set, iwm!);
    const vol = realizedVolatility(iwm!.close, 20, 252);
    const U = 3;
    const F = COLUMNS.length;
    let checked = 0;
    for (const t of [300, 1000, d.ts.length - 1]) {
      const j = iwm!.ts.indexOf(d.ts[t]!);
      expect(j).toBeGreaterThan(0);
      expect(d.close[t * U + 2]).toBe(iwm!.close[j]);
      COLUMNS.forEach((c, f) => {
        const x = frame.values[set.columns.indexOf(c)]![j]!;
        expect(d.features[(t * U + 2) * F + f]).toBe(Math.fround(Math.max(-5, Math.min(5, x))));
        checked++;
      });
      // the dataset's volatility starts at `from`, so its first 20 rows differ: compare later rows only
      expect(d.vol[t * U + 2]).toBeCloseTo(vol[j]!, 12);
    }
    expect(checked).toBe(9);
  });

  it('runs an env over it; episodes use only symbols with data over their span', async () => {
    const c = parseEnvConfig(config({ symbols: ['SPY', 'QQQ', 'IWM'], from: '1999-01-01', to: '2003-06-30' }));
    const env = new TradingVecEnv(await loadEnvDataset(c, { store }), c, 4);
    env.reset(2);
    const a = new Float32Array(4 * 3).fill(0.5);
    for (let k = 0; k < 200; k++) env.step(a);
    const episodes = env.drainEpisodes();
    expect(episodes.length).toBeGreaterThanOrEqual(12);
    // IWM starts trading in May 2000 and its z-scores need a year of history
    const early = episodes.filter((m) => m.startTs! < Date.UTC(2001, 0, 1));
    const late = episodes.filter((m) => m.startTs! > Date.UTC(2002, 0, 1));
    expect(early.length).toBeGreaterThan(0);
    expect(late.length).toBeGreaterThan(0);
    for (const m of early) expect(m.symbols).not.toContain('IWM');
    // QQQ (from March 1999) is usable sooner than IWM: some episode trades it without IWM
    expect(early.some((m) => m.symbols!.includes('QQQ'))).toBe(true);
    for (const m of late) expect(m.symbols).toEqual(['SPY', 'QQQ', 'IWM']);
    for (const m of episodes) expect(Number.isFinite(m.finalEquity) && m.finalEquity > 0).toBe(true);
  });

  it('takes the universe from a watchlist; symbols the store lacks are an error, or skipped', async () => {
    const wl = join(dir, 'wl.csv');
    writeFileSync(wl, 'symbol\nSPY\nqqq\nMSFT\n');
    await expect(loadEnvDataset(config({ watchlist: wl }), { store })).rejects.toThrow(/MSFT/);
    await expect(loadEnvDataset(config({ watchlist: wl }), { store })).rejects.toBeInstanceOf(ConfigError);
    const d = await loadEnvDataset(config({ watchlist: wl, missing: 'skip' }), { store });
    expect(d.symbols).toEqual(['SPY', 'QQQ']);
  });

  it('refuses columns the feature set does not have', async () => {
    await expect(loadEnvDataset(config({ symbols: ['SPY'], columns: ['rsi_14_z252', 'nope'] }), { store })).rejects.toThrow(/nope/);
  });
});
