import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeFeatures } from '../../lib/features/compute-features.js';
import { leanDailyInputs } from '../../lib/features/feature-fixtures.js';
import { loadFeatureSetFile, parseFeatureList } from '../../lib/features/feature-set.js';
import { FEATURES } from '../../lib/features/registry.js';
import { Store } from '../../lib/store/store.js';

// `monger features` as a user runs it: the real CLI on the bundled LEAN data
const BIN = resolve('bin/monger.js');
const SPY_CSV = 'data/lean/equity/usa/daily/spy.csv';
let dir: string;

function monger(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, MONGER_DB: '' }, maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'monger-features-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SPEC = 'sma:30,ema:30,rsi:14,atr:14,bbands:20:2,macd:12:26:9,stoch:14:3:3,adx:14,willr:14,roc:12,cci:20';
const EXPECTED_COLUMNS = [
  'sma_30',
  'ema_30',
  'rsi_14',
  'atr_14',
  'bbands_20_2_upper',
  'bbands_20_2_middle',
  'bbands_20_2_lower',
  'bbands_20_2_pctb',
  'bbands_20_2_width',
  'macd_12_26_9_line',
  'macd_12_26_9_signal',
  'macd_12_26_9_hist',
  'stoch_14_3_3_k',
  'stoch_14_3_3_d',
  'adx_14_adx',
  'adx_14_plus_di',
  'adx_14_minus_di',
  'willr_14',
  'roc_12',
  'cci_20',
];

// The same bars the CLI imports, parsed directly, and the features computed in-process
const spy = leanDailyInputs('spy');
const set = parseFeatureList(SPEC);
const frame = computeFeatures(set, spy);
const lookbacks = set.features.flatMap((f) => f.columns.map(() => f.lookback));

describe('monger features list', () => {
  it('shows every feature of the catalogue with its defaults and warm-up', () => {
    const r = monger('features', 'list');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^feature\s+params\s+outputs\s+warm-up \(defaults\)\s+description$/);
    const rows = lines.slice(2).map((l) => l.split(/\s{2,}/));
    expect(rows.map((c) => c[0])).toEqual([...FEATURES.keys()]);
    for (const cells of rows) {
      const d = FEATURES.get(cells[0]!)!;
      const defaults = Object.fromEntries(d.params.map((p) => [p.name, p.default]));
      // params is empty for parameterless features, so count cells from the end
      expect(Number(cells[cells.length - 2])).toBe(d.lookback(defaults));
      expect(cells[cells.length - 1]).toBe(d.description);
      if (d.params.length) expect(cells[1]).toBe(d.params.map((p) => `${p.name}=${p.default}`).join(' '));
    }
  });
});

describe('monger features compute', () => {
  it('prints a CSV with the exact columns, one row per bar, empty warm-up cells and the in-process numbers', () => {
    const r = monger('features', 'compute', '--data', SPY_CSV, '--features', SPEC);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(['ts', 'instrument', ...EXPECTED_COLUMNS].join(','));
    expect(set.columns).toEqual(EXPECTED_COLUMNS);
    const rows = lines.slice(1).map((l) => l.split(','));
    // one row per line of the LEAN file, 5,849 SPY sessions 1998-01-02 .. 2021-03-31
    expect(rows).toHaveLength(spy.length);
    expect(spy.length).toBe(5849);
    const problems: string[] = [];
    rows.forEach((cells, i) => {
      if (cells.length !== 2 + EXPECTED_COLUMNS.length) problems.push(`row ${i}: ${cells.length} cells`);
      if (cells[0] !== new Date(spy.ts[i]!).toISOString() || cells[1] !== 'SPY') problems.push(`row ${i}: ${cells[0]} ${cells[1]}`);
      EXPECTED_COLUMNS.forEach((c, j) => {
        const cell = cells[j + 2]!;
        const want = frame.values[j]![i]!;
        if ((cell === '') !== (i < lookbacks[j]!)) problems.push(`${c} row ${i}: '${cell}' with lookback ${lookbacks[j]}`);
        // the CLI prints the shortest round-trip text: parsing it gives the double back exactly
        if (cell !== '' && Number(cell) !== want) problems.push(`${c} row ${i}: ${cell} vs ${want}`);
      });
    });
    expect(problems).toEqual([]);
    // the last row in full, spelled out
    const last = rows[rows.length - 1]!;
    expect(last.slice(2).map(Number)).toEqual(frame.values.map((c) => c[spy.length - 1]!));
    expect(last.slice(2).every((c) => c !== '')).toBe(true);
  });

  it('--format-out json gives the same numbers, null during warm-up', () => {
    const r = monger('features', 'compute', '--data', SPY_CSV, '--features', SPEC, '--format-out', 'json');
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(rows).toHaveLength(spy.length);
    expect(Object.keys(rows[0]!)).toEqual(['ts', 'instrument', ...EXPECTED_COLUMNS]);
    const problems: string[] = [];
    rows.forEach((row, i) => {
      if (row['ts'] !== new Date(spy.ts[i]!).toISOString() || row['instrument'] !== 'SPY') problems.push(`row ${i}: ${String(row['ts'])}`);
      EXPECTED_COLUMNS.forEach((c, j) => {
        const want = frame.values[j]![i]!;
        const got = row[c];
        if (i < lookbacks[j]! ? got !== null : got !== want) problems.push(`${c} row ${i}: ${String(got)} vs ${want}`);
      });
    });
    expect(problems).toEqual([]);
  });

  it('a bad feature spec exits with code 2 naming the entry, the feature and the problem', () => {
    const bad = monger('features', 'compute', '--data', SPY_CSV, '--features', 'sma:30,rsi:1');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain('CONFIG_INVALID');
    expect(bad.stderr).toContain("features.1 'rsi' period: expected an integer >= 2");
    const unknown = monger('features', 'compute', '--data', SPY_CSV, '--features', 'sma:30,ema,bogus:3');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("features.2: unknown feature 'bogus'; known: ret, logret");
  });
});

describe('monger features build', () => {
  let db: string;
  let setFile: string;
  beforeAll(() => {
    db = join(dir, 'features.duckdb');
    setFile = join(dir, 'set.yaml');
    writeFileSync(setFile, ['name: swing', 'features:', '  - sma:30', '  - rsi:14', '  - name: atr', '    params: { period: 10 }', ''].join('\n'));
  });

  it('computes the set on the first run and reuses it on the second', async () => {
    const imported = monger('--db', db, 'data', 'import', SPY_CSV, '--no-progress');
    expect(imported.code, imported.stderr).toBe(0);
    const args = ['--db', db, 'features', 'build', '--set', setFile, '--symbols', 'SPY', '--interval', '1d'];
    const first = monger(...args);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^SPY\s+5,849\s+computed$/m);
    const hash = loadFeatureSetFile(setFile).hash;
    expect(first.stderr).toContain(`feature set 'swing' ${hash.slice(0, 12)}: 3 columns`);
    const second = monger(...args);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^SPY\s+5,849\s+reused$/m);
    expect(second.stdout).not.toContain('computed');
    // the cache holds one row per bar under the set's hash
    const store = await Store.open(db);
    try {
      const [row] = await store.all<{ n: number; cols: string[] }>(
        `SELECT CAST(count(*) AS INTEGER) AS n, (SELECT columns FROM feature_sets WHERE set_hash = $1) AS cols FROM feature_values WHERE set_hash = $1`,
        [hash],
      );
      expect(row).toEqual({ n: spy.length, cols: ['sma_30', 'rsi_14', 'atr_10'] });
    } finally {
      store.close();
    }
  });

  it('a bad set file exits with code 2 naming the file and the entry', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'features:\n  - sma:30\n  - macd:12:26:9:4\n');
    const r = monger('--db', db, 'features', 'build', '--set', bad, '--symbols', 'SPY', '--interval', '1d');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}: invalid configuration`);
    expect(r.stderr).toContain("features.1 'macd': takes 3 parameter(s) (fast, slow, signal), got 4");
  });
});
