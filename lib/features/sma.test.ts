import { describe, expect, it } from 'vitest';
import { sma, SmaStream } from './sma.js';

describe('sma', () => {
  it('is NaN during warm-up and the mean of the last period values after', () => {
    const out = sma(Float64Array.from([1, 2, 3, 4, 5]), 3);
    expect(Array.from(out)).toEqual([NaN, NaN, 2, 3, 4]);
  });

  it('streams the same values bit for bit', () => {
    const xs = Float64Array.from({ length: 500 }, (_, i) => 100 + Math.sin(i / 7) * 3 + i * 0.01);
    const batch = sma(xs, 20);
    const s = new SmaStream(20);
    for (let i = 0; i < xs.length; i++) expect(Object.is(s.update(xs[i]!), batch[i]!)).toBe(true);
  });
});
