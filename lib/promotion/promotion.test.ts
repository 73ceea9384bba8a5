import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPromotionRepo, type PromotionRepo } from './throwaway-repo.js';
import { MemoryDataClient } from '../backtest/memory-data-client.js';
import { runBacktest } from '../backtest/run-backtest.js';
import type { StrategyDefinition } from '../engine/strategy.js';
import { Store } from '../store/store.js';
import { digestDirectory, isModuleExcluded, treeHash } from './content-hash.js';
import { PromotionError } from './errors.js';
import { annotatedTagMessage } from './git.js';
import { loadStrategy } from './load-strategy.js';
import { loadManifest } from './manifest.js';
import { loadPromotionData } from './promotion-data.js';
import { listPromotions } from './promotion-store.js';
import { parseTagMessage, type ReleaseRecord } from './release-record.js';
import { promote, type PromotionResult } from './promote.js';

// The library call a notebook makes, on a throwaway git repository holding a copy of the project:
// never a tag in the project's own repository.

let repo: PromotionRepo;
let store: Store;
let cache: string;
let promoted: PromotionResult;
const NOW = Date.UTC(2025, 0, 2, 12, 0);

async function rejection(p: Promise<unknown>): Promise<PromotionError> {
  const e = await p.then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(PromotionError);
  return e as PromotionError;
}

/** The promotion's backtest, rerun with a given definition on the manifest's data */
async function manifestBacktest(definition: StrategyDefinition, record: ReleaseRecord): Promise<number> {
  const data = await loadPromotionData(record.manifest, repo.dir, undefined);
  const r = await runBacktest({
    strategy: definition,
    params: record.params,
    subscriptions: data.series.map((s) => ({ instrument: s.instrument.key, interval: s.interval })),
    data: new MemoryDataClient(data.series),
    from: record.data.from,
    to: record.data.to,
    cash: record.manifest.backtest.cash,
    fill: record.manifest.backtest.fill,
    commission: record.manifest.backtest.commission,
  });
  return r.finalValue;
}

beforeAll(async () => {
  repo = createPromotionRepo();
  store = await Store.open(':memory:');
  cache = mkdtempSync(join(tmpdir(), 'monger-strategy-cache-'));
  promoted = await promote({ name: 'sma-cross', version: '1.0.0', repo: repo.dir, store, now: () => NOW });
}, 120_000);

afterAll(() => {
  store?.close();
  repo?.remove();
  if (cache) rmSync(cache, { recursive: true, force: true });
});

describe('promote (library call)', () => {
  it('freezes one record in the annotated tag, releases/1.0.0.json and the store, for the commit it tested', async () => {
    const r = promoted.record;
    const head = repo.git('rev-parse', 'HEAD').trim();
    expect(promoted.tag).toBe('strategy/sma-cross/v1.0.0');
    expect(repo.git('rev-parse', 'strategy/sma-cross/v1.0.0^{commit}').trim()).toBe(head);
    expect(r.git.commit).toBe(head);
    expect(r.promotedAt).toBe('2025-01-02T12:00:00.000Z');
    // the same JSON everywhere
    const file = JSON.parse(readFileSync(promoted.releaseFile, 'utf8')) as ReleaseRecord;
    expect(relative(repo.dir, promoted.releaseFile)).toBe('strategies/sma-cross/releases/1.0.0.json');
    expect(parseTagMessage(annotatedTagMessage(repo.dir, promoted.tag)!, promoted.tag)).toEqual(file);
    const rows = await listPromotions(store, 'sma-cross');
    expect(rows.map((x) => [x.status, x.version, x.tag, x.commit, x.contentHash])).toEqual([['promoted', '1.0.0', promoted.tag, head, r.code.contentHash]]);
    // the content hash is the module folder's (releases/ left out), recomputable from the files
    expect(r.code.contentHash).toBe(treeHash(digestDirectory(join(repo.dir, 'strategies/sma-cross'), isModuleExcluded)));
    expect(r.code.files.map((f) => f.path)).toEqual(['README.md', 'index.test.ts', 'index.ts', 'manifest.yaml']);
    expect(r.code.lib).toBe(treeHash(digestDirectory(join(repo.dir, 'lib'))));
    // what ran: the module's tests, then the manifest's backtest and walk-forward, every gate passed
    expect(r.tests).toMatchObject({ files: 1, failed: 0, skipped: 0 });
    expect(r.tests.passed).toBe(r.tests.tests);
    expect(r.data).toMatchObject({ source: 'files', symbols: ['SPY', 'QQQ'], interval: '1d', from: '2010-01-04', to: '2020-12-31' });
    expect(r.gates.map((g) => [g.gate, g.passed])).toEqual([
      ['minOosSharpe', true],
      ['maxOosDrawdown', true],
      ['minOosTrades', true],
      ['maxDrawdown', true],
      ['minTrades', true],
    ]);
    expect(r.walkforward.folds).toHaveLength(4);
    expect(r.params).toEqual({ fast: 10, slow: 30, size: 100 });
    expect(r.paramsSchema).toMatchObject({ type: 'object', properties: { fast: { type: 'integer', default: 10 } } });
    expect(existsSync(join(repo.dir, r.reports.walkforward))).toBe(true);
  });

  it('refuses before running anything: a dirty tree, an existing tag, a version or artifact that disagrees', async () => {
    repo.write('strategies/sma-cross/notes.txt', 'scratch\n');
    const dirty = await rejection(promote({ name: 'sma-cross', version: '1.0.1', repo: repo.dir, store }));
    expect(dirty.code).toBe('PROMOTE_DIRTY_TREE');
    expect(dirty.message).toContain('?? strategies/sma-cross/notes.txt');
    rmSync(join(repo.dir, 'strategies/sma-cross/notes.txt'));

    repo.commitAll('release record of 1.0.0');
    expect((await rejection(promote({ name: 'sma-cross', version: '1.0.0', repo: repo.dir, store }))).code).toBe('PROMOTE_TAG_EXISTS');
    const mismatch = await rejection(promote({ name: 'sma-cross', version: '1.0.1', repo: repo.dir, store }));
    expect(mismatch.code).toBe('PROMOTE_MISMATCH');
    expect(mismatch.message).toContain('version: the manifest says 1.0.0, --version is 1.0.1');
    expect(mismatch.message).toContain('the code (strategies/sma-cross/index.ts) is version 1.0.0, --version is 1.0.1');

    const manifest = readFileSync(join(repo.dir, 'strategies/sma-cross/manifest.yaml'), 'utf8');
    repo.write('strategies/sma-cross/model.json', '{"w":[1,2,3]}\n');
    repo.write('strategies/sma-cross/manifest.yaml', manifest.replace('artifacts: []', `artifacts:\n  - { path: model.json, sha256: '${'0'.repeat(64)}' }`));
    repo.commitAll('an artifact with a wrong hash');
    const artifact = await rejection(promote({ name: 'sma-cross', version: '1.0.0-rc.1', repo: repo.dir, store }));
    expect(artifact.message).toMatch(/artifacts\[0\]\.sha256: the manifest says 0{64}, model\.json hashes to [0-9a-f]{64}/);
    expect(repo.git('tag', '-l').trim()).toBe('strategy/sma-cross/v1.0.0');
    // back to the promoted module, then a new version whose code behaves differently (buys twice the size)
    rmSync(join(repo.dir, 'strategies/sma-cross/model.json'));
    const code = readFileSync(join(repo.dir, 'strategies/sma-cross/index.ts'), 'utf8');
    repo.write('strategies/sma-cross/manifest.yaml', manifest.replace('version: 1.0.0', 'version: 1.1.0'));
    repo.write('strategies/sma-cross/index.ts', code.replace("version: '1.0.0'", "version: '1.1.0'").replace("'BUY', size)", "'BUY', size * 2)"));
    repo.commitAll('sma-cross 1.1.0 (not promoted)');
  });

  it('loads a promoted version from its tag into a cache outside the working tree: exactly the promoted code', async () => {
    const loaded = await loadStrategy('sma-cross@1.0.0', { mode: 'live', repo: repo.dir, cacheDir: cache });
    expect(loaded.provenance).toMatchObject({ name: 'sma-cross', version: '1.0.0', source: 'tag', dev: false, tag: 'strategy/sma-cross/v1.0.0', commit: promoted.record.git.commit, contentHash: promoted.record.code.contentHash });
    expect(loaded.provenance.cacheDir!.startsWith(cache)).toBe(true);
    expect(loaded.provenance.moduleFile).toBe(join(loaded.provenance.cacheDir!, 'strategies/sma-cross/index.ts'));
    expect(loaded.definition.version).toBe('1.0.0');
    // the working tree has moved on (1.1.0 buys twice the size): the tag still runs what was promoted
    const tagged = await manifestBacktest(loaded.definition, promoted.record);
    expect(tagged).toBe(promoted.record.backtest.finalValue);
    const dev = await loadStrategy('sma-cross', { mode: 'replay', dev: true, repo: repo.dir });
    expect(dev.provenance).toMatchObject({ version: '1.1.0-dev', source: 'working-tree', dev: true });
    expect(await manifestBacktest(dev.definition, promoted.record)).not.toBe(tagged);
  });

  it('refuses working-tree code live, and in paper or replay without --dev', async () => {
    const live = await rejection(loadStrategy('sma-cross', { mode: 'live', repo: repo.dir }));
    expect(live.code).toBe('STRATEGY_LIVE_REFUSED');
    expect(live.message).toContain('promoted versions of sma-cross: 1.0.0');
    expect((await rejection(loadStrategy('sma-cross', { mode: 'live', dev: true, repo: repo.dir }))).message).toContain('--dev is for paper and replay only');
    expect((await rejection(loadStrategy('sma-cross', { mode: 'paper', repo: repo.dir }))).code).toBe('STRATEGY_DEV_REQUIRED');
    await expect(loadStrategy('sma-cross@1.0.0', { mode: 'paper', dev: true, repo: repo.dir, cacheDir: cache })).rejects.toThrow(/cannot be combined with a promoted version/);
    const never = await rejection(loadStrategy('sma-cross@1.1.0', { mode: 'paper', repo: repo.dir, cacheDir: cache }));
    expect(never.code).toBe('STRATEGY_NOT_PROMOTED');
    expect(never.message).toContain('promoted versions of sma-cross: 1.0.0');
  });

  it('refuses a materialized release whose files changed, and materializes it again once deleted', async () => {
    const first = await loadStrategy('sma-cross@1.0.0', { mode: 'live', repo: repo.dir, cacheDir: cache });
    const dir = first.provenance.cacheDir!;
    appendFileSync(join(dir, 'strategies/sma-cross/index.ts'), '\n// edited in the cache\n');
    const code = await rejection(loadStrategy('sma-cross@1.0.0', { mode: 'live', repo: repo.dir, cacheDir: cache }));
    expect(code.code).toBe('STRATEGY_HASH_MISMATCH');
    expect(code.message).toContain('index.ts changed');
    rmSync(dir, { recursive: true });
    await loadStrategy('sma-cross@1.0.0', { mode: 'live', repo: repo.dir, cacheDir: cache });
    appendFileSync(join(dir, 'lib/engine/strategy.ts'), '\n');
    expect((await rejection(loadStrategy('sma-cross@1.0.0', { mode: 'live', repo: repo.dir, cacheDir: cache }))).message).toMatch(/lib\/ hashes to [0-9a-f]{12}, promoted/);
    rmSync(dir, { recursive: true });
  });

  it('refuses a tag that was moved to another commit, or one not made by promote', async () => {
    const message = annotatedTagMessage(repo.dir, 'strategy/sma-cross/v1.0.0')!;
    repo.git('tag', '-f', '-a', 'strategy/sma-cross/v1.0.0', '-m', message, 'HEAD');
    const moved = await rejection(loadStrategy('sma-cross@1.0.0', { mode: 'paper', repo: repo.dir, cacheDir: cache }));
    expect(moved.code).toBe('STRATEGY_HASH_MISMATCH');
    expect(moved.message).toContain('the tag was moved');
    repo.git('tag', 'strategy/sma-cross/v0.9.0', promoted.record.git.commit);
    expect((await rejection(loadStrategy('sma-cross@0.9.0', { mode: 'paper', repo: repo.dir, cacheDir: cache }))).message).toContain('lightweight tag without a promotion record');
    // the manifest in the working tree is what ls shows as the next version
    expect(loadManifest(join(repo.dir, 'strategies/sma-cross')).version).toBe('1.1.0');
  });
});
