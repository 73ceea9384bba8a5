import { describe, expect, it } from 'vitest';
import { gridPoint, gridSize, parseGrid, searchPoints } from './param-grid.js';

describe('parseGrid', () => {
  it('expands inclusive ranges, lists and constants', () => {
    const axes = parseGrid('fast=5..20:5, slow=20..60:10, mode=a|b, size=100, on=true|false');
    expect(axes).toEqual([
      { name: 'fast', values: [5, 10, 15, 20] },
      { name: 'slow', values: [20, 30, 40, 50, 60] },
      { name: 'mode', values: ['a', 'b'] },
      { name: 'size', values: [100] },
      { name: 'on', values: [true, false] },
    ]);
    expect(gridSize(axes)).toBe(4 * 5 * 2 * 1 * 2);
  });

  it('keeps fractional steps exact (no drift from repeated addition)', () => {
    expect(parseGrid('k=0.1..0.5:0.1')[0]!.values).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(parseGrid('n=1..3')[0]!.values).toEqual([1, 2, 3]);
  });

  it('names every malformed entry', () => {
    expect(() => parseGrid('fast=20..5:5,slow,=3,x=1..2:0')).toThrow(
      /'fast=20\.\.5:5': expected lo <= hi and a positive step[\s\S]*'slow': expected name=lo\.\.hi:step[\s\S]*'=3'[\s\S]*'x=1\.\.2:0'/,
    );
    expect(() => parseGrid('a=1,a=2')).toThrow(/'a' appears twice/);
    expect(() => parseGrid(' , ')).toThrow(/at least one parameter/);
  });
});

describe('grid points and search', () => {
  const axes = parseGrid('fast=1..3,slow=10..40:10');

  it('enumerates points with the last axis fastest', () => {
    expect(gridPoint(axes, 0)).toEqual({ fast: 1, slow: 10 });
    expect(gridPoint(axes, 1)).toEqual({ fast: 1, slow: 20 });
    expect(gridPoint(axes, 4)).toEqual({ fast: 2, slow: 10 });
    expect(gridPoint(axes, 11)).toEqual({ fast: 3, slow: 40 });
    expect(searchPoints(axes, { method: 'grid' })).toHaveLength(12);
  });

  it('draws distinct seeded random points, reproducibly, in grid order', () => {
    const a = searchPoints(axes, { method: 'random', samples: 5, seed: 7 });
    const b = searchPoints(axes, { method: 'random', samples: 5, seed: 7 });
    const c = searchPoints(axes, { method: 'random', samples: 5, seed: 8 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const keys = a.map((p) => `${p.fast}/${p.slow}`);
    expect(new Set(keys).size).toBe(5);
    const all = searchPoints(axes, { method: 'grid' }).map((p) => `${p.fast}/${p.slow}`);
    const positions = keys.map((k) => all.indexOf(k));
    expect(positions).toEqual([...positions].sort((x, y) => x - y));
    // asking for more samples than points gives the whole grid
    expect(searchPoints(axes, { method: 'random', samples: 50, seed: 1 })).toEqual(searchPoints(axes, { method: 'grid' }));
  });
});
