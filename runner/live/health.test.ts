import { afterEach, describe, expect, it } from 'vitest';
import { parseCommissionModel } from '../../lib/backtest/commission.js';
import { SimulatedVenue } from '../../lib/backtest/sim-venue.js';
import { stockSpec } from '../../lib/data/instrument.js';
import { Kernel } from '../../lib/engine/kernel.js';
import { PushDataClient } from '../../lib/engine/live-data-client.js';
import { LiveFeed } from '../../lib/engine/live-feed.js';
import { ManualTime } from '../../lib/engine/manual-time.js';
import type { SessionIssues, SessionState, SessionTransition } from '../../lib/ib/session-state.js';
import { HealthMonitor, type HealthMonitorOptions, type HealthSnapshot, type SessionLike } from './health.js';
import { TradingSupervisor, type HaltControl } from './supervisor.js';

class RecordingControl implements HaltControl {
  calls: string[] = [];
  halt(source: string, detail = ''): void {
    this.calls.push(`halt ${source}: ${detail}`);
  }
  resume(source: string): void {
    this.calls.push(`resume ${source}`);
  }
  haltInstrument(instrument: string, source: string, detail = ''): void {
    this.calls.push(`halt ${instrument} ${source}: ${detail}`);
  }
  resumeInstrument(instrument: string, source: string): void {
    this.calls.push(`resume ${instrument} ${source}`);
  }
}

class FakeSession implements SessionLike {
  state: SessionState = 'disconnected';
  issues: SessionIssues = { linkLost: false, brokenFarms: [] };
  private listeners: ((t: SessionTransition) => void)[] = [];
  on(_event: 'transition', listener: (t: SessionTransition) => void): () => void {
    this.listeners.push(listener);
    return () => void (this.listeners = this.listeners.filter((l) => l !== listener));
  }
  move(to: SessionState, reason: SessionTransition['reason'], detail?: string): void {
    const t: SessionTransition = { from: this.state, to, reason, at: 0, detail };
    this.state = to;
    for (const l of this.listeners) l(t);
  }
}

const MB = 1024 * 1024;
const monitors: HealthMonitor[] = [];
afterEach(async () => {
  for (const m of monitors.splice(0)) await m.stop();
});

function monitor(options: HealthMonitorOptions & { lag?: { value: number | undefined } } = {}): { m: HealthMonitor; clock: { t: number }; control: RecordingControl; lag: { value: number | undefined } } {
  const clock = { t: Date.UTC(2024, 11, 2, 15) };
  const control = new RecordingControl();
  const lag = options.lag ?? { value: 5 };
  const m = new HealthMonitor({
    control,
    now: () => clock.t,
    intervalMs: 0,
    lagSampler: () => lag.value,
    memorySampler: () => ({ rss: 100 * MB, heapUsed: 40 * MB, heapTotal: 60 * MB }),
    cpuSampler: () => ({ user: 0, system: 0 }),
    ...options,
  });
  monitors.push(m);
  return { m, clock, control, lag };
}

describe('HealthMonitor', () => {
  it('event-loop lag from the sampler: beyond the limit degrades and halts, back under it resumes', () => {
    const changes: string[] = [];
    const { m, control, lag } = monitor({ eventLoopLagMs: 200, onChange: (s) => void changes.push(`${s.status} ${s.reasons.join()}`) });
    expect(m.tick().status).toBe('ok');
    lag.value = 450;
    const s = m.tick();
    expect(s.status).toBe('degraded');
    expect(s.reasons).toEqual(['event-loop lag 450 ms beyond 200 ms']);
    expect(s.eventLoop).toEqual({ lagMs: 450, limitMs: 200 });
    lag.value = 600; // still lagging: the halt's detail is refreshed, no new source
    m.tick();
    lag.value = 12;
    expect(m.tick().status).toBe('ok');
    expect(control.calls).toEqual(['halt health:event-loop-lag: event-loop lag 450 ms beyond 200 ms', 'halt health:event-loop-lag: event-loop lag 600 ms beyond 200 ms', 'resume health:event-loop-lag']);
    expect(changes).toEqual(['ok ', 'degraded event-loop lag 450 ms beyond 200 ms', 'degraded event-loop lag 600 ms beyond 200 ms', 'ok ']);
  });

  it('IB session transitions: down while not connected, degraded with a broken farm, halts and resumes by source', () => {
    const { m, control } = monitor();
    const session = new FakeSession();
    m.attachSession(session);
    expect(m.status).toBe('down');
    session.move('connecting', 'connect-requested');
    expect(m.check().status).toBe('down');
    session.move('connected', 'api-ready');
    expect(m.status).toBe('ok');
    session.issues = { linkLost: false, brokenFarms: ['market:usfarm'] };
    session.move('degraded', 'farm-broken', '2103 market:usfarm');
    const s = m.check();
    expect(s.status).toBe('degraded');
    expect(s.reasons).toEqual(['IB connection degraded (farm market:usfarm broken) after farm-broken: 2103 market:usfarm']);
    session.issues = { linkLost: false, brokenFarms: [] };
    session.move('connected', 'farm-ok');
    session.move('reconnecting', 'socket-closed');
    expect(m.status).toBe('down');
    session.move('connecting', 'retry-due');
    session.move('connected', 'api-ready');
    expect(m.status).toBe('ok');
    expect(control.calls).toEqual([
      'halt health:connection: IB connection disconnected after attached',
      'halt health:connection: IB connection connecting after connect-requested',
      'resume health:connection',
      'halt health:connection: IB connection degraded (farm market:usfarm broken) after farm-broken: 2103 market:usfarm',
      'resume health:connection',
      'halt health:connection: IB connection reconnecting after socket-closed',
      'halt health:connection: IB connection connecting after retry-due',
      'resume health:connection',
    ]);
    expect(m.check().connection).toMatchObject({ state: 'connected', reason: 'api-ready' });
  });

  it('stale data halts only its instrument while it trades; fresh data resumes it at once', () => {
    let trading = true;
    const { m, clock, control } = monitor({ staleMs: 30_000, isTrading: (i) => i !== 'QQQ' || trading });
    m.watch('SPY');
    m.watch('QQQ');
    m.watch('IWM');
    for (let s = 0; s < 31; s++) {
      clock.t += 1_000;
      m.dataReceived('IWM');
      m.tick();
    }
    let snap = m.check();
    expect(snap.status).toBe('degraded');
    expect(snap.data.stale).toEqual(['SPY', 'QQQ']);
    expect(snap.reasons).toEqual(['SPY: stale data, no data for 31 s since watched', 'QQQ: stale data, no data for 31 s since watched']);
    expect(snap.data.instruments.IWM).toEqual({ lastUpdate: new Date(clock.t).toISOString(), ageMs: 0, trading: true, stale: false });
    expect(control.calls).toEqual(['halt SPY health:stale: no data for 31 s since watched', 'halt QQQ health:stale: no data for 31 s since watched']);
    // SPY ticks again: resumed without waiting for the next sample
    m.dataReceived('SPY');
    expect(control.calls.at(-1)).toBe('resume SPY health:stale');
    // QQQ's session ends: no data expected, no longer stale
    trading = false;
    expect(m.tick().data.stale).toEqual([]);
    expect(control.calls.at(-1)).toBe('resume QQQ health:stale');
    // its session opens again: a fresh grace period, not stale by the old data
    clock.t += 3_600_000;
    m.dataReceived('SPY');
    m.dataReceived('IWM');
    trading = true;
    expect(m.tick().status).toBe('ok');
    clock.t += 30_001;
    m.dataReceived('SPY');
    m.dataReceived('IWM');
    snap = m.tick();
    expect(snap.data.stale).toEqual(['QQQ']);
    expect(snap.data.instruments.QQQ).toMatchObject({ lastUpdate: null, trading: true, stale: true });
    m.unwatch('QQQ');
    expect(control.calls.at(-1)).toBe('resume QQQ health:stale');
    expect(m.tick().status).toBe('ok');
  });

  it('memory and CPU: reported, and beyond their limits degrade', () => {
    let rss = 300 * MB;
    let cpuUs = 0;
    const { m, clock, control } = monitor({ memoryMb: 512, cpuPercent: 90, memorySampler: () => ({ rss, heapUsed: 80 * MB, heapTotal: 120 * MB }), cpuSampler: () => ({ user: cpuUs * 0.75, system: cpuUs * 0.25 }) });
    m.tick();
    clock.t += 1_000;
    cpuUs += 500_000; // 0.5 s of CPU in 1 s
    let s = m.tick();
    expect(s.status).toBe('ok');
    expect(s.memory).toEqual({ rssMb: 300, heapUsedMb: 80, heapTotalMb: 120, limitMb: 512 });
    expect(s.cpu).toEqual({ percent: 50, userSeconds: 0.375, systemSeconds: 0.125, limitPercent: 90 });
    rss = 600 * MB;
    clock.t += 1_000;
    cpuUs += 950_000;
    s = m.tick();
    expect(s.status).toBe('degraded');
    expect(s.reasons).toEqual(['resident memory 600 MB beyond 512 MB', 'CPU 95 % beyond 90 %']);
    rss = 200 * MB;
    clock.t += 1_000;
    cpuUs += 100_000;
    expect(m.tick().status).toBe('ok');
    expect(control.calls).toEqual(['halt health:memory: resident memory 600 MB beyond 512 MB', 'halt health:cpu: CPU 95 % beyond 90 %', 'resume health:memory', 'resume health:cpu']);
  });

  it('GET /health on 127.0.0.1: 200 with every field when ok, 503 when not; 404 and 405 otherwise', async () => {
    const { m, lag } = monitor({ port: 0, details: () => ({ halted: false }) });
    const session = new FakeSession();
    session.state = 'connected';
    m.attachSession(session);
    m.watch('SPY');
    m.dataReceived('SPY');
    m.tick();
    const address = await m.start();
    expect(address!.host).toBe('127.0.0.1');
    expect(address!.port).toBeGreaterThan(0);
    const url = `http://127.0.0.1:${address!.port}/health`;
    let res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const ok = (await res.json()) as HealthSnapshot;
    expect(Object.keys(ok).sort()).toEqual(['checkedAt', 'connection', 'cpu', 'data', 'eventLoop', 'halts', 'memory', 'reasons', 'status', 'supervisor', 'uptimeSeconds']);
    expect(ok).toMatchObject({
      status: 'ok',
      reasons: [],
      connection: { state: 'connected' },
      data: { staleAfterMs: 30_000, stale: [], instruments: { SPY: { ageMs: 0, stale: false, trading: true } } },
      eventLoop: { lagMs: 5, limitMs: 200 },
      memory: { rssMb: 100, heapUsedMb: 40, heapTotalMb: 60, limitMb: null },
      halts: { sources: [], instruments: {} },
      supervisor: { halted: false },
    });
    lag.value = 900;
    m.tick();
    res = await fetch(url);
    expect(res.status).toBe(503);
    const bad = (await res.json()) as HealthSnapshot;
    expect(bad.status).toBe('degraded');
    expect(bad.reasons).toEqual(['event-loop lag 900 ms beyond 200 ms']);
    expect(bad.halts.sources).toEqual(['health:event-loop-lag']);
    session.move('reconnecting', 'socket-closed');
    res = await fetch(url);
    expect(res.status).toBe(503);
    expect(((await res.json()) as HealthSnapshot).status).toBe('down');
    expect((await fetch(`http://127.0.0.1:${address!.port}/metrics`)).status).toBe(404);
    expect((await fetch(url, { method: 'POST' })).status).toBe(405);
    await m.stop();
    await expect(fetch(url)).rejects.toThrow();
  });

  it('with the real samplers: perf_hooks lag, process memory and CPU are measured', async () => {
    const m = new HealthMonitor({ intervalMs: 20 });
    monitors.push(m);
    await m.start();
    const until = Date.now() + 30;
    while (Date.now() < until) {
      // busy: the loop is blocked for 30 ms
    }
    await new Promise((r) => setTimeout(r, 80));
    const s = m.tick();
    expect(s.memory.rssMb).toBeGreaterThan(10);
    expect(s.memory.heapUsedMb).toBeGreaterThan(1);
    expect(s.cpu.percent).not.toBeNull();
    expect(s.eventLoop.lagMs === null || s.eventLoop.lagMs >= 0).toBe(true);
    expect(s.connection).toBeNull();
  });

  it('drives a TradingSupervisor: health halts combine with other sources, each resuming only its own', async () => {
    const time = new ManualTime(Date.UTC(2024, 11, 2, 15));
    const feed = new LiveFeed({ clock: time, scheduler: time });
    const kernel = new Kernel({ environment: 'paper', clock: time, dataClient: new PushDataClient({ feed, resolve: async (k) => stockSpec(k) }), executionClient: new SimulatedVenue({ fill: 'close', commission: parseCommissionModel('none') }), startingCash: 1e5, liveFeed: feed });
    const supervisor = new TradingSupervisor(kernel);
    const lag = { value: 5 as number | undefined };
    const clock = { t: time.now() };
    const m = new HealthMonitor({ control: supervisor, now: () => clock.t, intervalMs: 0, lagSampler: () => lag.value, details: () => supervisor.status() });
    monitors.push(m);
    const session = new FakeSession();
    session.state = 'connected';
    m.attachSession(session);
    supervisor.halt('reconcile', 'reconciling after reconnect');
    lag.value = 300;
    m.tick();
    expect(kernel.risk.reason).toBe('reconcile: reconciling after reconnect; health:event-loop-lag: event-loop lag 300 ms beyond 200 ms');
    lag.value = 10;
    m.tick();
    expect(kernel.risk.reason).toBe('reconcile: reconciling after reconnect');
    session.move('reconnecting', 'socket-closed');
    supervisor.resume('reconcile');
    expect(kernel.risk.reason).toBe('health:connection: IB connection reconnecting after socket-closed');
    session.move('connecting', 'retry-due');
    session.move('connected', 'api-ready');
    expect(kernel.risk.halted).toBe(false);
    m.watch('SPY');
    clock.t += 31_000;
    const s = m.tick();
    expect(s.supervisor).toMatchObject({ halted: false, instrumentHalts: { SPY: { 'health:stale': 'no data for 31 s since watched' } } });
  });
});
