/**
 * Deterministic data for universe tests (not a test file): 1-minute bars of a few stocks over one
 * session and signals built from a tiny seeded generator, so expected outcomes can be reasoned about.
 */
import type { BarColumns } from '../data/bar-series.js';
import { stockSpec } from '../data/instrument.js';
import { MemoryDataClient } from '../backtest/memory-data-client.js';
import type { Signal } from '../signals/signal.js';

export const MIN = 60_000;
/** 2024-03-04 14:30 UTC = 09:30 New York (the XNYS open) */
export const OPEN = Date.UTC(2024, 2, 4, 14, 30);

/** `n` one-minute bars from the open: a random walk per symbol (seeded by the symbol) */
export function minuteBars(symbol: string, n = 390, start = OPEN): BarColumns {
  let seed = 0;
  for (const ch of symbol) seed = (seed * 31 + ch.charCodeAt(0)) >>> 0;
  const rnd = () => {
    // xorshift32: deterministic, good enough for test prices
    seed ^= seed << 13;
    seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    return seed / 0x1_0000_0000;
  };
  const c: BarColumns = { length: n, ts: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n) };
  let price = 50 + rnd() * 100;
  for (let i = 0; i < n; i++) {
    const open = price;
    price = Math.round(price * (1 + (rnd() - 0.5) * 0.01) * 100) / 100;
    c.ts[i] = start + i * MIN;
    c.open[i] = open;
    c.close[i] = price;
    c.high[i] = Math.max(open, price) + 0.05;
    c.low[i] = Math.min(open, price) - 0.05;
    c.volume[i] = 1000 + i;
  }
  return c;
}

export function memoryData(symbols: readonly string[], n = 390): MemoryDataClient {
  return new MemoryDataClient(symbols.map((s) => ({ instrument: stockSpec(s), interval: '1m' as const, bars: minuteBars(s, n) })));
}

/** A signal about minute `minute` after the open, published `lagMin` minutes later */
export function sig(symbol: string, minute: number, value: number, lagMin = 0): Signal {
  return { ts: OPEN + minute * MIN, symbol, value, availableAt: OPEN + (minute + lagMin) * MIN };
}
