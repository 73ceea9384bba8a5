import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Contract } from '@stoqey/ib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFiles } from '../../lib/ingest/import-files.js';
import { Store } from '../../lib/store/store.js';
import { contractDetailsFeature } from './contract-details.js';
import { hashConId } from './contract-match.js';
import { NO_SECURITY_DEFINITION } from './ib-errors.js';
import { dispatch, FakeClock, FakeConnection, fakeContext } from './test-wire.js';

let dir: string;
let store: Store;
const feature = contractDetailsFeature();

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tws-cd-'));
  store = await Store.open(':memory:');
  await importFiles(store, ['data/lean/equity/usa/daily/spy.csv', 'data/lean/equity/usa/map_files/spy.csv', 'data/lean/future/cme/minute/es']);
  await importFiles(store, ['data/cme/6EH4.XCME_1min_bars_20240101_20240131.csv'], { symbol: '6E', contractMonth: '202403', interval: '1m' });
  // a second ES month so listing, narrowing and the CONTFUT roll have something to choose between
  const csv = path.join(dir, 'esh4.csv');
  writeFileSync(csv, 'timestamp,open,high,low,close,volume\n2013-12-02T14:30:00Z,1800,1801,1799,1800.5,10\n2013-12-02T14:31:00Z,1800.5,1802,1800,1801,12\n');
  await importFiles(store, [csv], { symbol: 'ES', contractMonth: '201403', interval: '1m' });
});

afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends reqContractDetails through the real encoder and decodes the answer with the real decoder. */
async function request(contract: Contract, at: string, serverVersion = 193, reqId = 11) {
  const conn = new FakeConnection(serverVersion);
  await dispatch(feature, conn, fakeContext(store, new FakeClock(Date.parse(at))), (e) => e.reqContractDetails(reqId, contract));
  const fieldCounts = conn.sent.map((m) => m.length);
  const decoded = conn.decode();
  const details = decoded.events.filter((e) => e.name === 'contractDetails').map((e) => e.args[1] as Record<string, any>);
  const ends = decoded.events.filter((e) => e.name === 'contractDetailsEnd').map((e) => e.args[0]);
  return { decoded, details, ends, fieldCounts };
}

const MID_NOV_2013 = '2013-11-15T15:00:00Z';

describe('contractDetails for stocks', () => {
  it('answers SPY with the v193 field list the real decoder reads without error', async () => {
    const { decoded, details, ends, fieldCounts } = await request({ symbol: 'SPY', secType: 'STK' as any, exchange: 'SMART', currency: 'USD' }, MID_NOV_2013);
    expect(decoded.errors).toEqual([]);
    // msgId + the doc's numbered fields 1-40 and 42 (no secIds, no fund fields, no ineligibility reasons)
    expect(fieldCounts).toEqual([42, 3]);
    expect(ends).toEqual([11]);
    expect(details).toHaveLength(1);
    const d = details[0]!;
    expect(d.contract).toMatchObject({
      symbol: 'SPY',
      secType: 'STK',
      exchange: 'SMART',
      primaryExch: 'ARCA',
      currency: 'USD',
      localSymbol: 'SPY',
      conId: hashConId('SPY'),
      lastTradeDate: '',
    });
    expect(d.minTick).toBe(0.01);
    expect(d.contract.multiplier).toBe(0);
    expect(d.timeZoneId).toBe('US/Eastern');
    expect(d.stockType).toBe('COMMON');
    expect(d.validExchanges).toBe('SMART,ARCA');
    expect(d.liquidHours).toContain('20131115:0930-20131115:1600');
    expect(d.tradingHours).toContain('20131115:0400-20131115:2000');
    // Saturday, and the day before the window starts is Thursday
    expect(d.liquidHours).toContain('20131116:CLOSED');
    expect(d.liquidHours.split(';')[0]).toBe('20131114:0930-20131114:1600');
    expect(d.ineligibilityReasonList).toEqual([]);
  });

  it('gives the same conId on every request', async () => {
    const a = await request({ symbol: 'SPY', secType: 'STK' as any }, MID_NOV_2013);
    const b = await request({ conId: hashConId('SPY') }, '2020-01-02T15:00:00Z');
    expect(b.details[0]!.contract.conId).toBe(a.details[0]!.contract.conId);
    expect(b.details[0]!.contract.symbol).toBe('SPY');
  });

  it('drops lastTradeDate and the ineligibility count at server version 176', async () => {
    const { decoded, details, fieldCounts } = await request({ symbol: 'SPY', secType: 'STK' as any, exchange: 'SMART' }, MID_NOV_2013, 176);
    expect(decoded.errors).toEqual([]);
    expect(fieldCounts).toEqual([40, 3]);
    expect(details[0]!.contract.lastTradeDate).toBeUndefined();
    expect(details[0]!.contract.symbol).toBe('SPY');
  });

  it('filters on the primary exchange when one is named', async () => {
    expect((await request({ symbol: 'SPY', secType: 'STK' as any, exchange: 'ARCA' }, MID_NOV_2013)).details).toHaveLength(1);
    const wrong = await request({ symbol: 'SPY', secType: 'STK' as any, exchange: 'SMART', primaryExch: 'NASDAQ' }, MID_NOV_2013);
    expect(wrong.details).toHaveLength(0);
  });
});

describe('contractDetails for futures', () => {
  const es = { symbol: 'ES', secType: 'FUT' as any, exchange: 'CME', currency: 'USD' };

  it('lists every non-expired month in expiry order with the futures fields', async () => {
    const { decoded, details, ends } = await request(es, MID_NOV_2013);
    expect(decoded.errors).toEqual([]);
    expect(ends).toEqual([11]);
    expect(details.map((d) => d.contract.localSymbol)).toEqual(['ESZ3', 'ESH4']);
    const z3 = details[0]!;
    expect(z3.contract).toMatchObject({
      symbol: 'ES',
      secType: 'FUT',
      lastTradeDateOrContractMonth: '20131220',
      lastTradeDate: '20131220',
      exchange: 'CME',
      multiplier: 50,
      tradingClass: 'ES',
      conId: hashConId('ES-201312'),
    });
    expect(z3).toMatchObject({ minTick: 0.25, contractMonth: '201312', realExpirationDate: '20131220', timeZoneId: 'US/Central', longName: 'E-mini S&P 500', underSecType: 'IND' });
    // Friday's Globex session opens Thursday 17:00 CT; in 2013 it still had the 15:15-15:30 halt
    expect(z3.tradingHours).toContain('20131114:1700-20131115:1515;20131115:1530-20131115:1600');
    expect(z3.liquidHours).toContain('20131115:0830-20131115:1500');
    expect(z3.liquidHours).toContain('20131116:CLOSED');
    // Saturday is closed; Sunday is not, its evening opens Monday's session
    expect(z3.tradingHours).toContain('20131116:CLOSED;20131117:1700-20131118:1515');
    expect(z3.tradingHours).not.toContain('20131117:CLOSED');
  });

  it('narrows by contract month, last trade date, local symbol and conId, and knows GLOBEX as CME', async () => {
    const local = (r: Awaited<ReturnType<typeof request>>) => r.details.map((d) => d.contract.localSymbol);
    expect(local(await request({ ...es, lastTradeDateOrContractMonth: '201403' }, MID_NOV_2013))).toEqual(['ESH4']);
    expect(local(await request({ ...es, lastTradeDateOrContractMonth: '20131220' }, MID_NOV_2013))).toEqual(['ESZ3']);
    expect(local(await request({ secType: 'FUT' as any, localSymbol: 'ESZ3' }, MID_NOV_2013))).toEqual(['ESZ3']);
    expect(local(await request({ conId: hashConId('ES-201403') }, MID_NOV_2013))).toEqual(['ESH4']);
    expect(local(await request({ ...es, exchange: 'GLOBEX' }, MID_NOV_2013))).toEqual(['ESZ3', 'ESH4']);
    expect(local(await request({ ...es, multiplier: 5 }, MID_NOV_2013))).toEqual([]);
  });

  it('hides expired months unless includeExpired', async () => {
    const jan2014 = '2014-01-10T15:00:00Z';
    expect((await request(es, jan2014)).details.map((d) => d.contract.localSymbol)).toEqual(['ESH4']);
    expect((await request({ ...es, includeExpired: true }, jan2014)).details.map((d) => d.contract.localSymbol)).toEqual(['ESZ3', 'ESH4']);
  });

  it('answers CONTFUT with the front month by the sim clock, as secType CONTFUT', async () => {
    const cont = { symbol: 'ES', secType: 'CONTFUT' as any, exchange: 'CME' };
    const nov = await request(cont, MID_NOV_2013);
    expect(nov.decoded.errors).toEqual([]);
    expect(nov.details).toHaveLength(1);
    expect(nov.details[0]!.contract).toMatchObject({ secType: 'CONTFUT', localSymbol: 'ESZ3', conId: hashConId('ES-201312') });
    // rolls after the December expiry (Friday 2013-12-20)
    const roll = await request(cont, '2013-12-21T12:00:00Z');
    expect(roll.details[0]!.contract).toMatchObject({ secType: 'CONTFUT', localSymbol: 'ESH4', conId: hashConId('ES-201403') });
    const both = await request({ ...cont, secType: 'FUT+CONTFUT' as any }, MID_NOV_2013);
    expect(both.details.map((d) => `${d.contract.secType}:${d.contract.localSymbol}`)).toEqual(['FUT:ESZ3', 'FUT:ESH4', 'CONTFUT:ESZ3']);
  });

  it('describes 6E with its multiplier, tick and expiry', async () => {
    const { details } = await request({ symbol: '6E', secType: 'FUT' as any, exchange: 'CME' }, '2024-01-15T15:00:00Z');
    expect(details[0]!.contract).toMatchObject({ localSymbol: '6EH4', multiplier: 125000, lastTradeDateOrContractMonth: '20240318' });
    expect(details[0]!.minTick).toBe(0.00005);
    expect(details[0]!.liquidHours).toContain('20240115:0720-20240115:1400');
  });
});

describe('contractDetails errors', () => {
  it('answers error 200 with IB text and no end marker when nothing matches', async () => {
    const { decoded, details, ends } = await request({ symbol: 'NOPE', secType: 'STK' as any, exchange: 'SMART' }, MID_NOV_2013, 193, 42);
    expect(details).toEqual([]);
    expect(ends).toEqual([]);
    expect(decoded.errors).toEqual([{ message: NO_SECURITY_DEFINITION.text, code: 200, reqId: 42 }]);
  });

  it('answers 200 for CONTFUT when every month has expired', async () => {
    const { decoded } = await request({ symbol: 'ES', secType: 'CONTFUT' as any, exchange: 'CME' }, '2015-01-05T15:00:00Z');
    expect(decoded.errors.map((e) => e.code)).toEqual([200]);
  });

  it('answers 200 for a stock asked as a future', async () => {
    const { decoded } = await request({ symbol: 'SPY', secType: 'FUT' as any, exchange: 'CME' }, MID_NOV_2013);
    expect(decoded.errors.map((e) => e.code)).toEqual([200]);
  });
});
