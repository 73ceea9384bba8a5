import { EventEmitter } from 'node:events';
import type { IBApi } from '@stoqey/ib';
import { describe, expect, it } from 'vitest';
import { getCalendar, type Session } from '../../lib/calendar/index.js';
import type { Interval } from '../../lib/data/interval.js';
import { LiveFeed } from '../../lib/engine/live-feed.js';
import { ManualTime } from '../../lib/engine/manual-time.js';
import type { ResolvedBarSubscription } from '../../lib/engine/ports.js';
import { ContractNotFoundError, type ContractQuery, type ResolvedContract } from '../../lib/ib/contract-resolver.js';
import type { IbConnection } from '../../lib/ib/ib-session.js';
import type { Bar } from '../../lib/model/market.js';
import { aggregateMinutes, IbMarketData, StaleMonitor, universeInstruments, type IbMarketDataOptions, type MarketDataIssue, type MarketDataSession, type PlainBar } from './ib-market-data.js';

const MIN = 60_000;
/** Tuesday 2024-01-02 10:00 New York */
const T = Date.UTC(2024, 0, 2, 15, 0);

// ---------------------------------------------------------------------------------------------
// StaleMonitor

describe('StaleMonitor', () => {
  const nyse = getCalendar('XNYS');
  const open930 = Date.UTC(2024, 0, 2, 14, 30);

  it('reports an instrument quiet for staleMs of open market time, once, and fresh when data returns', () => {
    const events: string[] = [];
    const m = new StaleMonitor({ staleMs: 30_000, onStale: (i, since) => events.push(`stale ${i} ${since}`), onFresh: (i) => events.push(`fresh ${i}`) });
    const t0 = open930 + 60 * MIN;
    m.add('AAA', nyse, t0);
    m.add('BBB', nyse, t0);
    expect(m.check(t0 + 29_999)).toEqual([]);
    m.touch('BBB', t0 + 20_000);
    expect(m.check(t0 + 30_000)).toEqual(['AAA']);
    expect(m.check(t0 + 40_000)).toEqual([]); // reported once
    expect(m.check(t0 + 50_000)).toEqual(['BBB']);
    expect(m.staleKeys()).toEqual(['AAA', 'BBB']);
    m.touch('AAA', t0 + 60_000);
    expect(m.isStale('AAA')).toBe(false);
    expect(m.lastUpdate('AAA')).toBe(t0 + 60_000);
    expect(events).toEqual([`stale AAA ${t0}`, `stale BBB ${t0 + 20_000}`, 'fresh AAA']);
  });

  it('counts quiet time from the session open, never while the market is closed', () => {
    const stale: string[] = [];
    const m = new StaleMonitor({ staleMs: 30_000, onStale: (i) => stale.push(i) });
    const night = Date.UTC(2024, 0, 2, 3); // 22:00 New York the evening before
    m.add('AAA', nyse, night);
    expect(m.check(open930 - 1)).toEqual([]); // hours of silence, market closed
    expect(m.check(open930 + 29_999)).toEqual([]); // quiet since the open only
    expect(m.check(open930 + 30_000)).toEqual(['AAA']);
    // after the close: a fresh instrument that goes quiet is not stale
    const close = Date.UTC(2024, 0, 2, 21);
    m.add('BBB', nyse, close - 10_000);
    expect(m.check(close + 3_600_000)).toEqual([]);
    // a stale one stays stale through the close until data returns
    expect(m.isStale('AAA')).toBe(true);
    m.remove('AAA');
    expect(m.has('AAA')).toBe(false);
  });

  it('resumes counting at the end of a break, and without a calendar the market is always open', () => {
    const brk: Session = { date: '2024-01-02', open: 0, close: 100 * MIN, breakStart: 40 * MIN, breakEnd: 50 * MIN, earlyClose: false };
    const cal = { isOpen: (t: number) => t >= brk.open && t < brk.close && !(t >= brk.breakStart! && t < brk.breakEnd!), sessionAt: (t: number) => (t >= brk.open && t < brk.close ? brk : undefined) };
    const m = new StaleMonitor({ staleMs: 60_000 });
    m.add('FUT', cal, 39 * MIN);
    expect(m.check(45 * MIN)).toEqual([]);
    expect(m.check(50 * MIN + 59_999)).toEqual([]);
    expect(m.check(51 * MIN)).toEqual(['FUT']);
    const always = new StaleMonitor({ staleMs: 1000 });
    always.add('X', undefined, 0);
    expect(always.check(1000)).toEqual(['X']);
    expect(() => new StaleMonitor({ staleMs: 0 })).toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------
// IbMarketData against a fake session and IBApi

type Call = [string, ...unknown[]];

/** Records the requests; answers reqHistoricalData through `history` (default: no bars). */
class FakeApi extends EventEmitter {
  calls: Call[] = [];
  history: (reqId: number, end: string, duration: string) => PlainBar[] | { code: number; message: string } = () => [];
  private rec(name: string, ...args: unknown[]) {
    this.calls.push([name, ...args]);
  }
  reqMktData(...a: unknown[]) {
    this.rec('reqMktData', ...a);
  }
  cancelMktData(...a: unknown[]) {
    this.rec('cancelMktData', ...a);
  }
  reqRealTimeBars(...a: unknown[]) {
    this.rec('reqRealTimeBars', ...a);
  }
  cancelRealTimeBars(...a: unknown[]) {
    this.rec('cancelRealTimeBars', ...a);
  }
  reqMktDepth(...a: unknown[]) {
    this.rec('reqMktDepth', ...a);
  }
  cancelMktDepth(...a: unknown[]) {
    this.rec('cancelMktDepth', ...a);
  }
  cancelHistoricalData(...a: unknown[]) {
    this.rec('cancelHistoricalData', ...a);
  }
  reqHistoricalData(reqId: number, _c: unknown, end: string, duration: string, ...rest: unknown[]) {
    this.rec('reqHistoricalData', reqId, end, duration, ...rest);
    const answer = this.history(reqId, end, duration);
    queueMicrotask(() => {
      if ('code' in answer) return void this.emit('error', new Error(answer.message), answer.code, reqId);
      for (const b of answer) this.emit('historicalData', reqId, String(b.ts / 1000), b.open, b.high, b.low, b.close, b.volume / 100);
      this.emit('historicalData', reqId, 'finished-x-y', -1, -1, -1, -1, -1);
    });
  }
  /** Request ids of one request type */
  ids(name: string): number[] {
    return this.calls.filter((c) => c[0] === name).map((c) => c[1] as number);
  }
  last(name: string): Call | undefined {
    return this.calls.filter((c) => c[0] === name).at(-1);
  }
}

class FakeSession implements MarketDataSession {
  api: IBApi | undefined;
  private readonly connectionListeners: ((c: IbConnection) => void)[] = [];
  private readonly resubs: (() => void)[] = [];

  request(send: (api: IBApi) => void): boolean {
    if (!this.api) return false;
    send(this.api);
    return true;
  }
  on(event: string, listener: (payload: never) => void): () => void {
    if (event === 'connection') this.connectionListeners.push(listener as (c: IbConnection) => void);
    return () => undefined;
  }
  registerResubscribe(_name: string, fn: () => void): () => void {
    this.resubs.push(fn);
    return () => undefined;
  }
  ready(): Promise<void> {
    return Promise.resolve();
  }
  /** A new connection (reconnect: the resubscribe callbacks run after the connection event) */
  connect(api: FakeApi, reconnect: boolean): void {
    this.api = api as unknown as IBApi;
    for (const l of this.connectionListeners) l({ api: this.api, clientId: 1, nextValidId: 1, reconnect, at: 0 });
    if (reconnect) for (const r of this.resubs) r();
  }
}

function contract(symbol: string, conId: number): ResolvedContract {
  return {
    conId,
    symbol,
    secType: 'STK',
    localSymbol: symbol,
    tradingClass: symbol,
    exchange: 'SMART',
    primaryExch: 'NYSE',
    currency: 'USD',
    multiplier: 1,
    minTick: 0.01,
    lastTradeDate: '',
    contractMonth: '',
    realExpirationDate: '',
    longName: symbol,
    timeZoneId: 'US/Eastern',
    tradingHours: '',
    liquidHours: '',
    validExchanges: 'SMART',
    orderTypes: '',
    marketRuleIds: '',
    underConId: 0,
  };
}

const resolver = {
  resolveOne: async (q: ContractQuery) => {
    if (q.symbol === 'ZZZZ') throw new ContractNotFoundError(q, 'No security definition has been found for the request');
    return contract(q.symbol, q.symbol.charCodeAt(0));
  },
};

async function setup(symbols: string[], options: Partial<IbMarketDataOptions> = {}, data: Partial<IbMarketDataOptions['data']> = {}, start = T) {
  const time = new ManualTime(start);
  const session = new FakeSession();
  const api = new FakeApi();
  session.connect(api, false);
  const issues: MarketDataIssue[] = [];
  const stale: string[] = [];
  const md = new IbMarketData({
    session,
    resolver,
    instruments: universeInstruments({ symbols, secType: 'STK', exchange: 'SMART', currency: 'USD' }),
    data: { lineBudget: 100, staleSeconds: 30, depth: [], realtimeBars: true, ...data },
    scheduler: time,
    calendar: () => undefined,
    onIssue: (i) => issues.push(i),
    onStale: (i) => stale.push(`stale ${i}`),
    onFresh: (i) => stale.push(`fresh ${i}`),
    ...options,
  });
  await md.start();
  const feed = new LiveFeed({ clock: time, scheduler: time });
  const client = md.dataClient(feed);
  const got: Bar[] = [];
  /** The kernel's way in: history, then the live subscription; delivered bars land in `got` */
  const subscribe = async (instrument: string, interval: Interval, count = 3) => {
    const spec = await client.resolve(instrument);
    const sub: ResolvedBarSubscription = { instrument: spec.key, instrumentIndex: 0, interval, kind: 'trade', priority: 0 };
    const history = await client.history(sub, count, time.now());
    const target = { instrument: spec.key, interval } as Bar;
    const handle = await client.subscribeBars(sub, time.now(), target, () => got.push({ ...target }));
    return { history, handle };
  };
  /** Delivers what the feed buffered */
  const drain = () => {
    while (feed.buffered > 0) feed.dispatch();
    return got.map((b) => [b.interval, (b.ts - T) / MIN, b.open, b.high, b.low, b.close, b.volume]);
  };
  return { time, session, api, md, issues, stale, client, subscribe, drain, got };
}

const settle = () => new Promise<void>((r) => setImmediate(r));

/** Twelve 5 s bars of one minute (flat at `price`, `lots` each) arriving `lagMs` after their end */
function emitMinute(f: { api: FakeApi; time: ManualTime }, reqId: number, minuteStart: number, price: number, lots = 1, lagMs = 200, slots = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) {
  for (const k of slots) {
    const t = minuteStart + k * 5000;
    f.time.set(t + 5000 + lagMs);
    f.api.emit('realtimeBar', reqId, t / 1000, price, price + 0.05, price - 0.05, price, lots, price, -1);
  }
}

function l1OfApi(api: FakeApi, symbol: string): number {
  return api.calls.find((c) => c[0] === 'reqMktData' && (c[2] as { symbol: string }).symbol === symbol)![1] as number;
}
const l1Of = l1OfApi;

const minute = (ts: number, close: number, volume = 1200): PlainBar => ({ ts, open: close - 0.1, high: close + 0.2, low: close - 0.2, close, volume });

describe('IbMarketData (fake session)', () => {
  it('plans the lines, resolves, asks for L1 (and depth) of the subscribed instruments only', async () => {
    const f = await setup(['AAA', 'BBB', 'CCC'], { positions: ['CCC'] }, { lineBudget: 4, depth: ['CCC', 'AAA'] });
    const st = f.md.status();
    expect(st.allocation!.subscribed.map((g) => g.symbol)).toEqual(['CCC', 'AAA']);
    expect(st.notSubscribed).toEqual([{ instrument: 'BBB', reason: 'line budget 4 used up: 4 lines for 2 instruments, 2 per instrument' }]);
    expect(f.api.calls.filter((c) => c[0] === 'reqMktData').map((c) => (c[2] as { symbol: string }).symbol).sort()).toEqual(['AAA', 'CCC']);
    expect(f.api.calls.filter((c) => c[0] === 'reqMktDepth').map((c) => [(c[2] as { symbol: string }).symbol, c[3]])).toEqual(expect.arrayContaining([['CCC', 5], ['AAA', 5]]));
    expect(st.linesUsed).toBe(2); // bars follow the kernel's subscriptions
    expect(st.depthUsed).toBe(2);
    // L1 ticks make the quote
    const [l1] = f.api.ids('reqMktData');
    f.api.emit('tickPrice', l1, 1, 99.5);
    f.api.emit('tickPrice', l1, 2, 99.6);
    f.api.emit('tickSize', l1, 0, 300);
    f.api.emit('tickPrice', l1, 4, 99.55);
    const key = f.api.calls.find((c) => c[0] === 'reqMktData' && c[1] === l1)![2] as { symbol: string };
    expect(f.md.quote(key.symbol)).toMatchObject({ bid: 99.5, ask: 99.6, bidSize: 300, last: 99.55, ts: T });
    expect(f.md.status().instruments.find((i) => i.instrument === key.symbol)!.streams.l1).toBe('active');
    expect(f.md.quote('BBB')).toBeUndefined();
    f.md.stop();
    expect(f.api.ids('cancelMktData').sort()).toEqual(f.api.ids('reqMktData').sort());
  });

  it('reports 101 / 309 / 200 / 162 / 354 for the instrument concerned, ignores warnings, never throws', async () => {
    const f = await setup(['AAA', 'ZZZZ', 'CCC', 'DDD'], {}, { depth: ['AAA'] });
    expect(f.issues.map((i) => [i.instrument, i.stream, i.code])).toEqual([['ZZZZ', 'contract', 200]]);
    const l1Of = (sym: string) => l1OfApi(f.api, sym);
    f.api.emit('error', new Error('Max number of tickers has been reached'), 101, l1Of('CCC'));
    f.api.emit('error', new Error('Max number (3) of market depth requests has been reached'), 309, f.api.ids('reqMktDepth')[0]);
    f.api.emit('error', new Error('Requested market data is not subscribed'), 354, l1Of('DDD'));
    f.api.emit('error', new Error('Market data farm connection is OK:usfarm'), 2104, -1);
    f.api.emit('error', new Error('Displaying delayed market data'), 10167, l1Of('AAA'));
    await f.subscribe('AAA', '1m');
    const [bars] = f.api.ids('reqRealTimeBars');
    f.api.emit('error', new Error('Historical Market Data Service error message:No market data permissions'), 162, bars);
    expect(f.issues.slice(1).map((i) => [i.instrument, i.stream, i.code])).toEqual([
      ['CCC', 'l1', 101],
      ['AAA', 'depth', 309],
      ['DDD', 'l1', 354],
      ['AAA', 'bars', 162],
    ]);
    const st = f.md.status();
    expect(st.notSubscribed.map((n) => n.instrument)).toEqual(['ZZZZ', 'CCC', 'DDD']);
    expect(st.instruments.find((i) => i.instrument === 'AAA')!.streams).toEqual({ l1: 'requested', bars: 'failed', depth: 'failed' });
    expect(st.linesUsed).toBe(1);
    // messages of a failed request are not ours any more
    f.api.emit('realtimeBar', bars, T / 1000, 1, 1, 1, 1, 1, 1, -1);
    expect(f.md.status().instruments.find((i) => i.instrument === 'AAA')!.streams.bars).toBe('failed');
    // the next resubscription asks again, with new ids
    const before = f.api.calls.length;
    const api2 = new FakeApi();
    f.session.connect(api2, true);
    expect(f.api.calls.length).toBe(before);
    expect(api2.calls.map((c) => [c[0], (c[2] as { symbol: string }).symbol]).sort()).toEqual([
      ['reqMktData', 'AAA'],
      ['reqMktData', 'CCC'],
      ['reqMktData', 'DDD'],
      ['reqMktDepth', 'AAA'],
      ['reqRealTimeBars', 'AAA'],
    ]);
    for (const id of api2.calls.map((c) => c[1])) expect(f.api.calls.map((c) => c[1])).not.toContain(id);
    await expect(f.md.resolve('ZZZZ')).rejects.toThrow(ContractNotFoundError);
    await expect(f.md.resolve('NOPE')).rejects.toThrow(/not in the market-data universe/);
  });

  it('warm start from 1-minute history; the live stream joins it: a partial first minute is replaced by history, bars in lots become shares', async () => {
    const f = await setup(['AAA']);
    f.time.set(T + 30_000); // 10:00:30
    const warm = [minute(T - 3 * MIN, 10), minute(T - 2 * MIN, 11), minute(T - MIN, 12), minute(T, 13)];
    f.api.history = (_id, end) => (end === '' ? [minute(T, 13), minute(T + MIN, 14)] : warm);
    const { history } = await f.subscribe('AAA', '1m', 3);
    // the last 3 minutes closed by 10:00:30 (10:00 has not closed)
    expect([...history.ts].map((t) => (t - T) / MIN)).toEqual([-3, -2, -1]);
    expect([...history.volume]).toEqual([1200, 1200, 1200]);
    const hist = f.api.last('reqHistoricalData')!;
    expect(hist.slice(4)).toEqual(['1 min', 'TRADES', 0, 2, false]);
    const [rt] = f.api.ids('reqRealTimeBars');
    expect(f.api.last('reqRealTimeBars')!.slice(3)).toEqual([5, 'TRADES', false]);

    // the stream starts at 10:00:35: minute 10:00 is partial
    emitMinute(f, rt!, T, 50, 1, 200, [7, 8, 9, 10, 11]);
    await settle();
    // backfill asked for the minutes since the last delivered one (09:59 closed at 10:00)
    const backfill = f.api.last('reqHistoricalData')!;
    expect(backfill[2]).toBe('');
    expect(backfill[3]).toMatch(/^\d+ S$/);
    // 10:01 from the stream: 12 bars of 3 lots = 3600 shares
    emitMinute(f, rt!, T + MIN, 15, 3);
    expect(f.drain()).toEqual([
      ['1m', 0, 12.9, 13.2, 12.8, 13, 1200],
      ['1m', 1, 15, 15.05, 14.95, 15, 3600],
    ]);
    expect(f.md.status().instruments[0]!.minutes).toBe(5);
  });

  it('after a reconnect: new request ids, stream minutes wait while the missed ones are backfilled, all in order', async () => {
    const f = await setup(['AAA']);
    f.time.set(T);
    await f.subscribe('AAA', '1m');
    const [rt1] = f.api.ids('reqRealTimeBars');
    emitMinute(f, rt1!, T, 20); // starts on the minute: complete, nothing to backfill
    await settle();
    emitMinute(f, rt1!, T + MIN, 21);
    expect(f.drain().map((b) => b[1])).toEqual([0, 1]);

    const api2 = new FakeApi();
    const releaseBackfill: (() => void)[] = [];
    api2.history = () => [minute(T + 2 * MIN, 22), minute(T + 3 * MIN, 23), minute(T + 4 * MIN, 24)];
    const emit = api2.emit.bind(api2);
    // hold the backfill's answer until told
    api2.emit = ((event: string, ...args: unknown[]) => {
      if (event === 'historicalData' || event === 'error') releaseBackfill.push(() => void emit(event, ...args));
      else emit(event, ...args);
      return true;
    }) as typeof api2.emit;
    f.time.set(T + 5 * MIN);
    f.session.connect(api2, true);
    const [rt2] = api2.ids('reqRealTimeBars');
    expect(rt2).not.toBe(rt1);
    // the old connection's messages are ignored
    f.api.emit('realtimeBar', rt1, (T + 5 * MIN) / 1000, 1, 1, 1, 1, 1, 1, -1);
    emitMinute({ api: api2, time: f.time }, rt2!, T + 5 * MIN, 25);
    await settle();
    emitMinute({ api: api2, time: f.time }, rt2!, T + 6 * MIN, 26);
    expect(f.drain().map((b) => b[1])).toEqual([0, 1]); // 5 and 6 wait for the backfill
    for (const r of releaseBackfill) r();
    await settle();
    expect(f.drain().map((b) => [b[1], b[5]])).toEqual([
      [0, 20],
      [1, 21],
      [2, 22],
      [3, 23],
      [4, 24],
      [5, 25],
      [6, 26],
    ]);
    expect(f.md.status().instruments[0]!.streams.bars).toBe('active');
  });

  it('a gap in the 5 s stream restarts it (the hole is backfilled); a failed backfill is reported and the stream goes on', async () => {
    const f = await setup(['AAA']);
    f.time.set(T);
    await f.subscribe('AAA', '1m');
    const [rt] = f.api.ids('reqRealTimeBars');
    emitMinute(f, rt!, T, 20);
    emitMinute(f, rt!, T + MIN, 21, 1, 200, [0, 1, 2, 3]); // then the stream stops for a while
    f.api.history = () => ({ code: 162, message: 'Historical Market Data Service error message:HMDS query returned no data' });
    emitMinute(f, rt!, T + 3 * MIN, 23, 1, 200, [6, 7, 8, 9, 10, 11]);
    await settle();
    emitMinute(f, rt!, T + 4 * MIN, 24);
    await settle();
    // 10:01 (partial) and 10:02 (missing) are not invented; no data is an answer, not an issue
    expect(f.drain().map((b) => b[1])).toEqual([0, 4]);
    expect(f.issues).toEqual([]);
    f.api.history = () => ({ code: 366, message: 'No historical data query found for ticker id' });
    emitMinute(f, rt!, T + 6 * MIN, 26, 1, 200, [6, 7, 8, 9, 10, 11]);
    await settle();
    emitMinute(f, rt!, T + 7 * MIN, 27);
    await settle();
    expect(f.drain().map((b) => b[1])).toEqual([0, 4, 7]);
    expect(f.issues.map((i) => [i.stream, i.code])).toEqual([['backfill', 366]]);
  });

  it('flush closes a minute whose last 5 s bar never came, grace + the observed lag after its end', async () => {
    const f = await setup(['AAA'], { graceMs: 2000, tickMs: 250 });
    f.time.set(T);
    await f.subscribe('AAA', '1m');
    const [rt] = f.api.ids('reqRealTimeBars');
    emitMinute(f, rt!, T, 20, 1, 1500);
    emitMinute(f, rt!, T + MIN, 21, 1, 1500, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    await f.time.advanceTo(T + 2 * MIN + 3400);
    expect(f.drain().map((b) => b[1])).toEqual([0]);
    await f.time.advanceTo(T + 2 * MIN + 3600);
    expect(f.drain().map((b) => b[1])).toEqual([0, 1]);
  });

  it('a bursty stream (accelerated replay) loses no minute to the flush timer; a stream that pauses is still flushed', async () => {
    // The replay simulator at 3000x: its timer sends every 250 real ms the 5 s bars whose minute has
    // closed (one minute late), i.e. bursts of 150 bars, while the clock runs 750 s between bursts.
    // The flush timer ticks every 1000 real ms. Flushing by the clock alone there closed the open
    // minute and the next ones before their bars came (cut short; about 10 minutes dropped per tick).
    const speed = 3000;
    const real = new ManualTime(0);
    const now = () => T + real.now() * speed;
    const f = await setup(['AAA'], { scheduler: real, now, graceMs: 2000, tickMs: 1000 });
    await f.subscribe('AAA', '1m');
    const [rt] = f.api.ids('reqRealTimeBars');
    let next = T;
    // minute m trades flat at 100 + m
    const pump = () => {
      for (; next + MIN <= now(); next += 5000) {
        const p = 100 + Math.floor((next - T) / MIN);
        f.api.emit('realtimeBar', rt!, next / 1000, p, p, p, p, 1, p, -1);
      }
    };
    for (let k = 1; k <= 40; k++) {
      await real.advanceTo(k * 250);
      pump();
    }
    // 10 real s = 30 000 s replayed: bars up to 29 940 s sent, minutes 0..498 complete, 499 open
    const closes = (bars: unknown[][]) => bars.map((b) => b[5]);
    expect(closes(f.drain())).toEqual(Array.from({ length: 499 }, (_, m) => 100 + m));
    // the stream pauses: quiet for a tick, minute 499 (one 5 s bar) is overdue and flushed
    await real.advanceTo(12_000);
    expect(closes(f.drain())).toEqual(Array.from({ length: 500 }, (_, m) => 100 + m));
  });

  it('derived 5m bars: complete buckets from the warm-start minutes on, equal to aggregating the same minutes', async () => {
    const f = await setup(['AAA']);
    f.time.set(T + 2 * MIN + 10_000); // 10:02:10
    const warm = Array.from({ length: 32 }, (_, k) => minute(T - 30 * MIN + k * MIN, 100 + k));
    f.api.history = (_id, end) => (end === '' ? [] : warm);
    const { history } = await f.subscribe('AAA', '5m', 2);
    expect([...history.ts].map((t) => (t - T) / MIN)).toEqual([-10, -5]);
    const [rt] = f.api.ids('reqRealTimeBars');
    for (let m = 2; m < 11; m++) {
      emitMinute(f, rt!, T + m * MIN, 200 + m);
      await settle();
    }
    f.drain();
    const fives = f.got.filter((b) => b.interval === '5m');
    expect(fives.map((b) => (b.ts - T) / MIN)).toEqual([0, 5]);
    // 10:00 bucket: 10:00 and 10:01 from history, 10:02..10:04 live
    const mins = [...warm.slice(30), ...[2, 3, 4, 5, 6, 7, 8, 9].map((m) => ({ ts: T + m * MIN, open: 200 + m, high: 200.05 + m, low: 199.95 + m, close: 200 + m, volume: 1200 }))];
    const want = aggregateMinutes(mins, '5m', T + 11 * MIN);
    expect(fives.map((b) => [b.ts, b.open, b.high, b.low, b.close, b.volume])).toEqual(want.map((b) => [b.ts, b.open, b.high, b.low, b.close, b.volume]));
  });

  it('realtimeBars: false builds the minutes from L1 last-trade ticks, one line per instrument', async () => {
    const f = await setup(['AAA'], {}, { realtimeBars: false });
    await f.subscribe('AAA', '1m');
    expect(f.api.ids('reqRealTimeBars')).toEqual([]);
    expect(f.md.status().linesUsed).toBe(1);
    const l1 = l1Of(f.api, 'AAA');
    const trade = (at: number, price: number, size: number) => {
      f.time.set(at);
      f.api.emit('tickPrice', l1, 4, price);
      f.api.emit('tickSize', l1, 5, size);
    };
    trade(T, 10, 100);
    trade(T + 20_000, 11, 50);
    trade(T + 40_000, 9.5, 5);
    trade(T + MIN, 12, 10);
    await settle();
    expect(f.drain()).toEqual([['1m', 0, 10, 11, 9.5, 9.5, 155]]);
  });

  it('reports stale instruments from its timer while their market is open, and fresh when data returns', async () => {
    const stale: string[] = [];
    // 09:00 New York: closed until 09:30
    const t0 = Date.UTC(2024, 0, 2, 14, 0);
    const f = await setup(['AAA', 'BBB'], { calendar: () => getCalendar('XNYS'), tickMs: 1000, onStale: (i) => stale.push(`stale ${i}`), onFresh: (i) => stale.push(`fresh ${i}`) }, {}, t0);
    const a = l1Of(f.api, 'AAA');
    const b = l1Of(f.api, 'BBB');
    const open = Date.UTC(2024, 0, 2, 14, 30);
    for (let t = t0; t < open + 29_000; t += 10_000) {
      await f.time.advanceTo(t);
      f.api.emit('tickPrice', a, 4, 10);
    }
    await f.time.advanceTo(open + 29_000);
    expect(stale).toEqual([]);
    await f.time.advanceTo(open + 31_000);
    expect(stale).toEqual(['stale BBB']);
    expect(f.md.status().stale).toEqual(['BBB']);
    f.api.emit('tickSize', b, 8, 1000);
    expect(stale).toEqual(['stale BBB', 'fresh BBB']);
    expect(f.md.isStale('BBB')).toBe(false);
    f.md.stop();
    expect(f.time.pending).toBe(0);
  });
});
