import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../lib/backtest/run-backtest.js';
import { importFiles } from '../../lib/ingest/import-files.js';
import { loadManifest } from '../../lib/promotion/manifest.js';
import { parseEnvConfig } from '../../lib/rl/env/config.js';
import { loadEnvDataset, vecEnvFromDataset } from '../../lib/rl/env/make-env.js';
import { initPolicyWeights } from '../../lib/rl/policy/policy-init.js';
import { buildPolicyModel, policyModelWeights } from '../../lib/rl/policy/policy-model.js';
import { PolicyTrader } from '../../lib/rl/policy/policy-trader.js';
import { loadBars } from '../../lib/store/bar-query.js';
import { Store } from '../../lib/store/store.js';
import { ppoStrategy, ppoVoltarget } from './index.js';
import { MODEL } from './model/policy.js';

// The module's own tests (promotion runs them): the strategy rebuilds the env's observations from
// streaming bars, maps actions to the env's targets, trades in a backtest, and its model artifact
// is the one the manifest pins.

const LEAN = 'data/lean/equity/usa';
const SYMBOLS = ['SPY', 'QQQ', 'IWM'];
let store: Store;

beforeAll(async () => {
  store = await Store.open(':memory:');
  await importFiles(store, [...SYMBOLS.map((s) => `${LEAN}/daily/${s.toLowerCase()}.csv`), `${LEAN}/factor_files`, `${LEAN}/map_files`]);
});
afterAll(() => store.close());

/** A 3-slot env on the bundled bars and a random (seeded) policy for it, packaged like a trained one */
async function smallModel() {
  const envConfig = parseEnvConfig({
    data: { kind: 'store', symbols: SYMBOLS, interval: '1d', adjusted: true, featureSet: 'data/feature-sets/core-daily.yaml', from: '2012-01-01', to: '2016-12-31', columns: ['ret_1_z252', 'ret_20_z252', 'rsi_14_z252', 'natr_14_z252', 'trend_20_14_20_label'] },
    universe: { slots: 3 },
    episode: { length: 120, window: 3, start: 'first' },
    portfolio: { cash: 100_000, commission: 'none', slippageBps: 0, wholeShares: true, rebalanceBand: 0 },
    action: { kind: 'volatility-target', volTarget: 0.15, volWindow: 20, maxLeverage: 1.5, maxAllocation: 0.6, longOnly: false },
  });
  const data = await loadEnvDataset(envConfig, { store });
  const env = vecEnvFromDataset(data, envConfig, 1);
  const weights = initPolicyWeights({ observationSize: env.observationSize, actionSpace: env.actionSpace, hidden: [16], activation: 'tanh' }, 7, -1);
  // output gain 0.01 would give exposures near 0: scale up so targets are real positions
  weights.actor[weights.actor.length - 2] = weights.actor[weights.actor.length - 2]!.map((x) => x * 80);
  const model = buildPolicyModel({ weights, envConfig, featureSetHash: data.featureSetHash, seed: 7, envSteps: 0, envConfigHash: 'test', rewardScale: 1, metrics: {} });
  return { model, env, data };
}

describe('ppo-voltarget', () => {
  it('rebuilds the env observation from streaming bars and maps actions to the env targets', async () => {
    const { model, env, data } = await smallModel();
    const trader = new PolicyTrader(model);
    const bars = await loadBars(store, { symbols: SYMBOLS, interval: '1d', adjusted: true });
    const cursor = bars.map(() => -1);
    let obs = env.reset(1);
    expect(env.symbols(0)).toEqual(SYMBOLS);
    const weights = new Float64Array(3);
    const targets = new Float64Array(3);
    const block = 3 * 3 * 5;
    let worst = 0;
    for (let step = 0; step < 100; step++) {
      const ts = data.ts[env.state.row[0]!]!;
      bars.forEach((b, s) => {
        const j = b.ts.indexOf(ts);
        expect(j).toBeGreaterThan(trader.warmupBars);
        // the first decision streams the warm-up a backtest would load; later ones one bar each
        for (let i = cursor[s]! < 0 ? j - trader.warmupBars : cursor[s]! + 1; i <= j; i++) trader.update(s, b.ts[i]!, b.open[i]!, b.high[i]!, b.low[i]!, b.close[i]!, b.volume[i]!);
        cursor[s] = j;
      });
      for (let s = 0; s < 3; s++) weights[s] = obs[block + 3 + s]!;
      expect(trader.decide(ts, weights, targets)).toBe(3);
      // features: the env's come from the whole cached history, the strategy's from its warm-up
      // window; after 250 settling bars the EMA seeds differ by < (13/14)^250 ~ 1e-8 relative,
      // below float32 resolution (on this data every value came out identical); 1e-5 allows a
      // rounding flip
      for (let k = 0; k < obs.length; k++) worst = Math.max(worst, Math.abs(trader.observation[k]! - obs[k]!));
      expect(Array.from(trader.observation.subarray(block))).toEqual(Array.from(obs.subarray(block))); // mask and weights exactly
      obs = env.step(trader.exposures).obs;
      for (let s = 0; s < 3; s++) expect(targets[s]).toBeCloseTo(env.state.target[s]!, 9);
    }
    expect(worst).toBeLessThan(1e-5);
    expect(Array.from(targets).some((t) => Math.abs(t) > 0.05)).toBe(true);
  });

  it('trades in a backtest, deterministically', async () => {
    const { model } = await smallModel();
    const strategy = ppoStrategy(model, 'ppo-test');
    const run = () =>
      runBacktest({ strategy, params: {}, subscriptions: SYMBOLS.map((instrument) => ({ instrument, interval: '1d' as const })), data: store, from: '2017-01-01', to: '2018-12-31', cash: 100_000, adjusted: true, fill: 'next-open' });
    const a = await run();
    const b = await run();
    expect(a.orders.length).toBeGreaterThan(50);
    expect(a.statistics).toEqual(b.statistics);
    expect(a.orders.map((o) => [o.instrument, o.side, o.quantity])).toEqual(b.orders.map((o) => [o.instrument, o.side, o.quantity]));
    // gross exposure never far above the cap (1.5, plus a day of price moves before the next rebalance)
    for (let i = 0; i < a.daily.equity.length; i++) expect(a.daily.grossExposure[i]! / a.daily.equity[i]!).toBeLessThan(1.7);
    expect(() => ppoStrategy(model).params.parse({ maxLeverage: -1 })).toThrow();
  });

  it('ships a model artifact pinned by the manifest, whose weights match their recorded hash', () => {
    const manifest = loadManifest('strategies/ppo-voltarget');
    expect(manifest.name).toBe(ppoVoltarget.name);
    expect(manifest.version).toBe(ppoVoltarget.version);
    const artifact = manifest.artifacts.find((a) => a.path === 'model/policy.ts');
    expect(artifact?.sha256).toBe(createHash('sha256').update(readFileSync('strategies/ppo-voltarget/model/policy.ts')).digest('hex'));
    const weights = policyModelWeights(MODEL); // checks the embedded sha256 of the weights
    expect(weights.spec.actionSpace).toEqual({ kind: 'continuous', size: 10, low: -1, high: 1 });
    expect(new PolicyTrader(MODEL).warmupBars).toBe(ppoVoltarget.warmup!({}));
  });
});
