/**
 * Test fixtures: tiny hand-made datasets whose every number is known, and configs for them.
 * Not used by the environment itself.
 */
import { stockSpec } from '../../data/instrument.js';
import { parseEnvConfig, type TradingEnvConfig, type TradingEnvConfigInput } from './config.js';
import { buildDataset, type EnvDataset } from './dataset.js';

const DAY = 86_400_000;

/**
 * A dataset from explicit closes per symbol (rows = bars) and a feature function; volatility over
 * `volWindow` bars, 252 periods a year. Feature (t, u, f) defaults to t + u / 10 + f / 100, so a
 * test can tell which row, symbol and column a value came from.
 */
export function handDataset(
  closes: number[][],
  opts: { features?: number; volWindow?: number; feature?: (t: number, u: number, f: number) => number; clip?: number } = {},
): EnvDataset {
  const U = closes.length;
  const T = closes[0]!.length;
  const F = opts.features ?? 2;
  const feature = opts.feature ?? ((t: number, u: number, f: number) => t + u / 10 + f / 100);
  const symbols = Array.from({ length: U }, (_, u) => `S${u}`);
  return buildDataset({
    ts: Float64Array.from({ length: T }, (_, t) => Date.UTC(2020, 0, 1) + t * DAY),
    symbols,
    specs: symbols.map((s) => stockSpec(s)),
    columns: Array.from({ length: F }, (_, f) => `f${f}`),
    features: closes.map((_, u) => Array.from({ length: F }, (_x, f) => Float64Array.from({ length: T }, (_y, t) => feature(t, u, f)))),
    close: closes.map((c) => Float64Array.from(c)),
    volWindow: opts.volWindow ?? 2,
    periodsPerYear: 252,
    clip: opts.clip ?? 1e9,
    featureSetHash: 'hand',
  });
}

/** A config for a hand dataset: defaults off where they would blur the arithmetic (costs, stopper) */
export function handConfig(overrides: Partial<TradingEnvConfigInput> = {}): TradingEnvConfig {
  return parseEnvConfig({
    data: { kind: 'synthetic' },
    episode: { length: 3, window: 2, start: 'first' },
    portfolio: { cash: 10_000, commission: 'none', slippageBps: 0, wholeShares: false },
    stopper: { maxDrawdown: 1, equityFloor: 0, warmupSteps: 0 },
    reward: { kind: 'pnl' },
    ...overrides,
  });
}
