import { describe, expect, it } from 'vitest';
import { signalDirection, spreadPrice, targetPosition, tickDecimals, toTick } from './signal-math.js';

describe('signalDirection: threshold and inversion', () => {
  const p = { tradeThreshold: 0.3, invertSignals: false };

  it('below the threshold, zero and non-numbers are no view', () => {
    expect(signalDirection(0.29, p)).toBe(0);
    expect(signalDirection(-0.29, p)).toBe(0);
    expect(signalDirection(0, { tradeThreshold: 0, invertSignals: false })).toBe(0);
    expect(signalDirection(NaN, p)).toBe(0);
    expect(signalDirection(Infinity, p)).toBe(0);
  });

  it('at or above the threshold gives the sign', () => {
    expect(signalDirection(0.3, p)).toBe(1);
    expect(signalDirection(-0.3, p)).toBe(-1);
    expect(signalDirection(0.9, p)).toBe(1);
    // threshold 0: any non-zero value trades
    expect(signalDirection(1e-12, { tradeThreshold: 0, invertSignals: false })).toBe(1);
  });

  it('invertSignals flips the direction, not the threshold', () => {
    const inv = { tradeThreshold: 0.3, invertSignals: true };
    expect(signalDirection(0.5, inv)).toBe(-1);
    expect(signalDirection(-0.5, inv)).toBe(1);
    expect(signalDirection(0.1, inv)).toBe(0);
  });
});

describe('targetPosition: one unit per signal up to maxPosition', () => {
  const p = { unitSize: 100, maxPosition: 250 };

  it('accumulates one unit per signal in the same direction and clamps at maxPosition', () => {
    expect(targetPosition(1, 0, p)).toBe(100);
    expect(targetPosition(1, 100, p)).toBe(200);
    // the last unit is clipped to the cap: 200 + 100 > 250
    expect(targetPosition(1, 200, p)).toBe(250);
    expect(targetPosition(1, 250, p)).toBe(250);
    expect(targetPosition(-1, 0, p)).toBe(-100);
    expect(targetPosition(-1, -200, p)).toBe(-250);
    expect(targetPosition(-1, -250, p)).toBe(-250);
  });

  it('a position already beyond the cap (cap lowered) is never increased, nor cut by a signal its way', () => {
    expect(targetPosition(1, 300, p)).toBe(300);
    expect(targetPosition(-1, -300, p)).toBe(-300);
  });

  it('a signal against the position closes it first', () => {
    expect(targetPosition(-1, 200, p)).toBe(0);
    expect(targetPosition(1, -100, p)).toBe(0);
  });

  it('no view keeps the position; without shorting a sell signal only closes a long', () => {
    expect(targetPosition(0, 150, p)).toBe(150);
    expect(targetPosition(-1, 0, p, false)).toBe(0);
    expect(targetPosition(-1, 100, p, false)).toBe(0);
    expect(targetPosition(1, 0, p, false)).toBe(100);
  });
});

describe('spread prices', () => {
  const cent = 0.01;
  const d = tickDecimals(cent);

  it('tick decimals and rounding to the tick grid without float noise', () => {
    expect(tickDecimals(0.01)).toBe(2);
    expect(tickDecimals(0.25)).toBe(2);
    expect(tickDecimals(0.00005)).toBe(5);
    expect(tickDecimals(1)).toBe(0);
    // 167.415 is half a cent: down for a buyer, up for a seller
    expect(toTick(167.415, cent, d, -1)).toBe(167.41);
    expect(toTick(167.415, cent, d, 1)).toBe(167.42);
    // on the grid but for float noise (0.1 + 0.2 style): stays
    expect(toTick(167.41 + 1e-12, cent, d, 1)).toBe(167.41);
    expect(toTick(4500.13, 0.25, 2, -1)).toBe(4500);
    expect(toTick(4500.13, 0.25, 2, 1)).toBe(4500.25);
  });

  it('best: the far touch (buy at the ask, sell at the bid)', () => {
    expect(spreadPrice('BUY', 167.4, 167.43, 'best', 0, cent, d)).toBe(167.43);
    expect(spreadPrice('SELL', 167.4, 167.43, 'best', 0, cent, d)).toBe(167.4);
  });

  it('mid: the midpoint, rounded away from paying more', () => {
    // 3-cent spread: mid 167.415 -> buy 167.41, sell 167.42
    expect(spreadPrice('BUY', 167.4, 167.43, 'mid', 0, cent, d)).toBe(167.41);
    expect(spreadPrice('SELL', 167.4, 167.43, 'mid', 0, cent, d)).toBe(167.42);
    // 2-cent spread: the mid is on the grid
    expect(spreadPrice('BUY', 167.4, 167.42, 'mid', 0, cent, d)).toBe(167.41);
    // 1-cent spread: mid rounds to the near touch
    expect(spreadPrice('BUY', 167.4, 167.41, 'mid', 0, cent, d)).toBe(167.4);
    expect(spreadPrice('SELL', 167.4, 167.41, 'mid', 0, cent, d)).toBe(167.41);
  });

  it('offset: near touch plus n ticks towards the far one, never beyond it', () => {
    expect(spreadPrice('BUY', 167.4, 167.45, 'offset', 2, cent, d)).toBe(167.42);
    expect(spreadPrice('SELL', 167.4, 167.45, 'offset', 2, cent, d)).toBe(167.43);
    expect(spreadPrice('BUY', 167.4, 167.41, 'offset', 3, cent, d)).toBe(167.41);
    expect(spreadPrice('SELL', 167.4, 167.41, 'offset', 3, cent, d)).toBe(167.4);
  });

  it('no usable quote: NaN (the caller sends a market order)', () => {
    expect(spreadPrice('BUY', NaN, 167.43, 'best', 0, cent, d)).toBeNaN();
    expect(spreadPrice('BUY', 167.4, NaN, 'mid', 0, cent, d)).toBeNaN();
    expect(spreadPrice('BUY', 0, 167.43, 'mid', 0, cent, d)).toBeNaN();
    // crossed book
    expect(spreadPrice('BUY', 167.45, 167.4, 'best', 0, cent, d)).toBeNaN();
  });
});
