/**
 * The TWS simulator's server core against the REAL @stoqey/ib client over TCP: handshake,
 * START_API session start, session-level requests, IB's client-id and message-rate rules,
 * dropping clients, and the `monger gateway-sim` command.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EventName, IBApi, IBApiNext } from '@stoqey/ib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger, type LogRecord } from '../../lib/core/logger.js';
import { Store } from '../../lib/store/store.js';
import { TwsSimulator, type TwsSimulatorOptions } from '../../runner/tws-sim/server.js';
import { replayClock } from '../../runner/tws-sim/sim-clock.js';
import { OUT, SimRequestError, type RequestHandler, type SimFeature } from '../../runner/tws-sim/types.js';
import { encodeFrame, encodeHandshake, FrameReader } from '../../runner/tws-sim/wire.js';

const WAIT = { timeout: 5000, interval: 10 };
const ACCOUNT = 'DU1234567';
const SIM_START = Date.UTC(2026, 0, 2, 14, 30); // 2026-01-02 09:30 New York

let store: Store;
let sim: TwsSimulator | undefined;
let logs: LogRecord[] = [];
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  store = await Store.open(':memory:');
});
afterAll(() => store.close());
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await sim?.stop();
  sim = undefined;
  logs = [];
});

async function startSim(options: Partial<TwsSimulatorOptions> = {}): Promise<number> {
  sim = new TwsSimulator({
    store,
    port: 0,
    // a replay clock at speed 1 makes currentTime and the handshake time predictable
    clock: replayClock({ start: SIM_START, speed: 1 }),
    logger: createLogger({ level: 'debug', now: Date.now, sink: (r) => logs.push(r) }),
    ...options,
  });
  return (await sim.start()).port;
}

/** An IBApi client with every event it receives recorded. */
function client(port: number, clientId: number) {
  const api = new IBApi({ host: '127.0.0.1', port, clientId });
  const rec = {
    api,
    connected: 0,
    disconnected: 0,
    server: [] as [number, string][],
    managedAccounts: [] as string[],
    nextValidId: [] as number[],
    currentTime: [] as number[],
    info: [] as { code: number; message: string }[],
    errors: [] as { code: number; message: string; reqId: number }[],
  };
  api.on(EventName.connected, () => rec.connected++);
  api.on(EventName.disconnected, () => rec.disconnected++);
  api.on(EventName.server, (v: number, t: string) => rec.server.push([v, t]));
  api.on(EventName.managedAccounts, (a: string) => rec.managedAccounts.push(a));
  api.on(EventName.nextValidId, (id: number) => rec.nextValidId.push(id));
  api.on(EventName.currentTime, (t: number) => rec.currentTime.push(t));
  api.on(EventName.info, (message: string, code: number) => rec.info.push({ code, message }));
  api.on(EventName.error, (e: Error, code: number, reqId: number) => rec.errors.push({ code, message: e.message, reqId }));
  cleanups.push(() => api.disconnect());
  return rec;
}

type Client = ReturnType<typeof client>;

/** Connects and waits for the whole START_API answer (nextValidId and the three farm infos). */
async function connected(c: Client): Promise<void> {
  c.api.connect();
  await vi.waitFor(() => {
    expect(c.nextValidId.length).toBe(1);
    expect(c.info.map((i) => i.code)).toEqual([2104, 2106, 2158]);
  }, WAIT);
}

/** Any decoder complaint (505: unprocessed data, underrun, no parser) means a wrong field list. */
function expectNoDecoderErrors(c: Client): void {
  expect(c.errors.filter((e) => e.code === 505)).toEqual([]);
  expect(c.info.filter((i) => i.code === 505)).toEqual([]);
}

/** A hand-driven TCP client that writes frames with wire.ts and records every frame it receives. */
class RawClient {
  readonly frames: string[][] = [];
  closed = false;
  private readonly reader = new FrameReader();
  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const m of this.reader.push(chunk)) if (m.kind === 'frame') this.frames.push(m.fields);
    });
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
    cleanups.push(() => socket.destroy());
  }

  static async open(port: number): Promise<RawClient> {
    const socket = netConnect({ host: '127.0.0.1', port });
    await new Promise<void>((res, rej) => socket.once('connect', res).once('error', rej));
    return new RawClient(socket);
  }

  /** Handshake and START_API; resolves once nextValidId arrived. */
  async start(clientId: number): Promise<void> {
    this.socket.write(encodeHandshake(100, 193));
    await vi.waitFor(() => expect(this.frames.length).toBe(1), WAIT);
    this.send([OUT.START_API, 2, clientId, '']);
    await vi.waitFor(() => expect(this.withId(9).length).toBe(1), WAIT);
  }

  send(...frames: (string | number)[][]): void {
    this.socket.write(Buffer.concat(frames.map((f) => encodeFrame(f))));
  }

  withId(msgId: number): string[][] {
    return this.frames.filter((f) => f[0] === String(msgId));
  }

  errorCodes(): string[] {
    return this.withId(4).map((f) => f[3]!);
  }
}

describe('TWS simulator core with the real @stoqey/ib client', () => {
  it('(1) runs the handshake and START_API at v193 and answers currentTime and reqIds', async () => {
    const port = await startSim();
    const c = client(port, 11);
    await connected(c);
    expect(c.connected).toBe(1);
    expect(c.server).toEqual([[193, '20260102 09:30:00 EST']]);
    expect(c.managedAccounts).toEqual([ACCOUNT]);
    expect(c.info.map((i) => i.message)).toEqual([
      'Market data farm connection is OK:usfarm',
      'HMDS data farm connection is OK:ushmds',
      'Sec-def data farm connection is OK:secdefnj',
    ]);

    c.api.reqCurrentTime();
    await vi.waitFor(() => expect(c.currentTime.length).toBe(1), WAIT);
    expect(c.currentTime[0]! * 1000).toBeGreaterThanOrEqual(SIM_START);
    expect(c.currentTime[0]! * 1000).toBeLessThan(SIM_START + 60_000);

    c.api.reqIds();
    await vi.waitFor(() => expect(c.nextValidId.length).toBe(2), WAIT);
    c.api.reqIds();
    await vi.waitFor(() => expect(c.nextValidId.length).toBe(3), WAIT);
    expect(c.nextValidId[2]!).toBeGreaterThan(c.nextValidId[1]!);
    expect(c.nextValidId[1]!).toBeGreaterThanOrEqual(c.nextValidId[0]!);

    // reqMarketDataType is remembered on the connection for the market-data feature
    c.api.reqMarketDataType(3);
    c.api.reqManagedAccts();
    await vi.waitFor(() => expect(c.managedAccounts.length).toBe(2), WAIT);
    expect(sim!.connections().map((x) => [x.clientId, x.marketDataType])).toEqual([[11, 3]]);

    expect(c.errors).toEqual([]);
    expectNoDecoderErrors(c);
  });

  it('(2) speaks server version 176 the same way', async () => {
    const port = await startSim({ serverVersion: 176 });
    const c = client(port, 12);
    await connected(c);
    expect(c.server[0]![0]).toBe(176);
    expect(sim!.connections()[0]!.serverVersion).toBe(176);
    expect(c.managedAccounts).toEqual([ACCOUNT]);
    c.api.reqCurrentTime();
    c.api.reqIds();
    await vi.waitFor(() => {
      expect(c.currentTime.length).toBe(1);
      expect(c.nextValidId.length).toBe(2);
    }, WAIT);
    expect(c.errors).toEqual([]);
    expectNoDecoderErrors(c);
  });

  it('(3) lets IBApiNext connect and resolve getCurrentTime and getManagedAccounts', async () => {
    const port = await startSim();
    const infos: unknown[][] = [];
    const quiet = { debug: () => undefined, info: (...a: unknown[]) => infos.push(a), warn: () => undefined, error: () => undefined };
    const next = new IBApiNext({ host: '127.0.0.1', port, logger: quiet });
    cleanups.push(() => next.disconnect());
    const errors: unknown[] = [];
    const sub = next.error.subscribe((e) => errors.push(e));
    cleanups.push(() => sub.unsubscribe());
    next.connect(21);
    const time = await withTimeout(next.getCurrentTime(), 5000);
    expect(time * 1000).toBeGreaterThanOrEqual(SIM_START);
    expect(await withTimeout(next.getManagedAccounts(), 5000)).toEqual([ACCOUNT]);
    expect(next.isConnected).toBe(true);
    expect(errors).toEqual([]);
  });

  it('(4) refuses a duplicate client id with 326 and a close, keeping the first client', async () => {
    const port = await startSim();
    const first = client(port, 5);
    await connected(first);
    const second = client(port, 5);
    second.api.connect();
    await vi.waitFor(() => {
      expect(second.info.map((i) => i.code)).toEqual([326]);
      expect(second.disconnected).toBe(1);
    }, WAIT);
    expect(second.info[0]!.message).toBe('Unable to connect as the client id is already in use. Retry with a unique client id.');
    expect(second.nextValidId).toEqual([]);
    expect(first.disconnected).toBe(0);
    first.api.reqCurrentTime();
    await vi.waitFor(() => expect(first.currentTime.length).toBe(1), WAIT);
    expect(sim!.connections().map((x) => x.clientId)).toEqual([5]);
    expectNoDecoderErrors(second);
  });

  it('(5) answers a burst above 50 messages/s with error 100 and serves only the first 50', async () => {
    const port = await startSim();
    const raw = await RawClient.open(port);
    await raw.start(31); // START_API is message 1 of the second
    raw.send(...Array.from({ length: 60 }, () => [OUT.REQ_CURRENT_TIME, 1]));
    await vi.waitFor(() => expect(raw.errorCodes()).toContain('100'), WAIT);
    const err = raw.withId(4).find((f) => f[3] === '100')!;
    expect(err).toEqual(['4', '2', '-1', '100', 'Max rate of messages per second has been exceeded.', '']);
    expect(raw.withId(49).length).toBe(49);
    // one error per second, not one per dropped message; a single burst does not disconnect
    expect(raw.errorCodes().filter((c) => c === '100').length).toBe(1);
    expect(raw.closed).toBe(false);
  });

  it('(5b) disconnects a client that keeps exceeding the rate for over a second', async () => {
    const port = await startSim({ maxMessagesPerSecond: 20 });
    const raw = await RawClient.open(port);
    await raw.start(32);
    const timer = setInterval(() => raw.send(...Array.from({ length: 10 }, () => [OUT.REQ_CURRENT_TIME, 1])), 100);
    cleanups.push(() => clearInterval(timer));
    await vi.waitFor(() => expect(raw.closed).toBe(true), WAIT);
    expect(raw.errorCodes()).toContain('100');
  });

  it('(6) dropAll() disconnects every client and keeps accepting new ones', async () => {
    const port = await startSim();
    const a = client(port, 41);
    const b = client(port, 42);
    await connected(a);
    await connected(b);
    sim!.dropAll();
    await vi.waitFor(() => {
      expect(a.disconnected).toBe(1);
      expect(b.disconnected).toBe(1);
    }, WAIT);
    await vi.waitFor(() => expect(sim!.connections()).toEqual([]), WAIT);
    // the same client id may come back once its old socket is gone
    const again = client(port, 41);
    await connected(again);
    expectNoDecoderErrors(a);
  });

  it('ignores requests before START_API and unknown message ids; handler failures become errors', async () => {
    const feature: SimFeature = {
      name: 'test',
      handlers: new Map<number, RequestHandler>([
        [OUT.REQ_CONTRACT_DATA, (_c, f) => {
          f.int();
          throw new SimRequestError(f.int(), 200, 'No security definition has been found for the request');
        }],
        [OUT.REQ_HISTORICAL_DATA, async () => Promise.reject(new Error('boom'))],
        [OUT.REQ_POSITIONS, (_c, f) => void f.skip(5)],
      ]),
    };
    const port = await startSim({ features: [feature] });
    const raw = await RawClient.open(port);
    raw.socket.write(encodeHandshake(100, 193));
    await vi.waitFor(() => expect(raw.frames.length).toBe(1), WAIT);
    expect(raw.frames[0]).toEqual(['193', '20260102 09:30:00 EST']);
    raw.send([OUT.REQ_CURRENT_TIME, 1]); // before START_API: TWS ignores it
    raw.send([OUT.START_API, 2, 33, '']);
    await vi.waitFor(() => expect(raw.withId(9).length).toBe(1), WAIT);
    expect(raw.withId(15)).toEqual([['15', '1', ACCOUNT]]);
    expect(raw.withId(49)).toEqual([]);

    raw.send([999, 1], [OUT.REQ_CONTRACT_DATA, 8, 77], [OUT.REQ_HISTORICAL_DATA, 5], [OUT.REQ_POSITIONS, 1], [OUT.REQ_CURRENT_TIME, 1]);
    const errors = () => raw.withId(4).filter((f) => !['2104', '2106', '2158'].includes(f[3]!));
    await vi.waitFor(() => {
      expect(raw.withId(49).length).toBe(1);
      expect(errors().length).toBe(3);
    }, WAIT);
    // the async handler's rejection may arrive after later synchronous answers: compare as a set
    expect(errors().sort((a, b) => a[3]!.localeCompare(b[3]!))).toEqual([
      ['4', '2', '77', '200', 'No security definition has been found for the request', ''],
      ['4', '2', '-1', '321', "Error validating request:-'61' : cause - cannot skip 5 fields, 1 left", ''],
      ['4', '2', '-1', '322', "Error processing request:-'20' : cause - boom", ''],
    ]);
    expect(logs.some((r) => r.level === 'warn' && r.message === 'unknown message id ignored' && r.fields.msgId === 999)).toBe(true);
    expect(raw.closed).toBe(false);
  });

  it('closes a client that does not speak V100+ or offers only versions below 100', async () => {
    const port = await startSim();
    const old = await RawClient.open(port);
    old.socket.write(encodeHandshake(60, 99));
    await vi.waitFor(() => expect(old.closed).toBe(true), WAIT);
    expect(old.frames).toEqual([]);
    const junk = await RawClient.open(port);
    junk.socket.write('hello\n');
    await vi.waitFor(() => expect(junk.closed).toBe(true), WAIT);
  });
});

describe('monger gateway-sim', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'monger-gwsim-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('(7) prints its listening line, serves a client and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [resolve('bin/monger.js'), '--db', join(dir, 'sim.duckdb'), 'gateway-sim', '--port', '0'], {
      env: { ...process.env, MONGER_DB: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanups.push(() => child.kill('SIGKILL'));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));

    await vi.waitFor(() => expect(stdout).toMatch(/\n$/), { timeout: 30_000, interval: 50 });
    const m = /^gateway-sim listening on 127\.0\.0\.1:(\d+) \(server version 193\)\n$/.exec(stdout);
    expect(m, `stdout: ${stdout}\nstderr: ${stderr}`).not.toBeNull();
    const c = client(Number(m![1]), 51);
    await connected(c);
    expect(c.server[0]![0]).toBe(193);
    c.api.disconnect();

    child.kill('SIGTERM');
    expect(await withTimeout(exited, 15_000)).toBe(0);
  }, 60_000);
});

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
