/**
 * The contract resolver's options, defaults and their checks, and the shapes of its answers.
 */
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../store/store.js';
import type { BreakerOptions } from './circuit-breaker.js';
import type { ContractSession } from './contract-requests.js';
import type { ContractQuery, ResolvedContract } from './contract-types.js';
import type { SessionScheduler } from './ib-session.js';

export interface RetryBackoffOptions {
  /** Delay before the first retry (ms) */
  baseMs: number;
  /** Growth per retry (>= 1) */
  factor: number;
  /** Largest delay (ms) */
  maxMs: number;
}

export interface ContractResolverOptions {
  session: ContractSession;
  /** Persists answers and invalid symbols (tables ib_contracts, ib_invalid_symbols) */
  store?: Store;
  /** In-memory LRU entries (default 2000) */
  cacheSize?: number;
  /** Age after which a cached answer is asked again (default 1 day) */
  ttlMs?: number;
  /** Age after which a known-invalid query is asked again (default ttlMs) */
  invalidTtlMs?: number;
  /** Per attempt, from handing the request to the session to contractDetailsEnd (default 5000) */
  requestTimeoutMs?: number;
  /** Requests in flight at once (default 5) */
  maxConcurrent?: number;
  /** Retries after a timeout or a lost connection (default 3, so 4 attempts) */
  retries?: number;
  /** Delay before retry k (1-based): min(maxMs, baseMs * factor^(k-1)); default 250 ms, x2, 4 s */
  backoff?: Partial<RetryBackoffOptions>;
  /** Default 5 failures, 30 s open */
  breaker?: Partial<BreakerOptions>;
  /** Request ids used, inclusive (default 600_000..699_999: below the session's order ids) */
  reqIdRange?: { from: number; to: number };
  /** Clock for TTLs and the breaker (default scheduler.now) */
  now?: () => number;
  /** Timers for timeouts and retry delays (default real timers) */
  scheduler?: SessionScheduler;
  logger?: Logger;
}

export interface ResolveOptions {
  /** Ignore the cache and invalid records and ask TWS (the answer replaces them) */
  refresh?: boolean;
}

/** A query for `resolveMany`: a bare symbol means a US stock on SMART. */
export type ResolveManyItem = string | ContractQuery;

export interface ResolveManyResult {
  /** Queries with at least one contract, in input order */
  resolved: { query: ContractQuery; contracts: ResolvedContract[] }[];
  /** Queries TWS knows nothing about; `known` when skipped on an earlier record */
  invalid: { query: ContractQuery; symbol: string; reason: string; known: boolean }[];
  /** Queries that could not be resolved now (timeouts, breaker open, …) */
  failed: { query: ContractQuery; symbol: string; error: Error }[];
}

export interface ContractResolverStats {
  memoryHits: number;
  storeHits: number;
  /** Requests sent to TWS (every attempt) */
  requests: number;
  timeouts: number;
  disconnects: number;
  retries: number;
  invalid: number;
  /** Requests refused by the open breaker */
  shortCircuited: number;
}

export const DEFAULT_CONTRACT_TTL_MS = 86_400_000;
const DEFAULT_BACKOFF: RetryBackoffOptions = { baseMs: 250, factor: 2, maxMs: 4000 };
const DEFAULT_BREAKER: BreakerOptions = { failures: 5, openMs: 30_000 };

/**
 * The backoff and breaker settings (defaults filled in) and the request id range of `options`;
 * throws ConfigError listing every option out of range.
 */
export function checkResolverOptions(options: ContractResolverOptions): { backoff: RetryBackoffOptions; breaker: BreakerOptions; range: { from: number; to: number } } {
  const problems: string[] = [];
  const positiveInt = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) problems.push(`${name} must be a positive integer, got ${v}`);
  };
  const positive = (name: string, v: number | undefined) => {
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) problems.push(`${name} must be a positive number, got ${v}`);
  };
  positiveInt('cacheSize', options.cacheSize);
  positive('ttlMs', options.ttlMs);
  positive('invalidTtlMs', options.invalidTtlMs);
  positive('requestTimeoutMs', options.requestTimeoutMs);
  positiveInt('maxConcurrent', options.maxConcurrent);
  if (options.retries !== undefined && !(Number.isInteger(options.retries) && options.retries >= 0)) problems.push(`retries must be an integer >= 0, got ${options.retries}`);
  const backoff: RetryBackoffOptions = { ...DEFAULT_BACKOFF, ...options.backoff };
  if (!(Number.isFinite(backoff.baseMs) && backoff.baseMs >= 0)) problems.push(`backoff.baseMs must be >= 0, got ${backoff.baseMs}`);
  if (!(Number.isFinite(backoff.factor) && backoff.factor >= 1)) problems.push(`backoff.factor must be >= 1, got ${backoff.factor}`);
  if (!(Number.isFinite(backoff.maxMs) && backoff.maxMs >= backoff.baseMs)) problems.push(`backoff.maxMs must be >= baseMs, got ${backoff.maxMs}`);
  const breaker: BreakerOptions = { ...DEFAULT_BREAKER, ...options.breaker };
  positiveInt('breaker.failures', breaker.failures);
  positive('breaker.openMs', breaker.openMs);
  const range = options.reqIdRange ?? { from: 600_000, to: 699_999 };
  if (!(Number.isInteger(range.from) && Number.isInteger(range.to) && range.from > 0 && range.to >= range.from)) {
    problems.push(`reqIdRange must be positive integers with from <= to, got ${range.from}..${range.to}`);
  }
  if (problems.length) throw new ConfigError('contract resolver', problems);
  return { backoff, breaker, range };
}
