import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryDataClient, type MemorySeries } from '../../lib/backtest/memory-data-client.js';
import { runBacktest } from '../../lib/backtest/run-backtest.js';
import { stockSpec } from '../../lib/data/instrument.js';
import type { BarColumns } from '../../lib/data/bar-series.js';
import { Store } from '../../lib/store/store.js';
import { smaCross } from '../../strategies/sma-cross/index.js';
import { medianMs, type BenchReport } from './harness.js';

const FAST = 10;
const SLOW = 30;
const SIZE = 100;
const CASH = 1e9;
const MINUTE = 60_000;

/** Seeded random-walk minute bars, every instrument on the same clock (a worst case for the merge) */
export function syntheticBars(instruments: number, bars: number, seed = 7): MemorySeries[] {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const start = Date.UTC(2020, 0, 6, 14, 30);
  const out: MemorySeries[] = [];
  for (let k = 0; k < instruments; k++) {
    const c: BarColumns = { length: bars, ts: new Float64Array(bars), open: new Float64Array(bars), high: new Float64Array(bars), low: new Float64Array(bars), close: new Float64Array(bars), volume: new Float64Array(bars) };
    let p = 100 + k;
    for (let i = 0; i < bars; i++) {
      const o = p;
      p = Math.max(1, p * (1 + (rand() - 0.5) * 0.004));
      c.ts[i] = start + i * MINUTE;
      c.open[i] = o;
      c.close[i] = p;
      c.high[i] = Math.max(o, p) * (1 + rand() * 0.001);
      c.low[i] = Math.min(o, p) * (1 - rand() * 0.001);
      c.volume[i] = 1000 + Math.floor(rand() * 1000);
    }
    out.push({ instrument: stockSpec(`S${String(k).padStart(3, '0')}`), interval: '1m', bars: c });
  }
  return out;
}

/**
 * The same strategy written by hand over typed arrays: SMA running sums, cross detection, market
 * orders filled at the next bar's open, P&L at the last close. Returns final equity and orders.
 */
export function handWrittenSmaCross(series: readonly MemorySeries[]): { equity: number; orders: number } {
  let cash = CASH;
  let orders = 0;
  for (const s of series) {
    const { close, open, length } = s.bars;
    let fastSum = 0;
    let slowSum = 0;
    let prevAbove = -1; // -1 unknown, 0 below, 1 above
    let position = 0;
    let pending = 0; // signed quantity to fill at the next open
    for (let i = 0; i < length; i++) {
      if (pending !== 0) {
        cash -= pending * open[i]!;
        position += pending;
        pending = 0;
      }
      const x = close[i]!;
      fastSum += x;
      if (i >= FAST) fastSum -= close[i - FAST]!;
      slowSum += x;
      if (i >= SLOW) slowSum -= close[i - SLOW]!;
      if (i < SLOW - 1) continue;
      const above = fastSum / FAST > slowSum / SLOW ? 1 : 0;
      if (prevAbove !== -1 && above !== prevAbove) {
        if (above === 1 && position === 0) {
          pending = SIZE;
          orders++;
        } else if (above === 0 && position > 0) {
          pending = -position;
          orders++;
        }
      }
      prevAbove = above;
    }
    if (pending !== 0) orders += 0; // an order submitted on the last bar never fills
    cash += position * close[length - 1]!;
  }
  return { equity: cash, orders };
}

async function engineRun(series: MemorySeries[]) {
  return runBacktest({
    strategy: smaCross as never,
    params: { fast: FAST, slow: SLOW, size: SIZE },
    subscriptions: series.map((s) => ({ instrument: s.instrument.key, interval: '1m' as const, history: 1 })),
    data: new MemoryDataClient(series),
    cash: CASH,
    fill: 'next-open',
  });
}

export async function engineBenchmarks(): Promise<BenchReport> {
  const instruments = 100;
  const bars = 20_000;
  const series = syntheticBars(instruments, bars);
  const total = instruments * bars;
  const hand = handWrittenSmaCross(series);
  const check = await engineRun(series);
  const filled = check.orders.filter((o) => o.status === 'FILLED').length;
  if (Math.abs(check.finalValue - hand.equity) > 1e-6 * CASH || filled !== hand.orders - check.orders.filter((o) => o.status !== 'FILLED').length) {
    process.stderr.write(`engine and hand-written loop disagree: engine ${check.finalValue} (${check.orders.length} orders), hand ${hand.equity} (${hand.orders} orders)\n`);
  }
  const handMs = await medianMs(() => handWrittenSmaCross(series), 5);
  const engineMs = await medianMs(() => engineRun(series), 3);
  const engineRate = total / (engineMs / 1000);
  const handRate = total / (handMs / 1000);
  const report: BenchReport = {
    'engine sma-cross 100x20k 1m bars': {
      value: engineRate,
      unit: 'bars/s',
      baseline: { name: 'hand-written typed-array loop', value: handRate },
      ratio: engineRate / handRate,
      target: '>= 2,000,000 bars/s and ratio >= 1/3',
      met: engineRate >= 2_000_000 && engineRate / handRate >= 1 / 3,
    },
  };
  Object.assign(report, await memoryBenchmark());
  return report;
}

/** Peak heap while streaming from the store, for a run 4x longer than another: flat means ratio ~1 */
async function memoryBenchmark(): Promise<BenchReport> {
  const peak = async (bars: number): Promise<number> => {
    const path = join(tmpdir(), `monger-bench-${process.pid}-${bars}.duckdb`);
    rmSync(path, { force: true });
    const store = await Store.open(path);
    try {
      const series = syntheticBars(20, bars, 11);
      const { writeBars } = await import('../../lib/store/bar-writer.js');
      const { upsertInstruments } = await import('../../lib/store/instruments.js');
      const ids = await upsertInstruments(store, series.map((s) => s.instrument), 'bench');
      await writeBars(store, series.map((s) => ({ ...s.bars, instrumentKey: s.instrument.key, interval: '1m' as const, kind: 'trade' as const, file: 'bench' })), ids, 'sim', 0);
      series.length = 0;
      globalThis.gc?.();
      const base = process.memoryUsage().heapUsed;
      let max = base;
      await runBacktest({
        strategy: smaCross as never,
        params: { fast: FAST, slow: SLOW, size: SIZE },
        subscriptions: Array.from({ length: 20 }, (_, k) => ({ instrument: `S${String(k).padStart(3, '0')}`, interval: '1m' as const })),
        data: store,
        cash: CASH,
        observers: [{ onDayEnd: () => void (max = Math.max(max, process.memoryUsage().heapUsed)) }],
      });
      return max - base;
    } finally {
      store.close();
      rmSync(path, { force: true });
    }
  };
  const small = await peak(50_000);
  const large = await peak(200_000);
  return {
    'engine store streaming: peak heap growth, 4x more bars': {
      value: large / 1e6,
      unit: 'MB (20x200k bars)',
      baseline: { name: 'same for 20x50k bars', value: small / 1e6 },
      ratio: large / Math.max(small, 1),
      target: 'flat: ratio < 2 for 4x the bars',
      met: large / Math.max(small, 1) < 2,
    },
  };
}
