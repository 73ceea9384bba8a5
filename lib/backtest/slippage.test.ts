import { describe, expect, it } from 'vitest';
import { halfSpread, halfSpreadPrice, isValidQuote, quoteSidePrice, slippedPrice } from './slippage.js';

describe('slippedPrice', () => {
  it('makes buys pay more and sells receive less by the given bps', () => {
    // 100 * (1 ± 10 / 10_000)
    expect(slippedPrice(100, 'BUY', 10)).toBeCloseTo(100.1, 12);
    expect(slippedPrice(100, 'SELL', 10)).toBeCloseTo(99.9, 12);
  });

  it('returns the price unchanged with zero bps', () => {
    expect(slippedPrice(123.45, 'BUY', 0)).toBe(123.45);
  });
});

describe('halfSpreadPrice', () => {
  it('adds half the spread to buys and subtracts it from sells when the quote is known', () => {
    // bid 99.90, ask 100.10: half spread 0.10
    expect(halfSpreadPrice(100, 'BUY', 99.9, 100.1, 50)).toBeCloseTo(100.1, 12);
    expect(halfSpreadPrice(100, 'SELL', 99.9, 100.1, 50)).toBeCloseTo(99.9, 12);
  });

  it('falls back to bps when the quote is unknown or crossed', () => {
    expect(halfSpreadPrice(100, 'BUY', NaN, 100.1, 5)).toBeCloseTo(100.05, 12);
    expect(halfSpreadPrice(100, 'SELL', 100.2, 100.1, 5)).toBeCloseTo(99.95, 12);
  });
});

describe('quotes', () => {
  it('trades buys against the ask and sells against the bid', () => {
    expect(quoteSidePrice('BUY', 99, 101)).toBe(101);
    expect(quoteSidePrice('SELL', 99, 101)).toBe(99);
  });

  it('rejects crossed or missing quotes', () => {
    expect(isValidQuote(99, 101)).toBe(true);
    expect(isValidQuote(101, 99)).toBe(false);
    expect(isValidQuote(NaN, 99)).toBe(false);
    expect(halfSpread(101, 99)).toBeNaN();
  });
});
