import { describe, expect, it } from 'vitest';
import { ibFixed } from '../../backtest/commission.js';
import { stockSpec } from '../../data/instrument.js';
import { InstrumentRegistry } from '../../engine/instrument-registry.js';
import { Portfolio } from '../../engine/portfolio.js';
import type { EpisodeMetrics } from '../types.js';
import { parseEnvConfig, type TradingEnvConfigInput } from './config.js';
import { handConfig, handDataset } from './env-fixtures.js';
import { loadEnvDataset, makeTradingEnv, makeVecEnv } from './make-env.js';
import { TradingEnv } from './trading-env.js';
import { TradingVecEnv } from './vec-env.js';

const SYNTH: TradingEnvConfigInput = {
  data: { kind: 'synthetic', symbols: 4, features: 3, bars: 600, process: 'signal', seed: 5 },
  episode: { length: 40, window: 8 },
  portfolio: { cash: 100_000, commission: 'ib-fixed', slippageBps: 2 },
  stopper: { maxDrawdown: 0.3, equityFloor: 0.5, warmupSteps: 0 },
};

/** Deterministic pseudo-random actions in [-1, 1) */
function actionStream(seed: number) {
  let x = seed >>> 0;
  return (out: Float32Array) => {
    for (let i = 0; i < out.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      out[i] = (x / 4294967296) * 2 - 1;
    }
    return out;
  };
}

describe('TradingVecEnv accounting', () => {
  it('fills at the decision bar close with the engine slippage and commission, marks at the next close', async () => {
    // one symbol: 100 at the decision bar, 110 at the next
    const data = handDataset([[100, 100, 100, 110, 121, 121]], { volWindow: 2 });
    const config = handConfig({
      action: { kind: 'discrete', maxAllocation: 0.5, maxLeverage: 1, volWindow: 2, longOnly: false },
      portfolio: { cash: 10_000, commission: 'ib-fixed', slippageBps: 10, wholeShares: true },
      episode: { length: 2, window: 1, start: 'first' },
    });
    const env = new TradingVecEnv(data, config, 1);
    env.reset(0);
    expect(env.state.row[0]).toBe(2); // the first row with a volatility (two returns)
    const r = env.step(Float32Array.from([2])); // buy: 0.5 x 10,000 / 100 = 50 shares
    // fill 100 x (1 + 10 bp) = 100.1; IB fixed: max(50 x 0.005, 1.00) = 1.00; cash 10,000 - 1 - 5,005
    expect(env.state.position[0]).toBe(50);
    expect(env.state.cash[0]).toBeCloseTo(4_994, 9);
    expect(env.state.fees[0]).toBe(1);
    expect(env.state.equity[0]).toBeCloseTo(4_994 + 50 * 110, 9);
    expect(r.reward[0]).toBeCloseTo(Math.fround(494 / 10_000), 7);

    // the same fills through a fresh engine Portfolio and the commission model give the same equity
    const registry = new InstrumentRegistry();
    const spec = stockSpec('S0');
    registry.add(spec);
    const pf = new Portfolio(10_000, registry);
    pf.sync();
    pf.applyFill(0, 50, 100.1, ibFixed().commission(spec, 50, 100.1, 0));
    pf.mark(0, 110);
    expect(env.state.equity[0]).toBe(pf.equity());
  });

  it('keeps the engine Portfolio books: every fill replayed through one gives identical cash and equity', async () => {
    const config = parseEnvConfig({ ...SYNTH, portfolio: { cash: 250_000, commission: 'ib-tiered', slippageBps: 3, wholeShares: true } });
    const data = await loadEnvDataset(config);
    const N = 3;
    const env = new TradingVecEnv(data, config, N);
    const registry = new InstrumentRegistry();
    for (const spec of data.specs) registry.add(spec);
    const fresh = () => {
      const pf = new Portfolio(250_000, registry);
      pf.sync();
      return pf;
    };
    const books = Array.from({ length: N }, fresh);
    let fills = 0;
    env.fillListener = (e, u, quantity, price, commission) => {
      books[e]!.applyFill(u, quantity, price, commission);
      fills++;
    };
    env.reset(4);
    const next = actionStream(17);
    const a = new Float32Array(N * 4);
    let compared = 0;
    for (let k = 0; k < 100; k++) {
      const r = env.step(next(a));
      for (let e = 0; e < N; e++) {
        if (r.terminal[e] || r.truncated[e]) {
          books[e] = fresh();
          continue;
        }
        const row = env.state.row[e]!;
        for (let u = 0; u < data.symbols.length; u++) books[e]!.mark(u, data.close[row * data.symbols.length + u]!);
        expect(env.state.cash[e]).toBe(books[e]!.cash());
        expect(env.state.equity[e]).toBe(books[e]!.equity());
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(250);
    expect(fills).toBeGreaterThan(500);
  });

  it('refuses futures', () => {
    const data = handDataset([[1, 2, 3, 4, 5]]);
    data.specs[0] = { ...data.specs[0]!, secType: 'FUT', multiplier: 50 };
    expect(() => new TradingVecEnv(data, handConfig(), 1)).toThrow(/futures/);
  });

  it('trades whole shares toward zero and keeps a held position without rounding a share away', () => {
    const data = handDataset([[100, 100, 100, 100, 100, 100, 100, 100]], { volWindow: 2 });
    const config = handConfig({
      action: { kind: 'discrete', maxAllocation: 0.333, maxLeverage: 1, volWindow: 2, longOnly: false },
      portfolio: { cash: 10_000, commission: 'none', slippageBps: 0, wholeShares: true },
      episode: { length: 3, window: 1, start: 'first' },
    });
    const env = new TradingVecEnv(data, config, 1);
    env.reset(0);
    env.step(Float32Array.from([2])); // 33.3 shares -> 33
    expect(env.state.position[0]).toBe(33);
    env.step(Float32Array.from([1])); // hold: the weight 0.33 maps back to 33 shares, not 32.999 -> 32
    expect(env.state.position[0]).toBe(33);
    expect(env.state.tradedNotional[0]).toBe(0);
  });
});

describe('TradingVecEnv determinism and the single-env API', () => {
  it('is deterministic for a seed and differs across seeds', async () => {
    const run = async (seed: number) => {
      const env = await makeVecEnv(SYNTH, 3);
      const obs = [...env.reset(seed)];
      const next = actionStream(99);
      const a = new Float32Array(3 * 4);
      const rewards: number[] = [];
      for (let k = 0; k < 120; k++) rewards.push(...env.step(next(a)).reward);
      return { obs, rewards, final: [...env.step(next(a)).obs], episodes: env.drainEpisodes() };
    };
    const a = await run(1);
    const b = await run(1);
    const c = await run(2);
    expect(b).toEqual(a);
    expect(a.episodes.length).toBeGreaterThanOrEqual(9);
    expect(c.rewards).not.toEqual(a.rewards);
  });

  it('env i of a VecEnv equals a single env reset with seed + i, across auto-resets', async () => {
    const data = await loadEnvDataset(SYNTH);
    const config = parseEnvConfig(SYNTH);
    const N = 3;
    const vec = new TradingVecEnv(data, config, N);
    const singles = Array.from({ length: N }, () => new TradingEnv(new TradingVecEnv(data, config, 1)));
    const vecObs = vec.reset(10);
    singles.forEach((s, i) => expect([...s.reset(10 + i).observation]).toEqual([...vecObs.subarray(i * vec.observationSize, (i + 1) * vec.observationSize)]));
    const next = actionStream(7);
    const a = new Float32Array(N * 4);
    let ends = 0;
    for (let k = 0; k < 130; k++) {
      const r = vec.step(next(a));
      singles.forEach((s, i) => {
        const sr = s.step(a.subarray(i * 4, (i + 1) * 4));
        expect(sr.reward).toBe(r.reward[i]);
        expect(sr.terminated).toBe(r.terminal[i] === 1);
        expect(sr.truncated).toBe(r.truncated[i] === 1);
        const slice = (x: Float32Array) => [...x.subarray(i * vec.observationSize, (i + 1) * vec.observationSize)];
        if (sr.terminated || sr.truncated) {
          ends++;
          expect([...sr.observation]).toEqual(slice(r.finalObs));
          expect(sr.info.episode?.steps).toBeGreaterThan(0);
          expect([...s.reset().observation]).toEqual(slice(r.obs));
        } else {
          expect([...sr.observation]).toEqual(slice(r.obs));
        }
      });
    }
    expect(ends).toBeGreaterThanOrEqual(9);
  });

  it('the single env reports info and refuses to step past an episode end', async () => {
    const env = await makeTradingEnv({ ...SYNTH, episode: { length: 5, window: 8 } });
    const { info } = env.reset(4);
    expect(info.equity).toBe(100_000);
    expect(info.symbols).toEqual(['SYN000', 'SYN001', 'SYN002', 'SYN003']);
    let last;
    for (let k = 0; k < 5; k++) last = env.step([0.5, 0.5, -0.5, 0]);
    expect(last!.truncated).toBe(true);
    expect(last!.info.step).toBe(5);
    expect(last!.info.episode?.finalEquity).toBe(last!.info.equity);
    expect(() => env.step([0, 0, 0, 0])).toThrow(/reset/);
  });
});

describe('episodes', () => {
  it('mask: each episode trades a sampled subset in the slots; masked slots never hold a position', async () => {
    const env = await makeVecEnv({ ...SYNTH, data: { ...(SYNTH.data as object), symbols: 6 }, universe: { slots: 4, sample: 3 } }, 2);
    const vec = env as TradingVecEnv;
    const obs = env.reset(3);
    const size = env.observationSize;
    const mask = (e: number) => [...obs.subarray(e * size + vec.observationShape!.maskOffset, e * size + vec.observationShape!.maskOffset + 4)];
    const universes = new Set<string>();
    const a = new Float32Array(2 * 4).fill(1);
    for (let k = 0; k < 200; k++) {
      for (let e = 0; e < 2; e++) {
        expect(mask(e)).toEqual([1, 1, 1, 0]);
        expect(vec.state.weight[e * 4 + 3]).toBe(0);
        universes.add(vec.symbols(e).join(','));
      }
      env.step(a);
    }
    // 20 combinations of 3 out of 6: the universe changes between episodes
    expect(universes.size).toBeGreaterThan(3);
    for (const m of env.drainEpisodes()) expect(m.symbols).toHaveLength(3);
  });

  it('the stopper ends an episode as terminal, the step limit as truncated, the data end as terminal', async () => {
    // a steady decline with a full long position hits a 5% drawdown
    const falling = { ...SYNTH, data: { kind: 'synthetic', symbols: 2, features: 2, bars: 400, process: 'trend', drift: -0.01, volatility: 0.001 }, stopper: { maxDrawdown: 0.05, equityFloor: 0, warmupSteps: 2 } } as TradingEnvConfigInput;
    const env = await makeVecEnv(falling, 1);
    env.reset(0);
    let r;
    let steps = 0;
    do {
      r = env.step(Float32Array.from([1, 1]));
      steps++;
    } while (!r.terminal[0] && !r.truncated[0]);
    expect(r.terminal[0]).toBe(1);
    expect(steps).toBeGreaterThan(2);
    const [stopped] = env.drainEpisodes();
    expect(stopped!.ended).toBe('stopper');
    expect(stopped!.maxDrawdown).toBeGreaterThanOrEqual(0.05);

    const flat = await makeVecEnv({ ...SYNTH, episode: { length: 7, window: 8 } }, 1);
    flat.reset(0);
    for (let k = 0; k < 6; k++) expect(flat.step(new Float32Array(4)).truncated[0]).toBe(0);
    const end = flat.step(new Float32Array(4));
    expect([end.terminal[0], end.truncated[0]]).toEqual([0, 1]);
    expect(flat.drainEpisodes()[0]!.ended).toBe('step-limit');

    const toEnd = (await makeVecEnv({ ...SYNTH, episode: { length: 'to-end', window: 8, start: 'first' } }, 1)) as TradingVecEnv;
    toEnd.reset(0);
    const first = toEnd.state.start[0]!;
    let n = 0;
    do {
      r = toEnd.step(new Float32Array(4));
      n++;
    } while (!r.terminal[0] && !r.truncated[0]);
    expect(r.terminal[0]).toBe(1);
    expect(n).toBe(600 - 1 - first);
    expect(toEnd.drainEpisodes()[0]!.ended).toBe('data-end');
  });

  it('finalObs holds the finished episode last observation; obs the next episode first', () => {
    const data = handDataset(
      [
        [100, 101, 102, 101, 103, 104, 103, 105, 106, 107, 108, 109],
        [50, 49, 50, 51, 50, 52, 53, 52, 54, 55, 56, 57],
      ],
      { features: 1, volWindow: 2 },
    );
    const env = new TradingVecEnv(data, handConfig({ episode: { length: 3, window: 2, start: 'first' } }), 1);
    const obs = env.reset(0);
    const start = env.state.start[0]!;
    const a = new Float32Array(2);
    env.step(a);
    env.step(a);
    const r = env.step(a);
    expect(r.truncated[0]).toBe(1);
    // newest row of the last observation: start + 3; the new episode starts at `start` again (start: first)
    expect([...r.finalObs.subarray(2, 4)]).toEqual([Math.fround(start + 3), Math.fround(start + 3 + 0.1)]);
    expect([...obs.subarray(2, 4)]).toEqual([Math.fround(start), Math.fround(start + 0.1)]);
  });

  it('episode metrics agree with the steps that made them', async () => {
    const env = await makeTradingEnv({ ...SYNTH, reward: { kind: 'pnl' } });
    env.reset(8);
    const next = actionStream(3);
    const a = new Float32Array(4);
    const equity: number[] = [];
    let rewardSum = 0;
    let metrics: EpisodeMetrics | undefined;
    while (!metrics) {
      const r = env.step(next(a));
      equity.push(r.info.equity);
      rewardSum += r.reward;
      metrics = r.info.episode;
    }
    expect(metrics.steps).toBe(equity.length);
    expect(metrics.finalEquity).toBe(equity[equity.length - 1]);
    // pnl rewards telescope: their sum is the total return (float32 rewards: 1e-5 slack)
    expect(metrics.rewardSum).toBeCloseTo(metrics.finalEquity / 100_000 - 1, 12);
    expect(rewardSum).toBeCloseTo(metrics.rewardSum, 5);
    let peak = 100_000;
    let maxDd = 0;
    let wins = 0;
    let moves = 0;
    let prev = 100_000;
    for (const e of equity) {
      peak = Math.max(peak, e);
      maxDd = Math.max(maxDd, (peak - e) / peak);
      if (e !== prev) moves++;
      if (e > prev) wins++;
      prev = e;
    }
    expect(metrics.maxDrawdown).toBeCloseTo(maxDd, 12);
    expect(metrics.winRatio).toBe(wins / moves);
    expect(metrics.exposureUtilization).toBeGreaterThan(0);
    expect(metrics.turnover).toBeGreaterThan(0);
    expect(Number.isFinite(metrics.sharpe) && Number.isFinite(metrics.sortino)).toBe(true);
  });
});

describe('known optimal policy on synthetic data', () => {
  /** Mean per-step PnL reward of exposure = sign(feature 0 of the newest row) x direction */
  async function meanReward(process: string, direction: number): Promise<number> {
    const env = (await makeVecEnv({
      data: { kind: 'synthetic', symbols: 4, features: 2, bars: 3000, process, seed: 21, signalStrength: 0.4, volatility: 0.01 },
      episode: { length: 200, window: 4 },
      portfolio: { cash: 1_000_000, commission: 'none', slippageBps: 0, wholeShares: false },
      action: { kind: 'volatility-target', volTarget: 0.15, maxAllocation: 0.25, maxLeverage: 1 },
      reward: { kind: 'pnl' },
      stopper: { maxDrawdown: 1, equityFloor: 0 },
    }, 8)) as TradingVecEnv;
    let obs = env.reset(1);
    const shape = env.observationShape!;
    const newest = (shape.window - 1) * shape.slots * shape.features;
    const a = new Float32Array(8 * 4);
    let sum = 0;
    const steps = 600;
    for (let k = 0; k < steps; k++) {
      for (let e = 0; e < 8; e++) for (let s = 0; s < 4; s++) a[e * 4 + s] = direction * Math.sign(obs[e * env.observationSize + newest + s * shape.features]!);
      const r = env.step(a);
      obs = r.obs;
      for (let e = 0; e < 8; e++) sum += r.reward[e]!;
    }
    return sum / (steps * 8);
  }

  it('acting on the signal earns, against it loses, and on a random walk the same rule earns nothing', async () => {
    const good = await meanReward('signal', 1);
    const bad = await meanReward('signal', -1);
    const none = await meanReward('random-walk', 1);
    // with about full exposure the expected gain is near rho x vol x E|x| = 0.4 x 0.01 x 0.8 = 0.0032 per step
    // (plus or minus the 0.0005 drift); measured here about +0.0048, -0.0024 and -0.00004
    expect(good).toBeGreaterThan(0.001);
    expect(bad).toBeLessThan(-0.001);
    expect(Math.abs(none)).toBeLessThan(good / 4);
  });
});
