/**
 * Real-time bars as lock-step replays use them: sent at their own end ('slot' delay), pushed only on
 * `pump()` (no timer), and quiet bars (last close, volume 0) inside a trading date's gap so the
 * stream never has a hole, nothing across the night. Decoded with @stoqey/ib's real decoder.
 */
import { SecType } from '@stoqey/ib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BarSeries } from '../../lib/data/bar-series.js';
import { writeBars } from '../../lib/store/bar-writer.js';
import { upsertInstruments } from '../../lib/store/instruments.js';
import { Store } from '../../lib/store/store.js';
import { marketDataFeature } from './market-data.js';
import { StoreQuoteBook } from './replay-quotes.js';
import { dispatch, FakeClock, FakeConnection, fakeContext } from './test-wire.js';

const T0 = Date.parse('2024-03-04T15:00:00Z'); // Monday 10:00 New York
const NEXT_DAY = Date.parse('2024-03-05T15:00:00Z');
let store: Store;

/** Minute bars at the given starts: [start, open, high, low, close, volume] */
function minutes(key: string, rows: number[][]): BarSeries {
  const col = (k: number) => Float64Array.from(rows.map((r) => r[k]!));
  return { instrumentKey: key, interval: '1m', kind: 'trade', file: 'test', length: rows.length, ts: col(0), open: col(1), high: col(2), low: col(3), close: col(4), volume: col(5) };
}

beforeAll(async () => {
  store = await Store.open(':memory:');
  const ids = await upsertInstruments(store, [{ key: 'GAPPY', symbol: 'GAPPY', secType: 'STK', exchange: 'NASDAQ', currency: 'USD', multiplier: 1, tickSize: 0.01 }], 'test');
  // 10:00, then nothing until 10:02 (a quiet minute), then the next day's 10:00
  await writeBars(store, [minutes('GAPPY', [[T0, 10, 10.2, 9.9, 10.1, 1200], [T0 + 120_000, 10.1, 10.1, 10.1, 10.1, 600], [NEXT_DAY, 11, 11, 11, 11, 1200]])], ids, 'csv', 0);
});
afterAll(() => store.close());

describe('real-time bars for lock-step replays', () => {
  it('sends each 5 s bar at its own end, on pump() only, with quiet bars inside the gap and none overnight', async () => {
    const feature = marketDataFeature({ quotes: new StoreQuoteBook(store), tickIntervalMs: 0, realtimeDelay: 'slot' });
    const conn = new FakeConnection();
    const clock = new FakeClock(T0);
    const bars = () =>
      conn
        .decode()
        .events.filter((e) => e.name === 'realtimeBar')
        .map((e) => {
          const [, time, open, , , close, volume] = e.args as number[];
          return { t: time! * 1000 - T0, open: open!, close: close!, volume: volume! };
        });
    try {
      await dispatch(feature, conn, fakeContext(store, clock), (e) => e.reqRealTimeBars(7, { symbol: 'GAPPY', secType: SecType.STK, exchange: 'SMART', currency: 'USD' }, 5, 'TRADES' as never, false, []));
      expect(feature.realtimeBarCount()).toBe(1);
      // with the default 'source' delay the first minute's bars would wait until T0 + 65 s
      clock.ms = T0 + 60_000;
      await new Promise((r) => setTimeout(r, 30));
      expect(bars()).toEqual([]);
      await feature.pump();
      const first = bars();
      expect(first.map((b) => b.t)).toEqual(Array.from({ length: 12 }, (_, k) => k * 5000));
      expect(first[0]!.open).toBe(10);
      expect(first[11]!.close).toBe(10.1);
      // 1200 shares in lots of 100 over 12 slots
      expect(first.reduce((s, b) => s + b.volume, 0)).toBeCloseTo(12, 9);
      // the quiet minute 10:01: twelve bars at the last close without volume, then 10:02's own
      clock.ms = T0 + 180_000;
      await feature.pump();
      const next = bars();
      expect(next).toHaveLength(24);
      for (const b of next.slice(0, 12)) expect(b).toMatchObject({ open: 10.1, close: 10.1, volume: 0 });
      expect(next.slice(12).every((b) => b.volume > 0)).toBe(true);
      // after the day's last bar: nothing (the market closed), until the next day's first
      clock.ms = NEXT_DAY - 3_600_000;
      await feature.pump();
      expect(bars()).toEqual([]);
      clock.ms = NEXT_DAY + 60_000;
      await feature.pump();
      expect(bars().map((b) => b.t - (NEXT_DAY - T0))).toEqual(Array.from({ length: 12 }, (_, k) => k * 5000));
    } finally {
      feature.close?.();
    }
  });
});
