/**
 * fetchHistory over real TCP: a SOURCE store with real LEAN minute trades (SPY and IBM,
 * 2013-10-07..09) served by the TWS simulator (replay clock after the data), a session, and a
 * separate TARGET store. The target's bars must equal the source's exactly; a second fetch asks
 * for nothing; a simulator stricter than the scheduler forces 162 pacing violations that are
 * backed off and retried; `monger data fetch` against `monger gateway-sim` does the same end to end.
 *
 * Volume: the simulator reports US stock volume in lots of 100 (stockVolumeInLots, as IB does
 * for historical bars); fetchHistory multiplies back (volumeLot 100) and rounds the float noise
 * of the division away, so volumes compare exactly too.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SeededRandom } from '../../lib/core/seeded-random.js';
import { fetchHistory, type FetchHistoryOptions, type FetchProgress } from '../../lib/ib/history-fetch.js';
import { IbSession } from '../../lib/ib/ib-session.js';
import { importFiles } from '../../lib/ingest/import-files.js';
import { loadBars } from '../../lib/store/bar-query.js';
import { Store } from '../../lib/store/store.js';
import { contractDetailsFeature } from '../../runner/tws-sim/contract-details.js';
import { simFeatures } from '../../runner/tws-sim/features.js';
import { historicalFeature } from '../../runner/tws-sim/historical.js';
import { PacingGuard } from '../../runner/tws-sim/pacing.js';
import { TwsSimulator, type TwsSimulatorOptions } from '../../runner/tws-sim/server.js';
import { replayClock } from '../../runner/tws-sim/sim-clock.js';
import { OUT, type RequestHandler, type SimFeature } from '../../runner/tws-sim/types.js';

const MINUTE = 'data/lean/equity/usa/minute';
const DAYS = ['20131007', '20131008', '20131009'];
const FILES = ['spy', 'ibm'].flatMap((s) => DAYS.map((d) => `${MINUTE}/${s}/${d}_${s}_minute_trade.csv`));
const SYMBOLS = ['SPY', 'IBM'];
/** The simulated present: after the last day of data */
const SIM_START = Date.UTC(2013, 9, 12, 12);

let dir: string;
let sourcePath: string;
let source: Store;
const sims: TwsSimulator[] = [];
const sessions: IbSession[] = [];
const stores: Store[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'monger-ib-fetch-'));
  sourcePath = join(dir, 'source.duckdb');
  source = await Store.open(sourcePath);
  await importFiles(source, FILES);
});

afterAll(() => {
  source?.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const s of sessions.splice(0)) s.stop();
  for (const sim of sims.splice(0)) await sim.stop();
  for (const s of stores.splice(0)) s.close();
});

async function startSim(options: Partial<TwsSimulatorOptions> = {}): Promise<TwsSimulator> {
  const sim = new TwsSimulator({ store: source, port: 0, clock: replayClock({ start: SIM_START, speed: 1 }), features: simFeatures(source), ...options });
  sims.push(sim);
  await sim.start();
  return sim;
}

async function openSession(port: number, clientId: number): Promise<IbSession> {
  const session = new IbSession({ port, clientId, random: new SeededRandom(clientId), connectTimeoutMs: 3000, maxAttempts: 3 });
  sessions.push(session);
  session.start();
  await session.ready(5000);
  return session;
}

async function target(): Promise<Store> {
  const s = await Store.open(':memory:');
  stores.push(s);
  return s;
}

async function expectSameBars(a: Store, b: Store, from: string, to: string): Promise<number> {
  const want = await loadBars(a, { symbols: SYMBOLS, interval: '1m', from, to });
  const got = await loadBars(b, { symbols: SYMBOLS, interval: '1m', from, to });
  let n = 0;
  for (let i = 0; i < want.length; i++) {
    const [w, g] = [want[i]!, got[i]!];
    expect(g.length, w.instrument.key).toBe(w.length);
    for (const c of ['ts', 'open', 'high', 'low', 'close', 'volume'] as const) expect(Array.from(g[c]), `${w.instrument.key} ${c}`).toEqual(Array.from(w[c]));
    n += w.length;
  }
  return n;
}

const base = (session: IbSession, store: Store): FetchHistoryOptions => ({
  session,
  store,
  symbols: SYMBOLS,
  interval: '1m',
  from: '2013-10-07',
  to: '2013-10-10',
  requestTimeoutMs: 10_000,
});

describe('fetchHistory against the TWS simulator', () => {
  it('copies the source bars exactly, records the empty session, and a second run asks for nothing', async () => {
    const sim = await startSim();
    const session = await openSession(sim.port, 21);
    const store = await target();
    const events: FetchProgress[] = [];
    const t0 = performance.now();
    const first = await fetchHistory({ ...base(session, store), onProgress: (p) => events.push(p) });
    const seconds = (performance.now() - t0) / 1000;

    // 2 symbols x 4 sessions, one "1 D" request each; 10-10 has no data in the source
    expect(first.requested).toBe(8);
    expect(first.failed).toEqual([]);
    expect(first.empty).toBe(2);
    expect(first.pacingViolations).toBe(0);
    const bars = await expectSameBars(source, store, '2013-10-07', '2013-10-10');
    expect(bars).toBe(3769); // every imported bar (6 LEAN files)
    expect(first.bars).toBe(bars);
    expect(first.written).toEqual({ inserted: bars, updated: 0, unchanged: 0 });
    expect(first.symbols.map((s) => [s.symbol, s.requests, s.empty])).toEqual([
      ['SPY', 4, 1],
      ['IBM', 4, 1],
    ]);
    expect(events[0]).toMatchObject({ phase: 'planned', total: 8 });
    expect(events.at(-1)).toMatchObject({ phase: 'done', done: 8, bars });

    // one ingest run per answered request, source 'ib', and the ranges on file
    const runs = await store.all<{ n: number }>(`SELECT count(*) AS n FROM ingest_runs WHERE format = 'ib' AND status = 'ok'`);
    expect(runs[0]!.n).toBe(first.runIds.length);
    expect(first.runIds).toHaveLength(6);
    const sources = await store.all<{ s: string; n: number }>(`SELECT CAST(source AS VARCHAR) AS s, count(*) AS n FROM bars GROUP BY 1`);
    expect(sources).toEqual([{ s: 'ib', n: bars }]);
    const ranges = await store.all<{ status: string; n: number }>(`SELECT status, count(*) AS n FROM ib_fetch_ranges GROUP BY 1 ORDER BY 1`);
    expect(ranges).toEqual([
      { status: 'empty', n: 2 },
      { status: 'ok', n: 6 },
    ]);
    // instruments carry IB's conId
    const inst = await store.all<{ key: string; con_id: number }>('SELECT key, con_id FROM instruments ORDER BY key');
    expect(inst.map((i) => i.key)).toEqual(['IBM', 'SPY']);
    expect(inst.every((i) => i.con_id > 0)).toBe(true);

    const second = await fetchHistory(base(session, store));
    expect(second).toMatchObject({ requested: 0, bars: 0, skippedStored: 6, skippedEmpty: 2, pacingWaits: 0 });
    expect(await expectSameBars(source, store, '2013-10-07', '2013-10-10')).toBe(bars);

    // --retry-empty asks the empty sessions again (and only those)
    const third = await fetchHistory({ ...base(session, store), retryEmpty: true });
    expect(third).toMatchObject({ requested: 2, bars: 0, empty: 2, skippedStored: 6, skippedEmpty: 0 });
    console.info(`ib-fetch: ${bars} bars in ${seconds.toFixed(2)} s = ${Math.round(bars / seconds)} bars/s (8 requests, IB pacing rules, no waits needed)`);
  });

  it('fills in only the missing sessions when some are already stored', async () => {
    const sim = await startSim();
    const session = await openSession(sim.port, 22);
    const store = await target();
    const one = await fetchHistory({ ...base(session, store), symbols: ['SPY'], from: '2013-10-08', to: '2013-10-08' });
    expect(one.requested).toBe(1);
    const rest = await fetchHistory({ ...base(session, store), to: '2013-10-09' });
    // SPY 10-08 is stored: 5 of the 6 sessions are asked for
    expect(rest).toMatchObject({ requested: 5, skippedStored: 1, failed: [] });
    await expectSameBars(source, store, '2013-10-07', '2013-10-09');
  });

  it('with fillGaps, fetches again the sessions whose regular hours have gaps and restores the missing bars', async () => {
    const sim = await startSim();
    const session = await openSession(sim.port, 23);
    const store = await target();
    await fetchHistory({ ...base(session, store), to: '2013-10-09' });
    // a gap of 10 regular-hours minutes in SPY on 2013-10-08 (14:00-14:10 New York = 18:00-18:10 UTC)
    await store.run(
      `DELETE FROM bars WHERE instrument_id = (SELECT instrument_id FROM instruments WHERE key = 'SPY')
         AND ts >= TIMESTAMP '2013-10-08 18:00:00' AND ts < TIMESTAMP '2013-10-08 18:10:00'`,
    );
    const plain = await fetchHistory({ ...base(session, store), to: '2013-10-09' });
    expect(plain).toMatchObject({ requested: 0, skippedStored: 6 });
    const filled = await fetchHistory({ ...base(session, store), to: '2013-10-09', fillGaps: true });
    expect(filled.requested).toBeGreaterThanOrEqual(1);
    expect(filled.failed).toEqual([]);
    expect(filled.written.inserted).toBe(10);
    await expectSameBars(source, store, '2013-10-07', '2013-10-09');
  });

  it('recovers from 162 pacing violations when the scheduler is looser than the simulator', async () => {
    // the simulator paces every bar size: at most 2 requests per 0.6 s
    const strict = new PacingGuard({ now: Date.now, allBarSizes: true, limits: { windowMs: 600, windowCount: 2 } });
    const sim = await startSim({ features: [contractDetailsFeature(), historicalFeature({ pacing: strict })] });
    const session = await openSession(sim.port, 23);
    const store = await target();
    const result = await fetchHistory({
      ...base(session, store),
      to: '2013-10-09',
      maxInFlight: 1,
      // a scheduler that knows nothing of the simulator's window
      pacing: { limits: { identicalMs: 0, burstMs: 0, windowMs: 0 }, backoff: { baseMs: 100, maxMs: 600 }, marginMs: 0, maxAttempts: 20 },
    });
    expect(result.failed).toEqual([]);
    expect(result.requested).toBe(6);
    expect(result.pacingViolations).toBeGreaterThanOrEqual(2);
    expect(result.retries).toBe(result.pacingViolations);
    expect(result.pacingWaits).toBeGreaterThanOrEqual(1);
    await expectSameBars(source, store, '2013-10-07', '2013-10-09');
  });
});

describe('fetchHistory across a dropped connection', () => {
  it('re-sends the requests a dropped connection never answered, on the new connection', async () => {
    let sim: TwsSimulator | undefined;
    const history = historicalFeature({ pacing: false });
    let calls = 0;
    const dropping: SimFeature = {
      name: 'dropping-history',
      handlers: new Map<number, RequestHandler>([
        ...history.handlers,
        [
          OUT.REQ_HISTORICAL_DATA,
          (conn, fields, ctx) => {
            // the third request takes the whole TWS down before it is answered
            if (++calls === 3) return void sim!.dropAll();
            return history.handlers.get(OUT.REQ_HISTORICAL_DATA)!(conn, fields, ctx);
          },
        ],
      ]),
    };
    sim = await startSim({ features: [contractDetailsFeature(), dropping] });
    const session = new IbSession({ port: sim.port, clientId: 24, random: new SeededRandom(24), backoff: { baseMs: 20, factor: 2, maxMs: 100, resetAfterMs: 60_000 } });
    sessions.push(session);
    session.start();
    await session.ready(5000);
    const store = await target();
    const result = await fetchHistory({ ...base(session, store), to: '2013-10-09', maxInFlight: 1, pacing: { limits: { identicalMs: 100 } } });
    expect(result.failed).toEqual([]);
    expect(result).toMatchObject({ requested: 6, retries: 1, pacingViolations: 0 });
    expect(calls).toBe(7);
    await expectSameBars(source, store, '2013-10-07', '2013-10-09');
  });
});

describe('monger data fetch against monger gateway-sim', () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill('SIGKILL');
    child = undefined;
  });

  it('fetches over TCP between two processes; a rerun asks for nothing', async () => {
    // the simulator process needs the source file to itself
    source.close();
    const BIN = resolve('bin/monger.js');
    const env = { ...process.env, MONGER_DB: '', IB_HOST: '', IB_PORT: '', IB_CLIENT_ID: '' };
    const sim = spawn(process.execPath, [BIN, '--db', sourcePath, 'gateway-sim', '--port', '0', '--start', '2013-10-12T12:00:00Z'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = sim;
    let stdout = '';
    sim.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((res) => sim.once('exit', (code) => res(code)));
    await vi.waitFor(() => expect(stdout).toMatch(/listening on 127\.0\.0\.1:(\d+)/), { timeout: 30_000, interval: 50 });
    const port = /listening on 127\.0\.0\.1:(\d+)/.exec(stdout)![1]!;

    const targetPath = join(dir, 'target.duckdb');
    const fetch = (...extra: string[]) => {
      const args = [BIN, '--db', targetPath, 'data', 'fetch', '--interval', '1m', '--from', '2013-10-07', '--to', '2013-10-09', '--what', 'trades', ...extra];
      const r = spawnSync(process.execPath, args, { env: { ...env, IB_PORT: port, IB_CLIENT_ID: '31' }, encoding: 'utf8', timeout: 60_000 });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const first = fetch('--symbols', 'SPY,IBM', '--json');
    expect(first.code, first.stderr).toBe(0);
    const r1 = JSON.parse(first.stdout) as { requested: number; bars: number; failed: unknown[] };
    expect(r1.requested).toBe(6);
    expect(r1.failed).toEqual([]);

    // the table form, symbols from a watchlist, flags overriding the environment
    const watchlist = join(dir, 'watchlist.csv');
    writeFileSync(watchlist, 'symbol\nSPY\nibm\n');
    const second = fetch('--watchlist', watchlist, '--port', port, '--client-id', '32', '--no-progress');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^symbol\s+conId\s+units\s+stored/);
    expect(second.stdout).toMatch(/^SPY\s+[\d,]+\s+3\s+3\s/m);
    expect(second.stderr).toMatch(/^0 requests, 0 bars/m);

    sim.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = undefined;

    source = await Store.open(sourcePath);
    const copy = await Store.open(targetPath);
    stores.push(copy);
    const bars = await expectSameBars(source, copy, '2013-10-07', '2013-10-09');
    expect(r1.bars).toBe(bars);
  }, 60_000);
});
