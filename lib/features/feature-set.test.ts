import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { FEATURE_LIBRARY_VERSION, loadFeatureSetFile, parseFeatureList, resolveFeatureSet, type FeatureSet } from './feature-set.js';
import { FEATURES, featureNames } from './registry.js';

const def = (name: string) => FEATURES.get(name)!;

/** The ConfigError a call throws (fails the test when it does not throw one). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseFeatureList: the compact form', () => {
  it('fills positional params in declaration order and defaults the omitted ones', () => {
    const set = parseFeatureList('sma:30, macd:5 ,bbands,gap');
    expect(set.name).toBe('cli');
    expect(set.features.map((f) => f.definition.name)).toEqual(['sma', 'macd', 'bbands', 'gap']);
    expect(set.features[0]!.params).toEqual({ period: 30 });
    // macd:5 sets fast; slow and signal come from the registry's defaults
    const macd = def('macd').params;
    expect(set.features[1]!.params).toEqual({ fast: 5, slow: macd[1]!.default, signal: macd[2]!.default });
    expect(set.features[2]!.params).toEqual(Object.fromEntries(def('bbands').params.map((p) => [p.name, p.default])));
    expect(set.features[3]!.params).toEqual({});
    expect(set.features.every((f) => f.normalizeWindow === 0)).toBe(true);
  });

  it('accepts real-valued params where the spec allows them', () => {
    const set = parseFeatureList('bbands:20:2.5');
    expect(set.features[0]!.params).toEqual({ period: 20, k: 2.5 });
    expect(set.columns[0]).toBe('bbands_20_2.5_upper');
  });

  it('gives the same set (and hash) as the object and positional-array forms', () => {
    const compact = parseFeatureList('macd:12:26:9');
    const object = resolveFeatureSet({ name: 'mine', features: [{ name: 'macd', params: { fast: 12, slow: 26, signal: 9 } }] });
    const array = resolveFeatureSet({ features: [{ name: 'macd', params: [12, 26, 9] }] });
    const bare = parseFeatureList('macd'); // 12/26/9 are macd's defaults
    expect(def('macd').params.map((p) => p.default)).toEqual([12, 26, 9]);
    for (const s of [object, array, bare]) {
      expect(s.hash).toBe(compact.hash);
      expect(s.columns).toEqual(compact.columns);
    }
  });
});

describe('the content hash', () => {
  it('is sha256 of the canonical content: library version, names, params in spec order, normalization', () => {
    const set = resolveFeatureSet({ name: 'x', features: ['sma:30', { name: 'bbands', params: { k: 1.5, period: 10 } }], normalize: { window: 60 } });
    expect(JSON.parse(set.canonical)).toEqual({
      library: FEATURE_LIBRARY_VERSION,
      features: [
        { name: 'sma', params: [30], normalize: 60 },
        { name: 'bbands', params: [10, 1.5], normalize: 60 },
      ],
    });
    expect(set.hash).toBe(createHash('sha256').update(set.canonical).digest('hex'));
    expect(set.canonical).not.toContain('"x"');
  });

  it('ignores the set name and description', () => {
    const a = resolveFeatureSet({ name: 'alpha', features: ['rsi:14', 'atr:14'] });
    const b = resolveFeatureSet({ name: 'beta', description: 'same features', features: ['rsi:14', 'atr:14'] });
    expect(a.name).toBe('alpha');
    expect(b.name).toBe('beta');
    expect(b.hash).toBe(a.hash);
  });

  it('changes with params, feature order and normalization', () => {
    const base = parseFeatureList('sma:30,ema:30').hash;
    const variants = [
      parseFeatureList('sma:31,ema:30'),
      parseFeatureList('ema:30,sma:30'),
      resolveFeatureSet({ features: ['sma:30', 'ema:30'], normalize: { window: 60 } }),
      resolveFeatureSet({ features: ['sma:30', 'ema:30'], normalize: { window: 61 } }),
      resolveFeatureSet({ features: ['sma:30', { name: 'ema', params: [30], normalize: { window: 20 } }] }),
      parseFeatureList('sma:30'),
    ].map((s) => s.hash);
    expect(variants).not.toContain(base);
    expect(new Set(variants).size).toBe(variants.length);
  });

  it('treats a per-feature normalize:false like no normalization at all', () => {
    const raw = parseFeatureList('sma:30,ema:30');
    const overridden = resolveFeatureSet({ normalize: { window: 60 }, features: [{ name: 'sma', params: [30], normalize: false }, { name: 'ema', params: [30], normalize: false }] });
    expect(overridden.hash).toBe(raw.hash);
    expect(overridden.columns).toEqual(['sma_30', 'ema_30']);
  });
});

describe('column names and lookbacks', () => {
  it('joins name, every param (defaults included) and the output suffix', () => {
    const set = parseFeatureList('sma:30,macd:12:26:9,bbands:20:2,stoch,adx:14,gap,volregime,trend:10');
    expect(set.columns).toEqual([
      'sma_30',
      'macd_12_26_9_line',
      'macd_12_26_9_signal',
      'macd_12_26_9_hist',
      'bbands_20_2_upper',
      'bbands_20_2_middle',
      'bbands_20_2_lower',
      'bbands_20_2_pctb',
      'bbands_20_2_width',
      'stoch_14_3_3_k',
      'stoch_14_3_3_d',
      'adx_14_adx',
      'adx_14_plus_di',
      'adx_14_minus_di',
      'gap',
      'volregime_20_252_label',
      'volregime_20_252_pct',
      'trend_10_14_20_slope',
      'trend_10_14_20_label',
    ]);
    expect(set.features.map((f) => f.columns.length)).toEqual([1, 3, 5, 2, 3, 1, 2, 2]);
  });

  it('uses the feature lookback raw, and lookback + window - 1 with a z-score suffix when normalized', () => {
    const set = resolveFeatureSet({
      normalize: { window: 252 },
      features: ['sma:30', { name: 'macd', normalize: false }, { name: 'rsi', params: { period: 7 }, normalize: { window: 20 } }, 'obv'],
    });
    expect(set.columns).toEqual(['sma_30_z252', 'macd_12_26_9_line', 'macd_12_26_9_signal', 'macd_12_26_9_hist', 'rsi_7_z20', 'obv_z252']);
    expect(set.features.map((f) => f.normalizeWindow)).toEqual([252, 0, 20, 252]);
    const own = [def('sma').lookback({ period: 30 }), def('macd').lookback({ fast: 12, slow: 26, signal: 9 }), def('rsi').lookback({ period: 7 }), def('obv').lookback({})];
    expect(set.features.map((f) => f.lookback)).toEqual([own[0]! + 251, own[1]!, own[2]! + 19, own[3]! + 251]);
    expect(set.lookback).toBe(Math.max(own[0]! + 251, own[1]!, own[2]! + 19, own[3]! + 251));
  });
});

describe('errors are ConfigErrors naming the entry, the feature, the param and what was expected', () => {
  it('an unknown feature names its entry and lists every known feature', () => {
    const e = configError(() => parseFeatureList('sma:30,ema,bogus:3'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.problems).toHaveLength(1);
    expect(e.problems[0]).toMatch(/^features\.2: unknown feature 'bogus'/);
    for (const name of featureNames()) expect(e.problems[0]).toContain(name);
    expect(e.message).toContain('--features');
    expect(e.message).toContain('features.2');
  });

  it('too many params names the count and the param list', () => {
    const e = configError(() => parseFeatureList('sma:30:2'));
    expect(e.problems).toEqual(["features.0 'sma': takes 1 parameter(s) (period), got 2"]);
    expect(configError(() => parseFeatureList('rsi,gap:1')).problems).toEqual(["features.1 'gap': takes 0 parameter(s) (none), got 1"]);
  });

  it('a fractional period, a value below the minimum and a negative real are rejected with the bound', () => {
    expect(configError(() => parseFeatureList('ema:30,sma:2.5')).problems[0]).toMatch(/^features\.1 'sma' period: expected an integer >= 1 \(.+\), was 2\.5$/);
    const rsiMin = def('rsi').params[0]!.min;
    expect(configError(() => parseFeatureList(`rsi:${rsiMin - 1}`)).problems[0]).toMatch(new RegExp(`^features\\.0 'rsi' period: expected an integer >= ${rsiMin} \\(.+\\), was ${rsiMin - 1}$`));
    expect(configError(() => parseFeatureList('bbands:20:-1')).problems[0]).toMatch(/^features\.0 'bbands' k: expected a number >= 0 \(.+\), was -1$/);
    expect(configError(() => resolveFeatureSet({ features: [{ name: 'sma', params: { period: 0 } }] })).problems[0]).toContain("features.0 'sma' period: expected an integer >= 1");
  });

  it('non-numeric or empty compact params are rejected', () => {
    expect(configError(() => parseFeatureList('macd:12:x')).problems).toEqual(["features.0 'macd:12:x': parameters must be numbers, e.g. macd:12:26:9"]);
    expect(configError(() => parseFeatureList('rsi,macd::9')).problems[0]).toMatch(/^features\.1 'macd::9'/);
  });

  it('an unknown object param names the path and the params the feature has', () => {
    const e = configError(() => resolveFeatureSet({ features: ['rsi', { name: 'macd', params: { fast: 12, sloww: 30 } }] }));
    expect(e.problems).toEqual(["features.1.params.sloww: 'macd' has no parameter 'sloww' (has fast, slow, signal)"]);
  });

  it('duplicate columns name both entries and the column', () => {
    const e = configError(() => parseFeatureList('sma:30,ema:30,sma:30'));
    expect(e.problems).toEqual(["features.2 'sma': duplicate column(s) sma_30 (also from features.0)"]);
    // same params written differently still collide; a differently normalized copy does not
    expect(configError(() => resolveFeatureSet({ features: ['macd', { name: 'macd', params: [12, 26, 9] }] })).problems[0]).toContain('macd_12_26_9_line (also from features.0)');
    expect(resolveFeatureSet({ features: ['sma:30', { name: 'sma', params: [30], normalize: { window: 20 } }] }).columns).toEqual(['sma_30', 'sma_30_z20']);
  });

  it('lists every problem of the set at once', () => {
    const e = configError(() => parseFeatureList('bogus,sma:0,rsi:2:3'));
    expect(e.problems).toHaveLength(3);
    expect(e.problems.map((p) => p.slice(0, 10))).toEqual(['features.0', 'features.1', 'features.2']);
  });

  it('schema problems name the field', () => {
    expect(configError(() => resolveFeatureSet({ features: [] }, 'my.yaml')).message).toMatch(/^my\.yaml: invalid configuration\n {2}- features: /);
    expect(configError(() => resolveFeatureSet({ features: ['sma'], extra: 1 })).problems[0]).toContain('(root)');
    expect(configError(() => resolveFeatureSet({ features: ['sma'], normalize: { window: 1 } })).problems[0]).toMatch(/^normalize\.window: /);
    expect(configError(() => resolveFeatureSet({ features: ['sma', { name: 'ema', params: { period: '3' } }] })).problems[0]).toMatch(/^features\.1/);
    expect(configError(() => parseFeatureList(' , ')).problems[0]).toMatch(/^features: /);
  });
});

describe('loadFeatureSetFile', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'monger-featureset-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('reads a YAML set with compact and object entries, overrides and normalization', () => {
    const path = write(
      'momentum.yaml',
      [
        'name: momentum',
        'description: a few oscillators',
        'normalize:',
        '  window: 60',
        'features:',
        '  - rsi:14',
        '  - name: macd',
        '    params: { fast: 8, slow: 21 }',
        '  - name: atr',
        '    params: [10]',
        '    normalize: false',
        '',
      ].join('\n'),
    );
    const set = loadFeatureSetFile(path);
    expect(set.name).toBe('momentum');
    expect(set.columns).toEqual(['rsi_14_z60', 'macd_8_21_9_line_z60', 'macd_8_21_9_signal_z60', 'macd_8_21_9_hist_z60', 'atr_10']);
    const same: FeatureSet = resolveFeatureSet({
      features: [{ name: 'rsi', params: [14], normalize: { window: 60 } }, { name: 'macd', params: [8, 21, 9], normalize: { window: 60 } }, 'atr:10'],
    });
    expect(set.hash).toBe(same.hash);
  });

  it('reads JSON too (YAML is a superset)', () => {
    const path = write('set.json', JSON.stringify({ name: 'j', features: ['sma:30', 'ema:30'] }));
    expect(loadFeatureSetFile(path).hash).toBe(parseFeatureList('sma:30,ema:30').hash);
  });

  it('a bad feature names the file and the entry', () => {
    const path = write('bad.yaml', 'features:\n  - sma:30\n  - rsi:1\n');
    const e = configError(() => loadFeatureSetFile(path));
    expect(e.message.startsWith(`${path}: invalid configuration`)).toBe(true);
    expect(e.problems[0]).toMatch(/^features\.1 'rsi' period: expected an integer >= 2/);
  });

  it('unparseable YAML, a missing file and an empty file are ConfigErrors naming the file', () => {
    const broken = write('broken.yaml', 'features: [sma:30\nname: x: y\n');
    const e = configError(() => loadFeatureSetFile(broken));
    expect(e.message.startsWith(`${broken}: invalid configuration`)).toBe(true);
    expect(e.problems[0]).toMatch(/^cannot read feature set: /);
    const missing = join(dir, 'nope.yaml');
    expect(configError(() => loadFeatureSetFile(missing)).message).toContain(`${missing}: invalid configuration`);
    const empty = write('empty.yaml', '');
    expect(configError(() => loadFeatureSetFile(empty)).problems[0]).toMatch(/^\(root\): /);
  });
});
