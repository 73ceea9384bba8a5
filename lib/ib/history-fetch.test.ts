import { EventEmitter } from 'node:events';
import { EventName, type IBApi } from '@stoqey/ib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { loadBars } from '../store/bar-query.js';
import { Store } from '../store/store.js';
import type { ResolvedContract } from './contract-resolver.js';
import { classifyHistoryError, fetchHistory, IbHistoryError, parseBarTime, volumeFromLots, type FetchHistoryOptions, type HistorySession } from './history-fetch.js';

describe('answers', () => {
  it('reads IB bar dates: daily yyyyMMdd at 00:00 UTC, epoch seconds, zoned text', () => {
    expect(parseBarTime('20131007', 'America/New_York')).toBe(Date.UTC(2013, 9, 7));
    expect(parseBarTime('1381132800', 'America/New_York')).toBe(1381132800000);
    expect(parseBarTime('20131007 09:30:00 US/Eastern', 'UTC')).toBe(Date.UTC(2013, 9, 7, 13, 30));
    expect(parseBarTime('20131007 09:30:00', 'America/Chicago')).toBe(Date.UTC(2013, 9, 7, 14, 30));
    expect(parseBarTime('20131007 09:30:00 Europe/Berlin', 'UTC')).toBe(Date.UTC(2013, 9, 7, 7, 30));
    expect(parseBarTime('finished-x', 'UTC')).toBeNaN();
  });

  it('converts lots back to shares without float noise', () => {
    expect(1.13 * 100).not.toBe(113);
    expect(volumeFromLots(1.13, 100)).toBe(113);
    expect(volumeFromLots(4.35, 100)).toBe(435);
    expect(volumeFromLots(0.01, 100)).toBe(1);
    expect(volumeFromLots(12.5, 1)).toBe(12.5);
    expect(volumeFromLots(-1, 100)).toBe(0);
  });

  it('classifies IB errors for a historical request', () => {
    const hmds = 'Historical Market Data Service error message:';
    expect(classifyHistoryError(162, `${hmds}Historical data request pacing violation`)).toMatchObject({ kind: 'pacing' });
    expect(classifyHistoryError(162, `${hmds}HMDS query returned no data: SPY@SMART Trades`)).toMatchObject({ kind: 'empty' });
    expect(classifyHistoryError(162, `${hmds}API historical data query cancelled: 5`)).toMatchObject({ kind: 'retry' });
    expect(classifyHistoryError(162, `${hmds}No data of type EODChart is available for expired contracts`)).toMatchObject({ kind: 'expired' });
    expect(classifyHistoryError(162, `${hmds}Time length exceed max.`)).toMatchObject({ kind: 'failed' });
    expect(classifyHistoryError(200, 'No security definition has been found for the request')).toMatchObject({ kind: 'failed', code: 200 });
    expect(classifyHistoryError(2176, 'Warning: fractional share size rules')).toBe('ignore');
    expect(classifyHistoryError(10167, 'Requested market data is not subscribed. Displaying delayed market data.')).toBe('ignore');
  });
});

// ---- fetchHistory over a scripted fake connection ----

type Call = { reqId: number; end: string; duration: string; barSize: string; what: string; rth: number; format: number };

/** An IBApi stand-in: requests go to `answer`, which emits what TWS would. */
class FakeApi extends EventEmitter {
  calls: Call[] = [];
  cancels: number[] = [];
  constructor(private readonly answer: (api: FakeApi, call: Call) => void) {
    super();
  }
  reqHistoricalData(reqId: number, _c: unknown, end: string, duration: string, barSize: string, what: string, rth: number, format: number) {
    const call = { reqId, end, duration, barSize, what, rth, format };
    this.calls.push(call);
    queueMicrotask(() => this.answer(this, call));
  }
  cancelHistoricalData(reqId: number) {
    this.cancels.push(reqId);
  }
  bars(reqId: number, bars: [number, number, number, number, number, number][]) {
    for (const [t, o, h, l, c, v] of bars) this.emit(EventName.historicalData, reqId, String(t / 1000), o, h, l, c, v, -1, -1, undefined);
    this.emit(EventName.historicalData, reqId, 'finished-a-b', -1, -1, -1, -1, -1, -1, -1, false);
  }
  fail(reqId: number, code: number, message: string) {
    this.emit(EventName.error, new Error(message), code, reqId);
  }
}

function fakeSession(api: FakeApi): HistorySession {
  return {
    api: api as unknown as IBApi,
    ready: () => Promise.resolve(),
    request: (send) => {
      send(api as unknown as IBApi);
      return true;
    },
    on: () => () => undefined,
  };
}

const SPY: ResolvedContract = {
  conId: 756733, symbol: 'SPY', secType: 'STK', localSymbol: 'SPY', tradingClass: 'SPY', exchange: 'SMART', primaryExch: 'ARCA', currency: 'USD', multiplier: 1, minTick: 0.01,
  lastTradeDate: '', contractMonth: '', realExpirationDate: '', longName: 'SPDR', timeZoneId: 'US/Eastern', tradingHours: '', liquidHours: '', validExchanges: '', orderTypes: '', marketRuleIds: '', underConId: 0,
};

/** The 09:30 New York minute of a 2013-10 date */
const open930 = (day: number) => Date.UTC(2013, 9, day, 13, 30);

let store: Store;
beforeEach(async () => {
  store = await Store.open(':memory:');
});
afterEach(() => store.close());

const options = (api: FakeApi, o: Partial<FetchHistoryOptions> = {}): FetchHistoryOptions => ({
  session: fakeSession(api),
  store,
  resolver: { resolve: async () => [SPY] },
  symbols: ['spy'],
  interval: '1m',
  from: '2013-10-07',
  to: '2013-10-08',
  ...o,
});

describe('fetchHistory', () => {
  it('sends reqHistoricalData with the planned fields, converts lots and keeps only the requested sessions', async () => {
    const api = new FakeApi((a, call) => {
      const day = call.end === '20131008-04:00:00' ? 7 : 8;
      // one bar of the day before rides along: not written
      a.bars(call.reqId, [
        [open930(day - 1), 1, 1, 1, 1, 1],
        [open930(day), 168.5, 168.7, 168.4, 168.6, 12.34],
        [open930(day) + 60_000, 168.6, 168.9, 168.5, 168.8, 0.01],
      ]);
    });
    const r = await fetchHistory(options(api));
    expect(api.calls.map((c) => [c.end, c.duration, c.barSize, c.what, c.rth, c.format])).toEqual([
      ['20131008-04:00:00', '1 D', '1 min', 'TRADES', 0, 2],
      ['20131009-04:00:00', '1 D', '1 min', 'TRADES', 0, 2],
    ]);
    expect(r).toMatchObject({ requested: 2, bars: 4, empty: 0, failed: [], skippedStored: 0 });
    const [spy] = await loadBars(store, { symbols: ['SPY'], interval: '1m' });
    expect(Array.from(spy!.ts)).toEqual([open930(7), open930(7) + 60_000, open930(8), open930(8) + 60_000]);
    expect(Array.from(spy!.volume)).toEqual([1234, 1, 1234, 1]);
    expect(spy!.instrument).toMatchObject({ exchange: 'ARCA', conId: 756733, tickSize: 0.01 });
    const notes = await store.all<{ notes: string[] }>(`SELECT notes FROM ingest_runs ORDER BY run_id`);
    expect(notes[0]!.notes).toEqual(['1 bars outside the requested sessions not written']);
    // stored bars decide what is missing: 'ok' ranges are provenance only
    expect(await fetchHistory(options(api))).toMatchObject({ requested: 0, skippedStored: 2 });
    await store.run(`DELETE FROM bars WHERE ts < make_timestamp(CAST(${Date.UTC(2013, 9, 8) * 1000} AS BIGINT))`);
    expect(await fetchHistory(options(api))).toMatchObject({ requested: 1, skippedStored: 1, bars: 2 });
  });

  it('reports refusals in `failed`, retries timeouts after cancelling, and goes on with the rest', async () => {
    let silent = true;
    const api = new FakeApi((a, call) => {
      if (call.end === '20131008-04:00:00') return a.fail(call.reqId, 321, "Error validating request:-'bP' : cause - nope");
      // the first send of 10-08 is never answered
      if (silent) {
        silent = false;
        return;
      }
      a.bars(call.reqId, [[open930(8), 1, 2, 0.5, 1.5, 3]]);
    });
    const r = await fetchHistory(options(api, { requestTimeoutMs: 50, pacing: { marginMs: 0, limits: { identicalMs: 0 } } }));
    expect(r.failed).toEqual([{ symbol: 'SPY', request: 'SPY 1 min TRADES 1 D to 20131008-04:00:00', code: 321, message: "Error validating request:-'bP' : cause - nope" }]);
    expect(api.cancels).toHaveLength(1);
    expect(r).toMatchObject({ requested: 2, retries: 1, bars: 1 });
    expect(r.symbols[0]).toMatchObject({ failed: 1, bars: 1, requests: 2 });
  });

  it('treats an empty answer like "no data": recorded, not asked again', async () => {
    const api = new FakeApi((a, call) => a.bars(call.reqId, []));
    expect(await fetchHistory(options(api))).toMatchObject({ requested: 2, empty: 2, bars: 0 });
    expect(await fetchHistory(options(api))).toMatchObject({ requested: 0, skippedEmpty: 2 });
    expect(api.calls).toHaveLength(2);
  });

  it('refuses BID_ASK, several contracts per symbol and bad options', async () => {
    const api = new FakeApi(() => undefined);
    await expect(fetchHistory(options(api, { whatToShow: 'BID_ASK' as never }))).rejects.toThrow(/fetch BID and ASK/);
    await expect(fetchHistory(options(api, { from: '2013-10-32', symbols: [] }))).rejects.toBeInstanceOf(ConfigError);
    const two = fetchHistory(options(api, { resolver: { resolve: async () => [SPY, { ...SPY, conId: 1, exchange: 'ARCA' }] } }));
    await expect(two).rejects.toBeInstanceOf(IbHistoryError);
    await expect(fetchHistory(options(api, { resolver: { resolve: async () => [] } }))).rejects.toThrow(/no IB contract for SPY/);
  });
});
