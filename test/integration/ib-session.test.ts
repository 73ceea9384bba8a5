/**
 * IbSession over real TCP against the TWS simulator with the real @stoqey/ib client: connect,
 * order ids, the message budget, drops and reconnects with backoff, a TWS restart on the same
 * port, client-id fallback on 326, zombie detection, 1100/1101/1102 and farm status, connect
 * timeouts and giving up.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { EventName, IBApi } from '@stoqey/ib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger, type LogRecord } from '../../lib/core/logger.js';
import { SeededRandom } from '../../lib/core/seeded-random.js';
import { Backoff } from '../../lib/ib/backoff.js';
import {
  IbSession,
  IbSessionError,
  type IbConnection,
  type IbSessionOptions,
  type ResubscribeNotice,
  type RetryNotice,
} from '../../lib/ib/ib-session.js';
import type { SessionTransition } from '../../lib/ib/session-state.js';
import { Store } from '../../lib/store/store.js';
import { TwsSimulator, type TwsSimulatorOptions } from '../../runner/tws-sim/server.js';
import { IN, OUT, type RequestHandler, type SimFeature } from '../../runner/tws-sim/types.js';

const WAIT = { timeout: 5000, interval: 5 };
const BACKOFF = { baseMs: 20, factor: 2, maxMs: 160, resetAfterMs: 60_000 };

let store: Store;
const sims: TwsSimulator[] = [];
const sessions: IbSession[] = [];
const cleanups: (() => void | Promise<void>)[] = [];
let logs: LogRecord[] = [];

beforeAll(async () => {
  store = await Store.open(':memory:');
});
afterAll(() => store.close());
afterEach(async () => {
  for (const s of sessions.splice(0)) s.stop();
  for (const c of cleanups.splice(0)) await c();
  for (const sim of sims.splice(0)) await sim.stop();
  logs = [];
});

async function startSim(options: Partial<TwsSimulatorOptions> = {}): Promise<TwsSimulator> {
  const sim = new TwsSimulator({ store, port: 0, ...options });
  sims.push(sim);
  await sim.start();
  return sim;
}

/** A session with small timeouts and everything it emits recorded. */
function openSession(port: number, options: Partial<IbSessionOptions> = {}) {
  const session = new IbSession({
    port,
    clientId: 1,
    backoff: BACKOFF,
    random: new SeededRandom(99),
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
    retries: [] as RetryNotice[],
    /** currentTime answers on any of the session's connections */
    currentTimes: 0,
    /** every error / info code the session's connections received */
    codes: [] as number[],
    /** "from>to:reason" for compact assertions */
    path: () => rec.transitions.map((t) => `${t.from}>${t.to}:${t.reason}`),
  };
  session.on('transition', (t) => rec.transitions.push(t));
  session.on('resubscribe', (r) => rec.resubscribes.push(r));
  session.on('retry', (r) => rec.retries.push(r));
  session.on('connection', (c) => {
    rec.connections.push(c);
    c.api.on(EventName.currentTime, () => rec.currentTimes++);
    c.api.on(EventName.info, (_m: string, code: number) => rec.codes.push(code));
    c.api.on(EventName.error, (_e: Error, code: number) => rec.codes.push(code));
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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A simulator feature taking over REQ_CURRENT_TIME (OUT 49); `answer` false never replies. */
function currentTimeFeature(answer: boolean) {
  const calls = { count: 0 };
  const handler: RequestHandler = (conn, _fields, ctx) => {
    calls.count++;
    if (answer) conn.send([IN.CURRENT_TIME, 1, Math.floor(ctx.clock.now() / 1000)]);
  };
  const feature: SimFeature = { name: answer ? 'counted-time' : 'silent-time', handlers: new Map([[OUT.REQ_CURRENT_TIME, handler]]) };
  return { feature, calls };
}

describe('IbSession against the TWS simulator', () => {
  it('connects, hands out order ids from 1_000_000 and sends requests through the budget', async () => {
    const sim = await startSim();
    const rec = openSession(sim.port, { clientId: 3 });
    expect(rec.session.state).toBe('disconnected');
    expect(rec.session.api).toBeUndefined();
    expect(() => rec.session.nextOrderId()).toThrow(IbSessionError);
    expect(rec.session.request((api) => api.reqCurrentTime())).toBe(false);

    rec.session.start();
    rec.session.start(); // no-op while running
    await rec.session.ready(5000);
    await connected(rec);
    expect(rec.path()).toEqual(['disconnected>connecting:connect-requested', 'connecting>connected:api-ready']);
    expect(rec.connections[0]).toMatchObject({ clientId: 3, reconnect: false });
    expect(rec.session.api).toBe(rec.connections[0]!.api);
    expect(sim.connections().map((c) => c.clientId)).toEqual([3]);

    const first = rec.session.nextOrderId();
    expect(first).toBeGreaterThanOrEqual(1_000_000);
    expect(rec.session.nextOrderId()).toBe(first + 1);
    expect(rec.session.nextOrderId()).toBe(first + 2);

    // 100 requests at once: the budget spaces them at 45/s, so the simulator (IB's 50/s rule,
    // error 100 above it) serves all of them
    const t0 = Date.now();
    for (let i = 0; i < 100; i++) expect(rec.session.request((api) => api.reqCurrentTime(), 'time')).toBe(true);
    // 3 went at once (the burst); on a loaded machine the loop may earn a token or two
    expect(rec.session.queuedRequests).toBeGreaterThan(90);
    await vi.waitFor(() => expect(rec.currentTimes).toBe(100), WAIT);
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(Math.floor((97 * 1000) / 45) - 5);
    expect(rec.codes).not.toContain(100);
    expect(rec.session.queuedRequests).toBe(0);
    expect(rec.session.issues).toEqual({ linkLost: false, brokenFarms: [] });
  });

  it('reconnects after dropAll() and runs the resubscribe callbacks', async () => {
    const sim = await startSim();
    const rec = openSession(sim.port, { clientId: 4 });
    const calls: string[] = [];
    rec.session.registerResubscribe('quotes', () => {
      calls.push('quotes');
      // a stream is requested again on the new connection, through the budget
      rec.session.request((api) => api.reqCurrentTime(), 'quotes');
    });
    const unregister = rec.session.registerResubscribe('gone', () => calls.push('gone'));
    unregister();
    rec.session.start();
    await connected(rec);
    expect(calls).toEqual([]); // not on the first connection
    const before = rec.session.nextOrderId();

    sim.dropAll();
    await connected(rec, 2);
    expect(rec.path()).toEqual([
      'disconnected>connecting:connect-requested',
      'connecting>connected:api-ready',
      'connected>reconnecting:socket-closed',
      'reconnecting>connecting:retry-due',
      'connecting>connected:api-ready',
    ]);
    expect(rec.connections[1]).toMatchObject({ clientId: 4, reconnect: true });
    expect(rec.connections[1]!.api).not.toBe(rec.connections[0]!.api);
    expect(calls).toEqual(['quotes']);
    expect(rec.resubscribes).toEqual([{ cause: 'reconnect', at: expect.any(Number), callbacks: 1 }]);
    await vi.waitFor(() => expect(rec.currentTimes).toBe(1), WAIT);
    expect(rec.session.nextOrderId()).toBeGreaterThan(before);
    expect(rec.retries).toHaveLength(1);
    expect(rec.retries[0]!.delayMs).toBeLessThanOrEqual(BACKOFF.baseMs);
  });

  it('reconnects with backoff when TWS restarts on the same port after a delay', async () => {
    const sim = await startSim();
    const port = sim.port;
    const rec = openSession(port, { clientId: 5 });
    let resubscribed = 0;
    rec.session.registerResubscribe('bars', () => resubscribed++);
    rec.session.start();
    await connected(rec);

    await sim.stop();
    sims.splice(sims.indexOf(sim), 1);
    await sleep(400);
    expect(rec.session.state).not.toBe('connected');
    const restarted = await startSim({ port });
    expect(restarted.port).toBe(port);
    await connected(rec, 2);

    const refused = rec.transitions.filter((t) => t.from === 'connecting' && t.to === 'reconnecting');
    expect(refused.length).toBeGreaterThanOrEqual(2);
    for (const t of refused) expect(t.detail).toMatch(/^502 .*ECONNREFUSED/);
    // the delays are the backoff's full-jitter draws from the injected seed, in order
    const expected = new Backoff(BACKOFF, new SeededRandom(99));
    expect(rec.retries.map((r) => r.delayMs)).toEqual(rec.retries.map(() => expected.next()));
    expect(rec.retries.map((r) => r.retry)).toEqual(rec.retries.map((_, i) => i + 1));
    expect(resubscribed).toBe(1);
    expect(restarted.connections().map((c) => c.clientId)).toEqual([5]);
  });

  it('falls back to the next client id when the id is in use (326)', async () => {
    const sim = await startSim();
    const holder = new IBApi({ host: '127.0.0.1', port: sim.port, clientId: 7 });
    cleanups.push(() => void holder.disconnect());
    const held = new Promise<void>((res) => holder.once(EventName.nextValidId, () => res()));
    holder.connect(7);
    await held;

    const rec = openSession(sim.port, { clientId: 7, fallbackClientIds: [8, 9] });
    rec.session.start();
    await connected(rec);
    expect(rec.path()).toEqual([
      'disconnected>connecting:connect-requested',
      'connecting>reconnecting:duplicate-client-id',
      'reconnecting>connecting:retry-due',
      'connecting>connected:api-ready',
    ]);
    expect(rec.transitions[1]!.detail).toBe('client id 7 in use, next 8');
    expect(rec.retries).toMatchObject([{ retry: 1, delayMs: 0, clientId: 8 }]);
    expect(rec.session.clientId).toBe(8);
    expect(rec.connections[0]!.clientId).toBe(8);
    expect(sim.connections().map((c) => c.clientId).sort()).toEqual([7, 8]);
    expect(holder.isConnected).toBe(true);
  });

  it('cycles through the client ids, backing off once all are in use, until one is free', async () => {
    const sim = await startSim();
    const holders = [7, 8].map((id) => {
      const api = new IBApi({ host: '127.0.0.1', port: sim.port, clientId: id });
      cleanups.push(() => void api.disconnect());
      const held = new Promise<void>((res) => api.once(EventName.nextValidId, () => res()));
      api.connect(id);
      return { api, held };
    });
    await Promise.all(holders.map((h) => h.held));

    const rec = openSession(sim.port, { clientId: 7, fallbackClientIds: [8], backoff: { ...BACKOFF, baseMs: 40, maxMs: 40 } });
    // a throwing listener is reported in the log and changes nothing
    rec.session.on('transition', () => {
      throw new Error('listener bug');
    });
    rec.session.start();
    await vi.waitFor(() => expect(rec.retries.length).toBeGreaterThanOrEqual(4), WAIT);
    holders[0]!.api.disconnect();
    await connected(rec);
    expect(rec.session.clientId).toBe(7);
    // 7 -> 8 at once; 8 -> back to 7 after a backoff delay; and so on
    const [a, b, c, d] = rec.retries;
    expect([a!.clientId, b!.clientId, c!.clientId, d!.clientId]).toEqual([8, 7, 8, 7]);
    expect([a!.delayMs, c!.delayMs]).toEqual([0, 0]);
    const expected = new Backoff({ ...BACKOFF, baseMs: 40, maxMs: 40 }, new SeededRandom(99));
    expect([b!.delayMs, d!.delayMs]).toEqual([expected.next(), expected.next()]);
    expect(logs.some((r) => r.level === 'error' && r.message === 'session listener failed' && r.fields.error === 'listener bug')).toBe(true);
  });

  it('detects a zombie connection (quiet, probe unanswered) and reconnects', async () => {
    const silent = currentTimeFeature(false);
    const sim = await startSim({ features: [silent.feature] });
    const rec = openSession(sim.port, { clientId: 11, zombieTimeoutMs: 120, probeTimeoutMs: 80 });
    rec.session.start();
    await connected(rec);
    await vi.waitFor(() => expect(rec.connections.length).toBe(2), WAIT);
    const zombie = rec.transitions.find((t) => t.reason === 'zombie-detected')!;
    expect(zombie).toMatchObject({ from: 'connected', to: 'reconnecting' });
    expect(zombie.detail).toMatch(/^nothing received for \d+ ms, reqCurrentTime unanswered for 80 ms$/);
    // quiet for >= 120 ms, then 80 ms for the probe
    expect(zombie.at - rec.connections[0]!.at).toBeGreaterThanOrEqual(195);
    expect(silent.calls.count).toBeGreaterThanOrEqual(1);
    // the old socket was closed by the session: only the new connection is left
    await vi.waitFor(() => expect(sim.connections().length).toBe(1), WAIT);
  });

  it('keeps a quiet connection whose probes are answered', async () => {
    const counted = currentTimeFeature(true);
    const sim = await startSim({ features: [counted.feature] });
    const rec = openSession(sim.port, { clientId: 12, zombieTimeoutMs: 60, probeTimeoutMs: 60 });
    rec.session.start();
    await connected(rec);
    await sleep(500);
    expect(counted.calls.count).toBeGreaterThanOrEqual(3);
    expect(rec.transitions.map((t) => t.reason)).not.toContain('zombie-detected');
    expect(rec.connections).toHaveLength(1);
    expect(rec.session.state).toBe('connected');
  });

  it('1100 degrades; 1101 restores and resubscribes; 1102 restores without; farms degrade and heal', async () => {
    const sim = await startSim();
    const rec = openSession(sim.port, { clientId: 13 });
    let resubscribed = 0;
    rec.session.registerResubscribe('depth', () => resubscribed++);
    rec.session.start();
    await connected(rec);
    const tws = () => sim.connections()[0]!;

    tws().error(-1, 1100, 'Connectivity between IB and Trader Workstation has been lost.');
    await vi.waitFor(() => expect(rec.session.state).toBe('degraded'), WAIT);
    expect(rec.session.issues.linkLost).toBe(true);
    // still usable while TWS waits for IB: requests go out
    expect(rec.session.request((api) => api.reqCurrentTime())).toBe(true);
    await vi.waitFor(() => expect(rec.currentTimes).toBe(1), WAIT);

    tws().error(-1, 1101, 'Connectivity between IB and Trader Workstation has been restored - data lost.');
    await vi.waitFor(() => expect(rec.session.state).toBe('connected'), WAIT);
    expect(resubscribed).toBe(1);
    expect(rec.resubscribes).toMatchObject([{ cause: 'data-lost', callbacks: 1 }]);

    tws().error(-1, 1100, 'Connectivity between IB and Trader Workstation has been lost.');
    await vi.waitFor(() => expect(rec.session.state).toBe('degraded'), WAIT);
    tws().error(-1, 1102, 'Connectivity between IB and Trader Workstation has been restored - data maintained.');
    await vi.waitFor(() => expect(rec.session.state).toBe('connected'), WAIT);
    expect(resubscribed).toBe(1);

    tws().error(-1, 2103, 'Market data farm connection is broken:usfarm');
    await vi.waitFor(() => expect(rec.session.state).toBe('degraded'), WAIT);
    expect(rec.session.issues).toEqual({ linkLost: false, brokenFarms: ['market:usfarm'] });
    tws().error(-1, 2104, 'Market data farm connection is OK:usfarm');
    await vi.waitFor(() => expect(rec.session.state).toBe('connected'), WAIT);

    expect(rec.path().slice(2)).toEqual([
      'connected>degraded:connectivity-lost',
      'degraded>connected:connectivity-restored-data-lost',
      'connected>degraded:connectivity-lost',
      'degraded>connected:connectivity-restored-data-kept',
      'connected>degraded:farm-broken',
      'degraded>connected:farm-ok',
    ]);
    // the socket stayed up throughout
    expect(rec.connections).toHaveLength(1);
  });

  it('halts after maxAttempts refused connections; ready() rejects', async () => {
    const probe = await startSim();
    const port = probe.port;
    await probe.stop();
    sims.splice(0);
    const rec = openSession(port, { clientId: 14, maxAttempts: 3 });
    rec.session.start();
    const ready = rec.session.ready();
    await expect(ready).rejects.toMatchObject({ code: 'IB_SESSION_HALTED' });
    expect(rec.session.state).toBe('halted');
    expect(rec.path()).toEqual([
      'disconnected>connecting:connect-requested',
      'connecting>reconnecting:socket-closed',
      'reconnecting>connecting:retry-due',
      'connecting>reconnecting:socket-closed',
      'reconnecting>connecting:retry-due',
      'connecting>reconnecting:socket-closed',
      'reconnecting>halted:attempts-exhausted',
    ]);
    expect(rec.retries).toHaveLength(2);
    await expect(rec.session.ready()).rejects.toBeInstanceOf(IbSessionError);
  });

  it('times out a server that accepts TCP but never answers the handshake', async () => {
    const sockets: Socket[] = [];
    const closed: Socket[] = [];
    // reads (and ignores) the client's handshake, never answers
    const server: Server = createServer((s) => {
      sockets.push(s);
      s.on('error', () => undefined).on('close', () => closed.push(s)).resume();
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    });
    const port = (server.address() as { port: number }).port;
    const rec = openSession(port, { clientId: 15, connectTimeoutMs: 80, maxAttempts: 2 });
    rec.session.start();
    await expect(rec.session.ready(5000)).rejects.toMatchObject({ code: 'IB_SESSION_HALTED' });
    expect(rec.transitions.filter((t) => t.reason === 'connect-timeout').map((t) => t.detail)).toEqual([
      'no nextValidId within 80 ms',
      'no nextValidId within 80 ms',
    ]);
    expect(sockets.length).toBe(2);
    // the session closed both sockets it gave up on
    await vi.waitFor(() => expect(closed.length).toBe(2), WAIT);
  });

  it('stop() while reconnecting cancels the retry; start() again reconnects and resubscribes', async () => {
    const sim = await startSim();
    const rec = openSession(sim.port, { clientId: 16, backoff: { ...BACKOFF, baseMs: 300, maxMs: 300 }, random: new SeededRandom(5) });
    let resubscribed = 0;
    rec.session.registerResubscribe('x', () => resubscribed++);
    rec.session.start();
    await connected(rec);
    const waiting = rec.session.ready(10_000); // already usable: resolves
    await waiting;

    sim.dropAll();
    await vi.waitFor(() => expect(rec.session.state).toBe('reconnecting'), WAIT);
    const pending = rec.session.ready();
    rec.session.stop();
    rec.session.stop(); // idempotent
    await expect(pending).rejects.toMatchObject({ code: 'IB_SESSION_HALTED' });
    const count = rec.transitions.length;
    await sleep(400);
    expect(rec.transitions.length).toBe(count);
    expect(rec.session.state).toBe('halted');
    expect(rec.session.request((api) => api.reqCurrentTime())).toBe(false);

    rec.session.start();
    await connected(rec, 2);
    expect(rec.path().slice(-3)).toEqual(['reconnecting>halted:halt-requested', 'halted>connecting:connect-requested', 'connecting>connected:api-ready']);
    expect(resubscribed).toBe(1);
  });

  it('times out ready() on its own deadline', async () => {
    const probe = await startSim();
    const port = probe.port;
    await probe.stop();
    sims.splice(0);
    const rec = openSession(port, { clientId: 17, backoff: { ...BACKOFF, baseMs: 50, maxMs: 50 } });
    rec.session.start();
    await expect(rec.session.ready(150)).rejects.toMatchObject({ code: 'IB_READY_TIMEOUT' });
    expect(['connecting', 'reconnecting']).toContain(rec.session.state);
  });
});
