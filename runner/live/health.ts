/**
 * The live runner's health monitor (issue 6): connection state, data freshness per instrument,
 * event-loop lag, memory and CPU, folded into one status with its reasons, acted on through the
 * supervisor and served as JSON at `GET /health`.
 *
 * Status:
 * - `down`: the IB connection is not usable (disconnected, connecting, reconnecting, halted).
 * - `degraded`: the connection is degraded (a data farm broken, IB <-> TWS link lost), an
 *   instrument's data is stale, the event loop lags beyond `eventLoopLagMs`, the resident memory is
 *   beyond `memoryMb` or the CPU beyond `cpuPercent` (when those limits are set).
 * - `ok`: none of these.
 *
 * Acting: every problem is a halt source on the supervisor, added when the problem appears and
 * removed when it clears (so restoration resumes trading, and one cleared problem never lifts
 * another's halt): `health:connection`, `health:event-loop-lag`, `health:memory`, `health:cpu` halt
 * the whole book; stale data halts only its instrument (`health:stale`, via `haltInstrument`).
 *
 * Data freshness: the market-data layer calls `dataReceived(instrument)` on every update (a map
 * lookup and a store). An instrument is stale when nothing arrived for `staleMs` while data is
 * expected (`isTrading(instrument, now)`, default always); the wait starts when the instrument is
 * watched or when its trading resumes, so the open of a session is not stale by yesterday's data.
 * A fresh update of a stale instrument resumes it at once.
 *
 * Sampling: every `intervalMs` (default 1000; 0 = only when `tick()` is called) the monitor reads
 * the event-loop delay (perf_hooks.monitorEventLoopDelay, p99 over the interval), memory
 * (process.memoryUsage) and CPU (process.cpuUsage deltas over wall time), then checks. Each sampler
 * can be injected (tests). `GET /health` re-checks with the latest samples and answers 200 when ok,
 * 503 otherwise; the endpoint listens on `host` (127.0.0.1) at `port` (0 = a free port).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { silentLogger, type Logger } from '../../lib/core/logger.js';
import type { SessionIssues, SessionState, SessionTransition } from '../../lib/ib/session-state.js';
import type { HaltControl } from './supervisor.js';

export type HealthStatus = 'ok' | 'degraded' | 'down';

export const HEALTH_SOURCES = {
  connection: 'health:connection',
  eventLoopLag: 'health:event-loop-lag',
  memory: 'health:memory',
  cpu: 'health:cpu',
  stale: 'health:stale',
} as const;

/** What the monitor needs of an IbSession */
export interface SessionLike {
  readonly state: SessionState;
  readonly issues?: SessionIssues;
  on(event: 'transition', listener: (t: SessionTransition) => void): () => void;
}

export interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
}

export interface CpuSample {
  /** Cumulative microseconds, as process.cpuUsage() */
  user: number;
  system: number;
}

export interface HealthMonitorOptions {
  /** Where halts go (the TradingSupervisor); without one the monitor only reports */
  control?: HaltControl;
  /** Wall clock, ms; default Date.now */
  now?: () => number;
  /** No update for this long while trading = stale; default 30 000 */
  staleMs?: number;
  /** Event-loop lag (ms) beyond which the runner is degraded; default 200 */
  eventLoopLagMs?: number;
  /** Resident memory (MB) beyond which the runner is degraded; default no limit */
  memoryMb?: number;
  /** CPU use (percent of one core over the last interval) beyond which the runner is degraded; default no limit */
  cpuPercent?: number;
  /** Sampling period, ms; 0 = only on tick(). Default 1000 */
  intervalMs?: number;
  /** Whether data of the instrument is expected now (its session is open); default always */
  isTrading?(instrument: string, now: number): boolean;
  /** Event-loop lag of the last interval, ms (undefined: not measured yet); default perf_hooks p99 */
  lagSampler?: () => number | undefined;
  memorySampler?: () => MemorySample;
  cpuSampler?: () => CpuSample;
  /** GET /health host; default 127.0.0.1 */
  host?: string;
  /** GET /health port (0 = a free port); undefined = no endpoint */
  port?: number;
  logger?: Logger;
  /** Called when the status or its reasons change */
  onChange?(snapshot: HealthSnapshot): void;
  /** Extra state to serve under `supervisor` (e.g. () => supervisor.status()) */
  details?: () => unknown;
}

export interface InstrumentFreshness {
  lastUpdate: string | null;
  ageMs: number | null;
  trading: boolean;
  stale: boolean;
}

export interface HealthSnapshot {
  status: HealthStatus;
  reasons: string[];
  checkedAt: string;
  uptimeSeconds: number;
  connection: { state: SessionState; since: string; reason: string; issues: SessionIssues | null } | null;
  data: { staleAfterMs: number; stale: string[]; instruments: Record<string, InstrumentFreshness> };
  eventLoop: { lagMs: number | null; limitMs: number };
  memory: { rssMb: number | null; heapUsedMb: number | null; heapTotalMb: number | null; limitMb: number | null };
  cpu: { percent: number | null; userSeconds: number | null; systemSeconds: number | null; limitPercent: number | null };
  halts: { sources: string[]; instruments: Record<string, string> };
  supervisor?: unknown;
}

interface Freshness {
  last: number;
  /** When data became expected (watch, or trading resumed) */
  expectedSince: number;
  trading: boolean;
}

interface Problem {
  level: 'degraded' | 'down';
  reason: string;
}

const MB = 1024 * 1024;
const USABLE: ReadonlySet<SessionState> = new Set<SessionState>(['connected', 'degraded']);

function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function iso(ts: number): string {
  return new Date(ts).toISOString();
}

/** p99 of perf_hooks' event-loop delay histogram over each interval, ms */
function perfHooksLagSampler(): { sample: () => number | undefined; close: () => void } {
  const h: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  return {
    sample: () => {
      if (h.count === 0) return undefined;
      const ms = h.percentile(99) / 1e6;
      h.reset();
      return ms;
    },
    close: () => h.disable(),
  };
}

export class HealthMonitor {
  private readonly now: () => number;
  private readonly staleMs: number;
  private readonly lagLimit: number;
  private readonly log: Logger;
  private readonly started: number;
  private readonly freshness = new Map<string, Freshness>();
  private readonly staleNow = new Set<string>();
  private readonly activeSources = new Map<string, string>();
  private readonly lag: { sample: () => number | undefined; close: () => void };
  private readonly memorySampler: () => MemorySample;
  private readonly cpuSampler: () => CpuSample;
  private connection: { state: SessionState; since: number; reason: string; issues: SessionIssues | undefined } | undefined;
  private detachSession: (() => void) | undefined;
  private lagMs: number | undefined;
  private memory: MemorySample | undefined;
  private cpu: CpuSample | undefined;
  private cpuAt = NaN;
  private cpuPct: number | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private server: Server | undefined;
  private lastStatus: HealthStatus | undefined;
  private lastReasons = '';
  private closed = false;

  constructor(private readonly options: HealthMonitorOptions = {}) {
    this.now = options.now ?? Date.now;
    this.staleMs = options.staleMs ?? 30_000;
    this.lagLimit = options.eventLoopLagMs ?? 200;
    this.log = (options.logger ?? silentLogger).child({ component: 'health' });
    this.started = this.now();
    this.lag = options.lagSampler !== undefined ? { sample: options.lagSampler, close: () => undefined } : perfHooksLagSampler();
    this.memorySampler = options.memorySampler ?? (() => process.memoryUsage());
    this.cpuSampler = options.cpuSampler ?? (() => process.cpuUsage());
  }

  // ---- inputs --------------------------------------------------------------------------------

  /** Follows an IbSession's state (its current state now, then every transition) */
  attachSession(session: SessionLike): void {
    this.detachSession?.();
    this.setConnectionState(session.state, 'attached', session.issues);
    this.detachSession = session.on('transition', (t) => this.setConnectionState(t.to, t.detail ? `${t.reason}: ${t.detail}` : t.reason, session.issues));
  }

  /** The IB connection's state (also usable without an IbSession) */
  setConnectionState(state: SessionState, reason = '', issues?: SessionIssues): void {
    this.connection = { state, since: this.connection?.state === state ? this.connection.since : this.now(), reason, issues };
    this.check();
  }

  /** Starts expecting data of the instrument (its staleness clock starts now) */
  watch(instrument: string): void {
    if (!this.freshness.has(instrument)) this.freshness.set(instrument, { last: NaN, expectedSince: this.now(), trading: true });
  }

  /** Stops watching (unsubscribed); lifts its stale halt */
  unwatch(instrument: string): void {
    this.freshness.delete(instrument);
    if (this.staleNow.delete(instrument)) this.options.control?.resumeInstrument(instrument, HEALTH_SOURCES.stale);
  }

  /** Hot path: an update of the instrument arrived (at `at`, default now) */
  dataReceived(instrument: string, at = this.now()): void {
    const f = this.freshness.get(instrument);
    if (f === undefined) {
      this.freshness.set(instrument, { last: at, expectedSince: at, trading: true });
      return;
    }
    if (!(at <= f.last)) f.last = at;
    if (this.staleNow.size > 0 && this.staleNow.has(instrument)) this.check();
  }

  // ---- sampling and checking -----------------------------------------------------------------

  /** Samples lag, memory and CPU, then checks */
  tick(): HealthSnapshot {
    this.sample();
    return this.check();
  }

  private sample(): void {
    this.lagMs = this.lag.sample() ?? this.lagMs;
    this.memory = this.memorySampler();
    const cpu = this.cpuSampler();
    const at = this.now();
    if (this.cpu !== undefined && at > this.cpuAt) {
      const usedMs = (cpu.user - this.cpu.user + cpu.system - this.cpu.system) / 1000;
      this.cpuPct = (usedMs / (at - this.cpuAt)) * 100;
    }
    this.cpu = cpu;
    this.cpuAt = at;
  }

  /** Works out the status from the latest inputs and samples, halts and resumes accordingly */
  check(): HealthSnapshot {
    const now = this.now();
    const problems = new Map<string, Problem>();
    const c = this.connection;
    if (c !== undefined && c.state !== 'connected') {
      const issues = c.issues !== undefined && (c.issues.linkLost || c.issues.brokenFarms.length > 0) ? ` (${[c.issues.linkLost ? 'IB link lost' : '', ...c.issues.brokenFarms.map((f) => `farm ${f} broken`)].filter(Boolean).join(', ')})` : '';
      problems.set(HEALTH_SOURCES.connection, { level: USABLE.has(c.state) ? 'degraded' : 'down', reason: `IB connection ${c.state}${issues}${c.reason ? ` after ${c.reason}` : ''}` });
    }
    if (this.lagMs !== undefined && this.lagMs > this.lagLimit) {
      problems.set(HEALTH_SOURCES.eventLoopLag, { level: 'degraded', reason: `event-loop lag ${round(this.lagMs)} ms beyond ${this.lagLimit} ms` });
    }
    const memLimit = this.options.memoryMb;
    if (memLimit !== undefined && this.memory !== undefined && this.memory.rss / MB > memLimit) {
      problems.set(HEALTH_SOURCES.memory, { level: 'degraded', reason: `resident memory ${round(this.memory.rss / MB)} MB beyond ${memLimit} MB` });
    }
    const cpuLimit = this.options.cpuPercent;
    if (cpuLimit !== undefined && this.cpuPct !== undefined && this.cpuPct > cpuLimit) {
      problems.set(HEALTH_SOURCES.cpu, { level: 'degraded', reason: `CPU ${round(this.cpuPct)} % beyond ${cpuLimit} %` });
    }

    // data freshness, per instrument
    const stale = new Map<string, string>();
    const isTrading = this.options.isTrading;
    for (const [instrument, f] of this.freshness) {
      const trading = isTrading === undefined ? true : isTrading(instrument, now);
      if (trading && !f.trading) f.expectedSince = now;
      f.trading = trading;
      if (!trading) continue;
      const since = Number.isNaN(f.last) ? f.expectedSince : Math.max(f.last, f.expectedSince);
      const age = now - since;
      if (age > this.staleMs) stale.set(instrument, Number.isNaN(f.last) ? `no data for ${round(age / 1000)} s since watched` : `no data for ${round(age / 1000)} s`);
    }

    this.apply(problems, stale);
    const snapshot = this.snapshot(now, problems, stale);
    const reasons = snapshot.reasons.join('\n');
    if (snapshot.status !== this.lastStatus || reasons !== this.lastReasons) {
      const changed = snapshot.status !== this.lastStatus;
      this.lastStatus = snapshot.status;
      this.lastReasons = reasons;
      if (changed) {
        if (snapshot.status === 'ok') this.log.info('health ok', { status: snapshot.status });
        else this.log.warn(`health ${snapshot.status}`, { status: snapshot.status, reasons: snapshot.reasons });
      }
      this.options.onChange?.(snapshot);
    }
    return snapshot;
  }

  /** Halts what newly went wrong, resumes what cleared */
  private apply(problems: ReadonlyMap<string, Problem>, stale: ReadonlyMap<string, string>): void {
    const control = this.options.control;
    for (const [source, p] of problems) {
      const known = this.activeSources.get(source);
      if (known === p.reason) continue;
      this.activeSources.set(source, p.reason);
      control?.halt(source, p.reason);
    }
    for (const source of [...this.activeSources.keys()]) {
      if (problems.has(source)) continue;
      this.activeSources.delete(source);
      control?.resume(source);
    }
    for (const [instrument, reason] of stale) {
      const first = !this.staleNow.has(instrument);
      this.staleNow.add(instrument);
      // the supervisor ignores a repeated source; the detail (age) only matters the first time
      if (first) control?.haltInstrument(instrument, HEALTH_SOURCES.stale, reason);
    }
    for (const instrument of [...this.staleNow]) {
      if (stale.has(instrument)) continue;
      this.staleNow.delete(instrument);
      control?.resumeInstrument(instrument, HEALTH_SOURCES.stale);
    }
  }

  private snapshot(now: number, problems: ReadonlyMap<string, Problem>, stale: ReadonlyMap<string, string>): HealthSnapshot {
    let status: HealthStatus = 'ok';
    const reasons: string[] = [];
    for (const p of problems.values()) {
      reasons.push(p.reason);
      if (p.level === 'down') status = 'down';
      else if (status === 'ok') status = 'degraded';
    }
    for (const [instrument, reason] of stale) reasons.push(`${instrument}: stale data, ${reason}`);
    if (stale.size > 0 && status === 'ok') status = 'degraded';
    const instruments: Record<string, InstrumentFreshness> = {};
    for (const [instrument, f] of this.freshness) {
      instruments[instrument] = {
        lastUpdate: Number.isNaN(f.last) ? null : iso(f.last),
        ageMs: Number.isNaN(f.last) ? null : now - f.last,
        trading: f.trading,
        stale: stale.has(instrument),
      };
    }
    const c = this.connection;
    const m = this.memory;
    const snapshot: HealthSnapshot = {
      status,
      reasons,
      checkedAt: iso(now),
      uptimeSeconds: round((now - this.started) / 1000),
      connection: c === undefined ? null : { state: c.state, since: iso(c.since), reason: c.reason, issues: c.issues ?? null },
      data: { staleAfterMs: this.staleMs, stale: [...stale.keys()], instruments },
      eventLoop: { lagMs: this.lagMs === undefined ? null : round(this.lagMs, 2), limitMs: this.lagLimit },
      memory: {
        rssMb: m === undefined ? null : round(m.rss / MB),
        heapUsedMb: m === undefined ? null : round(m.heapUsed / MB),
        heapTotalMb: m === undefined ? null : round(m.heapTotal / MB),
        limitMb: this.options.memoryMb ?? null,
      },
      cpu: {
        percent: this.cpuPct === undefined ? null : round(this.cpuPct),
        userSeconds: this.cpu === undefined ? null : round(this.cpu.user / 1e6, 3),
        systemSeconds: this.cpu === undefined ? null : round(this.cpu.system / 1e6, 3),
        limitPercent: this.options.cpuPercent ?? null,
      },
      halts: { sources: [...this.activeSources.keys()], instruments: Object.fromEntries([...stale.keys()].map((i) => [i, HEALTH_SOURCES.stale])) },
    };
    if (this.options.details !== undefined) snapshot.supervisor = this.options.details();
    return snapshot;
  }

  get status(): HealthStatus {
    return this.lastStatus ?? 'ok';
  }

  // ---- lifecycle and endpoint ----------------------------------------------------------------

  /** Starts sampling and, with a port, the GET /health endpoint; resolves with its address */
  async start(): Promise<{ host: string; port: number } | undefined> {
    const interval = this.options.intervalMs ?? 1000;
    if (interval > 0 && this.timer === undefined) {
      this.sample(); // the CPU baseline
      this.timer = setInterval(() => this.tick(), interval);
      this.timer.unref();
    }
    if (this.options.port === undefined) return undefined;
    const host = this.options.host ?? '127.0.0.1';
    const server = createServer((req, res) => this.serve(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.unref();
    const address = server.address() as AddressInfo;
    this.log.info('health endpoint listening', { host, port: address.port });
    return { host, port: address.port };
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/health') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `not found: ${path}; try GET /health` }));
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'application/json', allow: 'GET, HEAD' }).end(JSON.stringify({ error: `method ${req.method} not allowed` }));
      return;
    }
    let body: string;
    let code: number;
    try {
      const snapshot = this.check();
      body = JSON.stringify(snapshot);
      code = snapshot.status === 'ok' ? 200 : 503;
    } catch (e) {
      body = JSON.stringify({ status: 'down', reasons: [`health check failed: ${e instanceof Error ? e.message : String(e)}`] });
      code = 503;
    }
    res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  /** Stops sampling, the session listener and the endpoint */
  async stop(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.detachSession?.();
    this.lag.close();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}
