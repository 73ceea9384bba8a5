/**
 * The session's options (and their checks and defaults), its scheduler, events and errors (ib-session.ts).
 */
import { IBApi, type IBApiCreationOptions } from '@stoqey/ib';
import { ConfigError, WorkbenchError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { SeededRandom } from '../core/seeded-random.js';
import type { BackoffOptions } from './backoff.js';
import type { SessionTransition } from './session-state.js';

/** Time and timers as the session sees them (real by default, fake in tests). */
export interface SessionScheduler {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realScheduler: SessionScheduler = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export type IbSessionErrorCode = 'IB_NOT_CONNECTED' | 'IB_SESSION_HALTED' | 'IB_READY_TIMEOUT';

/** A session-level refusal: not connected yet, halted, or not ready in time. */
export class IbSessionError extends WorkbenchError {
  readonly code: IbSessionErrorCode;
  constructor(code: IbSessionErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface IbSessionOptions {
  /** Default 127.0.0.1 */
  host?: string;
  port: number;
  clientId: number;
  /** Client ids tried in turn after 326 (default clientId + 1 .. clientId + 3) */
  fallbackClientIds?: readonly number[];
  backoff?: Partial<BackoffOptions>;
  /** Jitter source (default: seeded with the client id) */
  random?: SeededRandom;
  /** Consecutive attempts that never became usable before halting (default unlimited) */
  maxAttempts?: number;
  /** Time from opening the socket to nextValidId (default 10 s) */
  connectTimeoutMs?: number;
  /** Silence on a usable connection before a reqCurrentTime probe (default 30 s) */
  zombieTimeoutMs?: number;
  /** Time the probe has to draw any message (default 10 s) */
  probeTimeoutMs?: number;
  /** Message budget rate (default 45/s, below IB's 50) */
  messagesPerSecond?: number;
  /** Message budget burst (default 3) */
  messageBurst?: number;
  /** Bound of the request queue (default unbounded) */
  maxQueuedRequests?: number;
  /**
   * @stoqey/ib's own limiter (rate / 10 per 100 ms). Default 100: above the budget's peak per
   * 100 ms, so it never bunches what the budget spaced out; it only backstops direct `api` calls,
   * which bypass the budget.
   */
  clientMaxReqPerSec?: number;
  /** Lowest order id handed out (default 1_000_000) */
  minOrderId?: number;
  scheduler?: SessionScheduler;
  logger?: Logger;
  /** Builds the IBApi of one attempt (default `new IBApi(options)`) */
  createApi?: (options: IBApiCreationOptions) => IBApi;
}

/** A connection became usable: attach per-connection listeners to `api` here. */
export interface IbConnection {
  api: IBApi;
  clientId: number;
  nextValidId: number;
  /** False for the first connection of the session */
  reconnect: boolean;
  at: number;
}

export interface ResubscribeNotice {
  /** 'reconnect': a new connection after a drop; 'data-lost': 1101 on the same connection */
  cause: 'reconnect' | 'data-lost';
  at: number;
  /** Callbacks called */
  callbacks: number;
}

export interface RetryNotice {
  /** 1-based retry number in this run */
  retry: number;
  delayMs: number;
  clientId: number;
  at: number;
}

export interface IbSessionEvents {
  transition: SessionTransition;
  connection: IbConnection;
  resubscribe: ResubscribeNotice;
  retry: RetryNotice;
}

/** The options the session runs with: checked, defaults filled in */
export interface ResolvedSessionOptions {
  host: string;
  port: number;
  /** The client id first, then the fallbacks */
  clientIds: readonly number[];
  maxAttempts: number;
  connectTimeoutMs: number;
  zombieTimeoutMs: number;
  probeTimeoutMs: number;
  clientMaxReqPerSec: number;
  minOrderId: number;
  scheduler: SessionScheduler;
  createApi: (options: IBApiCreationOptions) => IBApi;
}

/** Checks the options (ConfigError listing every problem) and fills in the defaults */
export function resolveSessionOptions(options: IbSessionOptions): ResolvedSessionOptions {
  const problems: string[] = [];
  if (!(Number.isInteger(options.port) && options.port > 0 && options.port < 65536)) problems.push(`port must be 1..65535, got ${options.port}`);
  if (!Number.isInteger(options.clientId)) problems.push(`clientId must be an integer, got ${options.clientId}`);
  const fallbacks = options.fallbackClientIds ?? [1, 2, 3].map((k) => options.clientId + k);
  if (!fallbacks.every((id) => Number.isInteger(id))) problems.push('fallbackClientIds must be integers');
  const positive = (name: string, value: number | undefined) => {
    if (value !== undefined && !(value > 0)) problems.push(`${name} must be positive, got ${value}`);
  };
  positive('maxAttempts', options.maxAttempts);
  positive('connectTimeoutMs', options.connectTimeoutMs);
  positive('zombieTimeoutMs', options.zombieTimeoutMs);
  positive('probeTimeoutMs', options.probeTimeoutMs);
  positive('clientMaxReqPerSec', options.clientMaxReqPerSec);
  if (problems.length) throw new ConfigError('ib session', problems);
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port,
    clientIds: [options.clientId, ...fallbacks.filter((id) => id !== options.clientId)],
    maxAttempts: options.maxAttempts ?? Infinity,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    zombieTimeoutMs: options.zombieTimeoutMs ?? 30_000,
    probeTimeoutMs: options.probeTimeoutMs ?? 10_000,
    clientMaxReqPerSec: options.clientMaxReqPerSec ?? 100,
    minOrderId: options.minOrderId ?? 1_000_000,
    scheduler: options.scheduler ?? realScheduler,
    createApi: options.createApi ?? ((o) => new IBApi(o)),
  };
}
