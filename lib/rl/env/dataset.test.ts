import { describe, expect, it } from 'vitest';
import { handDataset } from './env-fixtures.js';
import { realizedVolatility, validRange } from './dataset.js';

describe('realizedVolatility', () => {
  it('is the annualized population std of the log returns ending at the row', () => {
    const close = Float64Array.from([100, 110, 99, 99, 108.9]);
    const v = realizedVolatility(close, 2, 252);
    const r = [Math.log(1.1), Math.log(0.9), 0, Math.log(1.1)];
    const sd = (a: number, b: number) => Math.abs(a - b) / 2;
    expect(Number.isNaN(v[0]!) && Number.isNaN(v[1]!)).toBe(true);
    expect(v[2]).toBeCloseTo(sd(r[0]!, r[1]!) * Math.sqrt(252), 12);
    expect(v[3]).toBeCloseTo(sd(r[1]!, r[2]!) * Math.sqrt(252), 12);
    expect(v[4]).toBeCloseTo(sd(r[2]!, r[3]!) * Math.sqrt(252), 12);
  });
  it('is 0 for a constant price', () => {
    expect(realizedVolatility(Float64Array.from([5, 5, 5, 5]), 2, 252)[3]).toBe(0);
  });
});

describe('buildDataset', () => {
  it('lays features out [time, symbol, feature], clips them and marks unusable rows', () => {
    const d = handDataset(
      [
        [10, 11, 12, 13, 14],
        [20, 21, NaN, 23, 24],
      ],
      { features: 2, volWindow: 2, clip: 3, feature: (t, u, f) => (t === 4 && u === 0 && f === 1 ? NaN : t + u + f) },
    );
    // row 3, symbol 1, feature 1: 3 + 1 + 1 = 5 clipped to 3
    expect(d.features[(3 * 2 + 1) * 2 + 1]).toBe(3);
    expect(d.features[(1 * 2 + 0) * 2 + 1]).toBe(2);
    // a NaN feature is written as 0 and makes the row unusable
    expect(d.features[(4 * 2 + 0) * 2 + 1]).toBe(0);
    expect(validRange(d, 0, 2, 3)).toBe(true);
    expect(validRange(d, 0, 2, 4)).toBe(false);
    // symbol 1 has no close at row 2, so its volatility is unknown until the window is past it
    expect(validRange(d, 1, 2, 4)).toBe(false);
    expect(validRange(d, 1, 0, 1)).toBe(false); // volatility warm-up
    expect(validRange(d, 0, -1, 2)).toBe(false);
  });
});
