/**
 * Contract resolution over reqContractDetails (tws-protocol.md §2 contractDetails, §5 error 200,
 * §6 futures discovery), for everything that needs an IB conId: market data, orders, history.
 *
 * - Requests go through `IbSession.request()` (the message budget) with request ids from a range
 *   of the resolver's own, below the session's order ids; every contractDetails of a request is
 *   collected until contractDetailsEnd.
 * - Answers are cached in memory (LRU, `cacheSize` entries, `ttlMs` old at most; a query naming a
 *   conId is also answered by any cached answer holding that contract, so an order's query finds
 *   what market data resolved under a query without it) and, with a store,
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
import { ConfigError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { CircuitBreaker, type BreakerState } from './circuit-breaker.js';
import { ContractCacheStore, type CacheEntry } from './contract-cache-store.js';
import { ContractRequests, type Outcome } from './contract-requests.js';
import {
  checkResolverOptions,
  DEFAULT_CONTRACT_TTL_MS,
  type ContractResolverOptions,
  type ContractResolverStats,
  type ResolveManyItem,
  type ResolveManyResult,
  type ResolveOptions,
  type RetryBackoffOptions,
} from './contract-resolver-options.js';
import { ContractNotFoundError, ContractResolveError, contractQueryKey, describeQuery, type ContractQuery, type InvalidSymbolRecord, type ResolvedContract } from './contract-types.js';
import { realScheduler, type SessionScheduler } from './ib-session.js';
import { LruCache } from './lru-cache.js';

export { CircuitOpenError, type BreakerOptions, type BreakerState } from './circuit-breaker.js';
export type { ContractSession } from './contract-requests.js';
export {
  DEFAULT_CONTRACT_TTL_MS,
  type ContractResolverOptions,
  type ContractResolverStats,
  type ResolveManyItem,
  type ResolveManyResult,
  type ResolveOptions,
  type RetryBackoffOptions,
} from './contract-resolver-options.js';
export {
  ContractNotFoundError,
  ContractResolveError,
  contractQueryKey,
  describeQuery,
  toIbContract,
  toResolvedContract,
  type ContractQuery,
  type ContractResolveErrorCode,
  type ContractSecType,
  type InvalidSymbolRecord,
  type ResolvedContract,
} from './contract-types.js';

export class ContractResolver {
  private readonly cacheSize: number;
  private readonly ttlMs: number;
  private readonly invalidTtlMs: number;
  private readonly requestTimeoutMs: number;
  private readonly maxConcurrent: number;
  private readonly retries: number;
  private readonly backoff: RetryBackoffOptions;
  private readonly now: () => number;
  private readonly scheduler: SessionScheduler;
  private readonly log: Logger;

  private readonly cache: LruCache<CacheEntry>;
  /** conId -> key of a cached answer listing that contract (stale after eviction: checked on use) */
  private readonly conIdKeys = new Map<number, string>();
  private readonly invalid = new Map<string, InvalidSymbolRecord>();
  private readonly coalesced = new Map<string, Promise<ResolvedContract[]>>();
  private readonly waiting: { start: () => void; fail: (e: Error) => void }[] = [];
  private readonly sleeping = new Set<{ timer: unknown; wake: () => void }>();
  private readonly persisted: ContractCacheStore;
  private readonly breaker: CircuitBreaker;
  private readonly requests: ContractRequests;
  private active = 0;
  private closed = false;
  private loading: Promise<void> | undefined;

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
    const { backoff, breaker, range } = checkResolverOptions(options);

    this.cacheSize = options.cacheSize ?? 2000;
    this.cache = new LruCache<CacheEntry>(this.cacheSize);
    this.ttlMs = options.ttlMs ?? DEFAULT_CONTRACT_TTL_MS;
    this.invalidTtlMs = options.invalidTtlMs ?? this.ttlMs;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.maxConcurrent = options.maxConcurrent ?? 5;
    this.retries = options.retries ?? 3;
    this.backoff = backoff;
    this.scheduler = options.scheduler ?? realScheduler;
    const scheduler = this.scheduler;
    this.now = options.now ?? (() => scheduler.now());
    this.log = (options.logger ?? silentLogger).child({ component: 'contract-resolver' });
    this.persisted = new ContractCacheStore(options.store, this.log);
    this.breaker = new CircuitBreaker(breaker, this.now, this.log, () => this.counters.shortCircuited++);
    this.requests = new ContractRequests({
      session: options.session,
      requestTimeoutMs: this.requestTimeoutMs,
      reqIdRange: range,
      scheduler,
      logger: this.log,
      onRequest: () => this.counters.requests++,
    });
  }

  /** The breaker's state now (an open breaker whose time is up reads half-open). */
  get breakerState(): BreakerState {
    return this.breaker.state;
  }

  /** Requests sent and not yet answered. */
  get inFlightCount(): number {
    return this.requests.size;
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
        const same = this.cachedByConId(query);
        if (same) {
          this.counters.memoryHits++;
          return cloneAll([same]);
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
    await this.persisted.flush();
  }

  /**
   * Stops listening to the session and its connections; requests in flight or queued fail with
   * IB_CONTRACT_CLOSED. Pending store writes still complete (await `flush()`).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.requests.close();
    for (const w of this.waiting.splice(0)) w.fail(new ContractResolveError('IB_CONTRACT_CLOSED', 'contract resolver is closed'));
    for (const s of [...this.sleeping]) {
      this.scheduler.clearTimeout(s.timer);
      s.wake();
    }
  }

  // ---- fetching ----

  private async fetch(query: ContractQuery, key: string, cacheable: boolean, refresh: boolean): Promise<ResolvedContract[]> {
    if (cacheable && this.persisted.store && !refresh) {
      const stored = await this.storeGet(key);
      if (stored) {
        this.counters.storeHits++;
        this.cacheSet(key, stored);
        return stored.contracts;
      }
    }
    for (let attempt = 0; ; attempt++) {
      this.breaker.check(query);
      await this.acquire(query);
      let outcome: Outcome;
      let probe = false;
      try {
        // the breaker may have opened while this request waited for a slot
        probe = this.breaker.check(query);
        if (probe) this.breaker.probeInFlight = true;
        outcome = await this.requests.send(query, key);
      } catch (e) {
        if (probe) this.breaker.probeInFlight = false;
        this.release();
        throw e;
      }
      this.release();
      if (probe) this.breaker.probeInFlight = false;

      switch (outcome.kind) {
        case 'contracts':
          this.breaker.recordSuccess();
          if (cacheable) await this.remember(key, outcome.contracts);
          if (this.invalid.has(key)) await this.forgetInvalid(key);
          return outcome.contracts;
        case 'not-found':
          this.breaker.recordSuccess();
          await this.markInvalid(query, key, outcome.code, outcome.reason);
          return [];
        case 'ib-error':
          this.breaker.recordSuccess();
          throw new ContractResolveError('IB_CONTRACT_REQUEST_FAILED', `${describeQuery(query)}: IB error ${outcome.code}: ${outcome.reason}`, { key, ibCode: outcome.code });
        case 'timeout':
        case 'disconnected': {
          if (outcome.kind === 'timeout') this.counters.timeouts++;
          else this.counters.disconnects++;
          this.breaker.recordFailure(probe);
          if (this.closed) throw new ContractResolveError('IB_CONTRACT_CLOSED', 'contract resolver is closed', { key });
          const what = outcome.kind === 'timeout' ? `no answer within ${this.requestTimeoutMs} ms` : outcome.reason;
          // an open breaker would refuse the retry anyway: report this failure now
          const open = this.breaker.isOpen;
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

  // ---- cache ----

  private memoryGet(key: string): CacheEntry | undefined {
    return this.cache.get(key, (entry) => this.now() - entry.fetchedAt >= this.ttlMs);
  }

  private cacheSet(key: string, entry: CacheEntry): void {
    this.cache.set(key, entry);
    for (const c of entry.contracts) if (c.conId > 0) this.conIdKeys.set(c.conId, key);
  }

  /** The cached contract a query naming a conId asks for, when its other fields agree with it */
  private cachedByConId(query: ContractQuery): ResolvedContract | undefined {
    const conId = query.conId ?? 0;
    if (!(conId > 0)) return undefined;
    const key = this.conIdKeys.get(conId);
    if (key === undefined) return undefined;
    const c = this.memoryGet(key)?.contracts.find((x) => x.conId === conId);
    if (c === undefined) {
      this.conIdKeys.delete(conId);
      return undefined;
    }
    return conIdAnswerFits(c, query) ? c : undefined;
  }

  private knownInvalid(key: string): InvalidSymbolRecord | undefined {
    const r = this.invalid.get(key);
    if (r && this.now() - r.recordedAt < this.invalidTtlMs) return r;
    return undefined;
  }

  private async remember(key: string, contracts: ResolvedContract[]): Promise<void> {
    const fetchedAt = this.now();
    this.cacheSet(key, { contracts, fetchedAt });
    await this.persisted.saveAnswer(key, contracts, fetchedAt);
  }

  private async markInvalid(query: ContractQuery, key: string, code: number | undefined, reason: string): Promise<void> {
    const record: InvalidSymbolRecord = { key, symbol: query.symbol.trim().toUpperCase(), secType: query.secType, code, reason, recordedAt: this.now() };
    this.invalid.set(key, record);
    this.cache.delete(key);
    this.counters.invalid++;
    this.log.warn('no security definition', { key, code, reason });
    await this.persisted.saveInvalid(record);
  }

  private async forgetInvalid(key: string): Promise<void> {
    this.invalid.delete(key);
    await this.persisted.deleteInvalid(key);
  }

  // ---- store ----

  private ensureLoaded(): Promise<void> {
    if (!this.persisted.store) return Promise.resolve();
    if (!this.loading) {
      this.loading = this.loadFromStore().catch((e: unknown) => {
        // a broken store must not stop resolution: run from memory only
        this.log.error('cannot load persisted contracts', { error: e instanceof Error ? e.message : String(e) });
      });
    }
    return this.loading;
  }

  private async loadFromStore(): Promise<void> {
    const rows = await this.persisted.loadAnswers(this.now() - this.ttlMs, this.cacheSize);
    // oldest first, so the newest end up most recently used
    for (const row of rows.reverse()) {
      const contracts = row.contracts;
      if (contracts && !this.cache.has(row.key)) this.cacheSet(row.key, { contracts, fetchedAt: row.fetchedAt });
    }
    const invalid = await this.persisted.loadInvalid(this.now() - this.invalidTtlMs);
    for (const r of invalid) {
      if (this.invalid.has(r.key)) continue;
      this.invalid.set(r.key, r);
    }
    this.log.debug('loaded persisted contracts', { answers: rows.length, invalid: invalid.length });
  }

  /** A persisted answer within the TTL (a memory miss: evicted, or beyond cacheSize at load). */
  private async storeGet(key: string): Promise<CacheEntry | undefined> {
    const stored = await this.persisted.getAnswer(key);
    if (!stored || this.now() - stored.fetchedAt >= this.ttlMs) return undefined;
    return stored;
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

/**
 * Whether TWS would answer `query` with `c` (same conId): every field the query names agrees with
 * the contract, exchange included (an order routed SMART must not get a direct-routed contract).
 */
function conIdAnswerFits(c: ResolvedContract, query: ContractQuery): boolean {
  const norm = (s: string | undefined) => (s ?? '').trim().toUpperCase();
  const named = (q: string | undefined, value: string) => norm(q) === '' || norm(q) === norm(value);
  const month = (query.lastTradeDateOrContractMonth ?? '').trim();
  return (
    norm(query.secType) === norm(c.secType) &&
    named(query.symbol, c.symbol) &&
    named(query.currency, c.currency) &&
    named(query.exchange, c.exchange) &&
    named(query.localSymbol, c.localSymbol) &&
    (month === '' || c.lastTradeDate.startsWith(month) || c.contractMonth === month)
  );
}

function toQuery(item: ResolveManyItem): ContractQuery {
  return typeof item === 'string' ? { symbol: item.trim().toUpperCase(), secType: 'STK', exchange: 'SMART', currency: 'USD' } : item;
}

function cloneAll(x: CacheEntry | ResolvedContract[]): ResolvedContract[] {
  const list = Array.isArray(x) ? x : x.contracts;
  return list.map((c) => ({ ...c }));
}
