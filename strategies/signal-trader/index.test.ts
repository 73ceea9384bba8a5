import { describe, expect, it } from 'vitest';
import { MemorySignalProvider } from '../../lib/signals/memory-provider.js';
import { runUniverseBacktest } from '../../lib/universe/universe-backtest.js';
import { memoryData, minuteBars, MIN, OPEN, sig } from '../../lib/universe/universe-fixtures.js';
import { signalTrader } from './index.js';

describe('signal-trader', () => {
  it('hands every signal to the trading rules: a unit per signal up to the max position, a signal against the position closes it first', async () => {
    const signals = new MemorySignalProvider([sig('AAA', 10, 0.9), sig('AAA', 20, 0.4), sig('AAA', 30, 0.7), sig('AAA', 40, 0.05), sig('AAA', 50, -0.6), sig('AAA', 60, -0.6)]);
    const r = await runUniverseBacktest({
      strategy: signalTrader,
      data: memoryData(['AAA']),
      cash: 1e6,
      from: OPEN,
      signals,
      trading: { defaults: { unitSize: 10, maxPosition: 20, tradeThreshold: 0.1 }, symbols: {} },
      universe: { mode: 'dynamic', interval: '1m' },
    });
    const bars = minuteBars('AAA');
    // market orders fill at the open of the bar after the signal (bar index = signal minute)
    expect(r.fills.map((f) => [(f.ts - OPEN) / MIN, f.side, f.quantity, f.price])).toEqual([
      [11, 'BUY', 10, bars.open[10]],
      [21, 'BUY', 10, bars.open[20]],
      // 30: at the max position (hold); 40: below the threshold (no view)
      [51, 'SELL', 20, bars.open[50]],
      [61, 'SELL', 10, bars.open[60]],
    ]);
    expect(r.openPositions).toEqual([{ instrument: 'AAA', quantity: -10, averagePrice: bars.open[60], lastPrice: bars.close[389] }]);
  });
});
