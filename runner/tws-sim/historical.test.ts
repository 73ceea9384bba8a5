import type { Contract } from '@stoqey/ib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { importFiles } from '../../lib/ingest/import-files.js';
import { loadBars } from '../../lib/store/bar-query.js';
import { Store } from '../../lib/store/store.js';
import { historicalFeature, type HistoricalOptions } from './historical.js';
import { NO_SECURITY_DEFINITION, PACING_VIOLATION, TIME_LENGTH_EXCEEDED, CONTFUT_END_DATE } from './ib-errors.js';
import { PacingGuard } from './pacing.js';
import { dispatch, FakeClock, FakeConnection, fakeContext } from './test-wire.js';

let store: Store;
const LEAN = 'data/lean/equity/usa';

beforeAll(async () => {
  store = await Store.open(':memory:');
  await importFiles(store, [`${LEAN}/daily/spy.csv`, `${LEAN}/map_files/spy.csv`, `${LEAN}/factor_files/spy.csv`, `${LEAN}/minute/spy`, 'data/lean/future/cme/minute/es']);
  await importFiles(store, ['data/cme/6EH4.XCME_1min_bars_20240101_20240131.csv'], { symbol: '6E', contractMonth: '202403', interval: '1m' });
});

afterAll(() => store.close());

const SPY: Contract = { symbol: 'SPY', secType: 'STK' as any, exchange: 'SMART', currency: 'USD' };
const ES: Contract = { symbol: 'ES', secType: 'FUT' as any, exchange: 'CME', currency: 'USD', lastTradeDateOrContractMonth: '201312' };

interface Bar {
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  count: number;
  wap: number;
}

interface Args {
  contract?: Contract;
  end?: string;
  duration: string;
  barSize: string;
  what?: string;
  rth?: boolean;
  formatDate?: number;
  keepUpToDate?: boolean;
  reqId?: number;
}

/** One request through the real encoder, the handler, and the real decoder. */
async function history(a: Args, at: string | FakeClock, opts: { conn?: FakeConnection; feature?: ReturnType<typeof historicalFeature> } = {}) {
  const clock = typeof at === 'string' ? new FakeClock(Date.parse(at)) : at;
  const conn = opts.conn ?? new FakeConnection();
  const feature = opts.feature ?? historicalFeature({ pacing: false });
  const reqId = a.reqId ?? 5;
  await dispatch(feature, conn, fakeContext(store, clock), (e) =>
    e.reqHistoricalData(reqId, a.contract ?? SPY, a.end ?? '', a.duration, a.barSize as any, (a.what ?? 'TRADES') as any, a.rth === false ? 0 : 1, a.formatDate ?? 1, a.keepUpToDate ?? false),
  );
  const decoded = conn.decode();
  const rows = decoded.events.filter((e) => e.name === 'historicalData');
  const bars: Bar[] = rows
    .filter((e) => !String(e.args[1]).startsWith('finished'))
    .map(({ args }) => ({ time: args[1] as string, open: args[2] as number, high: args[3] as number, low: args[4] as number, close: args[5] as number, volume: args[6] as number, count: args[7] as number, wap: args[8] as number }));
  const finished = rows.map((e) => String(e.args[1])).filter((t) => t.startsWith('finished'));
  return { decoded, bars, finished, conn, clock, feature };
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');

describe('historicalData from stored daily bars', () => {
  it('answers one message whose OHLCV equal the stored SPY daily bars of the duration', async () => {
    const { decoded, bars, finished } = await history({ end: '20210331 23:59:59 US/Eastern', duration: '1 M', barSize: '1 day' }, '2021-04-15T14:00:00Z');
    expect(decoded.errors).toEqual([]);
    expect(finished).toHaveLength(1);
    const [stored] = await loadBars(store, { symbols: ['SPY'], interval: '1d', from: '2021-03-01', to: '2021-03-31' });
    expect(bars).toHaveLength(stored!.length);
    expect(bars.length).toBe(23);
    bars.forEach((b, i) => {
      expect(b.time).toBe(day(stored!.ts[i]!));
      expect([b.open, b.high, b.low, b.close]).toEqual([stored!.open[i], stored!.high[i], stored!.low[i], stored!.close[i]]);
      // US stock volume in lots of 100, as IB reports it
      expect(b.volume).toBeCloseTo(stored!.volume[i]! / 100, 9);
      expect(b.count).toBe(-1);
      expect(b.wap).toBeGreaterThanOrEqual(b.low);
      expect(b.wap).toBeLessThanOrEqual(b.high);
    });
  });

  it('counts N D in trading days and keeps yyyyMMdd for daily bars under formatDate 2', async () => {
    const { bars } = await history({ end: '20210331 16:00:00 US/Eastern', duration: '5 D', barSize: '1 day', formatDate: 2 }, '2021-04-15T14:00:00Z');
    expect(bars.map((b) => b.time)).toEqual(['20210325', '20210326', '20210329', '20210330', '20210331']);
  });

  it('never shows a bar the sim clock has not reached, whatever endDateTime says', async () => {
    // 2021-03-31 15:00 ET: the end is cut to now and that day's stored bar is not final yet
    const { bars } = await history({ end: '20210405 12:00:00 US/Eastern', duration: '5 D', barSize: '1 day' }, '2021-03-31T19:00:00Z');
    expect(bars.map((b) => b.time)).toEqual(['20210325', '20210326', '20210329', '20210330']);
  });

  it('builds weeks and months labelled by their last trading date', async () => {
    const weeks = await history({ end: '20210331 23:59:59 US/Eastern', duration: '1 M', barSize: '1 week' }, '2021-04-15T14:00:00Z');
    expect(weeks.bars.map((b) => b.time)).toEqual(['20210226', '20210305', '20210312', '20210319', '20210326', '20210331']);
    const [stored] = await loadBars(store, { symbols: ['SPY'], interval: '1d', from: '2021-03-29', to: '2021-03-31' });
    const last = weeks.bars[5]!;
    expect(last.open).toBe(stored!.open[0]);
    expect(last.close).toBe(stored!.close[2]);
    expect(last.high).toBe(Math.max(...stored!.high));
    expect(last.volume).toBeCloseTo(stored!.volume.reduce((a, b) => a + b, 0) / 100, 6);
    const months = await history({ end: '20210331 23:59:59 US/Eastern', duration: '1 Y', barSize: '1 month' }, '2021-04-15T14:00:00Z');
    expect(months.bars).toHaveLength(13);
    expect(months.bars.map((b) => b.time).slice(-2)).toEqual(['20210226', '20210331']);
  });

  it('serves ADJUSTED_LAST from the split- and dividend-adjusted bars', async () => {
    const raw = await history({ end: '20000131 23:59:59 US/Eastern', duration: '5 D', barSize: '1 day' }, '2021-04-15T14:00:00Z');
    const adj = await history({ end: '20000131 23:59:59 US/Eastern', duration: '5 D', barSize: '1 day', what: 'ADJUSTED_LAST' }, '2021-04-15T14:00:00Z');
    expect(adj.bars.map((b) => b.time)).toEqual(raw.bars.map((b) => b.time));
    expect(adj.bars[0]!.close).toBeLessThan(raw.bars[0]!.close);
  });
});

describe('historicalData from stored minute bars', () => {
  const END = '20131007 16:00:00 US/Eastern';
  const LATER = '2013-10-10T14:00:00Z';

  it('returns the regular session with useRTH, labelled in the exchange zone', async () => {
    const { decoded, bars, finished } = await history({ end: END, duration: '1 D', barSize: '1 min' }, LATER);
    expect(decoded.errors).toEqual([]);
    expect(bars).toHaveLength(390);
    expect(bars[0]!.time).toBe('20131007 09:30:00 US/Eastern');
    expect(bars[389]!.time).toBe('20131007 15:59:00 US/Eastern');
    expect(finished[0]).toBe('finished-20131007 00:00:00 US/Eastern-20131007 16:00:00 US/Eastern');
    const [stored] = await loadBars(store, { symbols: ['SPY'], interval: '1m', from: '2013-10-07T13:30:00Z', to: '2013-10-07T13:30:00Z' });
    expect([bars[0]!.open, bars[0]!.high, bars[0]!.low, bars[0]!.close]).toEqual([stored!.open[0], stored!.high[0], stored!.low[0], stored!.close[0]]);
  });

  it('includes extended hours without useRTH', async () => {
    const { bars } = await history({ end: END, duration: '1 D', barSize: '1 min', rth: false, formatDate: 2 }, LATER);
    const [stored] = await loadBars(store, { symbols: ['SPY'], interval: '1m', from: '2013-10-07T04:00:00Z', to: '2013-10-07T19:59:59Z' });
    expect(bars).toHaveLength(stored!.length);
    expect(bars[0]!.time).toBe(String(stored!.ts[0]! / 1000));
  });

  it('aggregates 5 mins and 1 hour from 1 min, the first hour starting at the 09:30 open', async () => {
    const [m] = await loadBars(store, { symbols: ['SPY'], interval: '1m', from: '2013-10-07T13:30:00Z', to: '2013-10-07T13:34:00Z' });
    const five = await history({ end: END, duration: '1 D', barSize: '5 mins', formatDate: 2 }, LATER);
    expect(five.bars).toHaveLength(78);
    const b = five.bars[0]!;
    expect(b.time).toBe(String(Date.parse('2013-10-07T13:30:00Z') / 1000));
    expect(b.open).toBe(m!.open[0]);
    expect(b.close).toBe(m!.close[4]);
    expect(b.high).toBe(Math.max(...m!.high));
    expect(b.low).toBe(Math.min(...m!.low));
    expect(b.volume).toBeCloseTo(m!.volume.reduce((s, v) => s + v, 0) / 100, 6);
    const hours = await history({ end: END, duration: '1 D', barSize: '1 hour' }, LATER);
    expect(hours.bars.map((h) => h.time.slice(9, 14))).toEqual(['09:30', '10:00', '11:00', '12:00', '13:00', '14:00', '15:00']);
  });

  it('serves BID, ASK, MIDPOINT and BID_ASK from quote bars without volume', async () => {
    const args = { end: END, duration: '1800 S', barSize: '1 min' };
    const bid = await history({ ...args, what: 'BID' }, LATER);
    const ask = await history({ ...args, what: 'ASK' }, LATER);
    const mid = await history({ ...args, what: 'MIDPOINT' }, LATER);
    const both = await history({ ...args, what: 'BID_ASK' }, LATER);
    expect(bid.bars).toHaveLength(30);
    const [storedBid] = await loadBars(store, { symbols: ['SPY'], interval: '1m', kind: 'bid', from: '2013-10-07T19:30:00Z', to: '2013-10-07T19:59:00Z' });
    expect(bid.bars.map((b) => b.close)).toEqual(Array.from(storedBid!.close));
    expect(bid.bars[0]).toMatchObject({ volume: -1, wap: -1, count: -1 });
    mid.bars.forEach((m, i) => expect(m.close).toBeCloseTo((bid.bars[i]!.close + ask.bars[i]!.close) / 2, 9));
    both.bars.forEach((m, i) => expect([m.open, m.high, m.low, m.close]).toEqual([bid.bars[i]!.close, ask.bars[i]!.high, bid.bars[i]!.low, ask.bars[i]!.close]));
  });

  it('cuts the answer at the sim clock when endDateTime is empty', async () => {
    const { bars } = await history({ duration: '1 D', barSize: '1 min' }, '2013-10-07T16:00:30Z');
    expect(bars.at(-1)!.time).toBe('20131007 11:59:00 US/Eastern');
  });
});

describe('historicalData for futures', () => {
  it('answers ES in Chicago time with the Globex session', async () => {
    const { decoded, bars } = await history({ contract: ES, end: '20131008 16:00:00 US/Central', duration: '1 D', barSize: '1 hour', rth: false }, '2013-11-01T14:00:00Z');
    expect(decoded.errors).toEqual([]);
    expect(bars[0]!.time).toBe('20131007 17:00:00 US/Central');
    expect(bars.at(-1)!.time).toBe('20131008 15:00:00 US/Central');
    const rth = await history({ contract: ES, end: '20131008 16:00:00 US/Central', duration: '1 D', barSize: '1 hour' }, '2013-11-01T14:00:00Z');
    expect(rth.bars.map((b) => b.time.slice(9, 14))).toEqual(['08:30', '09:00', '10:00', '11:00', '12:00', '13:00', '14:00']);
  });

  it('serves CONTFUT from the front month and refuses an end date for it', async () => {
    const cont: Contract = { symbol: 'ES', secType: 'CONTFUT' as any, exchange: 'CME' };
    const { decoded, bars } = await history({ contract: cont, duration: '1 D', barSize: '30 mins' }, '2013-10-08T20:00:00Z');
    expect(decoded.errors).toEqual([]);
    expect(bars.length).toBeGreaterThan(0);
    const refused = await history({ contract: cont, end: '20131008 12:00:00 US/Central', duration: '1 D', barSize: '30 mins' }, '2013-10-08T20:00:00Z');
    expect(refused.decoded.errors).toEqual([{ message: CONTFUT_END_DATE.text, code: 10339, reqId: 5 }]);
  });

  it('serves 6E from its generic CSV import', async () => {
    const sixE: Contract = { symbol: '6E', secType: 'FUT' as any, exchange: 'CME', currency: 'USD' };
    const { bars } = await history({ contract: sixE, end: '20240110 16:00:00 US/Central', duration: '2 D', barSize: '4 hours', rth: false }, '2024-02-01T00:00:00Z');
    expect(bars.length).toBeGreaterThanOrEqual(10);
    expect(bars[0]!.time).toBe('20240108 17:00:00 US/Central');
  });
});

describe('historicalData errors', () => {
  const at = '2021-04-15T14:00:00Z';
  const errors = async (a: Args) => (await history(a, at)).decoded.errors.map((e) => [e.code, e.message]);

  it('answers 200 for an unknown contract', async () => {
    expect(await errors({ contract: { symbol: 'NOPE', secType: 'STK' as any, exchange: 'SMART' }, duration: '1 D', barSize: '1 day' })).toEqual([[200, NO_SECURITY_DEFINITION.text]]);
  });

  it('answers 321 for an illegal bar size, duration or end date', async () => {
    expect((await errors({ duration: '1 D', barSize: '7 mins' }))[0]![0]).toBe(321);
    expect((await errors({ duration: '1 Q', barSize: '1 day' }))[0]![0]).toBe(321);
    expect((await errors({ end: '2021-03-31', duration: '1 D', barSize: '1 day' }))[0]![0]).toBe(321);
  });

  it('answers 162 when the bar is too small for the duration, or nothing is stored', async () => {
    expect(await errors({ duration: '1 D', barSize: '1 secs' })).toEqual([[162, TIME_LENGTH_EXCEEDED]]);
    expect(await errors({ duration: '1 D', barSize: '1 min', end: '20150105 16:00:00 US/Eastern' })).toEqual([[162, 'Historical Market Data Service error message:HMDS query returned no data: SPY@SMART Trades']]);
  });

  it('decodes cleanly at server version 176 too', async () => {
    const { decoded, bars } = await history({ end: '20210331 16:00:00 US/Eastern', duration: '5 D', barSize: '1 day' }, at, { conn: new FakeConnection(176) });
    expect(decoded.errors).toEqual([]);
    expect(bars).toHaveLength(5);
  });
});

describe('pacing', () => {
  it('answers 162 pacing violation for an identical small-bar request within 15 s', async () => {
    let wall = 0;
    const feature = historicalFeature({ pacing: new PacingGuard({ now: () => wall }) });
    const a: Args = { end: '20131007 16:00:00 US/Eastern', duration: '60 S', barSize: '5 secs' };
    // the store has no seconds: IB's answer is "no data", but the request still counts
    const first = await history(a, '2013-10-10T14:00:00Z', { feature });
    expect(first.decoded.errors[0]!.code).toBe(162);
    const second = await history(a, '2013-10-10T14:00:00Z', { feature });
    expect(second.decoded.errors).toEqual([{ message: PACING_VIOLATION, code: 162, reqId: 5 }]);
    wall += 15_000;
    expect((await history(a, '2013-10-10T14:00:00Z', { feature })).decoded.errors[0]!.message).not.toBe(PACING_VIOLATION);
  });
});

describe('keepUpToDate', () => {
  it('streams historicalDataUpdate for the forming bar as the sim clock advances, until cancelled', async () => {
    const clock = new FakeClock(Date.parse('2013-10-07T14:00:30Z')); // 10:00:30 ET
    const options: HistoricalOptions = { pacing: false, updateIntervalMs: 5 };
    const feature = historicalFeature(options);
    const conn = new FakeConnection();
    const first = await history({ duration: '1800 S', barSize: '5 mins', rth: false, keepUpToDate: true, formatDate: 2 }, clock, { conn, feature });
    expect(first.decoded.errors).toEqual([]);
    // 09:30:30..10:00:30: the 09:30 bucket overlaps the window; 10:00 has no complete minute yet
    expect(first.bars.map((b) => Number(b.time) * 1000)).toEqual([0, 5, 10, 15, 20, 25].map((m) => Date.parse('2013-10-07T13:30:00Z') + m * 60_000));

    const [m] = await loadBars(store, { symbols: ['SPY'], interval: '1m', from: '2013-10-07T14:00:00Z', to: '2013-10-07T14:05:00Z' });
    const updates = () => conn.decode().events.filter((e) => e.name === 'historicalDataUpdate').map((e) => e.args);
    clock.ms = Date.parse('2013-10-07T14:02:00Z');
    let got: unknown[][] = [];
    await vi.waitFor(() => {
      got = updates();
      expect(got.length).toBeGreaterThan(0);
    });
    // (reqId, time, open, high, low, close, volume, barCount, WAP): the 10:00 bar from two minutes
    expect(got).toHaveLength(1);
    expect(got[0]!.slice(0, 6)).toEqual([5, String(Date.parse('2013-10-07T14:00:00Z') / 1000), m!.open[0], Math.max(m!.high[0]!, m!.high[1]!), Math.min(m!.low[0]!, m!.low[1]!), m!.close[1]]);

    clock.ms = Date.parse('2013-10-07T14:06:00Z');
    await vi.waitFor(() => {
      got = updates();
      expect(got.length).toBeGreaterThan(0);
    });
    expect(got.map((u) => u[1])).toEqual([String(Date.parse('2013-10-07T14:00:00Z') / 1000), String(Date.parse('2013-10-07T14:05:00Z') / 1000)]);
    expect(got[0]![5]).toBe(m!.close[4]);

    await dispatch(feature, conn, fakeContext(store, clock), (e) => e.cancelHistoricalData(5));
    expect(conn.decode().errors).toEqual([{ message: 'Historical Market Data Service error message:API historical data query cancelled: 5', code: 162, reqId: 5 }]);
    clock.ms = Date.parse('2013-10-07T14:20:00Z');
    await new Promise((r) => setTimeout(r, 40));
    expect(conn.sent).toEqual([]);
    feature.close?.();
  });

  it('stops when the connection closes', async () => {
    const clock = new FakeClock(Date.parse('2013-10-07T14:00:30Z'));
    const feature = historicalFeature({ pacing: false, updateIntervalMs: 5 });
    const conn = new FakeConnection();
    await history({ duration: '1800 S', barSize: '1 min', keepUpToDate: true }, clock, { conn, feature });
    conn.close();
    clock.ms = Date.parse('2013-10-07T14:10:00Z');
    await new Promise((r) => setTimeout(r, 40));
    expect(conn.sent).toEqual([]);
  });
});

describe('headTimestamp', () => {
  const head = async (contract: Contract, what: string, useRTH: boolean, formatDate: number) => {
    const conn = new FakeConnection();
    await dispatch(historicalFeature({ pacing: false }), conn, fakeContext(store, new FakeClock(Date.parse('2024-02-01T00:00:00Z'))), (e) => e.reqHeadTimestamp(9, contract, what as any, useRTH, formatDate as any));
    const d = conn.decode();
    return { errors: d.errors, values: d.events.filter((e) => e.name === 'headTimestamp').map((e) => e.args) };
  };

  it('answers the first stored bar: a daily bar from its session open', async () => {
    expect((await head(SPY, 'TRADES', true, 2)).values).toEqual([[9, String(Date.parse('1998-01-02T14:30:00Z') / 1000)]]);
    expect((await head(SPY, 'TRADES', true, 1)).values).toEqual([[9, '19980102-14:30:00']]);
  });

  it('answers quote kinds from the first quote bar, moved to the regular open with useRTH', async () => {
    expect((await head(SPY, 'BID', false, 1)).values).toEqual([[9, '20131004-08:00:00']]);
    expect((await head(SPY, 'BID', true, 1)).values).toEqual([[9, '20131004-13:30:00']]);
    expect((await head({ ...ES, includeExpired: true }, 'TRADES', false, 1)).values).toEqual([[9, '20131006-22:00:00']]);
  });

  it('answers 200 for an unknown contract', async () => {
    expect((await head({ symbol: 'NOPE', secType: 'STK' as any }, 'TRADES', true, 1)).errors.map((e) => e.code)).toEqual([200]);
  });
});
