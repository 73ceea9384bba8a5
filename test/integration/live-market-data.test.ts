/**
 * IbMarketData over REAL TCP against the TWS simulator, driven by a real live Kernel: real SPY and
 * IBM (and AIG, BAC) minute trades of 2013-10-08 replayed from 09:31 New York at 60x, a session,
 * a contract resolver, IbMarketData and its PushDataClient feeding the kernel's LiveFeed, and a
 * recording strategy. The engine's clock is the simulator's replay clock, so engine time is
 * simulated time.
 *
 * - warm start: the kernel's history is there in onStart and equals the stored bars;
 * - live 1m (and derived 5m) bars equal the stored bars, minute after minute, with no gap, also
 *   across a dropped connection (resubscribed with new request ids, the missed minutes backfilled);
 * - one symbol whose data stops (L1 frozen, realtime bars silenced) is reported stale, and fresh
 *   when it returns; the other never is;
 * - a universe larger than the line budget: the report lists who waits, the simulator (with IB's
 *   limit equal to the budget) never answers 101; an unknown symbol (200) and a depth book beyond
 *   the simulator's limit (309) are reported for that instrument only.
 */
import { EventName } from '@stoqey/ib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { parseCommissionModel } from '../../lib/backtest/commission.js';
import { SimulatedVenue } from '../../lib/backtest/sim-venue.js';
import { SeededRandom } from '../../lib/core/seeded-random.js';
import type { BarColumns } from '../../lib/data/bar-series.js';
import type { Interval } from '../../lib/data/interval.js';
import type { Clock } from '../../lib/engine/clock.js';
import { Kernel } from '../../lib/engine/kernel.js';
import { LiveFeed } from '../../lib/engine/live-feed.js';
import { defineStrategy } from '../../lib/engine/strategy.js';
import { ContractResolver } from '../../lib/ib/contract-resolver.js';
import { IbSession, type ResubscribeNotice } from '../../lib/ib/ib-session.js';
import { importFiles } from '../../lib/ingest/import-files.js';
import type { Bar } from '../../lib/model/market.js';
import { loadBars } from '../../lib/store/bar-query.js';
import { Store } from '../../lib/store/store.js';
import { IbMarketData, universeInstruments, type IbMarketDataOptions, type MarketDataIssue } from '../../runner/live/ib-market-data.js';
import { contractDetailsFeature } from '../../runner/tws-sim/contract-details.js';
import { FaultInjector, FreezableQuoteBook } from '../../runner/tws-sim/faults.js';
import { historicalFeature } from '../../runner/tws-sim/historical.js';
import { marketDataFeature, type MarketDataOptions } from '../../runner/tws-sim/market-data.js';
import { readRealTimeBars } from '../../runner/tws-sim/md-request.js';
import { StoreQuoteBook } from '../../runner/tws-sim/replay-quotes.js';
import { TwsSimulator } from '../../runner/tws-sim/server.js';
import { replayClock } from '../../runner/tws-sim/sim-clock.js';
import { IN, OUT, type ClientConnection, type RequestHandler, type SimClock, type SimFeature, type WireField } from '../../runner/tws-sim/types.js';

const MIN = 60_000;
const WAIT = { timeout: 8000, interval: 20 };
const DAY = '20131008';
const SYMBOLS = ['spy', 'ibm', 'aig', 'bac'];
/** 09:31 New York */
const START = Date.parse('2013-10-08T13:31:00Z');
const SPEED = 60;
const WARMUP = 30;

/**
 * A wall-kind engine clock on the simulator's replay time: simulated = start + real elapsed x speed,
 * exactly as runner/tws-sim/sim-clock.ts replayClock (it IS that clock: `sim` goes to the simulator,
 * so engine time and simulated time are one and the same).
 */
function replayTimeClock(start: number, speed: number, realNow: () => number = Date.now): Clock & { sim: SimClock } {
  const sim = replayClock({ start, speed, now: realNow });
  return { kind: 'wall', now: () => sim.now(), sim };
}

let store: Store;
const stored = new Map<string, BarColumns>();
const cleanups: (() => void | Promise<void>)[] = [];

beforeAll(async () => {
  store = await Store.open(':memory:');
  await importFiles(store, SYMBOLS.flatMap((s) => [`data/lean/equity/usa/minute/${s}/20131007_${s}_minute_trade.csv`, `data/lean/equity/usa/minute/${s}/${DAY}_${s}_minute_trade.csv`]));
  for (const b of await loadBars(store, { symbols: SYMBOLS.map((s) => s.toUpperCase()), interval: '1m' })) stored.set(b.instrument.key, b);
}, 60_000);
afterAll(() => store.close());
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The stored minute starting at `ts`, or undefined. */
function storedBar(key: string, ts: number): { open: number; high: number; low: number; close: number; volume: number } | undefined {
  const b = stored.get(key)!;
  const i = b.ts.indexOf(ts);
  return i < 0 ? undefined : { open: b.open[i]!, high: b.high[i]!, low: b.low[i]!, close: b.close[i]!, volume: b.volume[i]! };
}

/** The 5-minute bucket of stored minutes starting at `start` (New York offsets are whole hours: the UTC grid is the local one). */
function stored5m(key: string, start: number) {
  const b = stored.get(key)!;
  let o = NaN;
  let h = -Infinity;
  let l = Infinity;
  let c = NaN;
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    if (b.ts[i]! < start || b.ts[i]! >= start + 5 * MIN) continue;
    if (Number.isNaN(o)) o = b.open[i]!;
    h = Math.max(h, b.high[i]!);
    l = Math.min(l, b.low[i]!);
    c = b.close[i]!;
    v += b.volume[i]!;
  }
  return { open: o, high: h, low: l, close: c, volume: v };
}

const ohlcv = (b: { open: number; high: number; low: number; close: number; volume: number }) => ({ open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume });

/**
 * Wraps the market-data feature so one symbol's realtime bars can be silenced (the simulator keeps
 * producing them, nothing reaches the client): FreezableQuoteBook freezes L1 only.
 */
function silenceable(feature: SimFeature) {
  const silenced = new Set<string>();
  const symbolOf = new Map<string, string>();
  const views = new WeakMap<ClientConnection, ClientConnection>();
  const viewOf = (conn: ClientConnection): ClientConnection => {
    let v = views.get(conn);
    if (!v) {
      v = {
        get id() {
          return conn.id;
        },
        get clientId() {
          return conn.clientId;
        },
        get serverVersion() {
          return conn.serverVersion;
        },
        get marketDataType() {
          return conn.marketDataType;
        },
        get open() {
          return conn.open;
        },
        send(fields: readonly WireField[]) {
          if (fields[0] === IN.REAL_TIME_BARS && silenced.has(symbolOf.get(`${conn.id}:${String(fields[2])}`) ?? '')) return;
          conn.send(fields);
        },
        error: (reqId, code, message) => conn.error(reqId, code, message),
        onClose: (l) => conn.onClose(l),
      };
      views.set(conn, v);
    }
    return v;
  };
  const handlers = new Map<number, RequestHandler>();
  for (const [id, handler] of feature.handlers) {
    handlers.set(id, (conn, fields, ctx) => {
      if (id === OUT.REQ_REAL_TIME_BARS) {
        // peek at a copy of the reader: the request's id and symbol
        const copy = Object.assign(Object.create(Object.getPrototypeOf(fields) as object) as object, fields) as typeof fields;
        const req = readRealTimeBars(copy, conn.serverVersion);
        symbolOf.set(`${conn.id}:${req.reqId}`, req.contract.symbol);
      }
      return handler(viewOf(conn), fields, ctx);
    });
  }
  return { feature: { name: feature.name, handlers, close: feature.close?.bind(feature) } satisfies SimFeature, silence: (symbol: string, on: boolean) => (on ? silenced.add(symbol) : silenced.delete(symbol)) };
}

interface RunOptions {
  symbols: string[];
  subscriptions: { instrument: string; interval: Interval }[];
  md?: Partial<IbMarketDataOptions>;
  data?: Partial<IbMarketDataOptions['data']>;
  sim?: Partial<MarketDataOptions>;
}

/** Simulator + session + resolver + IbMarketData + a live kernel with a recording strategy. */
async function startRun(o: RunOptions) {
  const clock = replayTimeClock(START, SPEED);
  const quotes = new FreezableQuoteBook(new StoreQuoteBook(store));
  const md = silenceable(marketDataFeature({ quotes, tickIntervalMs: 50, ...o.sim }));
  const sim = new TwsSimulator({ store, port: 0, clock: clock.sim, maxMessagesPerSecond: 1000, features: [contractDetailsFeature(), historicalFeature(), md.feature] });
  await sim.start();
  cleanups.push(() => sim.stop());
  const faults = new FaultInjector(sim, { quotes });
  cleanups.push(() => faults.close());

  const session = new IbSession({ port: sim.port, clientId: 5, backoff: { baseMs: 20, factor: 2, maxMs: 160, resetAfterMs: 60_000 }, random: new SeededRandom(5), connectTimeoutMs: 2000 });
  cleanups.push(() => session.stop());
  const codes: { code: number; reqId: number }[] = [];
  const resubscribes: ResubscribeNotice[] = [];
  session.on('resubscribe', (r) => resubscribes.push(r));
  session.on('connection', (c) => c.api.on(EventName.error, (_e: Error, code: number, reqId: number) => codes.push({ code, reqId })));
  const sentReqIds: number[] = [];
  session.on('connection', (c) => {
    const api = c.api;
    const original = api.reqRealTimeBars.bind(api);
    api.reqRealTimeBars = ((reqId: number, ...rest: Parameters<typeof api.reqRealTimeBars> extends [number, ...infer R] ? R : never) => {
      sentReqIds.push(reqId);
      return original(reqId, ...rest);
    }) as typeof api.reqRealTimeBars;
  });
  session.start();
  const resolver = new ContractResolver({ session });

  const stale: [string, number][] = [];
  const fresh: [string, number][] = [];
  const issues: MarketDataIssue[] = [];
  const data = new IbMarketData({
    session,
    resolver,
    instruments: universeInstruments({ symbols: o.symbols, secType: 'STK', exchange: 'SMART', currency: 'USD' }),
    data: { lineBudget: 100, staleSeconds: 120, depth: [], realtimeBars: true, ...o.data },
    now: () => clock.now(),
    tickMs: 50,
    onStale: (i, since) => stale.push([i, since]),
    onFresh: (i) => fresh.push([i, clock.now()]),
    onIssue: (i) => issues.push(i),
    ...o.md,
  });
  cleanups.push(() => data.stop());
  const status = await data.start();

  const feed = new LiveFeed({ clock, heartbeatMs: 250 });
  const kernel = new Kernel({
    environment: 'paper',
    clock,
    dataClient: data.dataClient(feed),
    executionClient: new SimulatedVenue({ fill: 'close', commission: parseCommissionModel('none') }),
    startingCash: 100_000,
    liveFeed: feed,
  });
  const bars: Bar[] = [];
  const warm = new Map<string, { ts: number[]; close: number[]; volume: number[]; now: number }>();
  const rec = defineStrategy({
    name: 'rec',
    version: '0.0.0',
    description: '',
    params: z.object({}),
    create: (ctx) => ({
      onStart: () => {
        for (const s of o.subscriptions) {
          const h = ctx.history(s.instrument, s.interval);
          warm.set(`${s.instrument} ${s.interval}`, { ts: [...h.column('ts')], close: [...h.column('close')], volume: [...h.column('volume')], now: ctx.now() });
        }
      },
      onBar: (bar) => void bars.push({ ...bar }),
    }),
  });
  kernel.addStrategy(rec, { subscriptions: o.subscriptions.map((s) => ({ ...s, history: s.interval === '1m' ? WARMUP : 6 })) });
  const run = kernel.run();
  cleanups.push(async () => {
    kernel.requestStop();
    await run;
  });
  await vi.waitFor(() => expect(warm.size).toBe(o.subscriptions.length), WAIT);
  const of = (key: string, interval: Interval = '1m') => bars.filter((b) => b.instrument === key && b.interval === interval);
  return { clock, sim, faults, silence: md.silence, session, data, status, kernel, bars, of, warm, stale, fresh, issues, codes, resubscribes, sentReqIds };
}

/** Every bar equals the stored data for its minute, and they follow each other minute by minute. */
function expectStoredAndConsecutive(bars: Bar[], key: string): void {
  for (const b of bars) expect(ohlcv(b), `${key} ${new Date(b.ts).toISOString()}`).toEqual(storedBar(key, b.ts));
  for (let i = 1; i < bars.length; i++) expect(bars[i]!.ts - bars[i - 1]!.ts, `${key} after ${new Date(bars[i - 1]!.ts).toISOString()}`).toBe(MIN);
}

describe('IbMarketData against the TWS simulator, feeding a live kernel', () => {
  it('warm start, live 1m/5m bars equal to the stored ones, L1 quotes, and a dropped connection resubscribed without a gap', async () => {
    const r = await startRun({
      symbols: ['SPY', 'IBM'],
      subscriptions: [
        { instrument: 'SPY', interval: '1m' },
        { instrument: 'IBM', interval: '1m' },
        { instrument: 'SPY', interval: '5m' },
      ],
    });
    expect(r.status.notSubscribed).toEqual([]);
    expect(r.status.allocation?.subscribed.map((g) => g.symbol)).toEqual(['SPY', 'IBM']);

    // warm start: WARMUP minutes closed by the start, equal to the store
    for (const key of ['SPY', 'IBM']) {
      const w = r.warm.get(`${key} 1m`)!;
      expect(w.ts.length).toBeGreaterThanOrEqual(WARMUP);
      const b = stored.get(key)!;
      const last = b.ts.findLastIndex((t) => t + MIN <= w.now);
      expect(w.ts).toEqual([...b.ts.slice(last - WARMUP + 1, last + 1)]);
      expect(w.close).toEqual([...b.close.slice(last - WARMUP + 1, last + 1)]);
      expect(w.volume).toEqual([...b.volume.slice(last - WARMUP + 1, last + 1)]);
    }
    const w5 = r.warm.get('SPY 5m')!;
    expect(w5.ts.length).toBe(6);
    for (let i = 0; i < 6; i++) expect(w5.close[i]).toBe(stored5m('SPY', w5.ts[i]!).close);
    expect(w5.ts.at(-1)! + 5 * MIN).toBeLessThanOrEqual(w5.now);

    // live: minutes after the warm start, equal to the store, in order, without a gap
    await vi.waitFor(() => {
      expect(r.of('SPY').length).toBeGreaterThanOrEqual(4);
      expect(r.of('IBM').length).toBeGreaterThanOrEqual(4);
    }, WAIT);
    for (const key of ['SPY', 'IBM']) {
      const live = r.of(key);
      expect(live[0]!.ts).toBe(r.warm.get(`${key} 1m`)!.ts.at(-1)! + MIN);
      expectStoredAndConsecutive(live, key);
    }
    const q = r.data.quote('SPY')!;
    expect(q.bid).toBeLessThan(q.ask);
    expect(q.last).toBeGreaterThan(100);
    let st = r.data.status();
    expect(st.linesUsed).toBe(4); // L1 + realtime bars, each
    expect(st.instruments.map((i) => [i.instrument, i.streams.l1, i.streams.bars])).toEqual([
      ['SPY', 'active', 'active'],
      ['IBM', 'active', 'active'],
    ]);

    // the connection drops: the session reconnects, IbMarketData asks again with new request ids
    const before = r.of('SPY').length;
    const droppedAt = r.clock.now();
    const idsBefore = [...r.sentReqIds];
    r.faults.dropAll();
    await vi.waitFor(() => expect(r.resubscribes.length).toBe(1), WAIT);
    await vi.waitFor(() => {
      expect(r.of('SPY').at(-1)!.ts).toBeGreaterThan(droppedAt + 2 * MIN);
      expect(r.of('IBM').at(-1)!.ts).toBeGreaterThan(droppedAt + 2 * MIN);
    }, WAIT);
    expect(r.of('SPY').length).toBeGreaterThan(before);
    const idsAfter = r.sentReqIds.slice(idsBefore.length);
    expect(idsAfter.length).toBe(2);
    for (const id of idsAfter) expect(idsBefore).not.toContain(id);
    for (const key of ['SPY', 'IBM']) expectStoredAndConsecutive(r.of(key), key);

    // derived 5m bars: whole buckets equal to the stored minutes
    await vi.waitFor(() => expect(r.of('SPY', '5m').length).toBeGreaterThanOrEqual(1), WAIT);
    for (const b of r.of('SPY', '5m')) expect(ohlcv(b)).toEqual(stored5m('SPY', b.ts));
    expect(r.of('SPY', '5m')[0]!.ts).toBe(w5.ts.at(-1)! + 5 * MIN);

    st = r.data.status();
    expect(st.stale).toEqual([]);
    expect(r.stale).toEqual([]);
    expect(r.codes.filter((c) => c.code === 101 || c.code === 322)).toEqual([]);
    expect(r.issues).toEqual([]);
  }, 30_000);

  it('a symbol whose data stops is reported stale (only that one) and fresh when it returns; its bars stay complete', async () => {
    // 60 simulated seconds are one real second: far above SPY's 5 s bars, well below a test timeout
    const r = await startRun({ symbols: ['SPY', 'IBM'], subscriptions: [{ instrument: 'SPY', interval: '1m' }, { instrument: 'IBM', interval: '1m' }], data: { staleSeconds: 60 } });
    await vi.waitFor(() => expect(r.of('IBM').length).toBeGreaterThanOrEqual(1), WAIT);
    const frozenAt = r.clock.now();
    r.faults.freezeSymbol('IBM', true);
    r.silence('IBM', true);
    await vi.waitFor(() => expect(r.stale.map(([i]) => i)).toEqual(['IBM']), WAIT);
    const [, since] = r.stale[0]!;
    expect(since).toBeGreaterThan(frozenAt - 10_000);
    expect(r.data.status().stale).toEqual(['IBM']);
    expect(r.data.isStale('SPY')).toBe(false);
    // a while longer: still only IBM
    const t = r.clock.now();
    await vi.waitFor(() => expect(r.clock.now()).toBeGreaterThan(t + 60_000), WAIT);
    expect(r.stale.map(([i]) => i)).toEqual(['IBM']);
    const ibmBefore = r.of('IBM').length;

    r.faults.freezeSymbol('IBM', false);
    r.silence('IBM', false);
    await vi.waitFor(() => expect(r.fresh.map(([i]) => i)).toEqual(['IBM']), WAIT);
    expect(r.data.status().stale).toEqual([]);
    // the minutes missed while silent are recovered: complete and consecutive
    await vi.waitFor(() => expect(r.of('IBM').length).toBeGreaterThan(ibmBefore + 2), WAIT);
    expectStoredAndConsecutive(r.of('IBM'), 'IBM');
    expectStoredAndConsecutive(r.of('SPY'), 'SPY');
  }, 30_000);

  it('a universe larger than the line budget: positions first, the rest wait (reported), no 101; 200 and 309 reported per instrument', async () => {
    const r = await startRun({
      // ZZZZ is unknown to the simulator (200); two depth books where the simulator allows one (309)
      symbols: ['ZZZZ', 'SPY', 'IBM', 'AIG', 'BAC'],
      subscriptions: [
        { instrument: 'BAC', interval: '1m' },
        { instrument: 'SPY', interval: '1m' },
      ],
      md: { positions: ['BAC'] },
      data: { lineBudget: 6, depth: ['SPY', 'BAC'] },
      sim: { maxLines: 6, maxDepth: 1 },
    });
    const a = r.status.allocation!;
    expect(a.subscribed.map((g) => [g.symbol, g.reason])).toEqual([
      ['BAC', 'position'],
      ['ZZZZ', 'configured'],
      ['SPY', 'configured'],
    ]);
    expect(a.linesUsed).toBe(6);
    expect(r.status.notSubscribed.map((n) => n.instrument).sort()).toEqual(['AIG', 'IBM', 'ZZZZ']);
    expect(r.status.notSubscribed.find((n) => n.instrument === 'IBM')!.reason).toMatch(/line budget 6 used up/);
    expect(r.issues.filter((i) => i.stream === 'contract').map((i) => [i.instrument, i.code])).toEqual([['ZZZZ', 200]]);

    await vi.waitFor(() => {
      expect(r.of('BAC').length).toBeGreaterThanOrEqual(2);
      expect(r.of('SPY').length).toBeGreaterThanOrEqual(2);
      expect(r.issues.some((i) => i.stream === 'depth')).toBe(true);
    }, WAIT);
    expectStoredAndConsecutive(r.of('BAC'), 'BAC');
    expectStoredAndConsecutive(r.of('SPY'), 'SPY');
    // the second depth book is refused by the simulator: reported for that instrument, nothing else fails
    const depthIssues = r.issues.filter((i) => i.stream === 'depth');
    expect(depthIssues.map((i) => i.code)).toEqual([309]);
    const st = r.data.status();
    expect(st.linesUsed).toBe(4);
    expect(st.linesUsed).toBeLessThanOrEqual(6);
    expect(st.depthUsed).toBe(1);
    const book = r.data.depth(depthIssues[0]!.instrument === 'SPY' ? 'BAC' : 'SPY')!;
    expect(book.bids.length).toBeGreaterThan(0);
    expect(r.codes.filter((c) => c.code === 101)).toEqual([]);
    // waiting instruments hold no lines; their resolution is still possible (the runner may want it)
    expect(st.instruments.filter((i) => i.state === 'waiting').map((i) => i.instrument)).toEqual(['IBM', 'AIG']);
    expect(await r.data.resolve('IBM')).toMatchObject({ key: 'IBM', secType: 'STK' });
  }, 30_000);
});
