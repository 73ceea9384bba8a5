import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryDataClient } from '../../lib/backtest/memory-data-client.js';
import { runBacktest } from '../../lib/backtest/run-backtest.js';
import { stockSpec } from '../../lib/data/instrument.js';
import { validateStrategyParams } from '../../lib/engine/strategy-params.js';
import { parseFeatureList } from '../../lib/features/feature-set.js';
import { loadManifest } from '../../lib/promotion/manifest.js';
import { loadPromotionData } from '../../lib/promotion/promotion-data.js';
import { runWalkForward } from '../../lib/walkforward/walk-forward.js';
import { smaCross } from './index.js';

// The module's own tests: `monger promote sma-cross` runs them before anything else.

const MIN = 60_000;
/** 2013-10-07 14:00 UTC = 10:00 New York, inside the session */
const T0 = Date.UTC(2013, 9, 7, 14, 0);

/** Minute bars with these closes; each opens at the previous close (the first at its own) */
function minuteBars(closes: readonly number[]) {
  const n = closes.length;
  const bars = { length: n, ts: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n) };
  closes.forEach((c, i) => {
    const o = i === 0 ? c : closes[i - 1]!;
    bars.ts[i] = T0 + i * MIN;
    bars.open[i] = o;
    bars.high[i] = Math.max(o, c);
    bars.low[i] = Math.min(o, c);
    bars.close[i] = c;
    bars.volume[i] = 1e6;
  });
  return new MemoryDataClient([{ instrument: stockSpec('SPY'), interval: '1m', bars }]);
}

const run = (closes: readonly number[], params: Record<string, unknown>) =>
  runBacktest({ strategy: smaCross, params, subscriptions: [{ instrument: 'SPY', interval: '1m' }], data: minuteBars(closes), cash: 100_000 });

describe('sma-cross', () => {
  it('buys on a golden cross and sells the position on the next death cross, filled at the next open', async () => {
    // fast = SMA(2), slow = SMA(4) from bar 3 on:
    //   bar 3: 7.5 < 8.5, bar 4: 7.5 < 8, bar 5: 8.5 > 8 (golden cross: buy, filled at bar 6's open 9)
    //   bars 6-8 above (10 > 8.75, 12 > 10.25, 12.5 > 11.25), bar 9: 11 < 11.5 (death cross: sell, filled at bar 10's open 10)
    const r = await run([10, 9, 8, 7, 8, 9, 11, 13, 12, 10, 9, 8], { fast: 2, slow: 4, size: 100 });
    // a fill is stamped with the close of the bar whose open filled it (bar k closes at T0 + (k + 1) minutes)
    expect(r.fills.map((f) => [f.side, f.quantity, f.price, (f.ts - T0) / MIN - 1])).toEqual([
      ['BUY', 100, 9, 6],
      ['SELL', 100, 10, 10],
    ]);
    expect(r.trades).toHaveLength(1);
    expect(r.trades[0]!.netPnl).toBe(100);
    expect(r.finalValue).toBe(100_100);
  });

  it('does not trade flat prices (equal averages are not a cross) nor sell while flat', async () => {
    expect((await run(Array(40).fill(10), { fast: 2, slow: 4 })).orders).toHaveLength(0);
    // a death cross first: nothing to sell
    expect((await run([7, 8, 9, 10, 9, 8, 7, 6], { fast: 2, slow: 4 })).orders).toHaveLength(0);
  });

  it('validates its params: defaults filled in, slow must exceed fast, unknown names refused', () => {
    expect(validateStrategyParams(smaCross, {})).toEqual({ fast: 10, slow: 30, size: 100 });
    expect(() => validateStrategyParams(smaCross, { fast: 30, slow: 30 })).toThrow(/slow must be greater than fast/);
    expect(() => validateStrategyParams(smaCross, { fats: 5 })).toThrow(/fats: unknown parameter/);
  });

  it('has a manifest that agrees with the code: name, version, params and the feature-set hash', () => {
    const m = loadManifest(resolve('strategies/sma-cross'));
    expect([m.name, m.version]).toEqual([smaCross.name, smaCross.version]);
    expect(validateStrategyParams(smaCross, m.params)).toEqual(m.params);
    // the indicators the rules read at the manifest's params
    const set = parseFeatureList(`sma:${String(m.params.fast)},sma:${String(m.params.slow)}`);
    expect(m.features).toEqual({ list: `sma:${String(m.params.fast)},sma:${String(m.params.slow)}`, hash: set.hash });
  });
});

describe('sma-cross golden statistics (README), on the manifest data', () => {
  it('backtest and walk-forward over SPY and QQQ daily 2010-2020 give the numbers its promotion is judged on', async () => {
    const m = loadManifest(resolve('strategies/sma-cross'));
    const data = await loadPromotionData(m, resolve('.'), undefined);
    const common = { cash: m.backtest.cash, fill: m.backtest.fill, commission: m.backtest.commission, from: m.data.from, to: m.data.to };
    const bt = await runBacktest({ ...common, strategy: smaCross, params: m.params, subscriptions: data.series.map((s) => ({ instrument: s.instrument.key, interval: s.interval })), data: new MemoryDataClient(data.series) });
    // 10/30 SMA, 100 shares, IB fixed commissions, next-open fills, 100,000 cash
    expect(bt.trades).toHaveLength(82);
    expect(bt.finalValue).toBeCloseTo(125_294, 6);
    expect(bt.statistics.sharpe).toBeCloseTo(0.5795, 4);
    expect(bt.statistics.maxDrawdown).toBeCloseTo(0.0781, 4);
    const w = m.walkforward;
    const wf = await runWalkForward({ ...common, strategy: smaCross, baseParams: m.params, grid: w.grid, split: { mode: w.mode, folds: w.folds, embargo: w.embargo }, data: data.series, objective: w.objective, minTrades: w.minTrades, workers: 0 });
    // 16 grid points x 4 rolling folds chosen on train Sharpe, test windows stitched
    expect(wf.oos.statistics.trades).toBe(52);
    expect(wf.oos.statistics.sharpe).toBeCloseTo(0.7269, 4);
    expect(wf.oos.statistics.maxDrawdown).toBeCloseTo(0.0725, 4);
    expect(wf.oos.statistics.finalEquity).toBeCloseTo(128_889.501, 3);
  });
});
