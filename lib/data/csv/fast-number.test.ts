import { describe, expect, it } from 'vitest';
import { bytesToString, parseDigits, parseNumber } from './fast-number.js';

const enc = new TextEncoder();
const parse = (s: string): number => {
  const b = enc.encode(s);
  return parseNumber(b, 0, b.length);
};

/** Park-Miller style LCG so the "random" decimals are the same on every run. */
function lcg(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 48271) % 2147483647;
    return x / 2147483647;
  };
}

describe('parseNumber', () => {
  it('equals Number(text) bit for bit for 10,000 seeded random decimals with 0..10 places', () => {
    // Arrange
    const rand = lcg(12345);
    const texts: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const magnitude = 10 ** Math.floor(rand() * 7); // 1 .. 1e6
      const sign = rand() < 0.2 ? -1 : 1;
      const places = Math.floor(rand() * 11);
      texts.push((sign * rand() * magnitude).toFixed(places));
    }
    // Act
    const mismatches = texts.filter((t) => !Object.is(parse(t), Number(t)));
    // Assert
    expect(mismatches).toEqual([]);
  });

  it('equals Number(text) for typical price strings and edge forms', () => {
    const cases = ['167.41', '0.1', '0.3', '1.10785', '-0.000001', '.5', '5.', '+2.5', '007.50', '1e5', '2.5E-3', '123456789012345678.5', '0.000000000000000000000001', '9007199254740993'];
    for (const t of cases) expect(parse(t), t).toBe(Number(t));
  });

  it('keeps the sign of negative zero like Number does', () => {
    expect(Object.is(parse('-0'), -0)).toBe(true);
    expect(Object.is(parse('-0.000'), -0)).toBe(true);
  });

  it('trims surrounding spaces when the field is padded', () => {
    expect(parse('  42.5 ')).toBe(42.5);
  });

  it.each(['', '   ', 'abc', '1.2.3', '0x10', '1e5x', '-', '.', '1 2', 'Infinity', 'NaN', '1,5'])('returns NaN when the text is %j', (t) => {
    expect(parse(t)).toBeNaN();
  });

  it('reads only the bytes in [start, end) when the buffer holds more', () => {
    const b = enc.encode('xx12.75yy');
    expect(parseNumber(b, 2, 7)).toBe(12.75);
  });
});

describe('parseDigits / bytesToString', () => {
  it('parses a fixed-width digit run and returns -1 when a byte is not a digit', () => {
    const b = enc.encode('2023x7');
    expect(parseDigits(b, 0, 4)).toBe(2023);
    expect(parseDigits(b, 2, 3)).toBe(-1);
  });

  it('decodes a byte range as UTF-8 text', () => {
    expect(bytesToString(enc.encode('a,héllo,b'), 2, 8)).toBe('héllo');
  });
});
