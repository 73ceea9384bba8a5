import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NEW_YORK, utcToZonedWall, zonedWallToUtc } from '../core/time-zone.js';
import type { BarColumns } from '../data/bar-series.js';
import { parseLeanBars } from '../ingest/lean/lean-bars.js';
import type { Bar } from '../model/market.js';
import { BarAggregator, type BarAggregatorOptions } from './bar-aggregator.js';

type Plain = Pick<Bar, 'interval' | 'ts' | 'closeTime' | 'open' | 'high' | 'low' | 'close' | 'volume'>;

/** An aggregator whose bars are copied into `out` (they are flyweights) */
function collect(options: Partial<BarAggregatorOptions> = {}) {
  const out: Plain[] = [];
  const agg = new BarAggregator({
    instrument: 'SPY',
    ...options,
    onBar: (b) => out.push({ interval: b.interval, ts: b.ts, closeTime: b.closeTime, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume }),
  });
  const of = (interval: string) => out.filter((b) => b.interval === interval);
  return { agg, out, of };
}

function spyMinutes(date: string): BarColumns {
  const file = `data/lean/equity/usa/minute/spy/${date}_spy_minute_trade.csv`;
  const { series } = parseLeanBars(readFileSync(file), { file, instrumentKey: 'SPY', resolution: 'minute', data: 'trade', assetClass: 'equity', date });
  return series[0]!;
}

type FiveSec = [timeSec: number, open: number, high: number, low: number, close: number, volume: number];

/**
 * Twelve 5-second bars recombining exactly into the minute: a price path open -> low -> high ->
 * close (open -> high -> low -> close when the minute fell) with waypoints at slots 0, 3, 7, 11
 * and interpolated points between them; each bar runs from the previous point to its own. The
 * integer volume is split exactly, its remainder going to the waypoint slots first, so small
 * minutes leave some slots without volume (IB sends such bars in quiet periods).
 */
function split(ts: number, o: number, h: number, l: number, c: number, v: number): FiveSec[] {
  const [x, y] = c >= o ? [l, h] : [h, l];
  const points: number[] = [];
  const waypoints: [number, number][] = [
    [0, o],
    [3, x],
    [7, y],
    [11, c],
  ];
  for (let w = 0; w < 3; w++) {
    const [k0, p0] = waypoints[w]!;
    const [k1, p1] = waypoints[w + 1]!;
    // in-between points on the cent grid, never beyond their two waypoints (sub-penny prints exist)
    const clamp = (p: number) => Math.min(Math.max(p0, p1), Math.max(Math.min(p0, p1), p));
    for (let k = k0; k < k1; k++) points[k] = k === k0 ? p0 : clamp(Math.round((p0 + ((p1 - p0) * (k - k0)) / (k1 - k0)) * 100) / 100);
  }
  points[11] = c;
  const base = Math.floor(v / 12);
  const volumes = new Array<number>(12).fill(base);
  const order = [0, 3, 7, 11, 1, 2, 4, 5, 6, 8, 9, 10];
  for (let r = 0; r < v - base * 12; r++) volumes[order[r]!]!++;
  return points.map((p, k) => {
    const prev = k === 0 ? o : points[k - 1]!;
    return [(ts + k * 5_000) / 1000, prev, Math.max(prev, p), Math.min(prev, p), p, volumes[k]!];
  });
}

/** The obvious resample: group minutes by their local-midnight-aligned bucket, fold OHLCV */
function resample(m: BarColumns, minutes: number, timeZone = NEW_YORK): Plain[] {
  const size = minutes * 60_000;
  const out: Plain[] = [];
  let key = NaN;
  for (let i = 0; i < m.length; i++) {
    const k = Math.floor(utcToZonedWall(timeZone, m.ts[i]!) / size);
    if (k !== key) {
      key = k;
      const ts = zonedWallToUtc(timeZone, k * size);
      out.push({ interval: `${minutes}m` as Bar['interval'], ts, closeTime: ts + size, open: m.open[i]!, high: m.high[i]!, low: m.low[i]!, close: m.close[i]!, volume: m.volume[i]! });
    } else {
      const b = out[out.length - 1]!;
      b.high = Math.max(b.high, m.high[i]!);
      b.low = Math.min(b.low, m.low[i]!);
      b.close = m.close[i]!;
      b.volume += m.volume[i]!;
    }
  }
  return out;
}

function minuteBars(m: BarColumns): Plain[] {
  return Array.from({ length: m.length }, (_, i) => ({
    interval: '1m' as const,
    ts: m.ts[i]!,
    closeTime: m.ts[i]! + 60_000,
    open: m.open[i]!,
    high: m.high[i]!,
    low: m.low[i]!,
    close: m.close[i]!,
    volume: m.volume[i]!,
  }));
}

const T0 = Date.parse('2013-10-07T14:00:00Z');

describe('BarAggregator: realtime bars -> the stored bars', () => {
  it.each(['20131007', '20230803'])('SPY %s: 5-second bars recombine into the exact minute bars and their 5/15-minute resample', (date) => {
    const m = spyMinutes(date);
    expect(m.length).toBeGreaterThan(700);
    const { agg, of, out } = collect({ derived: ['15m', '5m'] });
    let fed = 0;
    for (let i = 0; i < m.length; i++) {
      for (const b of split(m.ts[i]!, m.open[i]!, m.high[i]!, m.low[i]!, m.close[i]!, m.volume[i]!)) {
        agg.addRealtimeBar(...b);
        fed++;
      }
      // every minute is complete with its :55 slot, before the next one starts
      expect(out.findLast((b) => b.interval === '1m')!.ts).toBe(m.ts[i]);
    }
    agg.flush(Infinity);
    expect(of('1m')).toEqual(minuteBars(m));
    expect(of('5m')).toEqual(resample(m, 5));
    expect(of('15m')).toEqual(resample(m, 15));
    // New York offsets are whole hours: the buckets are on the UTC grid too
    expect(of('15m').every((b) => b.ts % 900_000 === 0)).toBe(true);
    // in time order, finest first
    const closes = out.map((b) => b.closeTime);
    expect(closes).toEqual([...closes].sort((a, b) => a - b));
    expect(agg.stats).toMatchObject({ realtimeBars: fed, late: 0, outOfOrder: 0, invalid: 0, emitted: out.length });
    if (date === '20230803') expect(agg.stats.empty).toBeGreaterThan(0);
  });

  it('emits a minute with the 5-second bars that arrived when some are missing', () => {
    const { agg, of } = collect();
    agg.addRealtimeBar(T0 / 1000 + 10, 10, 10.5, 9.9, 10.2, 100);
    agg.addRealtimeBar(T0 / 1000 + 25, 10.2, 10.3, 9.5, 9.6, 50);
    agg.addRealtimeBar(T0 / 1000 + 40, 9.6, 9.8, 9.6, 9.7, 25);
    expect(of('1m')).toEqual([]);
    // the first bar of the next minute completes it
    agg.addRealtimeBar(T0 / 1000 + 65, 9.7, 9.7, 9.7, 9.7, 10);
    expect(of('1m')).toEqual([{ interval: '1m', ts: T0, closeTime: T0 + 60_000, open: 10, high: 10.5, low: 9.5, close: 9.7, volume: 175 }]);
  });

  it('ignores duplicate, out-of-order and late bars, counting them', () => {
    const { agg, of } = collect();
    const s = T0 / 1000;
    agg.addRealtimeBar(s + 0, 10, 10, 10, 10, 1);
    agg.addRealtimeBar(s + 15, 11, 11, 11, 11, 1);
    agg.addRealtimeBar(s + 15, 50, 50, 50, 50, 1); // duplicate
    agg.addRealtimeBar(s + 10, 1, 1, 1, 1, 1); // out of order inside the minute
    agg.addRealtimeBar(s + 20, 12, 12, 12, 12, 1);
    agg.addRealtimeBar(s + 60, 13, 13, 13, 13, 1); // next minute: the first is emitted
    agg.addRealtimeBar(s + 55, 99, 99, 99, 99, 1); // late: its minute is closed
    agg.addRealtimeBar(s - 5, 99, 99, 99, 99, 1); // late
    agg.flush(Infinity);
    expect(of('1m')).toEqual([
      { interval: '1m', ts: T0, closeTime: T0 + 60_000, open: 10, high: 12, low: 10, close: 12, volume: 3 },
      { interval: '1m', ts: T0 + 60_000, closeTime: T0 + 120_000, open: 13, high: 13, low: 13, close: 13, volume: 1 },
    ]);
    expect(agg.stats).toMatchObject({ realtimeBars: 8, outOfOrder: 2, late: 2, emitted: 2 });
  });

  it('flushes a minute on time once its grace period is over, and its derived bar with it', () => {
    const { agg, of } = collect({ derived: ['5m'], graceMs: 3_000 });
    const s = T0 / 1000;
    // minutes 14:00-14:03 traded, 14:04 had no trades at all
    for (let k = 0; k < 4; k++) agg.addRealtimeBar(s + k * 60 + 30, 10 + k, 10 + k, 10 + k, 10 + k, 100);
    expect(of('1m').map((b) => b.ts)).toEqual([T0, T0 + 60_000, T0 + 120_000]);
    agg.flush(T0 + 240_000 + 2_999);
    expect(of('1m')).toHaveLength(3);
    agg.flush(T0 + 240_000 + 3_000);
    expect(of('1m')).toHaveLength(4);
    expect(of('5m')).toEqual([]);
    agg.flush(T0 + 300_000 + 2_000);
    expect(of('5m')).toEqual([]);
    agg.flush(T0 + 300_000 + 3_000);
    expect(of('5m')).toEqual([{ interval: '5m', ts: T0, closeTime: T0 + 300_000, open: 10, high: 13, low: 10, close: 13, volume: 400 }]);
    // a bar of the flushed minute arriving after the grace is late
    agg.addRealtimeBar(s + 235, 99, 99, 99, 99, 1);
    expect(agg.stats.late).toBe(1);
    agg.flush(Infinity);
    expect(of('1m')).toHaveLength(4);
  });

  it('emits a derived bar as soon as the minute completing it is emitted', () => {
    const { agg, of } = collect({ derived: ['5m'] });
    const s = T0 / 1000;
    for (let k = 0; k < 5; k++) agg.addRealtimeBar(s + k * 60 + 55, 20 - k, 20 - k, 20 - k, 20 - k, 10);
    // the 14:04:55 slot completes 14:04 and the 14:00 bucket at once, no flush needed
    expect(of('1m')).toHaveLength(5);
    expect(of('5m')).toEqual([{ interval: '5m', ts: T0, closeTime: T0 + 300_000, open: 20, high: 20, low: 16, close: 16, volume: 50 }]);
  });

  it('stamps a derived bucket by its start even when its first minutes had no trades', () => {
    const { agg, of } = collect({ derived: ['15m'] });
    agg.addRealtimeBar((T0 + 7 * 60_000) / 1000, 5, 6, 4, 5.5, 10);
    agg.flush(Infinity);
    expect(of('15m')).toEqual([{ interval: '15m', ts: T0, closeTime: T0 + 900_000, open: 5, high: 6, low: 4, close: 5.5, volume: 10 }]);
  });

  it('aligns derived buckets from local midnight of the exchange zone', () => {
    // Kathmandu is UTC+05:45: its 30-minute buckets start at :15 and :45 UTC
    const { agg, of } = collect({ derived: ['30m'], timeZone: 'Asia/Kathmandu' });
    const t = Date.parse('2024-01-08T04:10:00Z');
    for (let k = 0; k < 10; k++) agg.addRealtimeBar((t + k * 60_000) / 1000, k, k, k, k, 1);
    agg.flush(Infinity);
    expect(of('30m').map((b) => [new Date(b.ts).toISOString(), b.open, b.close, b.volume])).toEqual([
      ['2024-01-08T03:45:00.000Z', 0, 4, 5],
      ['2024-01-08T04:15:00.000Z', 5, 9, 5],
    ]);
  });

  it('zero-volume trade bars move the clock but make no bar; quote bars count volume -1 as 0', () => {
    const trades = collect();
    const s = T0 / 1000;
    trades.agg.addRealtimeBar(s, 10, 10, 10, 10, 5);
    trades.agg.addRealtimeBar(s + 55, 10, 10, 10, 10, 0);
    // completed by the empty :55 slot
    expect(trades.of('1m')).toHaveLength(1);
    trades.agg.addRealtimeBar(s + 60, 10, 10, 10, 10, 0);
    trades.agg.flush(Infinity);
    expect(trades.of('1m')).toHaveLength(1);
    expect(trades.agg.stats.empty).toBe(2);

    const bids = collect({ kind: 'bid' });
    bids.agg.addRealtimeBar(s, 9.99, 9.99, 9.98, 9.98, -1);
    bids.agg.flush(Infinity);
    expect(bids.out).toEqual([{ interval: '1m', ts: T0, closeTime: T0 + 60_000, open: 9.99, high: 9.99, low: 9.98, close: 9.98, volume: 0 }]);
  });

  it('counts invalid bars and leaves them out', () => {
    const { agg, of } = collect();
    const s = T0 / 1000;
    agg.addRealtimeBar(s, NaN, 10, 9, 9.5, 1);
    agg.addRealtimeBar(s + 5, 10, 9, 10, 9.5, 1); // high below low
    agg.addRealtimeBar(s + 10, 10, 10.5, 9.5, 11, 1); // close above high
    agg.addRealtimeBar(s + 15, 10, 10.5, 9.5, 10, 1);
    agg.flush(Infinity);
    expect(agg.stats.invalid).toBe(3);
    expect(of('1m')).toEqual([{ interval: '1m', ts: T0, closeTime: T0 + 60_000, open: 10, high: 10.5, low: 9.5, close: 10, volume: 1 }]);
  });

  it('delivers one flyweight per interval, filled with the instrument and kind', () => {
    const seen: Readonly<Bar>[] = [];
    const agg = new BarAggregator({ instrument: 'QQQ', instrumentIndex: 3, kind: 'mid', derived: ['2m'], onBar: (b) => seen.push(b) });
    for (let k = 0; k < 4; k++) agg.addRealtimeBar(T0 / 1000 + k * 60, 1, 1, 1, 1, -1);
    agg.flush(Infinity);
    const minutes = seen.filter((b) => b.interval === '1m');
    expect(minutes).toHaveLength(4);
    expect(new Set(minutes).size).toBe(1);
    expect(new Set(seen.filter((b) => b.interval === '2m')).size).toBe(1);
    expect(seen[0]).toMatchObject({ instrument: 'QQQ', instrumentIndex: 3, kind: 'mid' });
  });

  it('refuses intervals it cannot derive', () => {
    expect(() => new BarAggregator({ instrument: 'SPY', derived: ['1h' as never], onBar: () => undefined })).toThrow('cannot derive 1h bars from minutes; expected one of 2m, 3m, 5m, 10m, 15m, 30m');
  });
});

describe('BarAggregator: trade ticks', () => {
  it('builds minute bars from prints, completing a minute with the first print of a later one', () => {
    const { agg, of } = collect({ derived: ['5m'] });
    agg.addTrade(100, 10, T0 + 1_000);
    agg.addTrade(101, 5, T0 + 1_000); // same time: fine
    agg.addTrade(99.5, 20, T0 + 30_000);
    agg.addTrade(120, 1, T0 + 20_000); // earlier than the last print: out of order
    agg.addTrade(100.5, 0, T0 + 40_000); // no size: no trade
    agg.addTrade(100.25, 7, T0 + 59_999);
    expect(of('1m')).toEqual([]);
    agg.addTrade(100.75, 3, T0 + 3 * 60_000 + 500);
    expect(of('1m')).toEqual([{ interval: '1m', ts: T0, closeTime: T0 + 60_000, open: 100, high: 101, low: 99.5, close: 100.25, volume: 42 }]);
    agg.addTrade(90, 1, T0 + 59_000); // late
    agg.addTrade(Number.NaN, 1, T0 + 3 * 60_000 + 600);
    agg.flush(T0 + 5 * 60_000 + 2_000);
    expect(of('1m')).toHaveLength(2);
    expect(of('5m')).toEqual([{ interval: '5m', ts: T0, closeTime: T0 + 300_000, open: 100, high: 101, low: 99.5, close: 100.75, volume: 45 }]);
    expect(agg.stats).toMatchObject({ trades: 9, outOfOrder: 1, late: 1, invalid: 1, empty: 1 });
  });

  it('ticks made from the minute bars give back the minute bars', () => {
    const m = spyMinutes('20131008');
    const { agg, of } = collect({ derived: ['15m'] });
    for (let i = 0; i < m.length; i++) {
      const [o, h, l, c, v] = [m.open[i]!, m.high[i]!, m.low[i]!, m.close[i]!, m.volume[i]!];
      const [x, y] = c >= o ? [l, h] : [h, l];
      const sizes = [Math.floor(v / 4), Math.floor(v / 4), Math.floor(v / 4)];
      sizes.push(v - sizes[0]! - sizes[1]! - sizes[2]!);
      [o, x, y, c].forEach((p, k) => agg.addTrade(p, sizes[k]!, m.ts[i]! + k * 15_000));
    }
    agg.flush(Infinity);
    expect(of('1m')).toEqual(minuteBars(m));
    expect(of('15m')).toEqual(resample(m, 15));
  });
});
