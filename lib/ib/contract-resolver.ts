/**
 * Contract resolution over reqContractDetails (tws-protocol.md §2 contractDetails, §5 error 200,
 * §6 futures discovery), for everything that needs an IB conId: market data, orders, history.
 *
 * - Requests go through `IbSession.request()` (the message budget) with request ids from a range
 *   of the resolver's own, below the session's order ids; every contractDetails of a request is
 *   collected until contractDetailsEnd.
 * - Answers are cached in memory (LRU, `cacheSize` entries, `ttlMs` old at most) and, with a store,
 *   persisted in `ib_contracts` (keyed by the canonical query key, JSON answer, fetched_at), which
 *   is reloaded on first use and consulted on a memory miss, so another process or a restart does
 *   not ask TWS again.
 * - Error 200 (no security definition) is an answer, not a failure: the query is recorded in
 *   `ib_invalid_symbols` (reason, code, time) and resolves to []; `resolveOne` turns that into a
 *   ContractNotFoundError. Known-invalid queries are not asked again until the record is `invalidTtlMs` old.
 * - At most `maxConcurrent` requests are in flight; the rest wait in FIFO order. Identical
 *   concurrent queries share one request.
 * - Timeouts and lost connections are retried `retries` times after an exponential delay.
 * - A circuit breaker opens after `breaker.failures` consecutive failures (timeouts, disconnects,
 *   session not connected) and fails fast with CircuitOpenError for `breaker.openMs`; then one
 *   probe request is let through (half-open): its success closes the breaker, its failure opens it again.
 * - CONTFUT answers are never cached: the continuous contract's conId moves with the roll. A
 *   CONTFUT is only good for discovery and history, never for real-time data or orders: see
 *   `toIbContract` and futures-discovery.ts.
 *
 * Clock and timers are injected (`now`, `scheduler`); nothing here reads the wall clock.
 */
import { EventName, type Contract, type ContractDetails, type IBApi, type SecType } from '@stoqey/ib';
import { ConfigError, WorkbenchError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import type { Store } from '../store/store.js';
import { realScheduler, type IbSession, type SessionScheduler } from './ib-session.js';
import type { SessionTransition } from './session-state.js';

/** What the resolver asks about. CONTFUT is for futures discovery only (never cached, never tradable). */
export type ContractSecType = 'STK' | 'FUT' | 'CASH' | 'CONTFUT';

export interface ContractQuery {
  symbol: string;
  secType: ContractSecType;
  exchange?: string;
  currency?: string;
  /** YYYYMM (contract month) or YYYYMMDD (last trade date) */
  lastTradeDateOrContractMonth?: string;
  localSymbol?: string;
  conId?: number;
  /** Futures only: also list expired months (tws-protocol.md §6) */
  includeExpired?: boolean;
}

/** One contractDetails answer as plain, JSON-safe data. */
export interface ResolvedContract {
  conId: number;
  symbol: string;
  /** STK, FUT, CASH, or CONTFUT (discovery only) */
  secType: string;
  localSymbol: string;
  tradingClass: string;
  exchange: string;
  primaryExch: string;
  currency: string;
  /** Contract multiplier; 1 when TWS sends none (stocks, cash) */
  multiplier: number;
  minTick: number;
  /** YYYYMMDD ('' for stocks and cash): the first 8 characters of the expiry field (§2 caveat) */
  lastTradeDate: string;
  /** YYYYMM ('' for stocks and cash) */
  contractMonth: string;
  /** YYYYMMDD or '' */
  realExpirationDate: string;
  longName: string;
  timeZoneId: string;
  /** `YYYYMMDD:HHMM-YYYYMMDD:HHMM;YYYYMMDD:CLOSED;…` in timeZoneId */
  tradingHours: string;
  liquidHours: string;
  validExchanges: string;
  orderTypes: string;
  marketRuleIds: string;
  underConId: number;
}

/** A query TWS answered with error 200 (or with no contract at all). */
export interface InvalidSymbolRecord {
  key: string;
  symbol: string;
  secType: string;
  /** 200, or undefined when contractDetailsEnd came without any contract */
  code: number | undefined;
  reason: string;
  /** Epoch ms from the injected clock */
  recordedAt: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures (timeouts, disconnects) that open the breaker */
  failures: number;
  /** Time the breaker stays open before one probe is let through */
  openMs: number;
}

export interface RetryBackoffOptions {
  /** Delay before the first retry (ms) */
  baseMs: number;
  /** Growth per retry (>= 1) */
  factor: number;
  /** Largest delay (ms) */
  maxMs: number;
}

/** The part of IbSession the resolver uses (a test fake implements just this). */
export type ContractSession = Pick<IbSession, 'request' | 'on'>;

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

export type ContractResolveErrorCode =
  | 'IB_CONTRACT_TIMEOUT'
  | 'IB_CONTRACT_DISCONNECTED'
  | 'IB_CONTRACT_REQUEST_FAILED'
  | 'IB_CONTRACT_AMBIGUOUS'
  | 'IB_CONTRACT_CLOSED'
  | 'IB_CONTFUT_NOT_TRADABLE';

/** A resolution that could not complete (timeouts, connection lost, an IB error other than 200). */
export class ContractResolveError extends WorkbenchError {
  readonly code: ContractResolveErrorCode;
  readonly key: string | undefined;
  /** The IB error code, when TWS answered with one */
  readonly ibCode: number | undefined;
  constructor(code: ContractResolveErrorCode, message: string, details: { key?: string; ibCode?: number; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.key = details.key;
    this.ibCode = details.ibCode;
  }
}

/** TWS knows no contract for the query (error 200), raised by `resolveOne` only. */
export class ContractNotFoundError extends WorkbenchError {
  readonly code = 'IB_CONTRACT_NOT_FOUND';
  constructor(
    readonly query: ContractQuery,
    readonly reason: string,
  ) {
    super(`no contract for ${describeQuery(query)}: ${reason}`);
  }
}

/** The breaker is open: the request was not sent. */
export class CircuitOpenError extends WorkbenchError {
  readonly code = 'IB_CIRCUIT_OPEN';
  constructor(
    /** Epoch ms at which a probe will be let through */
    readonly retryAt: number,
    message: string,
  ) {
    super(message);
  }
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
const NO_SECURITY_DEFINITION = 200;

/** The canonical cache key of a query: upper-cased, trimmed, fixed field order. */
export function contractQueryKey(q: ContractQuery): string {
  const norm = (s: string | undefined) => (s ?? '').trim().toUpperCase();
  return [
    norm(q.secType),
    norm(q.symbol),
    norm(q.exchange),
    norm(q.currency),
    (q.lastTradeDateOrContractMonth ?? '').trim(),
    norm(q.localSymbol),
    q.conId && q.conId > 0 ? String(q.conId) : '',
    q.includeExpired ? 'expired' : '',
  ].join('|');
}

export function describeQuery(q: ContractQuery): string {
  const parts = [q.secType, q.symbol];
  if (q.lastTradeDateOrContractMonth) parts.push(q.lastTradeDateOrContractMonth);
  if (q.localSymbol) parts.push(`local ${q.localSymbol}`);
  if (q.conId) parts.push(`conId ${q.conId}`);
  if (q.exchange) parts.push(`@${q.exchange}`);
  if (q.currency) parts.push(q.currency);
  return parts.join(' ');
}

/** A stoqey contract for market data or orders; refuses CONTFUT (tws-protocol.md §6). */
export function toIbContract(c: ResolvedContract): Contract {
  if (c.secType === 'CONTFUT') {
    throw new ContractResolveError('IB_CONTFUT_NOT_TRADABLE', `${c.symbol} CONTFUT cannot be used for real-time data or orders; resolve its front month (conId ${c.conId}) as FUT`);
  }
  const contract: Contract = { conId: c.conId, symbol: c.symbol, secType: c.secType as SecType, exchange: c.exchange, currency: c.currency, localSymbol: c.localSymbol };
  if (c.secType === 'FUT') contract.lastTradeDateOrContractMonth = c.lastTradeDate;
  if (c.primaryExch) contract.primaryExch = c.primaryExch;
  return contract;
}

/** The plain-data form of one stoqey ContractDetails. */
export function toResolvedContract(d: ContractDetails): ResolvedContract {
  const c = d.contract;
  const expiry = (c.lastTradeDate || c.lastTradeDateOrContractMonth || '').trim();
  const multiplier = Number(c.multiplier);
  return {
    conId: c.conId ?? 0,
    symbol: c.symbol ?? '',
    secType: String(c.secType ?? ''),
    localSymbol: c.localSymbol ?? '',
    tradingClass: c.tradingClass ?? '',
    exchange: c.exchange ?? '',
    primaryExch: c.primaryExch ?? '',
    currency: c.currency ?? '',
    multiplier: Number.isFinite(multiplier) && multiplier > 0 ? multiplier : 1,
    minTick: d.minTick ?? 0,
    lastTradeDate: /^\d{8}/.test(expiry) ? expiry.slice(0, 8) : '',
    contractMonth: d.contractMonth || (/^\d{6}/.test(expiry) ? expiry.slice(0, 6) : ''),
    realExpirationDate: d.realExpirationDate ?? '',
    longName: d.longName ?? '',
    timeZoneId: d.timeZoneId ?? '',
    tradingHours: d.tradingHours ?? '',
    liquidHours: d.liquidHours ?? '',
    validExchanges: d.validExchanges ?? '',
    orderTypes: d.orderTypes ?? '',
    marketRuleIds: d.marketRuleIds ?? '',
    underConId: d.underConId ?? 0,
  };
}

interface CacheEntry {
  contracts: ResolvedContract[];
  fetchedAt: number;
}

/** What one attempt ended with. */
type Outcome =
  | { kind: 'contracts'; contracts: ResolvedContract[] }
  | { kind: 'not-found'; code: number | undefined; reason: string }
  | { kind: 'ib-error'; code: number; reason: string }
  | { kind: 'timeout' }
  | { kind: 'disconnected'; reason: string };

interface InFlight {
  reqId: number;
  key: string;
  details: ResolvedContract[];
  timer: unknown;
  settle: (outcome: Outcome) => void;
}

type ApiListeners = {
  details: (reqId: number, d: ContractDetails) => void;
  end: (reqId: number) => void;
  error: (error: Error, code: number, reqId: number) => void;
};

export class ContractResolver {
  private readonly session: ContractSession;
  private readonly store: Store | undefined;
  private readonly cacheSize: number;
  private readonly ttlMs: number;
  private readonly invalidTtlMs: number;
  private readonly requestTimeoutMs: number;
  private readonly maxConcurrent: number;
  private readonly retries: number;
  private readonly backoff: RetryBackoffOptions;
  private readonly breakerOptions: BreakerOptions;
  private readonly reqIdFrom: number;
  private readonly reqIdTo: number;
  private readonly now: () => number;
  private readonly scheduler: SessionScheduler;
  private readonly log: Logger;

  /** LRU: Map iteration order is least recently used first */
  private readonly cache = new Map<string, CacheEntry>();
  private readonly invalid = new Map<string, InvalidSymbolRecord>();
  private readonly coalesced = new Map<string, Promise<ResolvedContract[]>>();
  private readonly inFlight = new Map<number, InFlight>();
  private readonly waiting: { start: () => void; fail: (e: Error) => void }[] = [];
  private readonly sleeping = new Set<{ timer: unknown; wake: () => void }>();
  private readonly apis = new Map<IBApi, ApiListeners>();
  private readonly unsubscribe: () => void;
  private nextReqId: number;
  private active = 0;
  private closed = false;
  private loading: Promise<void> | undefined;
  private storeChain: Promise<unknown> = Promise.resolve();

  private breakerStateValue: BreakerState = 'closed';
  private consecutiveFailures = 0;
  private openedAt = 0;
  private probeInFlight = false;

  private readonly counters: ContractResolverStats = {
    memoryHits: 0,
    storeHits: 0,
    requests: 0,
    timeouts: 0,
    disconnects: 0,
    retries: 0,
    invalid: 0,
    shortCircuited: 0,
  };

  constructor(options: ContractResolverOptions) {
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

    this.session = options.session;
    this.store = options.store;
    this.cacheSize = options.cacheSize ?? 2000;
    this.ttlMs = options.ttlMs ?? DEFAULT_CONTRACT_TTL_MS;
    this.invalidTtlMs = options.invalidTtlMs ?? this.ttlMs;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.maxConcurrent = options.maxConcurrent ?? 5;
    this.retries = options.retries ?? 3;
    this.backoff = backoff;
    this.breakerOptions = breaker;
    this.reqIdFrom = range.from;
    this.reqIdTo = range.to;
    this.nextReqId = range.from;
    this.scheduler = options.scheduler ?? realScheduler;
    const scheduler = this.scheduler;
    this.now = options.now ?? (() => scheduler.now());
    this.log = (options.logger ?? silentLogger).child({ component: 'contract-resolver' });
    this.unsubscribe = this.session.on('transition', (t) => this.onTransition(t));
  }

  /** The breaker's state now (an open breaker whose time is up reads half-open). */
  get breakerState(): BreakerState {
    if (this.breakerStateValue === 'open' && this.now() - this.openedAt >= this.breakerOptions.openMs) return 'half-open';
    return this.breakerStateValue;
  }

  /** Requests sent and not yet answered. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Requests waiting for a free slot. */
  get queuedCount(): number {
    return this.waiting.length;
  }

  /** Entries in the in-memory cache. */
  get cachedCount(): number {
    return this.cache.size;
  }

  stats(): ContractResolverStats {
    return { ...this.counters };
  }

  /**
   * Loads the persisted answers (newest `cacheSize`, within the TTL) and invalid records into
   * memory. Called on first use; calling it earlier just warms the cache. Returns the answers loaded.
   */
  async load(): Promise<number> {
    const before = this.cache.size;
    await this.ensureLoaded();
    return this.cache.size - before;
  }

  /**
   * Every contract TWS lists for the query ([] when it knows none: error 200, recorded as
   * invalid). Rejects only with ContractResolveError (timeouts, connection lost, other IB errors),
   * CircuitOpenError or ConfigError (a query naming nothing).
   */
  async resolve(query: ContractQuery, options: ResolveOptions = {}): Promise<ResolvedContract[]> {
    this.checkQuery(query);
    if (this.closed) throw new ContractResolveError('IB_CONTRACT_CLOSED', 'contract resolver is closed');
    const key = contractQueryKey(query);
    const cacheable = query.secType !== 'CONTFUT';
    await this.ensureLoaded();
    if (!options.refresh) {
      if (cacheable) {
        const hit = this.memoryGet(key);
        if (hit) {
          this.counters.memoryHits++;
          return cloneAll(hit);
        }
      }
      const known = this.knownInvalid(key);
      if (known) {
        this.log.debug('known invalid', { key, reason: known.reason });
        return [];
      }
    }
    const shared = this.coalesced.get(key);
    if (shared) return cloneAll(await shared);
    const run = this.fetch(query, key, cacheable, options.refresh === true);
    this.coalesced.set(key, run);
    try {
      return cloneAll(await run);
    } finally {
      this.coalesced.delete(key);
    }
  }

  /** The one contract of the query: ContractNotFoundError for none, IB_CONTRACT_AMBIGUOUS for several. */
  async resolveOne(query: ContractQuery, options: ResolveOptions = {}): Promise<ResolvedContract> {
    const contracts = await this.resolve(query, options);
    if (contracts.length === 0) {
      const record = this.knownInvalid(contractQueryKey(query));
      throw new ContractNotFoundError(query, record?.reason ?? 'no security definition');
    }
    if (contracts.length > 1) {
      throw new ContractResolveError(
        'IB_CONTRACT_AMBIGUOUS',
        `${describeQuery(query)} matches ${contracts.length} contracts: ${contracts.map((c) => `${c.localSymbol || c.symbol}@${c.exchange} (${c.conId})`).join(', ')}`,
        { key: contractQueryKey(query) },
      );
    }
    return contracts[0]!;
  }

  /**
   * Resolves many queries at once (the concurrency limit applies); never rejects. Known-invalid
   * symbols are skipped without a request, new 200s are recorded; both are reported in `invalid`.
   */
  async resolveMany(items: readonly ResolveManyItem[], options: ResolveOptions = {}): Promise<ResolveManyResult> {
    type One =
      | { kind: 'resolved'; query: ContractQuery; contracts: ResolvedContract[] }
      | { kind: 'invalid'; query: ContractQuery; reason: string; known: boolean }
      | { kind: 'failed'; query: ContractQuery; error: Error };
    await this.ensureLoaded();
    const outcomes = await Promise.all(
      items.map(async (item): Promise<One> => {
        const query = toQuery(item);
        try {
          this.checkQuery(query);
          const key = contractQueryKey(query);
          const known = options.refresh ? undefined : this.knownInvalid(key);
          if (known) return { kind: 'invalid', query, reason: known.reason, known: true };
          const contracts = await this.resolve(query, options);
          if (contracts.length > 0) return { kind: 'resolved', query, contracts };
          return { kind: 'invalid', query, reason: this.knownInvalid(key)?.reason ?? 'no security definition', known: false };
        } catch (e) {
          return { kind: 'failed', query, error: e instanceof Error ? e : new Error(String(e)) };
        }
      }),
    );
    const result: ResolveManyResult = { resolved: [], invalid: [], failed: [] };
    for (const o of outcomes) {
      if (o.kind === 'resolved') result.resolved.push({ query: o.query, contracts: o.contracts });
      else if (o.kind === 'invalid') result.invalid.push({ query: o.query, symbol: o.query.symbol, reason: o.reason, known: o.known });
      else result.failed.push({ query: o.query, symbol: o.query.symbol, error: o.error });
    }
    if (result.invalid.length || result.failed.length) {
      this.log.info('resolveMany', {
        resolved: result.resolved.length,
        invalid: result.invalid.map((i) => i.symbol),
        failed: result.failed.map((f) => f.symbol),
      });
    }
    return result;
  }

  /** The invalid record of a query, if one is current. */
  invalidRecord(query: ContractQuery): InvalidSymbolRecord | undefined {
    return this.knownInvalid(contractQueryKey(query));
  }

  /** Every current invalid record (after load). */
  invalidSymbols(): InvalidSymbolRecord[] {
    const now = this.now();
    return [...this.invalid.values()].filter((r) => now - r.recordedAt < this.invalidTtlMs).map((r) => ({ ...r }));
  }

  /** Waits for pending store writes. */
  async flush(): Promise<void> {
    await this.storeChain.catch(() => undefined);
  }

  /**
   * Stops listening to the session and its connections; requests in flight or queued fail with
   * IB_CONTRACT_CLOSED. Pending store writes still complete (await `flush()`).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    for (const [api, l] of this.apis) {
      api.off(EventName.contractDetails, l.details);
      api.off(EventName.contractDetailsEnd, l.end);
      api.off(EventName.error, l.error);
    }
    this.apis.clear();
    for (const f of [...this.inFlight.values()]) f.settle({ kind: 'disconnected', reason: 'resolver closed' });
    for (const w of this.waiting.splice(0)) w.fail(new ContractResolveError('IB_CONTRACT_CLOSED', 'contract resolver is closed'));
    for (const s of [...this.sleeping]) {
      this.scheduler.clearTimeout(s.timer);
      s.wake();
    }
  }

  // ---- fetching ----

  private async fetch(query: ContractQuery, key: string, cacheable: boolean, refresh: boolean): Promise<ResolvedContract[]> {
    if (cacheable && this.store && !refresh) {
      const stored = await this.storeGet(key);
      if (stored) {
        this.counters.storeHits++;
        this.memoryPut(key, stored);
        return stored.contracts;
      }
    }
    for (let attempt = 0; ; attempt++) {
      this.checkBreaker(query);
      await this.acquire(query);
      let outcome: Outcome;
      let probe = false;
      try {
        // the breaker may have opened while this request waited for a slot
        probe = this.checkBreaker(query);
        if (probe) this.probeInFlight = true;
        outcome = await this.send(query, key);
      } catch (e) {
        if (probe) this.probeInFlight = false;
        this.release();
        throw e;
      }
      this.release();
      if (probe) this.probeInFlight = false;

      switch (outcome.kind) {
        case 'contracts':
          this.recordSuccess();
          if (cacheable) await this.remember(key, outcome.contracts);
          if (this.invalid.has(key)) await this.forgetInvalid(key);
          return outcome.contracts;
        case 'not-found':
          this.recordSuccess();
          await this.markInvalid(query, key, outcome.code, outcome.reason);
          return [];
        case 'ib-error':
          this.recordSuccess();
          throw new ContractResolveError('IB_CONTRACT_REQUEST_FAILED', `${describeQuery(query)}: IB error ${outcome.code}: ${outcome.reason}`, { key, ibCode: outcome.code });
        case 'timeout':
        case 'disconnected': {
          if (outcome.kind === 'timeout') this.counters.timeouts++;
          else this.counters.disconnects++;
          this.recordFailure(probe);
          if (this.closed) throw new ContractResolveError('IB_CONTRACT_CLOSED', 'contract resolver is closed', { key });
          const what = outcome.kind === 'timeout' ? `no answer within ${this.requestTimeoutMs} ms` : outcome.reason;
          // an open breaker would refuse the retry anyway: report this failure now
          const open = this.breakerStateValue === 'open';
          if (attempt >= this.retries || open) {
            throw new ContractResolveError(
              outcome.kind === 'timeout' ? 'IB_CONTRACT_TIMEOUT' : 'IB_CONTRACT_DISCONNECTED',
              `${describeQuery(query)}: ${what} (${attempt + 1} attempt${attempt ? 's' : ''}${open ? ', circuit open' : ''})`,
              { key },
            );
          }
          const delay = this.retryDelay(attempt + 1);
          this.counters.retries++;
          this.log.warn('contract request failed, retrying', { key, attempt: attempt + 1, delayMs: delay, cause: what });
          await this.sleep(delay);
          if (this.closed) throw new ContractResolveError('IB_CONTRACT_CLOSED', 'contract resolver is closed', { key });
          break;
        }
      }
    }
  }

  /** One request: resolves with its outcome, never rejects. */
  private send(query: ContractQuery, key: string): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const reqId = this.allocateReqId();
      let done = false;
      const entry: InFlight = {
        reqId,
        key,
        details: [],
        timer: undefined,
        settle: (outcome) => {
          if (done) return;
          done = true;
          this.scheduler.clearTimeout(entry.timer);
          this.inFlight.delete(reqId);
          resolve(outcome);
        },
      };
      this.inFlight.set(reqId, entry);
      entry.timer = this.scheduler.setTimeout(() => entry.settle({ kind: 'timeout' }), this.requestTimeoutMs);
      const contract = requestContract(query);
      this.counters.requests++;
      this.log.debug('reqContractDetails', { reqId, key });
      let accepted: boolean;
      try {
        accepted = this.session.request((api) => {
          if (done) return;
          this.attach(api);
          api.reqContractDetails(reqId, contract);
        }, `contract ${key}`);
      } catch (e) {
        accepted = false;
        this.log.error('session request threw', { key, error: e instanceof Error ? e.message : String(e) });
      }
      if (!accepted) entry.settle({ kind: 'disconnected', reason: 'session not connected' });
    });
  }

  /** Listens for answers on a connection's IBApi (once per IBApi). */
  private attach(api: IBApi): void {
    if (this.apis.has(api) || this.closed) return;
    const listeners: ApiListeners = {
      details: (reqId, d) => {
        const f = this.inFlight.get(reqId);
        if (!f) return;
        try {
          f.details.push(toResolvedContract(d));
        } catch (e) {
          this.log.error('bad contractDetails', { reqId, error: e instanceof Error ? e.message : String(e) });
        }
      },
      end: (reqId) => {
        const f = this.inFlight.get(reqId);
        if (!f) return;
        if (f.details.length === 0) f.settle({ kind: 'not-found', code: undefined, reason: 'contractDetailsEnd without any contract' });
        else f.settle({ kind: 'contracts', contracts: f.details });
      },
      error: (error, code, reqId) => {
        const f = this.inFlight.get(reqId);
        if (!f) return;
        const reason = error?.message ?? String(error);
        if (code === NO_SECURITY_DEFINITION) f.settle({ kind: 'not-found', code, reason });
        else f.settle({ kind: 'ib-error', code, reason });
      },
    };
    api.on(EventName.contractDetails, listeners.details);
    api.on(EventName.contractDetailsEnd, listeners.end);
    api.on(EventName.error, listeners.error);
    this.apis.set(api, listeners);
  }

  /** The connection is gone: its requests will never be answered. */
  private onTransition(t: SessionTransition): void {
    const usable = t.to === 'connected' || t.to === 'degraded';
    if (usable) return;
    for (const f of [...this.inFlight.values()]) f.settle({ kind: 'disconnected', reason: `connection lost (${t.to}: ${t.reason})` });
  }

  private allocateReqId(): number {
    const size = this.reqIdTo - this.reqIdFrom + 1;
    for (let i = 0; i < size; i++) {
      const id = this.nextReqId;
      this.nextReqId = id >= this.reqIdTo ? this.reqIdFrom : id + 1;
      if (!this.inFlight.has(id)) return id;
    }
    // cannot happen while maxConcurrent < range size; a range that small is a configuration bug
    throw new ConfigError('contract resolver', [`reqIdRange ${this.reqIdFrom}..${this.reqIdTo} has no free id`]);
  }

  private retryDelay(retry: number): number {
    return Math.min(this.backoff.maxMs, this.backoff.baseMs * Math.pow(this.backoff.factor, retry - 1));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const s = {
        timer: undefined as unknown,
        wake: () => {
          this.sleeping.delete(s);
          resolve();
        },
      };
      this.sleeping.add(s);
      s.timer = this.scheduler.setTimeout(() => s.wake(), ms);
    });
  }

  // ---- concurrency ----

  private acquire(query: ContractQuery): Promise<void> {
    if (this.closed) return Promise.reject(new ContractResolveError('IB_CONTRACT_CLOSED', 'contract resolver is closed'));
    if (this.active < this.maxConcurrent) {
      this.active++;
      return Promise.resolve();
    }
    this.log.debug('contract request queued', { symbol: query.symbol, queued: this.waiting.length + 1 });
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({
        start: () => {
          this.active++;
          resolve();
        },
        fail: reject,
      });
    });
  }

  private release(): void {
    this.active--;
    const next = this.waiting.shift();
    if (next) next.start();
  }

  // ---- circuit breaker ----

  /**
   * Throws CircuitOpenError while the breaker refuses requests. Returns true when this request
   * is the half-open probe.
   */
  private checkBreaker(query: ContractQuery): boolean {
    if (this.breakerStateValue === 'closed') return false;
    const retryAt = this.openedAt + this.breakerOptions.openMs;
    if (this.now() >= retryAt && !this.probeInFlight) {
      if (this.breakerStateValue === 'open') {
        this.breakerStateValue = 'half-open';
        this.log.info('circuit half-open: probing', { symbol: query.symbol });
      }
      return true;
    }
    this.counters.shortCircuited++;
    const why = this.probeInFlight ? 'a probe request is in flight' : `open until ${new Date(retryAt).toISOString()}`;
    throw new CircuitOpenError(retryAt, `contract requests suspended after ${this.breakerOptions.failures} consecutive failures (${why}); ${describeQuery(query)} not sent`);
  }

  private recordSuccess(): void {
    this.consecutiveFailures = 0;
    if (this.breakerStateValue !== 'closed') {
      this.breakerStateValue = 'closed';
      this.log.info('circuit closed');
    }
  }

  private recordFailure(probe: boolean): void {
    this.consecutiveFailures++;
    // in half-open only the probe's failure reopens; a request sent before the breaker opened does not
    if (probe || (this.breakerStateValue === 'closed' && this.consecutiveFailures >= this.breakerOptions.failures)) {
      this.breakerStateValue = 'open';
      this.openedAt = this.now();
      this.log.warn('circuit open', { failures: this.consecutiveFailures, openMs: this.breakerOptions.openMs });
    }
  }

  // ---- cache ----

  private memoryGet(key: string): CacheEntry | undefined {
    const entry = this.cache.get(key);
    if (!entry) return undefined;
    this.cache.delete(key);
    if (this.now() - entry.fetchedAt >= this.ttlMs) return undefined;
    this.cache.set(key, entry);
    return entry;
  }

  private memoryPut(key: string, entry: CacheEntry): void {
    this.cache.delete(key);
    this.cache.set(key, entry);
    while (this.cache.size > this.cacheSize) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
  }

  private knownInvalid(key: string): InvalidSymbolRecord | undefined {
    const r = this.invalid.get(key);
    if (r && this.now() - r.recordedAt < this.invalidTtlMs) return r;
    return undefined;
  }

  private async remember(key: string, contracts: ResolvedContract[]): Promise<void> {
    const fetchedAt = this.now();
    this.memoryPut(key, { contracts, fetchedAt });
    await this.storeWrite('save contracts', (store) =>
      store.run(`INSERT OR REPLACE INTO ib_contracts (query_key, answer, fetched_at) VALUES ($1, $2, make_timestamp(CAST($3 AS BIGINT)))`, [
        key,
        JSON.stringify(contracts),
        fetchedAt * 1000,
      ]),
    );
  }

  private async markInvalid(query: ContractQuery, key: string, code: number | undefined, reason: string): Promise<void> {
    const record: InvalidSymbolRecord = { key, symbol: query.symbol.trim().toUpperCase(), secType: query.secType, code, reason, recordedAt: this.now() };
    this.invalid.set(key, record);
    this.cache.delete(key);
    this.counters.invalid++;
    this.log.warn('no security definition', { key, code, reason });
    await this.storeWrite('record invalid symbol', async (store) => {
      await store.run(
        `INSERT OR REPLACE INTO ib_invalid_symbols (query_key, symbol, sec_type, code, reason, recorded_at) VALUES ($1, $2, $3, $4, $5, make_timestamp(CAST($6 AS BIGINT)))`,
        [key, record.symbol, record.secType, code ?? null, reason, record.recordedAt * 1000],
      );
      await store.run('DELETE FROM ib_contracts WHERE query_key = $1', [key]);
    });
  }

  private async forgetInvalid(key: string): Promise<void> {
    this.invalid.delete(key);
    await this.storeWrite('forget invalid symbol', (store) => store.run('DELETE FROM ib_invalid_symbols WHERE query_key = $1', [key]));
  }

  // ---- store ----

  private ensureLoaded(): Promise<void> {
    if (!this.store) return Promise.resolve();
    if (!this.loading) {
      this.loading = this.loadFromStore(this.store).catch((e: unknown) => {
        // a broken store must not stop resolution: run from memory only
        this.log.error('cannot load persisted contracts', { error: e instanceof Error ? e.message : String(e) });
      });
    }
    return this.loading;
  }

  private async loadFromStore(store: Store): Promise<void> {
    const freshSince = (this.now() - this.ttlMs) * 1000;
    const rows = await this.serial(() =>
      store.all<{ query_key: string; answer: string; fetched_at: number }>(
        `SELECT query_key, CAST(answer AS VARCHAR) AS answer, epoch_ms(fetched_at) AS fetched_at FROM ib_contracts
         WHERE fetched_at >= make_timestamp(CAST($1 AS BIGINT)) ORDER BY fetched_at DESC, query_key LIMIT $2`,
        [freshSince, this.cacheSize],
      ),
    );
    // oldest first, so the newest end up most recently used
    for (const row of rows.reverse()) {
      const contracts = parseAnswer(row.answer);
      if (contracts && !this.cache.has(row.query_key)) this.memoryPut(row.query_key, { contracts, fetchedAt: Number(row.fetched_at) });
    }
    const invalidSince = (this.now() - this.invalidTtlMs) * 1000;
    const invalid = await this.serial(() =>
      store.all<{ query_key: string; symbol: string; sec_type: string; code: number | null; reason: string; recorded_at: number }>(
        `SELECT query_key, symbol, sec_type, code, reason, epoch_ms(recorded_at) AS recorded_at FROM ib_invalid_symbols
         WHERE recorded_at >= make_timestamp(CAST($1 AS BIGINT))`,
        [invalidSince],
      ),
    );
    for (const r of invalid) {
      if (this.invalid.has(r.query_key)) continue;
      this.invalid.set(r.query_key, { key: r.query_key, symbol: r.symbol, secType: r.sec_type, code: r.code ?? undefined, reason: r.reason, recordedAt: Number(r.recorded_at) });
    }
    this.log.debug('loaded persisted contracts', { answers: rows.length, invalid: invalid.length });
  }

  /** A persisted answer within the TTL (a memory miss: evicted, or beyond cacheSize at load). */
  private async storeGet(key: string): Promise<CacheEntry | undefined> {
    const store = this.store;
    if (!store) return undefined;
    try {
      const rows = await this.serial(() =>
        store.all<{ answer: string; fetched_at: number }>(`SELECT CAST(answer AS VARCHAR) AS answer, epoch_ms(fetched_at) AS fetched_at FROM ib_contracts WHERE query_key = $1`, [key]),
      );
      const row = rows[0];
      if (!row || this.now() - Number(row.fetched_at) >= this.ttlMs) return undefined;
      const contracts = parseAnswer(row.answer);
      return contracts ? { contracts, fetchedAt: Number(row.fetched_at) } : undefined;
    } catch (e) {
      this.log.error('cannot read persisted contracts', { key, error: e instanceof Error ? e.message : String(e) });
      return undefined;
    }
  }

  /** A store write that logs instead of failing the resolution. */
  private async storeWrite(what: string, write: (store: Store) => Promise<void>): Promise<void> {
    const store = this.store;
    if (!store) return;
    try {
      await this.serial(() => write(store));
    } catch (e) {
      this.log.error(`cannot ${what}`, { error: e instanceof Error ? e.message : String(e) });
    }
  }

  /** Runs store operations one at a time (one DuckDB connection is shared). */
  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.storeChain.then(op, op);
    this.storeChain = run.catch(() => undefined);
    return run;
  }

  private checkQuery(query: ContractQuery): void {
    const problems: string[] = [];
    if (!['STK', 'FUT', 'CASH', 'CONTFUT'].includes(query.secType)) problems.push(`secType must be STK, FUT, CASH or CONTFUT, got '${query.secType}'`);
    const named = (query.symbol ?? '').trim() !== '' || (query.conId ?? 0) > 0 || (query.localSymbol ?? '').trim() !== '';
    if (!named) problems.push('a query needs a symbol, a conId or a local symbol');
    if (query.conId !== undefined && !(Number.isInteger(query.conId) && query.conId >= 0)) problems.push(`conId must be a non-negative integer, got ${query.conId}`);
    if (problems.length) throw new ConfigError(`contract query ${describeQuery(query)}`, problems);
  }
}

function toQuery(item: ResolveManyItem): ContractQuery {
  return typeof item === 'string' ? { symbol: item.trim().toUpperCase(), secType: 'STK', exchange: 'SMART', currency: 'USD' } : item;
}

/** The stoqey contract sent with reqContractDetails. */
function requestContract(q: ContractQuery): Contract {
  const c: Contract = { symbol: q.symbol.trim().toUpperCase(), secType: q.secType as SecType };
  if (q.exchange) c.exchange = q.exchange.trim().toUpperCase();
  if (q.currency) c.currency = q.currency.trim().toUpperCase();
  if (q.lastTradeDateOrContractMonth) c.lastTradeDateOrContractMonth = q.lastTradeDateOrContractMonth.trim();
  if (q.localSymbol) c.localSymbol = q.localSymbol.trim().toUpperCase();
  if (q.conId && q.conId > 0) c.conId = q.conId;
  if (q.includeExpired) c.includeExpired = true;
  return c;
}

function parseAnswer(json: string): ResolvedContract[] | undefined {
  try {
    const value = JSON.parse(json) as unknown;
    return Array.isArray(value) ? (value as ResolvedContract[]) : undefined;
  } catch {
    return undefined;
  }
}

function cloneAll(x: CacheEntry | ResolvedContract[]): ResolvedContract[] {
  const list = Array.isArray(x) ? x : x.contracts;
  return list.map((c) => ({ ...c }));
}
