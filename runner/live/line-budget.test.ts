import { describe, expect, it } from 'vitest';
import { allocateLines, describeAllocation } from './line-budget.js';

const U = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE'];

describe('allocateLines', () => {
  it('subscribes everything that fits: L1 + realtime bars = 2 lines each', () => {
    const a = allocateLines({ symbols: U, lineBudget: 100 });
    expect(a.subscribed.map((g) => g.symbol)).toEqual(U);
    expect(a.subscribed.every((g) => g.l1 && g.realtimeBars && !g.depth && g.lines === 2 && g.reason === 'configured')).toBe(true);
    expect(a.notSubscribed).toEqual([]);
    expect(a.linesUsed).toBe(10);
    expect(a.linesPerInstrument).toBe(2);
  });

  it('never exceeds the budget: the rest wait in configured order, with the reason', () => {
    const a = allocateLines({ symbols: U, lineBudget: 5 });
    expect(a.subscribed.map((g) => g.symbol)).toEqual(['AAA', 'BBB']);
    expect(a.linesUsed).toBe(4);
    expect(a.notSubscribed.map((w) => w.symbol)).toEqual(['CCC', 'DDD', 'EEE']);
    expect(a.notSubscribed[0]!.reason).toBe('line budget 5 used up: 4 lines for 2 instruments, 2 per instrument');
    for (let budget = 0; budget <= 12; budget++) {
      for (const [l1, realtimeBars] of [
        [true, true],
        [true, false],
        [false, true],
      ] as const) {
        const x = allocateLines({ symbols: U, lineBudget: budget, l1, realtimeBars, positions: ['DDD'] });
        expect(x.linesUsed).toBeLessThanOrEqual(budget);
        expect(x.subscribed.length + x.notSubscribed.length).toBe(U.length);
        expect(x.subscribed.length).toBe(Math.min(U.length, Math.floor(budget / x.linesPerInstrument)));
      }
    }
  });

  it('puts instruments with open positions first, then the configured order', () => {
    const a = allocateLines({ symbols: U, lineBudget: 6, positions: ['EEE', 'CCC', 'ZZZ'] });
    expect(a.subscribed.map((g) => [g.symbol, g.reason])).toEqual([
      ['CCC', 'position'],
      ['EEE', 'position'],
      ['AAA', 'configured'],
    ]);
    expect(a.notSubscribed.map((w) => [w.symbol, w.hasPosition])).toEqual([
      ['BBB', false],
      ['DDD', false],
    ]);
    // a position that does not fit is flagged
    const tight = allocateLines({ symbols: U, lineBudget: 2, positions: ['EEE', 'CCC'] });
    expect(tight.subscribed.map((g) => g.symbol)).toEqual(['CCC']);
    expect(tight.notSubscribed[0]).toMatchObject({ symbol: 'EEE', hasPosition: true });
    expect(describeAllocation(tight)[1]).toBe('EEE waits (open position!): line budget 2 used up: 2 lines for 1 instruments, 2 per instrument');
  });

  it('counts one line per stream asked for, and reserved lines', () => {
    expect(allocateLines({ symbols: U, lineBudget: 3, realtimeBars: false }).subscribed.map((g) => g.symbol)).toEqual(['AAA', 'BBB', 'CCC']);
    const r = allocateLines({ symbols: U, lineBudget: 7, reservedLines: 3 });
    expect(r.linesAvailable).toBe(4);
    expect(r.subscribed.length).toBe(2);
    expect(r.notSubscribed[0]!.reason).toBe('line budget 7 (3 reserved) used up: 4 lines for 2 instruments, 2 per instrument');
    const none = allocateLines({ symbols: U, lineBudget: 1 });
    expect(none.subscribed).toEqual([]);
    expect(none.notSubscribed[0]!.reason).toBe('needs 2 market-data lines, the budget allows 1');
  });

  it('grants depth separately, under the book limit, to subscribed instruments only', () => {
    const a = allocateLines({ symbols: U, lineBudget: 6, depth: ['EEE', 'AAA', 'BBB', 'CCC'], maxDepth: 2 });
    expect(a.subscribed.map((g) => [g.symbol, g.depth])).toEqual([
      ['AAA', true],
      ['BBB', true],
      ['CCC', false],
    ]);
    expect(a.depthUsed).toBe(2);
    expect(a.linesUsed).toBe(6);
    expect(a.depthRefused).toEqual([
      { symbol: 'CCC', reason: 'depth limit of 2 books reached' },
      { symbol: 'EEE', reason: 'no market-data lines for the instrument' },
    ]);
    expect(allocateLines({ symbols: U, lineBudget: 100, depth: U }).depthUsed).toBe(3);
  });

  it('ignores duplicates and refuses a bad budget', () => {
    expect(allocateLines({ symbols: ['AAA', 'AAA', 'BBB'], lineBudget: 10 }).subscribed.map((g) => g.symbol)).toEqual(['AAA', 'BBB']);
    expect(() => allocateLines({ symbols: U, lineBudget: -1 })).toThrow(RangeError);
    expect(() => allocateLines({ symbols: U, lineBudget: 2.5 })).toThrow(RangeError);
  });
});
