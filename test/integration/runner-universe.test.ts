/**
 * Issue 10 part 2 against the TWS simulator over TCP: the runner's signal-driven universe.
 *
 * 1. A replay day with signals for 900+ distinct tickers (the real SPY/IBM/BAC/AIG minute bars plus
 *    900 synthetic stocks the simulator serves from the same store, plus tickers nobody serves):
 *    traders are created and retired, the line budget holds both by the runner's own accounting and
 *    by the simulator's count of lines held (sampled every 5 ms; the simulator also answers 101 to
 *    any line over its `maxLines`, set to the budget), invalid tickers are recorded, no error.
 * 2. The control API on a running replay: add, duplicate add, unknown and malformed symbols,
 *    removal of a non-member, a wrong token; every refusal is explained and changes nothing. The
 *    `monger symbol` CLI talks to the same runner.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, type LogRecord } from '../../lib/core/logger.js';
import { readJournal } from '../../lib/journal/journal.js';
import { Store } from '../../lib/store/store.js';
import { ControlClient } from '../../runner/live/control-client.js';
import type { ControlList } from '../../runner/live/control-api.js';
import { runRunner } from '../../runner/live/live-runner.js';
import type { UniverseRunner } from '../../runner/live/universe-runner.js';
import type { MarketDataFeature } from '../../runner/tws-sim/market-data.js';
import { CLOSE, OPEN, planSignals, REAL, seedSignals, seedStore, syntheticSymbol, universeConfig, universeSimFeatures, UNPACED } from './universe-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'monger-universe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SYNTHETIC = 900;
const INVALID = ['NOPEA', 'NOPEB', 'NOPEC'];
const BUDGET = 60; // 30 instruments at 2 lines each (L1 + realtime bars)
/**
 * Heap ceiling for the whole test process after the run. Measured ~60-120 MB peak: 900 tickers
 * cost a market-data entry and a trader only while active (at most 20 at once), plus the kernel's
 * per-instrument registry rows and the universe's per-symbol bookkeeping for all 900+ (a few KB
 * each); vitest itself and DuckDB's JS side take ~40 MB. 400 MB would mean something grows per
 * signal or per activation instead of per symbol.
 */
const HEAP_CEILING_MB = 400;
const TOKEN = 'test-token-0123456789abcdef';

function errorLogger(errors: LogRecord[]) {
  return createLogger({ level: 'error', now: Date.now, sink: (r) => errors.push(r) });
}

describe('runner: signal-driven universe on the simulator', () => {
  it('900+ tickers over a replay day: line budget held (runner and simulator), traders created and retired, invalid recorded, no error', async () => {
    const db = join(dir, 'day.duckdb');
    const store = await Store.open(db);
    await seedStore(store, SYNTHETIC);
    const symbols = [...REAL, ...Array.from({ length: SYNTHETIC }, (_, i) => syntheticSymbol(i))];
    const signals = planSignals({ symbols, invalid: INVALID, from: OPEN + 5 * 60_000, to: CLOSE - 30 * 60_000, maxPerSymbol: 2 });
    await seedSignals(store, signals);
    store.close();

    const config = universeConfig({ db, journal: join(dir, 'journal-900.duckdb'), lineBudget: BUDGET, speed: 300, retireAfterMinutes: 5 });
    let md: MarketDataFeature | undefined;
    let universe: UniverseRunner | undefined;
    let simMax = 0;
    let runnerMax = 0;
    const sampler = setInterval(() => {
      if (md) simMax = Math.max(simMax, md.lineCount());
      if (universe) runnerMax = Math.max(runnerMax, universe.lines.used);
    }, 5);
    const errors: LogRecord[] = [];
    let summary;
    try {
      summary = await runRunner(config, {
        logger: errorLogger(errors),
        pacing: UNPACED,
        onUniverse: (u) => (universe = u),
        simulatorFeatures: (s) => {
          const f = universeSimFeatures(s, BUDGET);
          md = f.marketData;
          return f.features;
        },
      });
    } finally {
      clearInterval(sampler);
    }
    const u = summary.universe!;
    process.stderr.write(`universe 900: ${JSON.stringify(u)} simulator max lines ${simMax}, runner max lines ${runnerMax}\n`);

    expect(summary.stopReason).toBe('end of replay');
    expect(errors.map((e) => e.message)).toEqual([]);
    expect(summary.orders.rejected).toBe(0);
    expect(summary.positions).toEqual({}); // flattened by max hold / the session guard
    // every ticker's signals reached the universe: 904 served + 3 invalid
    expect(u.signals.symbols).toBe(symbols.length + INVALID.length);
    expect(u.signals.symbols).toBeGreaterThanOrEqual(900);
    // the budget: the runner's own accounting and the simulator's lines never above it
    expect(u.lines.budget).toBe(BUDGET);
    expect(u.lines.peak).toBeLessThanOrEqual(BUDGET);
    expect(runnerMax).toBeLessThanOrEqual(BUDGET);
    expect(simMax).toBeLessThanOrEqual(BUDGET);
    expect(simMax).toBeGreaterThan(0);
    // every served ticker resolved (active, waited or retired), the unknown ones are invalid;
    // traders created and retired once idle (a ticker whose line never came in time retires waiting)
    const entries = new Map(universe!.status().entries.map((e) => [e.symbol, e]));
    for (const sym of symbols) expect(['active', 'waiting-for-line', 'warming', 'retired']).toContain(entries.get(sym)?.state);
    for (const sym of INVALID) expect(entries.get(sym)?.state).toBe('invalid');
    expect(u.created).toBeGreaterThan(symbols.length / 2);
    expect(u.retired).toBe(u.created - u.active);
    expect(u.retired).toBeGreaterThan(symbols.length / 2);
    expect(u.waited).toBeGreaterThan(0); // the budget was short: who waited is reported
    expect(u.active).toBeLessThanOrEqual(BUDGET / 2);
    expect(u.invalid).toBe(INVALID.length);
    expect(u.signals.delivered).toBeGreaterThan(0);
    expect(summary.fills).toBeGreaterThan(0);
    expect(u.heapMb.peak).toBeLessThan(HEAP_CEILING_MB);

    // the journal: no market-data alert except the three unknown tickers' contract lookups (no 101)
    const js = await Store.open(config.journal.path);
    try {
      const alerts = (await readJournal(js, summary.journal.runId)).filter((r) => r.kind === 'alert').map((r) => r.payload as { instrument?: string; stream?: string; code?: number; kind?: string });
      // (stale-signal alerts are not market data: a waiter's signal may age out while it waits for a line)
      expect(alerts.filter((a) => a.kind !== 'signals-stale' && !(a.stream === 'contract' && INVALID.includes(a.instrument ?? '')))).toEqual([]);
      expect(alerts.some((a) => a.code === 101)).toBe(false);
    } finally {
      js.close();
    }
  }, 300_000);

  it('control API and `monger symbol` on a running replay: add, refusals that change nothing, remove', async () => {
    const db = join(dir, 'control.duckdb');
    const store = await Store.open(db);
    await seedStore(store, 10);
    const symbols = Array.from({ length: 10 }, (_, i) => syntheticSymbol(i));
    await seedSignals(store, planSignals({ symbols, from: OPEN + 60_000, to: CLOSE - 60 * 60_000, seed: 9 }));
    store.close();
    const config = universeConfig({ db, journal: join(dir, 'journal-control.duckdb'), lineBudget: 10, speed: 60, retireAfterMinutes: 10, control: true });
    const abort = new AbortController();
    let resolveAddress!: (a: { host: string; port: number }) => void;
    const address = new Promise<{ host: string; port: number }>((r) => (resolveAddress = r));
    const errors: LogRecord[] = [];
    const run = runRunner(config, {
      logger: errorLogger(errors),
      pacing: UNPACED,
      signal: abort.signal,
      onControl: (a) => resolveAddress(a),
      simulatorFeatures: (s) => universeSimFeatures(s, 10).features,
    });
    try {
      const { host, port } = await address;
      const api = new ControlClient(host, port, TOKEN);
      const list = async () => (await api.list()).body as ControlList;
      const entry = async (sym: string) => (await list()).symbols.find((e) => e.symbol === sym);

      // a wrong token: 401, nothing else said
      expect((await new ControlClient(host, port, 'wrong-token-0123456789').list()).status).toBe(401);

      // add a real ticker: active (resolved, lines, warm-up, trader) when the call returns
      const added = await api.add('SPY');
      expect(added.status).toBe(200);
      expect((added.body as { symbol: { state: string; origin: string } }).symbol).toMatchObject({ state: 'active', origin: 'added' });
      const spy = await entry('SPY');
      expect(spy).toMatchObject({ state: 'active', pinned: true, position: 0 });
      expect(spy!.streams?.l1).toMatch(/requested|active/);

      // refusals: each says why and changes nothing
      const before = await entry('SPY');
      const dup = await api.add('SPY');
      expect(dup.status).toBe(409);
      expect(dup.body).toMatchObject({ error: { code: 'UNIVERSE_DUPLICATE' } });
      expect(await entry('SPY')).toMatchObject({ state: before!.state, activations: before!.activations, origin: 'added' });

      const unknown = await api.add('NOSUCH');
      expect(unknown.status).toBe(422);
      expect(unknown.body).toMatchObject({ error: { code: 'UNIVERSE_INVALID_SYMBOL' } });
      expect(await entry('NOSUCH')).toBeUndefined();

      const malformed = await api.add('bad sym!');
      expect(malformed.status).toBe(422);
      expect(await entry('bad sym!')).toBeUndefined();

      const notMember = await api.remove('QQQ');
      expect(notMember.status).toBe(404);
      expect(notMember.body).toMatchObject({ error: { code: 'UNIVERSE_NOT_MEMBER' } });
      expect(await entry('QQQ')).toBeUndefined();

      // the CLI against the same runner: list, and a refused duplicate add exits 5
      const cli = (args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', 'runner/cli/main.ts', 'symbol', ...args, '--port', String(port), '--token', TOKEN], { timeout: 60_000 });
      const listed = await cli(['list', '--json']);
      expect((JSON.parse(listed.stdout) as ControlList).symbols.some((e) => e.symbol === 'SPY')).toBe(true);
      const refused = await cli(['add', 'SPY']).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
      expect(refused.code).toBe(5);
      expect(refused.stderr).toMatch(/UNIVERSE_DUPLICATE/);

      // immediate removal: retired at once, its lines free
      const linesBefore = (await list()).lines.used;
      const removed = await api.remove('SPY', true);
      expect(removed.status).toBe(200);
      expect((removed.body as { symbol: { state: string } }).symbol.state).toBe('retired');
      const after = await list();
      expect(after.symbols.find((e) => e.symbol === 'SPY')?.state).toBe('retired');
      expect(after.lines.used).toBeLessThanOrEqual(linesBefore - 2);
      // removing it again: no longer a member
      expect((await api.remove('SPY')).status).toBe(404);
    } finally {
      abort.abort();
    }
    const summary = await run;
    expect(summary.stopReason).toBe('signal');
    expect(errors.map((e) => e.message)).toEqual([]);
    expect(summary.universe!.lines.peak).toBeLessThanOrEqual(10);
  }, 180_000);
});
