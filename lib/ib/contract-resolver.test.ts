import { EventEmitter } from 'node:events';
import { EventName, SecType, type Contract, type ContractDetails, type IBApi } from '@stoqey/ib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { Store } from '../store/store.js';
import {
  CircuitOpenError,
  ContractNotFoundError,
  ContractResolveError,
  ContractResolver,
  contractQueryKey,
  toIbContract,
  toResolvedContract,
  type ContractQuery,
  type ContractResolverOptions,
} from './contract-resolver.js';
import { TypedEmitter, type IbSessionEvents, type SessionScheduler } from './ib-session.js';
import type { SessionState } from './session-state.js';

const T0 = Date.UTC(2024, 0, 2, 15, 0);
const WAIT = { timeout: 2000, interval: 2 };

/** Timers and a clock under the test's control; `advance` runs due timers in order. */
class FakeScheduler implements SessionScheduler {
  t = T0;
  private seq = 0;
  private timers: { id: number; at: number; fn: () => void }[] = [];
  now = (): number => this.t;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.push({ id, at: this.t + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((x) => x.id !== handle);
  }
  get pending(): number {
    return this.timers.length;
  }
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flush();
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

/** The IBApi surface the resolver touches: reqContractDetails and three events. */
class FakeApi extends EventEmitter {
  readonly requests: { reqId: number; contract: Contract; at: number }[] = [];
  constructor(private readonly onRequest: (api: FakeApi, reqId: number, contract: Contract) => void) {
    super();
  }
  reqContractDetails(reqId: number, contract: Contract): this {
    this.requests.push({ reqId, contract, at: 0 });
    this.onRequest(this, reqId, contract);
    return this;
  }
  answer(reqId: number, details: ContractDetails[]): void {
    for (const d of details) this.emit(EventName.contractDetails, reqId, d);
    this.emit(EventName.contractDetailsEnd, reqId);
  }
  notFound(reqId: number): void {
    this.emit(EventName.error, new Error('No security definition has been found for the request'), 200, reqId);
  }
  fail(reqId: number, code: number, message: string): void {
    this.emit(EventName.error, new Error(message), code, reqId);
  }
}

/** A tiny IbSession: request() hands the fake api over while "connected"; transitions on demand. */
class FakeSession {
  usable = true;
  /** symbol -> answer; unknown symbols get 200. `auto` false: the test answers by hand. */
  readonly book = new Map<string, ContractDetails[]>();
  auto = true;
  api: FakeApi;
  readonly apis: FakeApi[] = [];
  private readonly emitter = new TypedEmitter<IbSessionEvents>((_e, err) => {
    throw err;
  });
  constructor(private readonly scheduler: FakeScheduler) {
    this.api = this.newApi();
  }
  private newApi(): FakeApi {
    const api = new FakeApi((a, reqId, contract) => {
      a.requests[a.requests.length - 1]!.at = this.scheduler.t;
      if (!this.auto) return;
      queueMicrotask(() => {
        const answer = this.book.get(contract.symbol ?? '');
        if (answer) a.answer(reqId, answer);
        else a.notFound(reqId);
      });
    });
    this.apis.push(api);
    return api;
  }
  /** Every request on every api so far */
  get requests() {
    return this.apis.flatMap((a) => a.requests);
  }
  request(send: (api: IBApi) => void, _label?: string): boolean {
    if (!this.usable) return false;
    send(this.api as unknown as IBApi);
    return true;
  }
  on<K extends keyof IbSessionEvents>(event: K, listener: (payload: IbSessionEvents[K]) => void): () => void {
    return this.emitter.on(event, listener);
  }
  private transition(from: SessionState, to: SessionState): void {
    this.emitter.emit('transition', { from, to, reason: to === 'connected' ? 'api-ready' : 'socket-closed', at: this.scheduler.t });
  }
  drop(): void {
    this.usable = false;
    this.transition('connected', 'reconnecting');
  }
  /** A new connection: a new IBApi, as IbSession makes on every reconnect. */
  reconnect(): void {
    this.api = this.newApi();
    this.usable = true;
    this.transition('connecting', 'connected');
  }
}

function stk(symbol: string, conId: number, currency = 'USD'): ContractDetails {
  return {
    contract: {
      conId,
      symbol,
      secType: SecType.STK,
      exchange: 'SMART',
      primaryExch: 'ARCA',
      currency,
      localSymbol: symbol,
      tradingClass: symbol,
      multiplier: 0,
      lastTradeDateOrContractMonth: '',
      lastTradeDate: '',
    },
    minTick: 0.01,
    longName: `${symbol} long name`,
    contractMonth: '',
    timeZoneId: 'US/Eastern',
    tradingHours: '20240102:0400-20240102:2000;20240103:0400-20240103:2000',
    liquidHours: '20240102:0930-20240102:1600;20240103:0930-20240103:1600',
    validExchanges: 'SMART,ARCA',
    orderTypes: 'LMT,MKT',
    marketRuleIds: '26',
    underConId: 0,
  };
}

function fut(root: string, month: string, lastTradeDate: string, conId: number, secType: SecType = SecType.FUT): ContractDetails {
  return {
    contract: {
      conId,
      symbol: root,
      secType,
      exchange: 'CME',
      currency: 'USD',
      localSymbol: `${root}${month}`,
      tradingClass: root,
      multiplier: 50,
      // TWS may append a time; the resolver keeps the date
      lastTradeDateOrContractMonth: `${lastTradeDate} 08:30 US/Central`,
    },
    minTick: 0.25,
    contractMonth: month,
    realExpirationDate: lastTradeDate,
    timeZoneId: 'US/Central',
    tradingHours: '',
    liquidHours: '',
  };
}

const SPY: ContractQuery = { symbol: 'SPY', secType: 'STK', exchange: 'SMART', currency: 'USD' };
const q = (symbol: string): ContractQuery => ({ symbol, secType: 'STK', exchange: 'SMART', currency: 'USD' });

const resolvers: ContractResolver[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const r of resolvers.splice(0)) {
    r.close();
    await r.flush();
  }
  for (const s of stores.splice(0)) s.close();
});

function setup(options: Partial<ContractResolverOptions> = {}) {
  const scheduler = new FakeScheduler();
  const session = new FakeSession(scheduler);
  for (const s of ['SPY', 'QQQ', 'IWM', 'AAPL', 'IBM', 'BAC']) session.book.set(s, [stk(s, 1000 + s.charCodeAt(0) + s.length)]);
  const resolver = new ContractResolver({ session, scheduler, backoff: { baseMs: 50, factor: 2, maxMs: 400 }, ...options });
  resolvers.push(resolver);
  return { scheduler, session, resolver };
}

async function openStore(): Promise<Store> {
  const store = await Store.open(':memory:');
  stores.push(store);
  return store;
}

describe('ContractResolver basics', () => {
  it('sends reqContractDetails through the session with its own request ids and collects every answer until the end', async () => {
    const { session, resolver } = setup({ reqIdRange: { from: 700, to: 702 } });
    session.book.set('ES', [fut('ES', '202403', '20240315', 11), fut('ES', '202406', '20240621', 12)]);
    const months = await resolver.resolve({ symbol: 'es', secType: 'FUT', exchange: 'cme', includeExpired: true });
    expect(session.requests).toHaveLength(1);
    expect(session.requests[0]!.reqId).toBe(700);
    expect(session.requests[0]!.contract).toEqual({ symbol: 'ES', secType: 'FUT', exchange: 'CME', includeExpired: true });
    expect(months.map((m) => [m.conId, m.localSymbol, m.lastTradeDate, m.contractMonth, m.multiplier, m.minTick])).toEqual([
      [11, 'ES202403', '20240315', '202403', 50, 0.25],
      [12, 'ES202406', '20240621', '202406', 50, 0.25],
    ]);
    const spy = await resolver.resolve(SPY);
    expect(spy).toEqual([
      {
        conId: session.book.get('SPY')![0]!.contract.conId,
        symbol: 'SPY',
        secType: 'STK',
        localSymbol: 'SPY',
        tradingClass: 'SPY',
        exchange: 'SMART',
        primaryExch: 'ARCA',
        currency: 'USD',
        multiplier: 1,
        minTick: 0.01,
        lastTradeDate: '',
        contractMonth: '',
        realExpirationDate: '',
        longName: 'SPY long name',
        timeZoneId: 'US/Eastern',
        tradingHours: '20240102:0400-20240102:2000;20240103:0400-20240103:2000',
        liquidHours: '20240102:0930-20240102:1600;20240103:0930-20240103:1600',
        validExchanges: 'SMART,ARCA',
        orderTypes: 'LMT,MKT',
        marketRuleIds: '26',
        underConId: 0,
      },
    ]);
    // ids wrap around inside the range
    await resolver.resolve(q('QQQ'));
    await resolver.resolve(q('IWM'));
    expect(session.requests.map((r) => r.reqId)).toEqual([700, 701, 702, 700]);
  });

  it('refuses bad options and queries that name nothing', () => {
    const scheduler = new FakeScheduler();
    const session = new FakeSession(scheduler);
    expect(() => new ContractResolver({ session, cacheSize: 0, maxConcurrent: 1.5, retries: -1, breaker: { failures: 0 } })).toThrow(ConfigError);
    const { resolver } = setup();
    return expect(resolver.resolve({ symbol: ' ', secType: 'STK' })).rejects.toBeInstanceOf(ConfigError);
  });

  it('builds one canonical key per query regardless of case and spacing', () => {
    expect(contractQueryKey({ symbol: ' spy ', secType: 'STK', exchange: 'smart', currency: 'usd' })).toBe(contractQueryKey(SPY));
    expect(contractQueryKey(SPY)).toBe('STK|SPY|SMART|USD||||');
    expect(contractQueryKey({ symbol: 'ES', secType: 'FUT', exchange: 'CME', includeExpired: true })).toBe('FUT|ES|CME|||||expired');
    expect(contractQueryKey({ symbol: 'ES', secType: 'FUT', conId: 5 })).not.toBe(contractQueryKey({ symbol: 'ES', secType: 'FUT' }));
  });

  it('keeps the date of an expiry field that carries a time, and refuses CONTFUT as a tradable contract', () => {
    const c = toResolvedContract(fut('ES', '202403', '20240315', 11, SecType.CONTFUT));
    expect(c.lastTradeDate).toBe('20240315');
    expect(() => toIbContract(c)).toThrow(expect.objectContaining({ code: 'IB_CONTFUT_NOT_TRADABLE' }));
    const f = toResolvedContract(fut('ES', '202403', '20240315', 11));
    expect(toIbContract(f)).toEqual({ conId: 11, symbol: 'ES', secType: 'FUT', exchange: 'CME', currency: 'USD', localSymbol: 'ES202403', lastTradeDateOrContractMonth: '20240315' });
  });

  it('rejects an IB error other than 200 at once, without retrying or recording the symbol', async () => {
    const { session, resolver } = setup();
    session.auto = false;
    const p = resolver.resolve(SPY);
    await vi.waitFor(() => expect(session.requests).toHaveLength(1), WAIT);
    session.api.fail(session.requests[0]!.reqId, 321, "Error validating request:-'bE' : cause - ...");
    await expect(p).rejects.toMatchObject({ code: 'IB_CONTRACT_REQUEST_FAILED', ibCode: 321 });
    expect(session.requests).toHaveLength(1);
    expect(resolver.invalidRecord(SPY)).toBeUndefined();
    // errors for other request ids (an order, a market data line) are not ours
    const p2 = resolver.resolve(SPY);
    await vi.waitFor(() => expect(session.requests).toHaveLength(2), WAIT);
    session.api.fail(42, 200, 'not ours');
    session.api.answer(session.requests[1]!.reqId, [stk('SPY', 1)]);
    expect(await p2).toHaveLength(1);
  });
});

describe('ContractResolver cache', () => {
  it('answers repeated queries from memory and hands out copies', async () => {
    const { session, resolver } = setup();
    const a = await resolver.resolve(SPY);
    a[0]!.conId = -1;
    const b = await resolver.resolve({ ...SPY, symbol: 'spy' });
    expect(session.requests).toHaveLength(1);
    expect(b[0]!.conId).toBe(session.book.get('SPY')![0]!.contract.conId);
    expect(resolver.stats()).toMatchObject({ memoryHits: 1, requests: 1 });
    // refresh asks again
    await resolver.resolve(SPY, { refresh: true });
    expect(session.requests).toHaveLength(2);
  });

  it('shares one request between identical concurrent queries', async () => {
    const { session, resolver } = setup();
    session.auto = false;
    const all = Promise.all([resolver.resolve(SPY), resolver.resolve(SPY), resolver.resolve({ ...SPY, symbol: ' spy' })]);
    await vi.waitFor(() => expect(session.requests).toHaveLength(1), WAIT);
    session.api.answer(session.requests[0]!.reqId, [stk('SPY', 7)]);
    expect((await all).map((r) => r[0]!.conId)).toEqual([7, 7, 7]);
    expect(session.requests).toHaveLength(1);
  });

  it('evicts the least recently used entry beyond cacheSize', async () => {
    const { session, resolver } = setup({ cacheSize: 2 });
    await resolver.resolve(q('SPY'));
    await resolver.resolve(q('QQQ'));
    await resolver.resolve(q('SPY')); // SPY is now the most recently used
    await resolver.resolve(q('IWM')); // evicts QQQ
    expect(resolver.cachedCount).toBe(2);
    expect(session.requests.map((r) => r.contract.symbol)).toEqual(['SPY', 'QQQ', 'IWM']);
    await resolver.resolve(q('SPY'));
    await resolver.resolve(q('IWM'));
    expect(session.requests).toHaveLength(3);
    await resolver.resolve(q('QQQ'));
    expect(session.requests.map((r) => r.contract.symbol)).toEqual(['SPY', 'QQQ', 'IWM', 'QQQ']);
  });

  it("answers a query naming a conId from another query's cached answer when every named field agrees", async () => {
    const { session, resolver } = setup({ ttlMs: 1000 });
    // market data resolves without a conId; the execution client then asks with it
    const [spy] = await resolver.resolve(SPY);
    const byId = await resolver.resolveOne({ ...SPY, conId: spy!.conId });
    expect(byId).toEqual(spy);
    expect(session.requests).toHaveLength(1);
    expect(resolver.stats()).toMatchObject({ memoryHits: 1, requests: 1 });
    // a field that disagrees (direct routing, another currency) is TWS's question, not the cache's
    await resolver.resolve({ ...SPY, exchange: 'ARCA', conId: spy!.conId });
    await resolver.resolve({ ...SPY, currency: 'EUR', conId: spy!.conId });
    expect(session.requests).toHaveLength(3);
  });

  it('asks again once an answer is ttlMs old', async () => {
    const { scheduler, session, resolver } = setup({ ttlMs: 1000 });
    await resolver.resolve(SPY);
    await scheduler.advance(999);
    await resolver.resolve(SPY);
    expect(session.requests).toHaveLength(1);
    await scheduler.advance(1);
    await resolver.resolve(SPY);
    expect(session.requests).toHaveLength(2);
    // the new answer starts a new TTL
    await scheduler.advance(999);
    await resolver.resolve(SPY);
    expect(session.requests).toHaveLength(2);
  });

  it('never caches CONTFUT: its conId moves with the roll', async () => {
    const { session, resolver } = setup();
    session.book.set('ES', [fut('ES', '202403', '20240315', 11, SecType.CONTFUT)]);
    const cont: ContractQuery = { symbol: 'ES', secType: 'CONTFUT', exchange: 'CME' };
    expect((await resolver.resolve(cont))[0]!.secType).toBe('CONTFUT');
    session.book.set('ES', [fut('ES', '202406', '20240621', 12, SecType.CONTFUT)]);
    expect((await resolver.resolve(cont))[0]!.conId).toBe(12);
    expect(session.requests).toHaveLength(2);
  });
});

describe('ContractResolver persistence', () => {
  it('persists answers and invalid symbols and reloads them in a new instance on the same store', async () => {
    const store = await openStore();
    const first = setup({ store });
    expect(await first.resolver.resolve(SPY)).toHaveLength(1);
    expect(await first.resolver.resolve(q('ZZZZ'))).toEqual([]);
    await first.resolver.flush();
    const rows = await store.all<{ query_key: string; answer: string }>('SELECT query_key, CAST(answer AS VARCHAR) AS answer FROM ib_contracts');
    expect(rows.map((r) => r.query_key)).toEqual([contractQueryKey(SPY)]);
    expect(JSON.parse(rows[0]!.answer)[0]).toMatchObject({ symbol: 'SPY', secType: 'STK' });
    const invalid = await store.all<Record<string, unknown>>('SELECT query_key, symbol, sec_type, code, reason, epoch_ms(recorded_at) AS at FROM ib_invalid_symbols');
    expect(invalid).toEqual([
      { query_key: contractQueryKey(q('ZZZZ')), symbol: 'ZZZZ', sec_type: 'STK', code: 200, reason: 'No security definition has been found for the request', at: T0 },
    ]);

    const second = setup({ store });
    expect(await second.resolver.load()).toBe(1);
    expect((await second.resolver.resolve(SPY))[0]!.symbol).toBe('SPY');
    expect(await second.resolver.resolve(q('ZZZZ'))).toEqual([]);
    expect(second.session.requests).toHaveLength(0);
    expect(second.resolver.invalidSymbols().map((r) => r.symbol)).toEqual(['ZZZZ']);
    await expect(second.resolver.resolveOne(q('ZZZZ'))).rejects.toBeInstanceOf(ContractNotFoundError);

    // a day later both are stale: asked again
    const third = setup({ store });
    third.scheduler.t = T0 + 86_400_000;
    await third.resolver.resolve(SPY);
    await third.resolver.resolve(q('ZZZZ'));
    expect(third.session.requests.map((r) => r.contract.symbol)).toEqual(['SPY', 'ZZZZ']);
  });

  it('finds an answer evicted from memory in the store', async () => {
    const store = await openStore();
    const { session, resolver } = setup({ store, cacheSize: 1 });
    await resolver.resolve(q('SPY'));
    await resolver.resolve(q('QQQ'));
    await resolver.resolve(q('SPY'));
    expect(session.requests).toHaveLength(2);
    expect(resolver.stats()).toMatchObject({ storeHits: 1, memoryHits: 0 });
  });

  it('forgets an invalid record when a refresh finds the contract', async () => {
    const store = await openStore();
    const { session, resolver } = setup({ store });
    expect(await resolver.resolve(q('NEWCO'))).toEqual([]);
    session.book.set('NEWCO', [stk('NEWCO', 99)]);
    expect(await resolver.resolve(q('NEWCO'))).toEqual([]); // known invalid: not asked
    expect((await resolver.resolve(q('NEWCO'), { refresh: true }))[0]!.conId).toBe(99);
    await resolver.flush();
    expect(await store.all('SELECT * FROM ib_invalid_symbols')).toEqual([]);
    expect(resolver.invalidRecord(q('NEWCO'))).toBeUndefined();
  });
});

describe('ContractResolver error 200 and resolveMany', () => {
  it('records 200 as invalid, returns [] and does not ask again; resolveOne throws ContractNotFoundError', async () => {
    const { session, resolver } = setup();
    expect(await resolver.resolve(q('ZZZZ'))).toEqual([]);
    expect(resolver.invalidRecord(q('ZZZZ'))).toMatchObject({ symbol: 'ZZZZ', secType: 'STK', code: 200, recordedAt: T0 });
    expect(await resolver.resolve(q('ZZZZ'))).toEqual([]);
    const err = await resolver.resolveOne(q('ZZZZ')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContractNotFoundError);
    expect(err).toMatchObject({ code: 'IB_CONTRACT_NOT_FOUND', reason: 'No security definition has been found for the request' });
    expect(session.requests).toHaveLength(1);
    expect(resolver.stats().invalid).toBe(1);
  });

  it('treats an empty answer (end without contracts) as not found', async () => {
    const { session, resolver } = setup();
    session.book.set('EMPTY', []);
    expect(await resolver.resolve(q('EMPTY'))).toEqual([]);
    expect(resolver.invalidRecord(q('EMPTY'))).toMatchObject({ code: undefined, reason: 'contractDetailsEnd without any contract' });
  });

  it('resolveOne refuses an ambiguous query', async () => {
    const { session, resolver } = setup();
    session.book.set('DUAL', [stk('DUAL', 1, 'USD'), stk('DUAL', 2, 'CAD')]);
    await expect(resolver.resolveOne({ symbol: 'DUAL', secType: 'STK' })).rejects.toMatchObject({ code: 'IB_CONTRACT_AMBIGUOUS' });
    expect((await resolver.resolveOne(SPY)).symbol).toBe('SPY');
  });

  it('resolveMany resolves what it can, skips known-invalid symbols and reports invalid and failed ones', async () => {
    const { scheduler, session, resolver } = setup({ retries: 0, requestTimeoutMs: 50 });
    await resolver.resolve(q('OLDBAD'));
    expect(session.requests).toHaveLength(1);
    session.book.set('SLOW', [stk('SLOW', 5)]);
    const real = session.api.reqContractDetails.bind(session.api);
    // SLOW never answers
    session.api.reqContractDetails = (reqId: number, contract: Contract) => {
      if (contract.symbol === 'SLOW') {
        session.api.requests.push({ reqId, contract, at: 0 });
        return session.api;
      }
      return real(reqId, contract);
    };
    const many = resolver.resolveMany(['spy', 'OLDBAD', 'NOPE', { symbol: 'QQQ', secType: 'STK', exchange: 'SMART', currency: 'USD' }, 'SLOW', { symbol: '', secType: 'STK' }]);
    await vi.waitFor(() => expect(session.requests.map((r) => r.contract.symbol)).toContain('SLOW'), WAIT);
    await scheduler.advance(50);
    const result = await many;
    expect(result.resolved.map((r) => [r.query.symbol, r.contracts[0]!.symbol])).toEqual([
      ['SPY', 'SPY'],
      ['QQQ', 'QQQ'],
    ]);
    expect(result.invalid).toEqual([
      { query: q('OLDBAD'), symbol: 'OLDBAD', reason: 'No security definition has been found for the request', known: true },
      { query: q('NOPE'), symbol: 'NOPE', reason: 'No security definition has been found for the request', known: false },
    ]);
    expect(result.failed.map((f) => [f.symbol, (f.error as { code?: string }).code])).toEqual([
      ['SLOW', 'IB_CONTRACT_TIMEOUT'],
      ['', 'CONFIG_INVALID'],
    ]);
    // OLDBAD was not asked again
    expect(session.requests.filter((r) => r.contract.symbol === 'OLDBAD')).toHaveLength(1);
  });
});

describe('ContractResolver concurrency, timeouts and retries', () => {
  it('keeps at most maxConcurrent requests in flight and queues the rest in order', async () => {
    const { session, resolver } = setup({ maxConcurrent: 2 });
    session.auto = false;
    const symbols = ['SPY', 'QQQ', 'IWM', 'AAPL', 'IBM'];
    const all = Promise.all(symbols.map((s) => resolver.resolve(q(s))));
    await vi.waitFor(() => expect(session.requests).toHaveLength(2), WAIT);
    await flush();
    expect(session.requests).toHaveLength(2);
    expect(resolver.inFlightCount).toBe(2);
    expect(resolver.queuedCount).toBe(3);
    let answered = 0;
    while (answered < symbols.length) {
      const r = session.requests[answered]!;
      session.api.answer(r.reqId, session.book.get(r.contract.symbol!)!);
      answered++;
      await vi.waitFor(() => expect(session.requests).toHaveLength(Math.min(symbols.length, answered + 2)), WAIT);
      expect(resolver.inFlightCount).toBeLessThanOrEqual(2);
    }
    expect((await all).map((r) => r[0]!.symbol)).toEqual(symbols);
    expect(session.requests.map((r) => r.contract.symbol)).toEqual(symbols);
    expect(resolver.queuedCount).toBe(0);
  });

  it('retries a timed-out request after an exponential delay and ignores the late answer', async () => {
    const { scheduler, session, resolver } = setup({ requestTimeoutMs: 100, retries: 3 });
    session.auto = false;
    const p = resolver.resolve(SPY);
    await vi.waitFor(() => expect(session.requests).toHaveLength(1), WAIT);
    await scheduler.advance(100); // timeout; retry 1 after 50 ms
    expect(session.requests).toHaveLength(1);
    await scheduler.advance(50);
    expect(session.requests).toHaveLength(2);
    await scheduler.advance(100 + 100); // timeout; retry 2 after 100 ms
    expect(session.requests).toHaveLength(3);
    expect(session.requests.map((r) => r.at - T0)).toEqual([0, 150, 350]);
    // the first request's answer arrives late: ignored
    session.api.answer(session.requests[0]!.reqId, [stk('SPY', 1)]);
    session.api.answer(session.requests[2]!.reqId, [stk('SPY', 3)]);
    expect((await p)[0]!.conId).toBe(3);
    expect(resolver.stats()).toMatchObject({ timeouts: 2, retries: 2, requests: 3 });
    expect(new Set(session.requests.map((r) => r.reqId)).size).toBe(3);
  });

  it('gives up with IB_CONTRACT_TIMEOUT after retries + 1 attempts', async () => {
    const { scheduler, session, resolver } = setup({ requestTimeoutMs: 100, retries: 2 });
    session.auto = false;
    const p = resolver.resolve(SPY).catch((e: unknown) => e);
    await vi.waitFor(() => expect(session.requests).toHaveLength(1), WAIT);
    await scheduler.advance(100 + 50 + 100 + 100 + 100);
    const err = await p;
    expect(err).toBeInstanceOf(ContractResolveError);
    expect(err).toMatchObject({ code: 'IB_CONTRACT_TIMEOUT', message: expect.stringContaining('3 attempts') });
    expect(session.requests).toHaveLength(3);
    expect(scheduler.pending).toBe(0);
  });

  it('retries requests lost with the connection on the next connection', async () => {
    const { scheduler, session, resolver } = setup({ requestTimeoutMs: 1000, retries: 3 });
    session.auto = false;
    const p = resolver.resolve(SPY);
    await vi.waitFor(() => expect(session.requests).toHaveLength(1), WAIT);
    session.drop(); // the in-flight request is failed at once, not after its timeout
    expect(resolver.inFlightCount).toBe(0);
    await scheduler.advance(50); // retry 1: session not connected
    expect(session.requests).toHaveLength(1);
    session.reconnect();
    session.auto = true;
    await scheduler.advance(100); // retry 2 goes out on the new IBApi
    expect((await p)[0]!.symbol).toBe('SPY');
    expect(session.apis[1]!.requests).toHaveLength(1);
    expect(resolver.stats()).toMatchObject({ disconnects: 2, retries: 2 });
  });

  it('fails with IB_CONTRACT_DISCONNECTED when the session stays down, and close() ends pending work', async () => {
    const { scheduler, session, resolver } = setup({ retries: 1 });
    session.usable = false;
    const p = resolver.resolve(SPY).catch((e: unknown) => e);
    await flush();
    await scheduler.advance(50);
    expect(await p).toMatchObject({ code: 'IB_CONTRACT_DISCONNECTED', message: expect.stringContaining('session not connected') });

    session.usable = true;
    session.auto = false;
    const pending = resolver.resolve(q('QQQ')).catch((e: unknown) => e);
    await vi.waitFor(() => expect(session.requests).toHaveLength(1), WAIT);
    resolver.close();
    expect(await pending).toMatchObject({ code: 'IB_CONTRACT_CLOSED' });
    await expect(resolver.resolve(SPY)).rejects.toMatchObject({ code: 'IB_CONTRACT_CLOSED' });
    expect(session.api.listenerCount(EventName.contractDetails)).toBe(0);
  });
});

describe('ContractResolver circuit breaker', () => {
  it('opens after N consecutive failures, fails fast, lets one probe through after openMs, reopens or closes on its outcome', async () => {
    const { scheduler, session, resolver } = setup({ requestTimeoutMs: 10, retries: 0, breaker: { failures: 3, openMs: 1000 } });
    session.auto = false;
    // a 200 is an answer: it does not count as a failure
    for (const s of ['A', 'B']) {
      const n = session.requests.length;
      const p = resolver.resolve(q(s)).catch((e: unknown) => e);
      await vi.waitFor(() => expect(session.requests).toHaveLength(n + 1), WAIT);
      await scheduler.advance(10);
      expect(await p).toMatchObject({ code: 'IB_CONTRACT_TIMEOUT' });
    }
    const ok = resolver.resolve(q('C'));
    await vi.waitFor(() => expect(session.requests).toHaveLength(3), WAIT);
    session.api.notFound(session.requests[2]!.reqId);
    expect(await ok).toEqual([]);
    expect(resolver.breakerState).toBe('closed');

    for (const s of ['D', 'E', 'F']) {
      const n = session.requests.length;
      const p = resolver.resolve(q(s)).catch((e: unknown) => e);
      await vi.waitFor(() => expect(session.requests).toHaveLength(n + 1), WAIT);
      await scheduler.advance(10);
      await p;
    }
    expect(resolver.breakerState).toBe('open');
    const sent = session.requests.length;
    const fast = await resolver.resolve(q('G')).catch((e: unknown) => e);
    expect(fast).toBeInstanceOf(CircuitOpenError);
    expect(fast).toMatchObject({ code: 'IB_CIRCUIT_OPEN', retryAt: scheduler.t + 1000 });
    expect(session.requests).toHaveLength(sent);

    // half-open: one probe; a second request meanwhile is refused
    await scheduler.advance(1000);
    expect(resolver.breakerState).toBe('half-open');
    const probe = resolver.resolve(q('H')).catch((e: unknown) => e);
    await vi.waitFor(() => expect(session.requests).toHaveLength(sent + 1), WAIT);
    expect(await resolver.resolve(q('I')).catch((e: unknown) => e)).toBeInstanceOf(CircuitOpenError);
    await scheduler.advance(10); // the probe times out: open again for openMs
    expect(await probe).toMatchObject({ code: 'IB_CONTRACT_TIMEOUT' });
    expect(resolver.breakerState).toBe('open');
    await scheduler.advance(999);
    expect(await resolver.resolve(q('J')).catch((e: unknown) => e)).toBeInstanceOf(CircuitOpenError);
    await scheduler.advance(1);

    // the next probe succeeds: closed, traffic flows
    session.auto = true;
    expect((await resolver.resolve(q('SPY')))[0]!.symbol).toBe('SPY');
    expect(resolver.breakerState).toBe('closed');
    expect(await resolver.resolve(q('QQQ'))).toHaveLength(1);
    expect(resolver.stats().shortCircuited).toBe(3);
  });

  it('stops retrying once the breaker opens', async () => {
    const { scheduler, session, resolver } = setup({ requestTimeoutMs: 10, retries: 5, breaker: { failures: 2, openMs: 5000 } });
    session.auto = false;
    const p = resolver.resolve(SPY).catch((e: unknown) => e);
    await vi.waitFor(() => expect(session.requests).toHaveLength(1), WAIT);
    await scheduler.advance(10 + 50 + 10);
    // the request that opened the breaker reports its own failure, without waiting for another delay
    expect(await p).toMatchObject({ code: 'IB_CONTRACT_TIMEOUT', message: expect.stringContaining('circuit open') });
    expect(session.requests).toHaveLength(2);
    expect(scheduler.pending).toBe(0);
    expect(await resolver.resolve(SPY).catch((e: unknown) => e)).toBeInstanceOf(CircuitOpenError);
  });
});
