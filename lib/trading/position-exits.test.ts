import { describe, expect, it } from 'vitest';
import { EXIT, PositionExits } from './position-exits.js';
import type { ExitParams } from './trading-params.js';

const MIN = 60_000;
const T = Date.UTC(2013, 9, 8, 14, 0);

function tracked(side: 1 | -1, price: number): PositionExits {
  const b = new PositionExits();
  b.open(3, side, price, T);
  return b;
}

describe('static stop-loss and take-profit', () => {
  const p: ExitParams = { stop: 'static', stopLossPct: 2, takeProfitPct: 5 };

  it('long: stop at entry x 0.98, target at entry x 1.05', () => {
    const b = tracked(1, 100);
    expect(b.stopPrice(3, p)).toBeCloseTo(98, 12);
    expect(b.takeProfitPrice(3, p)).toBeCloseTo(105, 12);
    expect(b.check(3, 99, T + MIN, p)).toBe(EXIT.none);
    expect(b.check(3, 104.99, T + MIN, p)).toBe(EXIT.none);
    // a static stop does not follow the price up
    expect(b.stopPrice(3, p)).toBeCloseTo(98, 12);
    expect(b.check(3, 105, T + MIN, p)).toBe(EXIT.takeProfit);
    expect(b.check(3, 98, T + MIN, p)).toBe(EXIT.stopLoss);
  });

  it('short: mirrored', () => {
    const b = tracked(-1, 100);
    expect(b.stopPrice(3, p)).toBeCloseTo(102, 12);
    expect(b.takeProfitPrice(3, p)).toBeCloseTo(95, 12);
    expect(b.check(3, 101, T, p)).toBe(EXIT.none);
    expect(b.check(3, 95, T, p)).toBe(EXIT.takeProfit);
    expect(b.check(3, 102.5, T, p)).toBe(EXIT.stopLoss);
  });

  it('adding to the position moves the entry (cost basis), not the age', () => {
    const b = tracked(1, 100);
    b.reprice(3, 102);
    expect(b.entryPriceOf(3)).toBe(102);
    expect(b.entryTimeOf(3)).toBe(T);
    expect(b.stopPrice(3, p)).toBeCloseTo(99.96, 12);
  });
});

describe('trailing stop ratchet', () => {
  const p: ExitParams = { stop: 'trailing', stopLossPct: 10 };

  it('long: the stop follows the peak up and never down', () => {
    const b = tracked(1, 100);
    expect(b.stopPrice(3, p)).toBeCloseTo(90, 12);
    expect(b.check(3, 110, T, p)).toBe(EXIT.none);
    expect(b.extremeOf(3)).toBe(110);
    expect(b.stopPrice(3, p)).toBeCloseTo(99, 12);
    // a lower mark leaves the peak and the stop where they were
    expect(b.check(3, 105, T, p)).toBe(EXIT.none);
    expect(b.stopPrice(3, p)).toBeCloseTo(99, 12);
    expect(b.check(3, 120, T, p)).toBe(EXIT.none);
    expect(b.stopPrice(3, p)).toBeCloseTo(108, 12);
    // 108.5 is above the entry but 9.6 % below the peak: not yet; 108 is the stop
    expect(b.check(3, 108.5, T, p)).toBe(EXIT.none);
    expect(b.check(3, 108, T, p)).toBe(EXIT.trailingStop);
  });

  it('short: the stop follows the trough down', () => {
    const b = tracked(-1, 100);
    expect(b.check(3, 80, T, p)).toBe(EXIT.none);
    expect(b.stopPrice(3, p)).toBeCloseTo(88, 12);
    expect(b.check(3, 85, T, p)).toBe(EXIT.none);
    expect(b.stopPrice(3, p)).toBeCloseTo(88, 12);
    expect(b.check(3, 88.1, T, p)).toBe(EXIT.trailingStop);
  });

  it('a non-number mark changes nothing', () => {
    const b = tracked(1, 100);
    expect(b.check(3, NaN, T, p)).toBe(EXIT.none);
    expect(b.extremeOf(3)).toBe(100);
  });
});

describe('max hold', () => {
  const p: ExitParams = { stop: 'static', maxHoldMinutes: 30 };

  it('fires at entry + maxHoldMinutes, with or without a price', () => {
    const b = tracked(1, 100);
    expect(b.holdDeadline(3, p)).toBe(T + 30 * MIN);
    expect(b.check(3, 101, T + 30 * MIN - 1, p)).toBe(EXIT.none);
    expect(b.check(3, 101, T + 30 * MIN, p)).toBe(EXIT.maxHold);
    expect(b.check(3, NaN, T + 31 * MIN, p)).toBe(EXIT.maxHold);
  });

  it('protective exits come first', () => {
    const b = tracked(1, 100);
    expect(b.check(3, 90, T + 40 * MIN, { ...p, stopLossPct: 5 })).toBe(EXIT.stopLoss);
  });

  it('no rule, no exit; a closed position has none either', () => {
    const b = tracked(1, 100);
    expect(b.holdDeadline(3, { stop: 'static' })).toBe(Infinity);
    expect(b.check(3, 1, T + 1e9, { stop: 'static' })).toBe(EXIT.none);
    b.close(3);
    expect(b.isOpen(3)).toBe(false);
    expect(b.check(3, 1, T + 1e9, p)).toBe(EXIT.none);
  });
});

describe('storage', () => {
  it('grows for higher instrument indices and keeps what it tracked', () => {
    const b = tracked(1, 100);
    b.open(1000, -1, 50, T + MIN);
    expect(b.entryPriceOf(3)).toBe(100);
    expect(b.sideOf(1000)).toBe(-1);
    expect(b.isOpen(5000)).toBe(false);
  });
});
