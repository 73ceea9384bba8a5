/**
 * Issue 7 end to end with the real CLI, in a throwaway git repository holding a copy of the project
 * (never a tag in this repository): promote sma-cross 1.0.0 (tests, backtest, walk-forward, gates,
 * record, tag); a refused promotion (a gate fails: which and by how much, nothing tagged); a dirty
 * tree refused; the tagged 1.0.0 run in replay while the working tree moved on (orders and journal
 * carry 1.0.0); the working tree run with --dev (every log line and order reference says -dev);
 * live refused for unpromoted code before anything opens; `strategies ls` showing it all.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJournal } from '../../lib/journal/journal.js';
import type { StrategyListing } from '../../lib/promotion/catalog.js';
import type { ReleaseRecord } from '../../lib/promotion/release-record.js';
import { Store } from '../../lib/store/store.js';
import { createPromotionRepo, type PromotionRepo } from '../../lib/promotion/throwaway-repo.js';

let repo: PromotionRepo;
let dir: string;
let journal: string;

function monger(args: string[]) {
  const env = { ...process.env, MONGER_DB: '', MONGER_CACHE: join(dir, 'cache'), IB_HOST: '', IB_PORT: '', IB_CLIENT_ID: '' };
  const r = spawnSync(process.execPath, [join(repo.dir, 'bin/monger.js'), '--db', join(dir, 'store.duckdb'), ...args], { cwd: repo.dir, encoding: 'utf8', env, timeout: 150_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** runner/examples/replay.yaml, faster, journal in the temp folder; `pin` false drops strategy.version */
function replayConfig(name: string, pin = true): string {
  const path = join(dir, `${name}.yaml`);
  let text = readFileSync(join(repo.dir, 'runner/examples/replay.yaml'), 'utf8')
    .replace(/speed: 600\b/, 'speed: 3000')
    .replace('noNewEntriesMinutesBeforeClose: 15', 'noNewEntriesMinutesBeforeClose: 30')
    .replace('flattenMinutesBeforeClose: 5', 'flattenMinutesBeforeClose: 15')
    .replace('path: data/journal-replay.duckdb', `path: ${journal}`);
  if (!pin) text = text.replace(/\n  version: 1\.0\.0\n/, '\n');
  writeFileSync(path, text);
  return path;
}

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').pop()!) as { version: string; strategy: string; orders: { total: number }; journal: { runId: string } };
const logLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

async function journalOf(runId: string) {
  const store = await Store.open(journal);
  try {
    const run = (await store.all<{ strategy_version: string }>('SELECT strategy_version FROM journal_runs WHERE run_id = $1', [runId]))[0];
    return { version: run?.strategy_version, records: await readJournal(store, runId) };
  } finally {
    store.close();
  }
}

beforeAll(() => {
  repo = createPromotionRepo();
  dir = mkdtempSync(join(tmpdir(), 'monger-promote-cli-'));
  journal = join(dir, 'journal.duckdb');
});

afterAll(() => {
  repo?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('monger promote', () => {
  it('promotes sma-cross 1.0.0 at a clean commit: record in releases/, in the store and in the annotated tag', () => {
    const head = repo.git('rev-parse', 'HEAD').trim();
    const r = monger(['promote', 'sma-cross', '--version', '1.0.0', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const record = JSON.parse(r.stdout) as ReleaseRecord;
    expect(record).toMatchObject({ name: 'sma-cross', version: '1.0.0', tag: 'strategy/sma-cross/v1.0.0', git: { commit: head } });
    expect(repo.git('cat-file', '-t', 'strategy/sma-cross/v1.0.0').trim()).toBe('tag');
    expect(repo.git('rev-parse', 'strategy/sma-cross/v1.0.0^{commit}').trim()).toBe(head);
    expect(JSON.parse(readFileSync(join(repo.dir, 'strategies/sma-cross/releases/1.0.0.json'), 'utf8'))).toEqual(record);
    // the README's golden statistics
    expect([record.backtest.statistics.trades, record.backtest.finalValue, record.walkforward.statistics.trades]).toEqual([82, 125_294, 52]);
    expect(record.gates.every((g) => g.passed)).toBe(true);
    expect(r.stderr).toContain('promote: tests: 5/5 passed in 1 file(s)');
    repo.commitAll('sma-cross 1.0.0 release record');
  });

  it('refuses a promotion whose gate fails, naming the gate and the shortfall; nothing is tagged or written', () => {
    const manifest = readFileSync(join(repo.dir, 'strategies/sma-cross/manifest.yaml'), 'utf8');
    const code = readFileSync(join(repo.dir, 'strategies/sma-cross/index.ts'), 'utf8');
    repo.write('strategies/sma-cross/manifest.yaml', manifest.replace('version: 1.0.0', 'version: 1.0.1').replace('minTrades: 40', 'minTrades: 1000'));
    repo.write('strategies/sma-cross/index.ts', code.replace("version: '1.0.0'", "version: '1.0.1'"));
    repo.commitAll('sma-cross 1.0.1 with a gate it cannot pass');
    const r = monger(['promote', 'sma-cross', '--version', '1.0.1', '--json']);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain('monger: error PROMOTE_GATES_FAILED: sma-cross 1.0.1 is not promoted: 1 of 5 gate(s) failed');
    expect(r.stderr).toContain('  - minTrades: backtest round trips 82 is below the minimum 1000 by 918');
    expect(r.stderr).toContain('nothing was tagged');
    expect(JSON.parse(r.stdout)).toMatchObject({ promoted: false, code: 'PROMOTE_GATES_FAILED', failures: [{ gate: 'minTrades', threshold: 1000, actual: 82, shortfall: 918 }] });
    expect(repo.git('tag', '-l').trim()).toBe('strategy/sma-cross/v1.0.0');
    expect(existsSync(join(repo.dir, 'strategies/sma-cross/releases/1.0.1.json'))).toBe(false);
    expect(repo.git('status', '--porcelain').trim()).toBe('');
  });

  it('refuses to promote a dirty working tree', () => {
    repo.write('strategies/sma-cross/scratch.ts', '// not committed\n');
    const r = monger(['promote', 'sma-cross', '--version', '1.0.1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error PROMOTE_DIRTY_TREE');
    expect(r.stderr).toContain('?? strategies/sma-cross/scratch.ts');
    rmSync(join(repo.dir, 'strategies/sma-cross/scratch.ts'));
    expect(repo.git('tag', '-l').trim()).toBe('strategy/sma-cross/v1.0.0');
  });
});

describe('monger run --strategy name@X.Y.Z / --dev', () => {
  it('runs the promoted 1.0.0 from its tag while the working tree is 1.0.1: orders and journal carry 1.0.0', async () => {
    const r = monger(['run', '--config', replayConfig('tagged'), '--strategy', 'sma-cross@1.0.0']);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const summary = lastJson(r.stdout);
    expect(summary).toMatchObject({ strategy: 'sma-cross', version: '1.0.0' });
    expect(summary.orders.total).toBeGreaterThan(0);
    const logs = logLines(r.stderr);
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.every((l) => l.strategy === 'sma-cross@1.0.0' && l.dev === undefined)).toBe(true);
    const j = await journalOf(summary.journal.runId);
    expect(j.version).toBe('1.0.0');
    const provenance = j.records.find((x) => x.kind === 'note' && (x.payload as { strategy?: unknown }).strategy !== undefined)!.payload as { strategy: { source: string; tag: string; cacheDir: string } };
    expect(provenance.strategy).toMatchObject({ source: 'tag', tag: 'strategy/sma-cross/v1.0.0' });
    // materialized outside the working tree
    expect(provenance.strategy.cacheDir.startsWith(join(dir, 'cache', 'strategies', 'sma-cross', '1.0.0-'))).toBe(true);
    const refs = j.records.filter((x) => x.kind === 'order_intent').map((x) => (x.payload as { orderRef: string }).orderRef);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((ref) => ref.startsWith('sma-cross@')).every((ref) => ref.startsWith('sma-cross@1.0.0#'))).toBe(true);
  }, 180_000);

  it('runs the working tree only with --dev, marked 1.0.1-dev in every log line and order reference', async () => {
    const config = replayConfig('dev', false);
    const refused = monger(['run', '--config', config]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('error STRATEGY_DEV_REQUIRED: replay runs working-tree code only with --dev');
    const r = monger(['run', '--config', config, '--dev']);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    const summary = lastJson(r.stdout);
    expect(summary.version).toBe('1.0.1-dev');
    expect(logLines(r.stderr).every((l) => l.strategy === 'sma-cross@1.0.1-dev' && l.dev === true)).toBe(true);
    const j = await journalOf(summary.journal.runId);
    expect(j.version).toBe('1.0.1-dev');
    const refs = j.records.filter((x) => x.kind === 'order_intent').map((x) => (x.payload as { orderRef: string }).orderRef);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((ref) => ref.startsWith('sma-cross@')).every((ref) => ref.startsWith('sma-cross@1.0.1-dev#'))).toBe(true);
  }, 180_000);

  it('refuses a live run of unpromoted code before opening anything', () => {
    const liveJournal = join(dir, 'live-journal.duckdb');
    const path = join(dir, 'live.yaml');
    writeFileSync(
      path,
      readFileSync(join(repo.dir, 'runner/examples/paper.yaml'), 'utf8')
        .replace('mode: paper ', 'mode: live  ')
        .replace('port: 4002 ', 'port: 4001 ')
        .replace('account: DU1234567 ', 'account: U1234567  ')
        .replace(/\n  version: 1\.0\.0 [^\n]*\n/, '\n')
        .replace('path: data/journal-paper.duckdb', `path: ${liveJournal}`)
        .replace('port: 9464 ', 'port: 0 '),
    );
    const working = monger(['run', '--config', path]);
    expect(working.code).toBe(2);
    expect(working.stderr).toContain("error STRATEGY_LIVE_REFUSED: live trading runs only promoted code: 'sma-cross' names the working tree (unpromoted or modified)");
    expect(working.stderr).toContain('promoted versions of sma-cross: 1.0.0');
    const dev = monger(['run', '--config', path, '--dev']);
    expect(dev.code).toBe(2);
    expect(dev.stderr).toContain('--dev is for paper and replay only');
    // 1.0.1 failed its gates: never promoted
    const refused = monger(['run', '--config', path, '--strategy', 'sma-cross@1.0.1']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('error STRATEGY_NOT_PROMOTED: sma-cross 1.0.1 was never promoted: no tag strategy/sma-cross/v1.0.1');
    // nothing was opened: the journal, the first thing a run creates, does not exist
    expect(existsSync(liveJournal)).toBe(false);
  });
});

describe('monger strategies ls', () => {
  it('lists strategies, promoted versions with gates and statistics, and the version a runner last ran', () => {
    const r = monger(['strategies', 'ls', '--json', '--journal', journal]);
    expect(r.code, r.stderr).toBe(0);
    const list = JSON.parse(r.stdout) as StrategyListing[];
    const sma = list.find((s) => s.name === 'sma-cross')!;
    expect(sma.workingVersion).toBe('1.0.1');
    expect(sma.promoted.map((p) => [p.version, p.statistics.backtest.trades, p.statistics.oos.trades, p.gates.length])).toEqual([['1.0.0', 82, 52, 5]]);
    expect(sma.lastRun).toMatchObject({ version: '1.0.1-dev', mode: 'replay', journal });
    expect(list.map((s) => s.name)).toContain('buy-and-hold');
    const table = monger(['strategies', 'ls', '--journal', journal]);
    expect(table.stdout).toMatch(/sma-cross\s+1\.0\.0\s+\d{4}-\d{2}-\d{2}\s+[0-9a-f]{12}\s+0\.72\d+/);
    // 1.0.0's gates (1.0.1's impossible minTrades 1000 was never promoted)
    expect(table.stdout).toContain('minOosSharpe 0.3, maxOosDrawdown 0.15, minOosTrades 20, maxDrawdown 0.15, minTrades 40');
    expect(table.stdout).toMatch(/sma-cross\s+1\.0\.1 \(working tree\).*1\.0\.1-dev replay /);
  });
});
