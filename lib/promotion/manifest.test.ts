import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import type { RunStatistics } from '../backtest/result-types.js';
import { digestFiles, treeHash } from './content-hash.js';
import { evaluateGates, gateFailures } from './gates.js';
import { parseManifest } from './manifest.js';
import { compareSemver } from './semver.js';

const VALID = `
name: demo
version: 1.2.3
description: a demo
params: { fast: 5 }
data: { symbols: [SPY], interval: 1d, from: 2010-01-04, to: 2012-12-31 }
backtest: { cash: 100000 }
walkforward: { grid: "fast=5..10:5", folds: 2 }
gates: { minOosSharpe: 0.5, maxDrawdown: 0.2, minTrades: 10 }
`;

function problems(text: string): readonly string[] {
  try {
    parseManifest(text, 'strategies/demo/manifest.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message.startsWith('strategies/demo/manifest.yaml: invalid configuration')).toBe(true);
    return (e as ConfigError).problems;
  }
  throw new Error('expected the manifest to be refused');
}

describe('manifest', () => {
  it('parses a valid manifest with defaults filled in', () => {
    const m = parseManifest(VALID, 'm.yaml');
    expect(m.backtest).toEqual({ cash: 100000, fill: 'next-open', commission: 'none', slippageBps: 0, seed: 1 });
    expect(m.walkforward).toMatchObject({ mode: 'rolling', folds: 2, validation: 0, embargo: 0, objective: 'sharpe', minTrades: 1 });
    expect(m.data).toMatchObject({ kind: 'trade', adjusted: false, from: '2010-01-04' });
    expect(m.artifacts).toEqual([]);
  });

  it('names the file and every bad field at once, unknown keys included', () => {
    const bad = VALID.replace('version: 1.2.3', 'version: one')
      .replace('minOosSharpe: 0.5', 'minOosSharpe: high, minSharp: 1')
      .replace('interval: 1d', 'interval: 1day')
      .replace('cash: 100000', 'cash: -5');
    expect(problems(bad)).toEqual([
      "version: expected a semver version like 1.0.0, got 'one'",
      expect.stringMatching(/^data\.interval: expected one of 1s, .*got '1day'$/),
      'backtest.cash: expected a positive amount, got -5',
      "gates.minOosSharpe: expected a number, got 'high'",
      'gates.minSharp: unknown setting; expected one of minOosSharpe, maxOosDrawdown, minOosTrades, minOosReturn, minSharpe, maxDrawdown, minTrades, minReturn',
    ]);
  });

  it('refuses a manifest without gates, a reversed range, artifacts outside the module and YAML errors by line', () => {
    expect(problems(VALID.replace('gates: { minOosSharpe: 0.5, maxDrawdown: 0.2, minTrades: 10 }', 'gates: {}'))[0]).toMatch(/^gates: expected at least one gate/);
    expect(problems(VALID.replace('from: 2010-01-04', 'from: 2013-01-04'))).toEqual(['data.to: 2012-12-31 is before data.from 2013-01-04']);
    expect(problems(`${VALID}artifacts: [{ path: ../x.bin, sha256: '${'a'.repeat(64)}' }]\n`)).toEqual(['artifacts[0].path: expected a path inside the strategy folder (relative, no .., not under releases/)']);
    expect(problems(`${VALID}artifacts: [{ path: w.bin, sha256: abc }]\n`)).toEqual(["artifacts[0].sha256: expected a sha256 (64 lowercase hex digits), got 'abc'"]);
    expect(problems('name: demo\nname: again\n')[0]).toMatch(/^line 2, column 1: Map keys must be unique/);
    expect(problems(VALID.replace('gates:', 'features: { list: "sma:5", file: f.yaml, hash: "' + 'b'.repeat(64) + '" }\ngates:'))).toEqual(['features: expected exactly one of list or file']);
  });
});

const stats = (s: Partial<RunStatistics>) => ({ sharpe: 1, maxDrawdown: 0.1, trades: 50, totalReturn: 0.2, ...s }) as RunStatistics;

describe('gates', () => {
  it('explains each failed gate and by how much', () => {
    const results = evaluateGates(
      { minOosSharpe: 0.5, maxOosDrawdown: undefined, minOosTrades: undefined, minOosReturn: undefined, minSharpe: undefined, maxDrawdown: 0.15, minTrades: 100, minReturn: 0 },
      { backtest: stats({ maxDrawdown: 0.2312, trades: 82 }), oos: stats({ sharpe: 0.4 }) },
    );
    expect(results.map((r) => r.message)).toEqual([
      'minOosSharpe: out-of-sample Sharpe 0.400 is below the minimum 0.500 by 0.100',
      'maxDrawdown: backtest max drawdown 23.12 % is above the maximum 15.00 % by 8.12 percentage points',
      'minTrades: backtest round trips 82 is below the minimum 100 by 18',
      'minReturn: backtest total return 20.00 % meets the minimum 0.00 %',
    ]);
    expect(gateFailures(results).map((f) => [f.gate, f.threshold, f.actual])).toEqual([
      ['minOosSharpe', 0.5, 0.4],
      ['maxDrawdown', 0.15, 0.2312],
      ['minTrades', 100, 82],
    ]);
    expect(gateFailures(results)[2]!.shortfall).toBe(18);
  });

  it('fails a gate whose statistic is undefined', () => {
    const [r] = evaluateGates({ minOosSharpe: 0 } as never, { backtest: stats({}), oos: stats({ sharpe: NaN }) });
    expect(r!.passed).toBe(false);
    expect(r!.message).toBe('minOosSharpe: out-of-sample Sharpe is undefined (NaN: no returns or no trades to measure); the minimum is 0.000');
  });
});

describe('content hash and versions', () => {
  it('depends on paths and bytes, not on order', () => {
    const a = { path: 'a.ts', content: Buffer.from('x') };
    const b = { path: 'b.ts', content: Buffer.from('y') };
    expect(treeHash(digestFiles([a, b]))).toBe(treeHash(digestFiles([b, a])));
    expect(treeHash(digestFiles([a, { ...b, path: 'c.ts' }]))).not.toBe(treeHash(digestFiles([a, b])));
    expect(treeHash(digestFiles([a, { ...b, content: Buffer.from('y ') }]))).not.toBe(treeHash(digestFiles([a, b])));
  });

  it('orders semver versions by precedence', () => {
    expect(['1.10.0', '1.2.0', '1.2.0-rc.1', '0.9.9', '1.2.0-alpha'].sort(compareSemver)).toEqual(['0.9.9', '1.2.0-alpha', '1.2.0-rc.1', '1.2.0', '1.10.0']);
  });
});
