/**
 * Fault injection in the TWS simulator over real TCP with the real @stoqey/ib client and the
 * IbSession: refused connections (502) and the reconnect after the window, 1100/1101/1102, farm
 * status flaps, a frozen instrument among live ones (real SPY and IBM minute bars, accelerated
 * replay), 1101 dropping subscriptions server-side, slow responses, the nightly reset, order
 * rejections, the HTTP control API and the `monger gateway-sim --control-port` / `fault` CLI.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EventName, IBApi, SecType, type Contract } from '@stoqey/ib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger, type LogRecord } from '../../lib/core/logger.js';
import { SeededRandom } from '../../lib/core/seeded-random.js';
import { IbSession, type IbConnection, type IbSessionOptions, type ResubscribeNotice } from '../../lib/ib/ib-session.js';
import type { SessionTransition } from '../../lib/ib/session-state.js';
import { importFiles } from '../../lib/ingest/import-files.js';
import { Store } from '../../lib/store/store.js';
import { ControlHttpServer } from '../../runner/tws-sim/control-http.js';
import { FaultInjector, FaultUnavailableError, FreezableQuoteBook, resettableFeature } from '../../runner/tws-sim/faults.js';
import { marketDataFeature } from '../../runner/tws-sim/market-data.js';
import { StoreQuoteBook } from '../../runner/tws-sim/replay-quotes.js';
import { TwsSimulator } from '../../runner/tws-sim/server.js';
import { replayClock } from '../../runner/tws-sim/sim-clock.js';

const WAIT = { timeout: 5000, interval: 10 };
const BACKOFF = { baseMs: 20, factor: 2, maxMs: 160, resetAfterMs: 60_000 };
/** 10:00 New York on a day with SPY and IBM minute bars */
const REPLAY_START = Date.parse('2013-10-07T14:00:00Z');
/** Ten simulated minutes per real second: a new minute bar every 100 ms */
const REPLAY_SPEED = 600;
const SPY: Contract = { symbol: 'SPY', secType: SecType.STK, exchange: 'SMART', currency: 'USD' };
const IBM: Contract = { symbol: 'IBM', secType: SecType.STK, exchange: 'SMART', currency: 'USD' };

let store: Store;
const sims: TwsSimulator[] = [];
const injectors: FaultInjector[] = [];
const sessions: IbSession[] = [];
const cleanups: (() => void | Promise<void>)[] = [];
let logs: LogRecord[] = [];

beforeAll(async () => {
  store = await Store.open(':memory:');
  await importFiles(store, ['data/lean/equity/usa/minute/spy', 'data/lean/equity/usa/minute/ibm']);
}, 60_000);
afterAll(() => store.close());
afterEach(async () => {
  for (const s of sessions.splice(0)) s.stop();
  for (const c of cleanups.splice(0)) await c();
  for (const f of injectors.splice(0)) f.close();
  for (const sim of sims.splice(0)) await sim.stop();
  logs = [];
});

/** A simulator with the market-data feature wired for faults (frozen quotes, dropped subscriptions). */
async function startSim() {
  const quotes = new FreezableQuoteBook(new StoreQuoteBook(store));
  const marketData = resettableFeature(marketDataFeature({ quotes, tickIntervalMs: 50 }));
  const sim = new TwsSimulator({
    store,
    port: 0,
    clock: replayClock({ start: REPLAY_START, speed: REPLAY_SPEED }),
    maxMessagesPerSecond: 1000,
    features: [marketData],
  });
  sims.push(sim);
  await sim.start();
  const faults = new FaultInjector(sim, { quotes, resettable: [marketData], resetWarningMs: 50 });
  injectors.push(faults);
  return { sim, faults, quotes };
}

/** An IbSession with small timeouts and everything it emits recorded. */
function openSession(port: number, options: Partial<IbSessionOptions> = {}) {
  const session = new IbSession({
    port,
    clientId: 1,
    backoff: BACKOFF,
    random: new SeededRandom(7),
    connectTimeoutMs: 2000,
    logger: createLogger({ level: 'debug', now: Date.now, sink: (r) => logs.push(r) }),
    ...options,
  });
  sessions.push(session);
  const rec = {
    session,
    transitions: [] as SessionTransition[],
    connections: [] as IbConnection[],
    resubscribes: [] as ResubscribeNotice[],
    currentTimes: [] as number[],
    /** tickPrice / tickSize events by reqId, on any connection of the session */
    ticks: new Map<number, number>(),
    errors: [] as { code: number; reqId: number }[],
    path: () => rec.transitions.map((t) => `${t.from}>${t.to}:${t.reason}`),
  };
  const tick = (id: number) => rec.ticks.set(id, (rec.ticks.get(id) ?? 0) + 1);
  session.on('transition', (t) => rec.transitions.push(t));
  session.on('resubscribe', (r) => rec.resubscribes.push(r));
  session.on('connection', (c) => {
    rec.connections.push(c);
    c.api.on(EventName.currentTime, () => rec.currentTimes.push(performance.now()));
    c.api.on(EventName.tickPrice, (id: number) => tick(id));
    c.api.on(EventName.tickSize, (id: number) => tick(id));
    c.api.on(EventName.error, (_e: Error, code: number, reqId: number) => rec.errors.push({ code, reqId }));
  });
  return rec;
}
type Rec = ReturnType<typeof openSession>;

async function connected(rec: Rec, count = 1): Promise<void> {
  await vi.waitFor(() => {
    expect(rec.session.state).toBe('connected');
    expect(rec.connections.length).toBe(count);
  }, WAIT);
}

/** A plain IBApi client counting the ticks of each request. */
function client(port: number, clientId: number) {
  const api = new IBApi({ host: '127.0.0.1', port, clientId, maxReqPerSec: 1000 });
  const rec = { api, ready: false, ticks: new Map<number, number>(), errors: [] as { code: number; reqId: number }[], info: [] as number[], disconnected: 0 };
  api.on(EventName.nextValidId, () => (rec.ready = true));
  api.on(EventName.tickPrice, (id: number) => rec.ticks.set(id, (rec.ticks.get(id) ?? 0) + 1));
  api.on(EventName.tickSize, (id: number) => rec.ticks.set(id, (rec.ticks.get(id) ?? 0) + 1));
  api.on(EventName.error, (_e: Error, code: number, reqId: number) => rec.errors.push({ code, reqId }));
  // stoqey reports id -1 codes (326, 2104, ...) as info
  api.on(EventName.info, (_m: string, code: number) => rec.info.push(code));
  api.on(EventName.disconnected, () => rec.disconnected++);
  cleanups.push(() => {
    api.disconnect();
  });
  return rec;
}

async function ready(c: ReturnType<typeof client>): Promise<void> {
  c.api.connect();
  await vi.waitFor(() => expect(c.ready).toBe(true), WAIT);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const ticks = (m: Map<number, number>, id: number) => m.get(id) ?? 0;

/** Resolves with the socket error code of a plain TCP connect ('connected' when it got through). */
function probeConnect(port: number): Promise<string> {
  return new Promise((res) => {
    const s = netConnect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      res('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => res(e.code ?? e.message));
  });
}

describe('fault injection against IbSession', () => {
  it('refuses connections for 1 s: reconnect attempts fail with 502, then succeed after the window', async () => {
    const { sim, faults } = await startSim();
    const rec = openSession(sim.port, { clientId: 21 });
    rec.session.start();
    await connected(rec);

    const t0 = Date.now();
    expect(faults.refuseConnections(1).refusingUntil).toEqual(expect.any(String));
    expect(await probeConnect(sim.port)).toBe('ECONNREFUSED');
    expect(faults.status()).toMatchObject({ listening: false, refusingUntil: expect.any(String), connections: [{ clientId: 21 }] });
    // connected clients stay until something drops them
    await sleep(50);
    expect(rec.session.state).toBe('connected');
    expect(faults.dropAll()).toEqual({ dropped: 1 });

    await connected(rec, 2);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(950);
    const refused = rec.transitions.filter((t) => t.reason === 'socket-closed' && t.from === 'connecting');
    expect(refused.length).toBeGreaterThanOrEqual(2);
    for (const t of refused) expect(t.detail).toMatch(/^502 .*ECONNREFUSED/);
    expect(rec.path().at(-1)).toBe('connecting>connected:api-ready');
    expect(faults.status()).toMatchObject({ listening: true, refusingUntil: null, connections: [{ clientId: 21 }] });
  });

  it('1100 then 1102: degraded, then connected without resubscribing', async () => {
    const { sim, faults } = await startSim();
    const rec = openSession(sim.port, { clientId: 22 });
    let resubscribed = 0;
    rec.session.registerResubscribe('quotes', () => resubscribed++);
    rec.session.start();
    await connected(rec);

    expect(faults.connectivityLost()).toEqual({ clients: 1 });
    await vi.waitFor(() => expect(rec.session.state).toBe('degraded'), WAIT);
    expect(rec.session.issues.linkLost).toBe(true);
    expect(faults.status().linkLost).toBe(true);

    expect(faults.connectivityRestored({ dataLost: false })).toMatchObject({ clients: 1 });
    await vi.waitFor(() => expect(rec.session.state).toBe('connected'), WAIT);
    expect(resubscribed).toBe(0);
    expect(rec.resubscribes).toEqual([]);
    expect(rec.connections).toHaveLength(1);
    expect(rec.path().slice(2)).toEqual(['connected>degraded:connectivity-lost', 'degraded>connected:connectivity-restored-data-kept']);
  });

  it('1100 then 1101: resubscribe callbacks run, and the server really dropped the old subscription', async () => {
    const { sim, faults } = await startSim();
    const rec = openSession(sim.port, { clientId: 23 });
    const subscribe = () => rec.session.request((api) => api.reqMktData(7, SPY, '', false, false), 'spy');
    rec.session.registerResubscribe('spy', subscribe);
    rec.session.start();
    await connected(rec);
    subscribe();
    await vi.waitFor(() => expect(ticks(rec.ticks, 7)).toBeGreaterThan(5), WAIT);

    faults.connectivityLost();
    await vi.waitFor(() => expect(rec.session.state).toBe('degraded'), WAIT);
    const result = faults.connectivityRestored({ dataLost: true });
    expect(result).toEqual({ clients: 1, droppedSubscriptions: 1 });
    await vi.waitFor(() => expect(rec.resubscribes).toMatchObject([{ cause: 'data-lost', callbacks: 1 }]), WAIT);
    expect(rec.session.state).toBe('connected');

    // the same ticker id again is accepted (no 322 duplicate ticker): the old line was gone
    const before = ticks(rec.ticks, 7);
    await vi.waitFor(() => expect(ticks(rec.ticks, 7)).toBeGreaterThan(before + 3), WAIT);
    expect(rec.errors.filter((e) => e.reqId === 7)).toEqual([]);
    expect(rec.connections).toHaveLength(1);
  });

  it('farm broken degrades the session, ok heals it; inactive is not an issue', async () => {
    const { sim, faults } = await startSim();
    const rec = openSession(sim.port, { clientId: 24 });
    rec.session.start();
    await connected(rec);

    expect(faults.farmFlap('usfarm', 'broken')).toEqual({ clients: 1, code: 2103 });
    await vi.waitFor(() => expect(rec.session.state).toBe('degraded'), WAIT);
    expect(rec.session.issues.brokenFarms).toEqual(['market:usfarm']);
    faults.farmFlap('ushmds', 'broken');
    await vi.waitFor(() => expect(rec.session.issues.brokenFarms).toEqual(['hmds:ushmds', 'market:usfarm']), WAIT);
    expect(faults.status().farms).toEqual({ usfarm: 'broken', ushmds: 'broken', secdefnj: 'ok' });

    expect(faults.farmFlap('usfarm', 'ok').code).toBe(2104);
    expect(faults.farmFlap('ushmds', 'inactive').code).toBe(2107);
    await vi.waitFor(() => expect(rec.session.state).toBe('connected'), WAIT);
    expect(faults.farmFlap('secdefnj', 'broken').code).toBe(2157);
    await vi.waitFor(() => expect(rec.session.issues.brokenFarms).toEqual(['secdef:secdefnj']), WAIT);
    faults.farmFlap('secdefnj', 'ok');
    await vi.waitFor(() => expect(rec.session.state).toBe('connected'), WAIT);
    expect(() => faults.farmFlap('secdefnj', 'inactive')).toThrow(FaultUnavailableError);
    expect(rec.connections).toHaveLength(1);
  });

  it('slow responses hold currentTime back by at least the delay, in order; 0 turns it off', async () => {
    const { sim, faults } = await startSim();
    const rec = openSession(sim.port, { clientId: 25, zombieTimeoutMs: 60_000 });
    rec.session.start();
    await connected(rec);
    const api = rec.connections[0]!.api;

    expect(faults.slowResponses(300)).toEqual({ outgoingDelayMs: 300 });
    const t0 = performance.now();
    api.reqCurrentTime();
    api.reqCurrentTime();
    await vi.waitFor(() => expect(rec.currentTimes).toHaveLength(2), WAIT);
    expect(rec.currentTimes[0]! - t0).toBeGreaterThanOrEqual(299);
    expect(rec.currentTimes[1]!).toBeGreaterThanOrEqual(rec.currentTimes[0]!);

    // a graceful close waits for the held messages: a duplicate client id still gets its 326
    const duplicate = client(sim.port, 25);
    duplicate.api.connect();
    await vi.waitFor(() => expect(duplicate.info).toEqual([326]), WAIT);
    await vi.waitFor(() => expect(duplicate.disconnected).toBe(1), WAIT);

    faults.slowResponses(0);
    const t1 = performance.now();
    api.reqCurrentTime();
    await vi.waitFor(() => expect(rec.currentTimes).toHaveLength(3), WAIT);
    expect(rec.currentTimes[2]! - t1).toBeLessThan(250);
    expect(rec.session.state).toBe('connected');
  });

  it('after a dropped connection the session reconnects, resubscribes, and market data flows again', async () => {
    const { sim, faults } = await startSim();
    const rec = openSession(sim.port, { clientId: 27 });
    const subscribe = () => rec.session.request((api) => api.reqMktData(9, SPY, '', false, false), 'spy');
    rec.session.registerResubscribe('spy', subscribe);
    rec.session.start();
    await connected(rec);
    subscribe();
    await vi.waitFor(() => expect(ticks(rec.ticks, 9)).toBeGreaterThan(5), WAIT);

    faults.dropAll();
    await connected(rec, 2);
    await vi.waitFor(() => expect(rec.resubscribes.length).toBe(1), WAIT);
    // ticks arriving from now on can only come from the line re-requested on the new connection
    const before = ticks(rec.ticks, 9);
    await vi.waitFor(() => expect(ticks(rec.ticks, 9)).toBeGreaterThan(before + 5), WAIT);
    expect(rec.connections).toHaveLength(2);
    expect(rec.errors.filter((e) => e.reqId === 9)).toEqual([]);
  });

  it('nightly reset: 1100, everyone dropped, refused while down, back afterwards', async () => {
    const { sim, faults } = await startSim();
    const rec = openSession(sim.port, { clientId: 26 });
    let resubscribed = 0;
    rec.session.registerResubscribe('all', () => resubscribed++);
    rec.session.start();
    await connected(rec);

    const t0 = Date.now();
    const result = await faults.nightlyReset({ downSeconds: 0.6 });
    expect(result).toMatchObject({ dropped: 1, refusingUntil: expect.any(String) });
    await connected(rec, 2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(600);
    const reasons = rec.transitions.map((t) => t.reason);
    expect(reasons.slice(0, 4)).toEqual(['connect-requested', 'api-ready', 'connectivity-lost', 'socket-closed']);
    expect(rec.transitions.some((t) => t.from === 'connecting' && /^502 /.test(t.detail ?? ''))).toBe(true);
    expect(resubscribed).toBe(1);
    expect(faults.status()).toMatchObject({ linkLost: false, listening: true, refusingUntil: null });
  });
});

describe('fault injection on market data', () => {
  it('a frozen symbol stops updating while another keeps flowing; thawed, it moves again', async () => {
    const { sim, faults } = await startSim();
    const c = client(sim.port, 31);
    await ready(c);
    c.api.reqMktData(1, SPY, '', false, false);
    c.api.reqMktData(2, IBM, '', false, false);
    await vi.waitFor(() => {
      expect(ticks(c.ticks, 1)).toBeGreaterThan(5);
      expect(ticks(c.ticks, 2)).toBeGreaterThan(5);
    }, WAIT);

    expect(faults.freezeSymbol('SPY', true)).toEqual({ frozen: ['SPY'] });
    await sleep(150); // a push already in flight may land
    const spyFrozen = ticks(c.ticks, 1);
    const ibmBefore = ticks(c.ticks, 2);
    await sleep(700); // seven simulated minutes
    expect(ticks(c.ticks, 1)).toBe(spyFrozen);
    expect(ticks(c.ticks, 2)).toBeGreaterThan(ibmBefore + 3);
    expect(faults.status().frozen).toEqual(['SPY']);

    faults.freezeSymbol('SPY', false);
    await vi.waitFor(() => expect(ticks(c.ticks, 1)).toBeGreaterThan(spyFrozen + 3), WAIT);
    expect(c.errors).toEqual([]);
  });

  it('while IB is unreachable (1100) no quote changes; 1102 resumes the same lines, 1101 drops them', async () => {
    const { sim, faults } = await startSim();
    const c = client(sim.port, 32);
    await ready(c);
    c.api.reqMktData(1, SPY, '', false, false);
    await vi.waitFor(() => expect(ticks(c.ticks, 1)).toBeGreaterThan(5), WAIT);

    faults.connectivityLost();
    await sleep(150);
    const still = ticks(c.ticks, 1);
    await sleep(500);
    expect(ticks(c.ticks, 1)).toBe(still);
    faults.connectivityRestored({ dataLost: false });
    await vi.waitFor(() => expect(ticks(c.ticks, 1)).toBeGreaterThan(still + 3), WAIT);

    faults.connectivityLost();
    faults.connectivityRestored({ dataLost: true });
    await sleep(150);
    const dropped = ticks(c.ticks, 1);
    await sleep(500);
    expect(ticks(c.ticks, 1)).toBe(dropped);
    // the line is gone server-side: its cancel is unknown (300)
    c.api.cancelMktData(1);
    await vi.waitFor(() => expect(c.errors).toContainEqual({ code: 300, reqId: 1 }), WAIT);
    expect(c.disconnected).toBe(0);
  });

  it('freezing needs a FreezableQuoteBook', async () => {
    const sim = new TwsSimulator({ store, port: 0 });
    sims.push(sim);
    await sim.start();
    const faults = new FaultInjector(sim);
    injectors.push(faults);
    expect(() => faults.freezeSymbol('SPY', true)).toThrow(FaultUnavailableError);
  });
});

describe('order rejections', () => {
  it('hands out the configured rejections once each, then none', async () => {
    const { faults } = await startSim();
    expect(faults.takeRejection()).toBeUndefined();
    expect(faults.rejectNextOrders(2, 'Margin requirement not met')).toEqual({ count: 2, reason: 'Margin requirement not met' });
    expect(faults.status().pendingRejections).toEqual({ count: 2, reason: 'Margin requirement not met' });
    expect(faults.takeRejection()).toBe('Margin requirement not met');
    expect(faults.takeRejection()).toBe('Margin requirement not met');
    expect(faults.takeRejection()).toBeUndefined();
    expect(faults.status().pendingRejections).toEqual({ count: 0, reason: null });
    faults.rejectNextOrders(5);
    faults.rejectNextOrders(0);
    expect(faults.takeRejection()).toBeUndefined();
  });
});

describe('HTTP control API', () => {
  async function startControl(token?: string) {
    const env = await startSim();
    const http = new ControlHttpServer({ faults: env.faults, token });
    cleanups.push(() => http.stop());
    const started = await http.start();
    const call = (path: string, init: { method?: string; body?: string; token?: string | null } = {}) =>
      fetch(`${started.url}${path}`, {
        method: init.method ?? 'POST',
        headers: init.token === null ? {} : { Authorization: `Bearer ${init.token ?? started.token}`, 'Content-Type': 'application/json' },
        body: init.body,
        signal: AbortSignal.timeout(5000),
      });
    return { ...env, http, ...started, call };
  }

  it('rejects requests without the token (401) and with a wrong one', async () => {
    const { call, token, url } = await startControl();
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const none = await call('/status', { method: 'GET', token: null });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await call('/faults/drop-all', { token: null })).status).toBe(401);
    expect((await call('/status', { method: 'GET', token: 'not-the-token' })).status).toBe(401);
    expect((await call('/status', { method: 'GET' })).status).toBe(200);
  });

  it('answers 400 naming the bad field, 404 and 405', async () => {
    const { call } = await startControl('a-given-token');
    const neg = await call('/faults/refuse-connections', { body: JSON.stringify({ seconds: -1 }) });
    expect(neg.status).toBe(400);
    expect(await neg.json()).toMatchObject({ field: 'seconds', error: expect.stringMatching(/seconds/) });
    const missing = await call('/faults/farm-flap', { body: JSON.stringify({ farm: 'usfarm' }) });
    expect(await missing.json()).toMatchObject({ field: 'state' });
    const badEnum = await call('/faults/farm-flap', { body: JSON.stringify({ farm: 'eufarm', state: 'ok' }) });
    expect(await badEnum.json()).toMatchObject({ field: 'farm' });
    const unknown = await call('/faults/slow-responses', { body: JSON.stringify({ ms: 10, extra: 1 }) });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ field: 'extra' });
    const notJson = await call('/faults/slow-responses', { body: '{ms:' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toMatchObject({ field: '(body)' });
    expect((await call('/faults/no-such-fault', { body: '{}' })).status).toBe(404);
    const wrongMethod = await call('/faults/drop-all', { method: 'GET' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
  });

  it('injects faults over HTTP and reports them in /status', async () => {
    const { sim, call } = await startControl();
    const rec = openSession(sim.port, { clientId: 41 });
    rec.session.start();
    await connected(rec);

    const status = await call('/status', { method: 'GET' });
    expect(await status.json()).toMatchObject({ connections: [{ clientId: 41 }], listening: true, refusingUntil: null, frozen: [], pendingRejections: { count: 0 } });

    const lost = await call('/faults/connectivity-lost', { body: '' });
    expect(lost.status).toBe(200);
    expect(await lost.json()).toMatchObject({ fault: 'connectivity-lost', result: { clients: 1 }, status: { linkLost: true } });
    await vi.waitFor(() => expect(rec.session.state).toBe('degraded'), WAIT);
    await call('/faults/connectivity-restored', { body: JSON.stringify({ dataLost: false }) });
    await vi.waitFor(() => expect(rec.session.state).toBe('connected'), WAIT);

    const freeze = await call('/faults/freeze-symbol', { body: JSON.stringify({ symbol: 'IBM' }) });
    expect(await freeze.json()).toMatchObject({ result: { frozen: ['IBM'] } });
    const reject = await call('/faults/reject-next-orders', { body: JSON.stringify({ count: 3, reason: 'No trading permissions' }) });
    expect(await reject.json()).toMatchObject({ status: { pendingRejections: { count: 3, reason: 'No trading permissions' }, frozen: ['IBM'] } });

    const drop = await call('/faults/drop-all');
    expect(await drop.json()).toMatchObject({ fault: 'drop-all', result: { dropped: 1 } });
    await connected(rec, 2);
  });
});

describe('monger gateway-sim with a control port', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'monger-gwsim-faults-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const monger = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => {
      execFile(process.execPath, [resolve('bin/monger.js'), ...args], { env: { ...process.env, MONGER_DB: '', MONGER_GATEWAY_SIM_TOKEN: '' }, timeout: 30_000 }, (error, stdout, stderr) =>
        res({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  it('prints the listening and control lines; `gateway-sim fault drop-all` drops its clients', async () => {
    const child = spawn(process.execPath, [resolve('bin/monger.js'), '--db', join(dir, 'sim.duckdb'), 'gateway-sim', '--port', '0', '--control-port', '0'], {
      env: { ...process.env, MONGER_DB: '', MONGER_GATEWAY_SIM_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => {
      child.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));

    await vi.waitFor(() => expect(stdout.split('\n')).toHaveLength(3), { timeout: 30_000, interval: 50 });
    const m = /^gateway-sim listening on 127\.0\.0\.1:(\d+) \(server version 193\)\ngateway-sim control on (http:\/\/127\.0\.0\.1:\d+) \(token ([0-9a-f]{32})\)\n$/.exec(stdout);
    expect(m, `stdout: ${stdout}\nstderr: ${stderr}`).not.toBeNull();
    const [, port, control, token] = m!;

    const c = client(Number(port), 51);
    await ready(c);
    const dropped = await monger(['gateway-sim', 'fault', 'drop-all', '--control', control!, '--token', token!]);
    expect(dropped.code, dropped.stderr).toBe(0);
    expect(JSON.parse(dropped.stdout)).toMatchObject({ fault: 'drop-all', result: { dropped: 1 } });
    await vi.waitFor(() => expect(c.disconnected).toBe(1), WAIT);

    const status = await monger(['gateway-sim', 'fault', 'status', '--control', control!, '--token', token!]);
    expect(JSON.parse(status.stdout)).toMatchObject({ connections: [], listening: true });
    const bad = await monger(['gateway-sim', 'fault', 'refuse-connections', '--control', control!, '--token', token!]);
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({ field: 'seconds' });
    const unauthorized = await monger(['gateway-sim', 'fault', 'drop-all', '--control', control!, '--token', 'wrong-token']);
    expect(unauthorized.code).toBe(2);

    child.kill('SIGTERM');
    expect(await withTimeout(exited, 15_000)).toBe(0);
  }, 90_000);
});

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
