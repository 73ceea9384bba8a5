import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BarKind } from '../data/interval.js';
import { importFiles } from '../ingest/import-files.js';
import { loadBars } from '../store/bar-query.js';
import { Store } from '../store/store.js';
import { computeFeatures, type FeatureFrame } from './compute-features.js';
import { parseFeatureList, type FeatureSet } from './feature-set.js';
import { buildFeatures, loadFeatures } from './feature-store.js';
import { firstMismatch } from './kernels/contract-fixtures.js';

const LEAN = 'data/lean/equity/usa';
const SPY_CSV = `${LEAN}/daily/spy.csv`;
const QQQ_CSV = `${LEAN}/daily/qqq.csv`;
const SPY_LINES = readFileSync(SPY_CSV, 'utf8').trim().split('\n');
const QQQ_LINES = readFileSync(QQQ_CSV, 'utf8').trim().split('\n');

// A small set reading every input column: close (sma, rsi, macd), high/low (atr), volume (obv)
const SET = parseFeatureList('sma:10,rsi:14,macd:12:26:9,atr:14,obv', 'small');

let dir: string;
const stores: Store[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'monger-features-'));
});
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function openStore(...files: string[]): Promise<Store> {
  const store = await Store.open(':memory:');
  stores.push(store);
  if (files.length) await importFiles(store, files);
  return store;
}

let variant = 0;
/** Writes a LEAN daily file for `symbol` into a fresh LEAN-shaped folder and returns its path. */
function leanCopy(symbol: string, lines: readonly string[]): string {
  const folder = join(dir, `v${++variant}`, 'equity', 'usa', 'daily');
  mkdirSync(folder, { recursive: true });
  const path = join(folder, `${symbol.toLowerCase()}.csv`);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

/** Replaces field `field` (1 open .. 4 close, 5 volume) of LEAN line `i` by f(value). */
function editLine(lines: readonly string[], i: number, field: number, f: (v: number) => number): string[] {
  const out = [...lines];
  const cells = out[i]!.split(',');
  cells[field] = String(f(Number(cells[field])));
  out[i] = cells.join(',');
  return out;
}

/** Frames equal bit for bit, NaN where NaN (NULL in the store reads back as NaN). */
function frameMismatches(a: FeatureFrame, b: FeatureFrame): string[] {
  const problems: string[] = [];
  if (a.length !== b.length) problems.push(`length ${a.length} vs ${b.length}`);
  if (JSON.stringify(a.columns) !== JSON.stringify(b.columns)) problems.push(`columns ${a.columns} vs ${b.columns}`);
  a.values.forEach((col, j) => {
    const bad = firstMismatch(col, b.values[j]!);
    if (bad >= 0) problems.push(`${a.columns[j]}: ${col[bad]} vs ${b.values[j]![bad]} at ${bad}`);
  });
  return problems;
}

async function cacheRows(store: Store, set: FeatureSet = SET) {
  return store.all<{ instrument_id: number; interval: string; kind: string; adjusted: boolean; ts: string; v: string }>(
    `SELECT instrument_id, interval, kind, adjusted, CAST(ts AS VARCHAR) AS ts, CAST("values" AS VARCHAR) AS v FROM feature_values WHERE set_hash = $1 ORDER BY ALL`,
    [set.hash],
  );
}

async function buildRows(store: Store) {
  return store.all<{ instrument: string; interval: string; kind: string; adjusted: boolean; fp: string; rows: number }>(
    `SELECT i.key AS instrument, b.interval, b.kind, b.adjusted, b.bars_fingerprint AS fp, CAST(b.rows AS INTEGER) AS rows
     FROM feature_builds b JOIN instruments i USING (instrument_id) ORDER BY ALL`,
  );
}

describe('buildFeatures', () => {
  it('computes each instrument once (rows = bars), then reuses the cache', async () => {
    const store = await openStore(SPY_CSV, QQQ_CSV);
    const q = { set: SET, symbols: ['SPY', 'QQQ'], interval: '1d' as const };
    const seen: string[] = [];
    const first = await buildFeatures(store, { ...q, onInstrument: (b) => seen.push(b.instrument) });
    // one bar per line of the LEAN files
    expect(first).toEqual([
      { instrument: 'SPY', rows: SPY_LINES.length, cached: false },
      { instrument: 'QQQ', rows: QQQ_LINES.length, cached: false },
    ]);
    expect(seen).toEqual(['SPY', 'QQQ']);
    const second = await buildFeatures(store, q);
    expect(second).toEqual(first.map((b) => ({ ...b, cached: true })));
    const counts = await store.all<{ n: number }>(`SELECT CAST(count(*) AS INTEGER) AS n FROM feature_values WHERE set_hash = $1`, [SET.hash]);
    expect(counts[0]!.n).toBe(SPY_LINES.length + QQQ_LINES.length);
    const sets = await store.all<{ name: string; spec: string; columns: string[] }>(`SELECT name, CAST(spec AS VARCHAR) AS spec, columns FROM feature_sets WHERE set_hash = $1`, [SET.hash]);
    expect(sets).toHaveLength(1);
    expect(sets[0]!.name).toBe('small');
    expect(JSON.parse(sets[0]!.spec)).toEqual(JSON.parse(SET.canonical));
    expect(sets[0]!.columns).toEqual(SET.columns);
    expect((await buildRows(store)).map((b) => [b.instrument, b.rows])).toEqual([
      ['QQQ', QQQ_LINES.length],
      ['SPY', SPY_LINES.length],
    ]);
    // force recomputes even though nothing changed, with identical contents
    const before = await cacheRows(store);
    expect((await buildFeatures(store, { ...q, force: true })).map((b) => b.cached)).toEqual([false, false]);
    expect(await cacheRows(store)).toEqual(before);
  });

  it('rejects unknown instruments without caching anything', async () => {
    const store = await openStore(SPY_CSV);
    await expect(buildFeatures(store, { set: SET, symbols: ['SPY', 'NOPE'], interval: '1d' })).rejects.toThrow(/NOPE/);
    expect(await buildRows(store)).toEqual([]);
  });
});

describe('loadFeatures', () => {
  it('returns what computeFeatures gives on the stored bars, NaN warm-up stored as NULL', async () => {
    const store = await openStore(SPY_CSV, QQQ_CSV);
    const loaded = await loadFeatures(store, { set: SET, symbols: ['QQQ', 'SPY'], interval: '1d' });
    expect(loaded.map((l) => l.instrument)).toEqual(['QQQ', 'SPY']);
    const bars = await loadBars(store, { symbols: ['QQQ', 'SPY'], interval: '1d' });
    for (const [k, l] of loaded.entries()) {
      expect(Array.from(l.ts)).toEqual(Array.from(bars[k]!.ts));
      expect(l.frame.lookback).toBe(SET.lookback);
      expect(frameMismatches(l.frame, computeFeatures(SET, bars[k]!))).toEqual([]);
    }
    // warm-up cells are SQL NULLs, one per bar before each column's lookback
    const nulls = await store.all<{ j: number; n: number }>(
      `SELECT j, CAST(count(*) AS INTEGER) AS n FROM (SELECT unnest(generate_series(1, len("values"))) AS j, "values" AS v FROM feature_values WHERE set_hash = $1 AND instrument_id = (SELECT instrument_id FROM instruments WHERE key = 'SPY'))
       WHERE v[j] IS NULL GROUP BY j ORDER BY j`,
      [SET.hash],
    );
    const lookbacks = SET.features.flatMap((f) => f.columns.map(() => f.lookback));
    expect(nulls).toEqual(lookbacks.map((n, j) => ({ j: j + 1, n })).filter((x) => x.n > 0));
  });

  it('filters by from/to on the cached block, values as computed over the whole history', async () => {
    const store = await openStore(SPY_CSV);
    const [full] = await loadFeatures(store, { set: SET, symbols: ['SPY'], interval: '1d' });
    const [part] = await loadFeatures(store, { set: SET, symbols: ['SPY'], interval: '1d', from: '2010-01-01', to: '2010-12-31' });
    const start = Date.parse('2010-01-01T00:00:00Z');
    const end = Date.parse('2011-01-01T00:00:00Z');
    const idx = Array.from(full!.ts.keys()).filter((i) => full!.ts[i]! >= start && full!.ts[i]! < end);
    // 2010 had 252 NYSE sessions; the bundled file has all of them
    expect(idx).toHaveLength(252);
    expect(part!.frame.length).toBe(idx.length);
    expect(Array.from(part!.ts)).toEqual(idx.map((i) => full!.ts[i]!));
    part!.frame.values.forEach((col, j) => expect(Array.from(col)).toEqual(idx.map((i) => full!.frame.values[j]![i]!)));
    // epoch-ms bounds work too; an empty range gives an empty frame
    const [ms] = await loadFeatures(store, { set: SET, symbols: ['SPY'], interval: '1d', from: start, to: end - 1 });
    expect(Array.from(ms!.ts)).toEqual(Array.from(part!.ts));
    const [none] = await loadFeatures(store, { set: SET, symbols: ['SPY'], interval: '1d', from: '1990-01-01', to: '1990-12-31' });
    expect(none!.frame.length).toBe(0);
    expect(none!.frame.values.every((c) => c.length === 0)).toBe(true);
  });
});

describe('cache invalidation', () => {
  it('re-importing identical bars (from another copy of the file) keeps the cache', async () => {
    const store = await openStore(SPY_CSV);
    const q = { set: SET, symbols: ['SPY'], interval: '1d' as const };
    await buildFeatures(store, q);
    const [fp] = await buildRows(store);
    const imported = await importFiles(store, [leanCopy('SPY', SPY_LINES)]);
    expect(imported.bars).toEqual({ inserted: 0, updated: 0, unchanged: SPY_LINES.length });
    expect(await buildFeatures(store, q)).toEqual([{ instrument: 'SPY', rows: SPY_LINES.length, cached: true }]);
    expect(await buildRows(store)).toEqual([fp]);
  });

  it('appended bars change the fingerprint: the block is recomputed over the longer history', async () => {
    const short = leanCopy('SPY', SPY_LINES.slice(0, -100));
    const store = await openStore(short);
    expect(await buildFeatures(store, { set: SET, symbols: ['SPY'], interval: '1d' })).toEqual([{ instrument: 'SPY', rows: SPY_LINES.length - 100, cached: false }]);
    await importFiles(store, [SPY_CSV]);
    expect(await buildFeatures(store, { set: SET, symbols: ['SPY'], interval: '1d' })).toEqual([{ instrument: 'SPY', rows: SPY_LINES.length, cached: false }]);
    const [loaded] = await loadFeatures(store, { set: SET, symbols: ['SPY'], interval: '1d' });
    const [bars] = await loadBars(store, { symbols: ['SPY'], interval: '1d' });
    expect(frameMismatches(loaded!.frame, computeFeatures(SET, bars!))).toEqual([]);
  });

  // Each edit changes one bar of the full history; the changed bar is mid-series, so the block's
  // count and time range stay the same
  const edits: [string, string[]][] = [
    ['a changed close', editLine(SPY_LINES, 3000, 4, (c) => c + 100)],
    ['a changed high only (sums of close and volume unchanged)', editLine(SPY_LINES, 3000, 2, (h) => h + 50_000)],
    ['a changed low only', editLine(SPY_LINES, 3000, 3, (l) => l - 50_000)],
    ['a changed open only', editLine(SPY_LINES, 3000, 1, (o) => o + 1)],
    ['a close moved from one bar to the next (same sum of closes)', editLine(editLine(SPY_LINES, 3000, 4, (c) => c + 100), 3001, 4, (c) => c - 100)],
  ];
  it.each(edits)('%s changes the fingerprint and the features are recomputed', async (_what, lines) => {
    const store = await openStore(SPY_CSV);
    const q = { set: SET, symbols: ['SPY'], interval: '1d' as const };
    await buildFeatures(store, q);
    const [before] = await loadFeatures(store, q);
    const imported = await importFiles(store, [leanCopy('SPY', lines)]);
    expect(imported.bars.updated).toBeGreaterThanOrEqual(1); // the store really changed
    expect(await buildFeatures(store, q)).toEqual([{ instrument: 'SPY', rows: SPY_LINES.length, cached: false }]);
    const [after] = await loadFeatures(store, q);
    const [bars] = await loadBars(store, { symbols: ['SPY'], interval: '1d' });
    expect(frameMismatches(after!.frame, computeFeatures(SET, bars!))).toEqual([]);
    // the new numbers differ from the stale ones somewhere (except an open-only edit: no feature of
    // SET reads the open, so recomputing gives identical values)
    const differs = frameMismatches(after!.frame, before!.frame).length > 0;
    expect(differs).toBe(lines[3000]!.split(',')[1] === SPY_LINES[3000]!.split(',')[1]);
  });

  it('a build whose feature throws rejects and leaves the previous cache intact', async () => {
    const store = await openStore(SPY_CSV, QQQ_CSV);
    const q = { set: SET, symbols: ['SPY', 'QQQ'], interval: '1d' as const };
    await buildFeatures(store, q);
    const values = await cacheRows(store);
    const builds = await buildRows(store);
    // The same set (same hash) except that macd's batch kernel throws, as a kernel bug would
    const broken: FeatureSet = {
      ...SET,
      features: SET.features.map((f) =>
        f.definition.name !== 'macd'
          ? f
          : {
              ...f,
              definition: {
                ...f.definition,
                batch: () => {
                  throw new Error('kernel exploded');
                },
              },
            },
      ),
    };
    expect(broken.hash).toBe(SET.hash);
    await expect(buildFeatures(store, { ...q, set: broken, force: true })).rejects.toThrow('kernel exploded');
    expect(await cacheRows(store)).toEqual(values);
    expect(await buildRows(store)).toEqual(builds);
    // stale bars, then a failing rebuild: the old block and its fingerprint stay, so the next good
    // build still sees it stale and recomputes
    await importFiles(store, [leanCopy('SPY', editLine(SPY_LINES, 4000, 4, (c) => c + 100))]);
    await expect(buildFeatures(store, { ...q, set: broken })).rejects.toThrow('kernel exploded');
    expect(await cacheRows(store)).toEqual(values);
    expect(await buildRows(store)).toEqual(builds);
    expect((await buildFeatures(store, q)).map((b) => [b.instrument, b.cached])).toEqual([
      ['SPY', false],
      ['QQQ', true],
    ]);
  });

  it('a write failing after the old block was deleted rolls the whole replacement back', async () => {
    const store = await openStore(SPY_CSV);
    const q = { set: SET, symbols: ['SPY'], interval: '1d' as const };
    await buildFeatures(store, q);
    const values = await cacheRows(store);
    const builds = await buildRows(store);
    // fail the last statement of the replacement (its DELETEs and value INSERTs have run by then)
    const run = store.run.bind(store);
    const seen: string[] = [];
    store.run = async (sql, params) => {
      seen.push(sql.trim().split(/\s+/).slice(0, 3).join(' '));
      if (sql.includes('INSERT INTO feature_builds')) throw new Error('disk full');
      return run(sql, params);
    };
    await expect(buildFeatures(store, { ...q, force: true })).rejects.toThrow('disk full');
    expect(seen).toEqual(expect.arrayContaining(['DELETE FROM feature_values', 'INSERT INTO feature_values', 'INSERT INTO feature_builds']));
    store.run = run;
    expect(await cacheRows(store)).toEqual(values);
    expect(await buildRows(store)).toEqual(builds);
    expect((await buildFeatures(store, q))[0]!.cached).toBe(true);
  });
});

describe('bar kinds and adjustment are cached separately', () => {
  it('raw and adjusted daily bars give separate blocks with their own numbers', async () => {
    const store = await openStore(SPY_CSV, `${LEAN}/factor_files/spy.csv`);
    const raw = { set: SET, symbols: ['SPY'], interval: '1d' as const };
    const adj = { ...raw, adjusted: true };
    expect((await buildFeatures(store, raw))[0]!.cached).toBe(false);
    expect((await buildFeatures(store, adj))[0]!.cached).toBe(false);
    expect((await buildFeatures(store, raw))[0]!.cached).toBe(true);
    expect((await buildFeatures(store, adj))[0]!.cached).toBe(true);
    expect((await buildRows(store)).map((b) => b.adjusted)).toEqual([false, true]);
    const [r] = await loadFeatures(store, raw);
    const [a] = await loadFeatures(store, adj);
    const [rawBars] = await loadBars(store, raw);
    const [adjBars] = await loadBars(store, adj);
    expect(frameMismatches(r!.frame, computeFeatures(SET, rawBars!))).toEqual([]);
    expect(frameMismatches(a!.frame, computeFeatures(SET, adjBars!))).toEqual([]);
    // SPY pays dividends: the factor file makes early adjusted prices lower, so the SMA differs
    expect(adjBars!.close[100]).toBeLessThan(rawBars!.close[100]!);
    expect(a!.frame.values[0]![100]).not.toBe(r!.frame.values[0]![100]);
  });

  it('trade, bid, ask and mid minute bars are separate blocks', async () => {
    const day = `${LEAN}/minute/spy/20131004_spy_minute`;
    const store = await openStore(`${day}_trade.csv`, `${day}_quote.csv`);
    const set = parseFeatureList('sma:5,ret');
    const kinds: BarKind[] = ['trade', 'bid', 'ask', 'mid'];
    for (const kind of kinds) {
      const [b] = await buildFeatures(store, { set, symbols: ['SPY'], interval: '1m', kind });
      expect(b!.cached).toBe(false);
      expect(b!.rows).toBeGreaterThan(300); // a full session has 390 minutes
    }
    for (const kind of kinds) expect((await buildFeatures(store, { set, symbols: ['SPY'], interval: '1m', kind }))[0]!.cached).toBe(true);
    expect((await buildRows(store)).map((b) => b.kind)).toEqual(['ask', 'bid', 'mid', 'trade']);
    const closes: number[] = [];
    for (const kind of kinds) {
      const [l] = await loadFeatures(store, { set, symbols: ['SPY'], interval: '1m', kind });
      const [bars] = await loadBars(store, { symbols: ['SPY'], interval: '1m', kind });
      expect(frameMismatches(l!.frame, computeFeatures(set, bars!))).toEqual([]);
      closes.push(l!.frame.values[0]![200]!);
    }
    // bid < ask, mid between them: the blocks really hold different bars
    expect(closes[1]!).toBeLessThan(closes[2]!);
    expect(closes[3]!).toBeCloseTo((closes[1]! + closes[2]!) / 2, 9);
  });
});
