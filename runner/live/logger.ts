/**
 * The live runner's logger (issue 6): pino JSON lines, one object per line, behind the workbench's
 * `Logger` port (so lib code and strategies log through it unchanged), with a rate limit so a storm
 * (an error repeated per tick, a reconnect loop) cannot stall the event loop or fill the disk.
 *
 * Rate limit: at most `maxLinesPerSecond` lines per one-second window (shared by every child
 * logger). Lines beyond it are dropped and counted (by level); once per window in which something
 * was dropped, a summary line `log lines dropped (rate limit)` with the counts is written, at the end
 * of that window (a timer) or before the first line of the next one, whichever comes first. The
 * summary itself is never dropped (written at warn, or fatal when the level filters warn out). Lines below the level are discarded before the limit, so they do
 * not use it up.
 *
 * Every trading decision is logged by its caller with its context as fields (`log.info('entry',
 * { instrument, signal, price, orderId })`); fields become top-level JSON keys next to `msg`.
 * The default destination is stdout through pino's asynchronous sonic-boom (writes never block the
 * loop); call `flush()` before exiting.
 */
import pino from 'pino';
import type { Logger } from '../../lib/core/logger.js';

export type RunnerLogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** Where the summary timer is set: Node's timers by default, a fake one in tests */
export interface LogScheduler {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface RunnerLoggerOptions {
  /** Default 'info' */
  level?: RunnerLogLevel;
  /** Default 200 */
  maxLinesPerSecond?: number;
  /** Default: stdout, asynchronous */
  destination?: pino.DestinationStream;
  /** Clock of the timestamps and of the rate window, ms; default Date.now */
  now?: () => number;
  scheduler?: LogScheduler;
  /** Fields on every line (runner, mode, account…) */
  bindings?: Record<string, unknown>;
}

export interface LogStats {
  /** Lines written (summaries excluded) */
  written: number;
  /** Lines dropped by the rate limit since the start */
  dropped: number;
  /** Summary lines written */
  summaries: number;
}

export interface RunnerLogger extends Logger {
  trace(message: string, fields?: Record<string, unknown>): void;
  fatal(message: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): RunnerLogger;
  readonly stats: Readonly<LogStats>;
  /** Writes a pending drop summary now and flushes the destination */
  flush(): void;
}

const realScheduler: LogScheduler = {
  setTimeout: (cb, ms) => {
    const t = setTimeout(cb, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

const WINDOW_MS = 1000;

/** One-second windows shared by a logger and its children */
class RateLimiter {
  readonly stats: LogStats = { written: 0, dropped: 0, summaries: 0 };
  private windowStart = -Infinity;
  private inWindow = 0;
  private droppedInWindow = 0;
  private droppedByLevel: Partial<Record<RunnerLogLevel, number>> = {};
  private timer: unknown;

  constructor(
    private readonly max: number,
    private readonly now: () => number,
    private readonly scheduler: LogScheduler,
    private readonly summary: (fields: Record<string, unknown>) => void,
  ) {}

  admit(level: RunnerLogLevel): boolean {
    const now = this.now();
    if (now - this.windowStart >= WINDOW_MS) {
      this.emitSummary();
      this.windowStart = now;
      this.inWindow = 0;
    }
    if (this.inWindow < this.max) {
      this.inWindow++;
      this.stats.written++;
      return true;
    }
    this.droppedInWindow++;
    this.stats.dropped++;
    this.droppedByLevel[level] = (this.droppedByLevel[level] ?? 0) + 1;
    if (this.timer === undefined) {
      this.timer = this.scheduler.setTimeout(() => {
        this.timer = undefined;
        this.emitSummary();
      }, Math.max(0, this.windowStart + WINDOW_MS - now));
    }
    return false;
  }

  emitSummary(): void {
    if (this.timer !== undefined) {
      this.scheduler.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.droppedInWindow === 0) return;
    const fields = { dropped: this.droppedInWindow, droppedByLevel: this.droppedByLevel, droppedTotal: this.stats.dropped, windowStart: this.windowStart, maxLinesPerSecond: this.max };
    this.droppedInWindow = 0;
    this.droppedByLevel = {};
    this.stats.summaries++;
    this.summary(fields);
  }
}

function wrap(p: pino.Logger, limiter: RateLimiter): RunnerLogger {
  const emit = (level: RunnerLogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (!p.isLevelEnabled(level)) return;
    if (!limiter.admit(level)) return;
    if (fields === undefined) p[level](message);
    else p[level](fields, message);
  };
  return {
    trace: (m, f) => emit('trace', m, f),
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    fatal: (m, f) => emit('fatal', m, f),
    child: (bindings) => wrap(p.child(bindings), limiter),
    get stats() {
      return limiter.stats;
    },
    flush: () => {
      limiter.emitSummary();
      p.flush();
    },
  };
}

/** A pino JSON logger with a shared per-second line budget */
export function createRunnerLogger(options: RunnerLoggerOptions = {}): RunnerLogger {
  const max = options.maxLinesPerSecond ?? 200;
  if (!(Number.isInteger(max) && max > 0)) throw new RangeError(`maxLinesPerSecond: expected a positive integer, got ${max}`);
  const now = options.now ?? Date.now;
  const destination = options.destination ?? pino.destination({ dest: 1, sync: false });
  const root = pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid, ...options.bindings },
      timestamp: () => `,"time":${now()}`,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const limiter = new RateLimiter(max, now, options.scheduler ?? realScheduler, (fields) => {
    // the summary is written whatever the level (at warn, or fatal when warn is filtered out)
    if (root.isLevelEnabled('warn')) root.warn(fields, 'log lines dropped (rate limit)');
    else root.fatal(fields, 'log lines dropped (rate limit)');
  });
  return wrap(root, limiter);
}
