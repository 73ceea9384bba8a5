import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../store/store.js';
import { DuckDbSignalProvider, insertSignals } from './duckdb-provider.js';
import { START_WATERMARK, watermarkAt, type SignalWatermark } from './provider.js';
import type { Signal } from './signal.js';

const T0 = Date.UTC(2024, 2, 4, 15, 0);
const MIN = 60_000;

function sig(symbol: string, minute: number, value: number, lagMin = 0): Signal {
  return { ts: T0 + minute * MIN, symbol, value, availableAt: T0 + (minute + lagMin) * MIN };
}

describe('DuckDbSignalProvider', () => {
  let store: Store;
  beforeEach(async () => {
    store = await Store.open(':memory:');
  });
  afterEach(() => store.close());

  it('polls in delivery order (availableAt, ts, symbol) up to `until`, paging by the watermark without losing ties', async () => {
    await insertSignals(store, [sig('MSFT', 1, 0.5), sig('AAPL', 1, -0.2), sig('AAPL', 0, 0.9, 1), sig('IBM', 2, 0.1), sig('AAPL', 3, 0.3)]);
    const p = new DuckDbSignalProvider(store);
    // until T0+2m: the 3-minute signal is not visible yet
    const a = await p.poll(START_WATERMARK, { until: T0 + 2 * MIN, limit: 2 });
    // at availableAt 1m: AAPL ts 0 (published with a 1-minute lag) first, then AAPL and MSFT at ts 1
    expect(a.signals.map((s) => [s.symbol, s.ts - T0, s.availableAt - T0])).toEqual([
      ['AAPL', 0, MIN],
      ['AAPL', MIN, MIN],
    ]);
    expect(a.more).toBe(true);
    expect(a.watermark).toEqual({ availableAt: T0 + MIN, ts: T0 + MIN, symbol: 'AAPL' });
    const b = await p.poll(a.watermark, { until: T0 + 2 * MIN, limit: 2 });
    expect(b.signals.map((s) => s.symbol)).toEqual(['MSFT', 'IBM']);
    const c = await p.poll(b.watermark, { until: T0 + 2 * MIN, limit: 2 });
    expect([c.signals.length, c.more]).toEqual([0, false]);
    // the watermark stays on the last delivered signal when nothing comes
    expect(c.watermark).toEqual(b.watermark);
    const d = await p.poll(c.watermark, { until: Infinity });
    expect(d.signals.map((s) => [s.symbol, s.value])).toEqual([['AAPL', 0.3]]);
    // a watermark is plain JSON (the runner journals it)
    expect(JSON.parse(JSON.stringify(d.watermark))).toEqual(d.watermark);
  });

  it('starts a backtest at its start time: signals published at or before it are history', async () => {
    await insertSignals(store, [sig('AAPL', 0, 1), sig('AAPL', 1, 1), sig('AAPL', 2, 1)]);
    const b = await new DuckDbSignalProvider(store).poll(watermarkAt(T0 + MIN), { until: Infinity });
    expect(b.signals.map((s) => s.ts)).toEqual([T0 + 2 * MIN]);
  });

  it('with lateMs, returns a row inserted late behind the watermark once, then never again', async () => {
    await insertSignals(store, [sig('AAPL', 5, 1), sig('MSFT', 6, 1)]);
    const p = new DuckDbSignalProvider(store);
    const a = await p.poll(START_WATERMARK, { until: T0 + 10 * MIN, lateMs: 3 * MIN });
    expect(a.signals.map((s) => s.symbol)).toEqual(['AAPL', 'MSFT']);
    // a producer's slow insert: published at 5m30s, after the poll that saw 6m
    await insertSignals(store, [{ ts: T0 + 5 * MIN, symbol: 'IBM', value: 0.4, availableAt: T0 + 5.5 * MIN }]);
    // one published before the late window (6m - 3m) is not looked for
    await insertSignals(store, [{ ts: T0 + 2 * MIN, symbol: 'ORCL', value: 0.4, availableAt: T0 + 2 * MIN }]);
    const b = await p.poll(a.watermark, { until: T0 + 10 * MIN, lateMs: 3 * MIN });
    expect(b.signals.map((s) => s.symbol)).toEqual(['IBM']);
    let w: SignalWatermark = b.watermark;
    expect(w.recent?.map((r) => r[0]).sort()).toEqual([`AAPL@${T0 + 5 * MIN}`, `IBM@${T0 + 5 * MIN}`, `MSFT@${T0 + 6 * MIN}`]);
    const c = await p.poll(w, { until: T0 + 10 * MIN, lateMs: 3 * MIN });
    expect(c.signals).toEqual([]);
    await insertSignals(store, [sig('AAPL', 9, -1)]);
    w = (await p.poll(c.watermark, { until: T0 + 10 * MIN, lateMs: 3 * MIN })).watermark;
    // keys published before the new window start (9m - 3m) are forgotten
    expect(w.recent?.map((r) => r[0])).toEqual([`AAPL@${T0 + 9 * MIN}`]);
  });

  it('refuses a broken row or a duplicate with the row named, writing nothing', async () => {
    await expect(insertSignals(store, [sig('AAPL', 0, 1), { ...sig('aapl', 1, 1) }])).rejects.toThrow(/signal 2: symbol: expected 1-10 uppercase/);
    await expect(insertSignals(store, [sig('AAPL', 0, 1), sig('AAPL', 0, 2)])).rejects.toThrow(/signal 2: duplicate signal AAPL at 2024-03-04T15:00:00.000Z \(first at signal 1\)/);
    await expect(insertSignals(store, [{ ...sig('AAPL', 1, 1), availableAt: T0 }])).rejects.toThrow(/available_at: 2024-03-04T15:00:00.000Z is before ts 2024-03-04T15:01:00.000Z/);
    await expect(insertSignals(store, [sig('AAPL', 0, NaN)])).rejects.toThrow(/value: expected a finite number, got NaN/);
    expect(await store.all('SELECT * FROM signals')).toEqual([]);
    await insertSignals(store, [{ ...sig('AAPL', 0, 1), source: 'model-a' }]);
    await expect(insertSignals(store, [sig('MSFT', 0, 1), sig('AAPL', 0, 3)])).rejects.toThrow(/signal 2: signal AAPL at 2024-03-04T15:00:00.000Z is already in signals \(from model-a\)/);
    expect((await store.all<{ n: number }>('SELECT count(*) AS n FROM signals'))[0]!.n).toBe(1);
  });

  it('skips and reports rows that break the contract in a table someone else wrote', async () => {
    await store.run(`INSERT INTO signals (ts, symbol, value, available_at) VALUES ('2024-03-04 15:00:00', 'bad sym', 1, '2024-03-04 15:00:00'), ('2024-03-04 15:01:00', 'AAPL', 1, '2024-03-04 15:01:00')`);
    const rejected: string[] = [];
    const b = await new DuckDbSignalProvider(store, { onRejected: (r, why) => rejected.push(`${r.symbol}: ${why}`) }).poll(START_WATERMARK, { until: Infinity });
    expect(b.signals.map((s) => s.symbol)).toEqual(['AAPL']);
    expect(rejected).toEqual([`bad sym: symbol: expected 1-10 uppercase letters/digits with at least one letter (optionally a .B, -B or ' B' class suffix), was 'bad sym'`]);
  });
});
