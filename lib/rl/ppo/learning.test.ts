import { describe, expect, it } from 'vitest';
import { evaluateAgent, type EvalAgent } from './evaluate.js';
import { trainPpo } from './train.js';

/**
 * The learning test: the synthetic 'signal' market (lib/rl/env/synthetic.ts) has a known optimal
 * policy: feature 0 of each symbol is an AR(1) state that predicts the next return with
 * correlation 0.3, so the best myopic exposure is sign(feature 0). PPO trains on one seeded series
 * and is evaluated on another (out of sample), deterministically, against a random agent,
 * always-long (buy and hold at the target exposure) and the known optimum.
 */
const market = (seed: number) => ({
  data: { kind: 'synthetic', seed, symbols: 2, features: 4, bars: 1260, process: 'signal', signalStrength: 0.3 },
  episode: { window: 1, length: 126 },
  universe: { minSymbols: 1 },
});

/** Observation: [window 1 x 2 slots x 4 features][mask x 2][weights x 2]: feature 0 of slot s at s * 4 */
const oracle: EvalAgent = {
  kind: 'rule',
  act: (obs, off, out, outOff) => {
    for (let s = 0; s < 2; s++) out[outOff + s] = Math.sign(obs[off + s * 4]!);
  },
};

describe('PPO learns a market with a known optimal policy', () => {
  it('beats random and buy-and-hold out of sample by a clear margin', async () => {
    const trained = await trainPpo({ envConfig: market(1), steps: 49_152, seed: 3, workers: 2, backend: 'wasm', ppo: { numEnvs: 16, rolloutSteps: 128 } });
    const evaluate = (agent: EvalAgent) => evaluateAgent({ envConfig: market(2), agent, episodes: 32, seed: 100 });
    const ppo = await evaluate({ kind: 'policy', weights: trained.weights });
    const random = await evaluate({ kind: 'random' });
    const long = await evaluate({ kind: 'constant', value: 1 });
    const best = await evaluate(oracle);
    const line = (name: string, e: typeof ppo) => `${name}: Sharpe ${e.meanSharpe.toFixed(2)}, final equity ${e.meanFinalEquity.toFixed(0)}`;
    const report = [line('ppo', ppo), line('random', random), line('always long', long), line('optimal', best)].join('; ');
    // a clear margin: at least 2 Sharpe points (annualized, per 126-bar episode) and 5% of the
    // starting 100,000 in mean final equity over both baselines; and most of the optimum's Sharpe
    expect(ppo.meanSharpe, report).toBeGreaterThan(Math.max(random.meanSharpe, long.meanSharpe) + 2);
    expect(ppo.meanFinalEquity, report).toBeGreaterThan(Math.max(random.meanFinalEquity, long.meanFinalEquity) + 5_000);
    expect(ppo.meanSharpe, report).toBeGreaterThan(0.6 * best.meanSharpe);
    // training itself improved: the last quarter's episodes beat the first iteration's
    expect(trained.metrics.recentEpisodeSharpe).toBeGreaterThan(trained.history[0]!.episodeSharpe + 2);
  });
});
