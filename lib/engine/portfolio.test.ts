import { describe, expect, it } from 'vitest';
import { futureSpec } from '../data/futures.js';
import { stockSpec } from '../data/instrument.js';
import { InstrumentRegistry } from './instrument-registry.js';
import { Portfolio } from './portfolio.js';

function setup() {
  const reg = new InstrumentRegistry();
  const spy = reg.add(stockSpec('SPY'));
  const es = reg.add(futureSpec('ES', '201312'));
  const p = new Portfolio(100_000, reg);
  p.sync();
  return { p, spy, es };
}

describe('Portfolio', () => {
  it('moves cash by notional for stocks and marks equity at the last price', () => {
    const { p, spy } = setup();
    p.applyFill(spy, 100, 150, 1);
    expect(p.cash()).toBe(100_000 - 15_000 - 1);
    p.mark(spy, 155);
    expect(p.equity()).toBe(100_000 - 1 + 500);
    expect(p.unrealizedPnl('SPY')).toBe(500);
    expect(p.grossExposure()).toBe(15_500);
  });

  it('realizes P&L by average cost and flips at the fill price', () => {
    const { p, spy } = setup();
    p.applyFill(spy, 100, 100, 0);
    p.applyFill(spy, 100, 110, 0); // avg 105
    expect(p.averagePrice('SPY')).toBe(105);
    p.applyFill(spy, -250, 120, 0); // closes 200 at +15 each, opens 50 short at 120
    expect(p.realizedPnl('SPY')).toBe(3000);
    expect(p.position('SPY')).toBe(-50);
    expect(p.averagePrice('SPY')).toBe(120);
    p.mark(spy, 118);
    expect(p.unrealizedPnl('SPY')).toBe(100);
    // cash: -10000 -11000 +30000 = 109000 ; short value -50*118 = -5900
    expect(p.equity()).toBe(100_000 + 3000 + 100);
  });

  it('settles only P&L for futures, with the multiplier', () => {
    const { p, es } = setup();
    p.applyFill(es, 2, 1700, 4.46);
    expect(p.cash()).toBeCloseTo(100_000 - 4.46, 9);
    p.mark(es, 1710);
    expect(p.equity()).toBeCloseTo(100_000 - 4.46 + 2 * 10 * 50, 9);
    expect(p.grossExposure()).toBe(2 * 1710 * 50);
    p.applyFill(es, -2, 1705, 4.46);
    expect(p.realizedPnl('ES-201312')).toBe(500);
    expect(p.cash()).toBeCloseTo(100_000 - 8.92 + 500, 9);
    expect(p.isFlat()).toBe(true);
  });
});
