import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { envConfigHash, loadEnvConfig, parseEnvConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'monger-rl-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function problems(fn: () => unknown): { message: string; problems: readonly string[] } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return { message: (e as ConfigError).message, problems: (e as ConfigError).problems };
  }
  throw new Error('expected a ConfigError');
}

describe('env config', () => {
  it('loads the shipped ppo-voltarget env with its settings', () => {
    const c = loadEnvConfig('strategies/ppo-voltarget/env.yaml');
    expect(c.data.kind).toBe('store');
    expect(c.universe).toEqual({ slots: 10, sample: 6, minSymbols: 4 });
    expect(c.action).toMatchObject({ kind: 'volatility-target', maxLeverage: 1.5, longOnly: false });
    expect(c.reward.kind).toBe('risk-aware');
  });

  it('fills defaults for a minimal synthetic config', () => {
    const c = parseEnvConfig({ data: { kind: 'synthetic' } });
    expect(c.episode).toEqual({ length: 252, window: 32, start: 'random' });
    expect(c.portfolio.commission).toBe('ib-fixed');
    expect(c.observation.layout).toBe('stacked');
  });

  it('names the file and every bad field', () => {
    const path = file('bad.yaml', 'data: { kind: synthetic, symbols: 0 }\naction: { kind: volatility-target, maxLeverage: -1 }\nreward: { kind: sharpe }\nepisodes: 3\n');
    const p = problems(() => loadEnvConfig(path));
    expect(p.message).toContain(path);
    expect(p.problems.some((x) => x.startsWith('data.symbols:'))).toBe(true);
    expect(p.problems.some((x) => x.startsWith('action.maxLeverage:'))).toBe(true);
    expect(p.problems.some((x) => x.startsWith('reward.kind:'))).toBe(true);
    expect(p.problems.some((x) => x.includes('episodes'))).toBe(true);
  });

  it('gives line and column of YAML syntax errors', () => {
    const path = file('syntax.yaml', 'data:\n  kind: synthetic\n  symbols: [1, 2\n');
    const p = problems(() => loadEnvConfig(path));
    expect(p.message).toContain(path);
    expect(p.problems[0]).toMatch(/^line \d+, column \d+:/);
  });

  it('checks fields against each other', () => {
    const p = problems(() => parseEnvConfig({ data: { kind: 'synthetic', symbols: 4 }, universe: { slots: 2, sample: 3, minSymbols: 4 } }, 'x.yaml'));
    expect(p.problems).toEqual([
      'universe.sample: 3 symbols do not fit in universe.slots = 2',
      'universe.minSymbols: 4 is more than universe.sample = 3',
    ]);
    const s = problems(() => parseEnvConfig({ data: { kind: 'store', featureSet: 'f.yaml' } }));
    expect(s.problems).toEqual(['data.symbols: give exactly one of symbols or watchlist']);
  });

  it('hashes the environment, not its key order, spelt-out defaults, name or description', () => {
    const a = envConfigHash({ name: 'a', data: { kind: 'synthetic', seed: 3, symbols: 4 }, episode: { window: 8 } });
    const b = envConfigHash({ episode: { window: 8, length: 252 }, data: { symbols: 4, kind: 'synthetic', seed: 3 }, name: 'b', description: 'same env' });
    const c = envConfigHash({ data: { kind: 'synthetic', seed: 3, symbols: 4 }, episode: { window: 9 } });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
  });
});
