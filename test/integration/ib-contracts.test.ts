/**
 * ContractResolver and futures discovery over REAL TCP: IbSession with the real @stoqey/ib client
 * against the TWS simulator, answering contract details from an in-memory store with imported
 * data (SPY daily, ES Dec 2013 minute bars, 6E Mar 2024 minute bars, and two small synthetic ES
 * months so there is an expired month and a next month around Dec 2013).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { getCalendar } from '../../lib/calendar/index.js';
import { SeededRandom } from '../../lib/core/seeded-random.js';
import { IbSession, type IbSessionOptions } from '../../lib/ib/ib-session.js';
import { ContractNotFoundError, ContractResolver, contractQueryKey, toIbContract, type ContractQuery } from '../../lib/ib/contract-resolver.js';
import { continuousToFront, frontMonth, listFutureMonths } from '../../lib/ib/futures-discovery.js';
import { importFiles } from '../../lib/ingest/import-files.js';
import { Store } from '../../lib/store/store.js';
import { hashConId } from '../../runner/tws-sim/contract-match.js';
import { simFeatures } from '../../runner/tws-sim/features.js';
import { TwsSimulator } from '../../runner/tws-sim/server.js';
import { replayClock } from '../../runner/tws-sim/sim-clock.js';
import type { SimClock } from '../../runner/tws-sim/types.js';

const WAIT = { timeout: 5000, interval: 10 };
/** Wed 18 Dec 2013, 09:00 Chicago: inside the ES Dec 2013 data, two trading days before its expiry */
const SIM_START = Date.UTC(2013, 11, 18, 15, 0);
const SPY: ContractQuery = { symbol: 'SPY', secType: 'STK', exchange: 'SMART', currency: 'USD' };
const UNKNOWN: ContractQuery = { symbol: 'ZZZZ', secType: 'STK', exchange: 'SMART', currency: 'USD' };

let dir: string;
let store: Store;
let sim: TwsSimulator | undefined;
let clock: SimClock;
const sessions: IbSession[] = [];
const resolvers: ContractResolver[] = [];
let nextClientId = 40;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ib-contracts-'));
  store = await Store.open(':memory:');
  await importFiles(store, ['data/lean/equity/usa/daily/spy.csv', 'data/lean/future/cme/minute/es']);
  await importFiles(store, ['data/cme/6EH4.XCME_1min_bars_20240101_20240131.csv'], { symbol: '6E', contractMonth: '202403', interval: '1m' });
  // an expired month (Sep 2013) and the next month (Mar 2014), a couple of bars each
  const header = 'timestamp,open,high,low,close,volume\n';
  const sep = path.join(dir, 'esu3.csv');
  writeFileSync(sep, `${header}2013-09-16T14:30:00Z,1690,1691,1689,1690.5,10\n2013-09-16T14:31:00Z,1690.5,1692,1690,1691,12\n`);
  await importFiles(store, [sep], { symbol: 'ES', contractMonth: '201309', interval: '1m' });
  const mar = path.join(dir, 'esh4.csv');
  writeFileSync(mar, `${header}2013-12-16T14:30:00Z,1780,1781,1779,1780.5,10\n2013-12-16T14:31:00Z,1780.5,1782,1780,1781,12\n`);
  await importFiles(store, [mar], { symbol: 'ES', contractMonth: '201403', interval: '1m' });
});

afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const r of resolvers.splice(0)) {
    r.close();
    await r.flush();
  }
  for (const s of sessions.splice(0)) s.stop();
  await sim?.stop();
  sim = undefined;
  // each test starts from an empty contract cache
  await store.run('DELETE FROM ib_contracts');
  await store.run('DELETE FROM ib_invalid_symbols');
});

/** The simulator at a replay clock, a connected session and a resolver on the shared store. */
async function start(options: { simStart?: number; session?: Partial<IbSessionOptions> } = {}) {
  clock = replayClock({ start: options.simStart ?? SIM_START, speed: 1 });
  sim = new TwsSimulator({ store, port: 0, clock, features: simFeatures(store) });
  await sim.start();
  const session = new IbSession({ port: sim.port, clientId: nextClientId++, connectTimeoutMs: 2000, backoff: { baseMs: 20, factor: 2, maxMs: 100, resetAfterMs: 60_000 }, ...options.session });
  sessions.push(session);
  session.start();
  await session.ready(5000);
  return { session, resolver: newResolver(session) };
}

function newResolver(session: IbSession): ContractResolver {
  const resolver = new ContractResolver({ session, store, requestTimeoutMs: 3000, retries: 2, backoff: { baseMs: 100, factor: 2, maxMs: 400 } });
  resolvers.push(resolver);
  return resolver;
}

describe('ContractResolver against the TWS simulator', () => {
  it('resolves SPY as a stock, caches it in memory and in the store, and a new instance needs no request', async () => {
    const { session, resolver } = await start();
    const spy = await resolver.resolveOne(SPY);
    expect(spy).toMatchObject({ symbol: 'SPY', secType: 'STK', exchange: 'SMART', currency: 'USD', localSymbol: 'SPY', conId: hashConId('SPY'), multiplier: 1, minTick: 0.01 });
    expect(spy.timeZoneId).toBe('US/Eastern');
    expect(spy.liquidHours).toContain('20131218:0930-20131218:1600');
    expect(spy.lastTradeDate).toBe('');
    expect(toIbContract(spy)).toMatchObject({ conId: hashConId('SPY'), secType: 'STK', exchange: 'SMART' });

    expect((await resolver.resolve(SPY))[0]!.conId).toBe(spy.conId);
    expect(resolver.stats()).toMatchObject({ requests: 1, memoryHits: 1 });
    await resolver.flush();
    const rows = await store.all<{ query_key: string }>('SELECT query_key FROM ib_contracts');
    expect(rows.map((r) => r.query_key)).toEqual([contractQueryKey(SPY)]);

    const second = newResolver(session);
    expect(await second.resolveOne(SPY)).toEqual(spy);
    expect(second.stats().requests).toBe(0);
  });

  it('records an unknown symbol as invalid without crashing; resolveMany skips and reports it', async () => {
    const { session, resolver } = await start();
    expect(await resolver.resolve(UNKNOWN)).toEqual([]);
    expect(resolver.invalidRecord(UNKNOWN)).toMatchObject({ symbol: 'ZZZZ', code: 200, reason: expect.stringMatching(/no security definition/i) });
    await resolver.flush();
    expect(await store.all('SELECT symbol, sec_type, code FROM ib_invalid_symbols')).toEqual([{ symbol: 'ZZZZ', sec_type: 'STK', code: 200 }]);
    await expect(resolver.resolveOne(UNKNOWN)).rejects.toBeInstanceOf(ContractNotFoundError);

    const many = await resolver.resolveMany(['SPY', 'ZZZZ', 'NOSUCH']);
    expect(many.resolved.map((r) => r.contracts[0]!.symbol)).toEqual(['SPY']);
    expect(many.invalid.map((i) => [i.symbol, i.known])).toEqual([
      ['ZZZZ', true],
      ['NOSUCH', false],
    ]);
    expect(many.failed).toEqual([]);
    // two 200s and one SPY answer: the known-invalid ZZZZ was asked once
    expect(resolver.stats()).toMatchObject({ requests: 3, invalid: 2 });
    expect(session.state).toBe('connected');
  });

  it('lists ES months with and without expired ones and picks the front month at the replay clock', async () => {
    const { resolver } = await start();
    const live = await listFutureMonths(resolver, 'ES', 'CME');
    expect(live.map((m) => [m.contractMonth, m.lastTradeDate, m.localSymbol])).toEqual([
      ['201312', '20131220', 'ESZ3'],
      ['201403', '20140321', 'ESH4'],
    ]);
    const all = await listFutureMonths(resolver, 'ES', 'CME', { includeExpired: true });
    expect(all.map((m) => m.contractMonth)).toEqual(['201309', '201312', '201403']);
    expect(all.every((m) => m.secType === 'FUT' && m.multiplier === 50 && m.minTick === 0.25 && m.timeZoneId === 'US/Central')).toBe(true);

    const cme = getCalendar('CME_EQUITY');
    const now = clock.now();
    // Wed 18 Dec: 19 and 20 remain, 2 trading days
    expect(frontMonth(all, now, { kind: 'days-before-expiry', days: 1, calendar: cme })?.localSymbol).toBe('ESZ3');
    expect(frontMonth(all, now, { kind: 'days-before-expiry', days: 2, calendar: cme })?.localSymbol).toBe('ESH4');
    const volumes = new Map([
      [all[0]!.conId, 1e9], // expired: never chosen
      [all[1]!.conId, 100],
      [all[2]!.conId, 500],
    ]);
    expect(frontMonth(all, now, { kind: 'volume', volumes, calendar: cme })?.localSymbol).toBe('ESH4');

    const euro = await listFutureMonths(resolver, '6E', 'CME');
    expect(euro.map((m) => [m.localSymbol, m.lastTradeDate, m.multiplier])).toEqual([['6EH4', '20240318', 125000]]);
    expect(resolver.stats().requests).toBe(3);
  });

  it('turns CONTFUT into the real FUT front month and never caches the continuous contract', async () => {
    const { resolver } = await start();
    const frontFut = await continuousToFront(resolver, 'ES', 'CME', clock.now());
    expect(frontFut).toMatchObject({ secType: 'FUT', symbol: 'ES', localSymbol: 'ESZ3', contractMonth: '201312', lastTradeDate: '20131220' });
    const months = await listFutureMonths(resolver, 'ES', 'CME');
    expect(frontFut.conId).toBe(months[0]!.conId);
    expect(toIbContract(frontFut)).toMatchObject({ secType: 'FUT', conId: frontFut.conId, lastTradeDateOrContractMonth: '20131220' });

    await resolver.flush();
    const keys = (await store.all<{ query_key: string }>('SELECT query_key FROM ib_contracts ORDER BY query_key')).map((r) => r.query_key);
    expect(keys.some((k) => k.startsWith('CONTFUT|'))).toBe(false);
    expect(keys).toContain(contractQueryKey({ symbol: 'ES', secType: 'FUT', exchange: 'CME', currency: 'USD', conId: frontFut.conId }));
    // CONTFUT is asked every time; the conId lookup comes from the cache
    const before = resolver.stats().requests;
    await continuousToFront(resolver, 'ES', 'CME', clock.now());
    expect(resolver.stats().requests).toBe(before + 1);
  });

  it('after the December expiry the continuous contract moves to March', async () => {
    const { resolver } = await start({ simStart: Date.UTC(2013, 11, 23, 15, 0) });
    const frontFut = await continuousToFront(resolver, 'ES', 'CME', clock.now());
    expect(frontFut.localSymbol).toBe('ESH4');
    expect((await listFutureMonths(resolver, 'ES', 'CME')).map((m) => m.contractMonth)).toEqual(['201403']);
  });

  it('retries a request made while the connection is down and succeeds after the reconnect', async () => {
    // the session waits a fixed ~300 ms before reconnecting (jitter pinned to its ceiling), so the
    // request below is certainly made while the connection is down, whatever the machine's load
    const pinned = Object.assign(new SeededRandom(1), { next: () => 0.99 });
    const { session } = await start({ session: { backoff: { baseMs: 300, factor: 1, maxMs: 300, resetAfterMs: 60_000 }, random: pinned } });
    const resolver = new ContractResolver({ session, store, requestTimeoutMs: 3000, retries: 6, backoff: { baseMs: 100, factor: 2, maxMs: 400 } });
    resolvers.push(resolver);
    sim!.dropAll();
    await vi.waitFor(() => expect(session.state).not.toBe('connected'), WAIT);
    const spy = await resolver.resolve(SPY);
    expect(spy[0]!.symbol).toBe('SPY');
    expect(resolver.stats().disconnects).toBeGreaterThanOrEqual(1);
    expect(session.state).toBe('connected');
  });
});
