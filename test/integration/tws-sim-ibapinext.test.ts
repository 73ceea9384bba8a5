/**
 * IBApiNext (the RxJS API a runner would use) against the simulator over TCP for reference and
 * historical data: contract details, historical bars and the head timestamp, checked against the
 * store the simulator serves, with no error on the client's error stream.
 */
import { BarSizeSetting, IBApiNext, SecType, WhatToShow, type Contract } from '@stoqey/ib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFiles } from '../../lib/ingest/import-files.js';
import { loadBars } from '../../lib/store/bar-query.js';
import { Store } from '../../lib/store/store.js';
import { simFeatures } from '../../runner/tws-sim/features.js';
import { TwsSimulator } from '../../runner/tws-sim/server.js';
import { replayClock } from '../../runner/tws-sim/sim-clock.js';

const SPY: Contract = { symbol: 'SPY', secType: SecType.STK, exchange: 'SMART', currency: 'USD' };
// the simulated present: a week after the bundled daily data ends (2021-03-31)
const SIM_START = Date.UTC(2021, 3, 7, 15);

let store: Store;
let sim: TwsSimulator;
let next: IBApiNext;
const errors: unknown[] = [];

beforeAll(async () => {
  store = await Store.open(':memory:');
  await importFiles(store, ['data/lean/equity/usa/daily/spy.csv']);
  sim = new TwsSimulator({ store, port: 0, clock: replayClock({ start: SIM_START, speed: 1 }), features: simFeatures(store) });
  await sim.start();
  const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  next = new IBApiNext({ host: '127.0.0.1', port: sim.port, logger: quiet });
  next.error.subscribe((e) => errors.push(e));
  next.connect(31);
  await next.getCurrentTime();
});

afterAll(async () => {
  next?.disconnect();
  await sim?.stop();
  store?.close();
});

describe('IBApiNext against the simulator', () => {
  it('resolves contract details for a stock', async () => {
    const details = await next.getContractDetails(SPY);
    expect(details).toHaveLength(1);
    expect(details[0]!.contract).toMatchObject({ symbol: 'SPY', secType: 'STK', currency: 'USD' });
    expect(details[0]!.contract.conId).toBeGreaterThan(0);
    expect(details[0]!.minTick).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });

  it('returns one month of daily bars equal to the stored ones', async () => {
    const bars = await next.getHistoricalData(SPY, '', '1 M', BarSizeSetting.DAYS_ONE, WhatToShow.TRADES, 1, 1);
    // March 2021 as stored: every bar from 2021-03-08 on (one month back from the simulated 2021-04-07)
    const [stored] = await loadBars(store, { symbols: ['SPY'], interval: '1d', from: '2021-03-08', to: '2021-04-07' });
    expect(bars.length).toBe(stored!.length);
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10).replace(/-/g, '');
    expect(bars.map((b) => b.time)).toEqual(Array.from(stored!.ts, day));
    expect(bars.map((b) => b.close)).toEqual(Array.from(stored!.close));
    expect(bars.map((b) => b.high)).toEqual(Array.from(stored!.high));
    expect(errors).toEqual([]);
  });

  it('answers the head timestamp with the first stored bar', async () => {
    const head = await next.getHeadTimestamp(SPY, WhatToShow.TRADES, true, 1);
    expect(head.startsWith('19980102')).toBe(true);
    expect(errors).toEqual([]);
  });
});
