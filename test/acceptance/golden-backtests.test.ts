import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BarColumns } from '../../lib/data/bar-series.js';
import { runBacktest } from '../../lib/backtest/run-backtest.js';
import { importFiles } from '../../lib/ingest/import-files.js';
import { loadBars } from '../../lib/store/bar-query.js';
import { Store } from '../../lib/store/store.js';
import { buyAndHold } from '../../strategies/buy-and-hold/index.js';
import { smaCross } from '../../strategies/sma-cross/index.js';
import { referenceSmaCross } from './reference-sma-cross.js';

// Golden backtests on the bundled real LEAN data (copied from ../shared/data, see data/README.md).
// Each exact number is also derived by an independent reference computation in the same test.

let store: Store;
beforeAll(async () => {
  store = await Store.open(':memory:');
  await importFiles(store, ['data/lean/equity/usa/daily', 'data/lean/equity/usa/factor_files', 'data/lean/equity/usa/minute']);
});
afterAll(() => store.close());

/** IB fixed pricing for US stocks: USD 0.005/share, at least 1.00, at most 1% of trade value */
const ibFixed = (qty: number, price: number): number => Math.min(Math.max(0.005 * qty, 1), 0.01 * qty * price);

/** Orders, fills and final equity of the reference sma-cross over each instrument's bars */
function expectedSmaCross(blocks: readonly BarColumns[], cash: number, fast: number, slow: number, size: number) {
  let equity = cash;
  let orders = 0;
  let fills = 0;
  for (const block of blocks) {
    const ref = referenceSmaCross(block, fast, slow, size);
    orders += ref.orders;
    fills += ref.fills.length;
    let position = 0;
    for (const f of ref.fills) {
      const signed = f.side === 'BUY' ? f.quantity : -f.quantity;
      equity -= signed * f.price + ibFixed(f.quantity, f.price);
      position += signed;
    }
    equity += position * block.close[block.length - 1]!;
  }
  return { equity, orders, fills };
}

describe('golden: sma-cross', () => {
  it('SPY daily 1998-2021, 10/30, 100 shares, IB fixed commissions', async () => {
    const r = await runBacktest({
      strategy: smaCross as never,
      params: { fast: 10, slow: 30, size: 100 },
      subscriptions: [{ instrument: 'SPY', interval: '1d' }],
      data: store,
      cash: 100_000,
      fill: 'next-open',
      commission: 'ib-fixed',
    });
    const expected = expectedSmaCross(await loadBars(store, { symbols: ['SPY'], interval: '1d' }), 100_000, 10, 30, 100);
    expect(r.orders.length).toBe(expected.orders);
    expect(r.fills.length).toBe(expected.fills);
    expect(r.finalValue).toBeCloseTo(expected.equity, 6);
    // pinned: the same numbers, exactly
    expect(r.orders.length).toBe(GOLDEN.spyDaily.orders);
    expect(r.trades.length).toBe(GOLDEN.spyDaily.trades);
    expect(r.finalValue).toBe(GOLDEN.spyDaily.finalValue);
  });

  it('four stocks on minute bars 2013-10-04..11, 5/20, 50 shares, IB fixed', async () => {
    const symbols = ['AIG', 'BAC', 'IBM', 'SPY'];
    const r = await runBacktest({
      strategy: smaCross as never,
      params: { fast: 5, slow: 20, size: 50 },
      subscriptions: symbols.map((instrument) => ({ instrument, interval: '1m' as const })),
      data: store,
      to: '2013-10-11',
      cash: 1_000_000,
      fill: 'next-open',
      commission: 'ib-fixed',
    });
    // bars that closed by the end of 2013-10-11 (a bar starting at 23:59 closes the next day)
    const bars = await loadBars(store, { symbols, interval: '1m', to: Date.UTC(2013, 9, 11, 23, 59) - 1 });
    expect(r.bars).toBe(bars.reduce((n, b) => n + b.length, 0));
    const expected = expectedSmaCross(bars, 1_000_000, 5, 20, 50);
    expect(r.orders.length).toBe(expected.orders);
    expect(r.finalValue).toBeCloseTo(expected.equity, 6);
    expect(r.orders.length).toBe(GOLDEN.minute.orders);
    expect(r.finalValue).toBe(GOLDEN.minute.finalValue);
  });
});

describe('golden: buy-and-hold', () => {
  // adjusted prices: AAPL split 7:1 (2014) and 4:1 (2020), and raw-price holdings do not follow splits
  it('SPY, QQQ and AAPL daily from 2010 on split/dividend-adjusted prices, equal weight, IB fixed', async () => {
    const symbols = ['AAPL', 'QQQ', 'SPY'];
    const r = await runBacktest({
      strategy: buyAndHold as never,
      subscriptions: symbols.map((instrument) => ({ instrument, interval: '1d' as const })),
      data: store,
      from: '2010-01-01',
      adjusted: true,
      cash: 300_000,
      commission: 'ib-fixed',
    });
    // reference: on each first bar buy floor(100,000 / close) shares, filled at the next open
    const blocks = await loadBars(store, { symbols, interval: '1d', from: '2010-01-01', adjusted: true });
    let equity = 300_000;
    for (const b of blocks) {
      const qty = Math.floor(100_000 / b.close[0]!);
      equity -= qty * b.open[1]! + ibFixed(qty, b.open[1]!);
      equity += qty * b.close[b.length - 1]!;
    }
    expect(r.orders.length).toBe(3);
    expect(r.finalValue).toBeCloseTo(equity, 6);
    expect(r.finalValue).toBe(GOLDEN.buyAndHold.finalValue);
  });
});

describe('determinism', () => {
  it('gives an identical result when rerun', async () => {
    const run = () =>
      runBacktest({
        strategy: smaCross as never,
        params: { fast: 5, slow: 20, size: 50 },
        subscriptions: ['IBM', 'SPY'].map((instrument) => ({ instrument, interval: '1m' as const })),
        data: store,
        cash: 1_000_000,
        commission: 'ib-tiered',
      });
    const a = await run();
    const b = await run();
    const strip = (x: typeof a) => JSON.stringify({ ...x, elapsedMs: 0, equity: Array.from(x.equity.equity), daily: Array.from(x.daily.equity) });
    expect(strip(b)).toBe(strip(a));
    expect(a.configHash).toBe(b.configHash);
  });
});

// Pinned from the runs above, and equal to their reference computations: 203 orders (101 round trips
// plus the final open buy) on SPY daily bars ending with 111,800.00; 900 orders on 4 stocks'
// minute bars; buy-and-hold of 3 stocks from 2010-01-04 to 2021-03-31.
const GOLDEN = {
  spyDaily: { orders: 203, trades: 101, finalValue: 111_800 },
  minute: { orders: 900, finalValue: 999_067 },
  buyAndHold: { finalValue: 2_923_069.2117482685 },
};
