/** Shared by the runner config tests (config.test.ts, config-universe.test.ts): a valid base config and helpers */
import { expect } from 'vitest';
import { ConfigError } from '../../lib/core/errors.js';
import { validateRunnerConfig, type RunnerConfig } from './config.js';

export type Raw = Record<string, any>;

/** A valid paper config; each test breaks one thing */
export function base(): Raw {
  return {
    mode: 'paper',
    ib: { host: '127.0.0.1', port: 4002, clientId: 7, account: 'DU1234567' },
    strategy: { name: 'sma-cross', interval: '1m', params: { fast: 5, slow: 20 } },
    universe: { symbols: ['SPY', 'QQQ'] },
    trading: { defaults: { unitSize: 100, maxPosition: 200 }, symbols: { QQQ: { unitSize: 50 } } },
    account: { maxLossPerTrade: 500, maxCumulativeLoss: 2000 },
    risk: { maxOrderQuantity: 200, maxOrderNotional: 100_000, maxPositionNotionalPerSymbol: 50_000, maxGrossLeverage: 2, maxOpenOrders: 10, drawdownHaltPct: 5 },
  };
}

export function replayBase(): Raw {
  const { ib: _ib, ...rest } = base();
  return { ...rest, mode: 'replay', replay: { db: ':memory:', import: ['data/lean/equity/usa/minute/spy'], from: '2013-10-08', speed: 600 } };
}

export function load(raw: Raw, env: Record<string, string> = {}): RunnerConfig {
  return validateRunnerConfig(raw, 'runner.yaml', env);
}

/** The problems of a config that must fail */
export function problems(raw: unknown, env: Record<string, string> = {}): readonly string[] {
  try {
    validateRunnerConfig(raw, 'runner.yaml', env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected the config to be refused');
}

export function change(edit: (c: Raw) => void, start: () => Raw = base): Raw {
  const c = start();
  edit(c);
  return c;
}
