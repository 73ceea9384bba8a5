import { describe, expect, it } from 'vitest';
import { InvariantError } from '../core/errors.js';
import { RoundTripBuilder } from './round-trips.js';

describe('RoundTripBuilder', () => {
  it('closes a simple long', () => {
    // buy 10 @ 100 (c 1), sell 10 @ 110 (c 1): gross 10*10 = 100, net 98, return 98 / 1000
    const b = new RoundTripBuilder();
    b.onFill('AAPL', 1, 10, 100, 1, 1);
    expect(b.trades).toEqual([]);
    b.onFill('AAPL', 1, -10, 110, 1, 2);
    expect(b.trades).toEqual([
      { instrument: 'AAPL', direction: 'LONG', quantity: 10, entryTs: 1, exitTs: 2, entryPrice: 100, exitPrice: 110, grossPnl: 100, commission: 2, netPnl: 98, returnPct: 0.098 },
    ]);
    expect(b.openTrades()).toEqual([]);
  });

  it('closes a short', () => {
    // sell 5 @ 50, buy back 5 @ 40: gross (40 - 50) * 5 * -1 = 50, net 49, return 49 / 250
    const b = new RoundTripBuilder();
    b.onFill('X', 1, -5, 50, 0.5, 1);
    expect(b.openTrades()).toEqual([{ instrument: 'X', direction: 'SHORT', quantity: 5, entryTs: 1, entryPrice: 50 }]);
    b.onFill('X', 1, 5, 40, 0.5, 2);
    expect(b.trades[0]).toMatchObject({ direction: 'SHORT', quantity: 5, grossPnl: 50, commission: 1, netPnl: 49, returnPct: 0.196 });
  });

  it('scales in and out with volume-weighted prices', () => {
    // buys 10 @ 100 + 10 @ 110 => entry 105, max 20; sells 5 @ 120 + 15 @ 116 => exit 2340/20 = 117
    // gross (117 - 105) * 20 = 240 = cash -1000 - 1100 + 600 + 1740
    const b = new RoundTripBuilder();
    b.onFill('X', 1, 10, 100, 0, 1);
    b.onFill('X', 1, 10, 110, 0, 2);
    b.onFill('X', 1, -5, 120, 0, 3);
    expect(b.openTrades()).toEqual([{ instrument: 'X', direction: 'LONG', quantity: 15, entryTs: 1, entryPrice: 105 }]);
    b.onFill('X', 1, -15, 116, 0, 4);
    expect(b.trades).toHaveLength(1);
    expect(b.trades[0]).toMatchObject({ quantity: 20, entryTs: 1, exitTs: 4, entryPrice: 105, exitPrice: 117, grossPnl: 240 });
  });

  it('adds to a position after a partial close', () => {
    // buy 10 @ 100, sell 5 @ 110, buy 5 @ 120, sell 10 @ 130
    // entry VWAP 1600/15, exit VWAP 1850/15, largest position 10
    // gross = 1850 - 1600 = 250 (cash P&L), return 250 / (1600/15 * 10)
    const b = new RoundTripBuilder();
    b.onFill('X', 1, 10, 100, 0, 1);
    b.onFill('X', 1, -5, 110, 0, 2);
    b.onFill('X', 1, 5, 120, 0, 3);
    b.onFill('X', 1, -10, 130, 0, 4);
    const t = b.trades[0]!;
    expect(t.quantity).toBe(10);
    expect(t.entryPrice).toBeCloseTo(1600 / 15, 12);
    expect(t.exitPrice).toBeCloseTo(1850 / 15, 12);
    expect(t.grossPnl).toBeCloseTo(250, 9);
    expect(t.returnPct).toBeCloseTo(250 / ((1600 / 15) * 10), 12);
  });

  it('splits a flip into a closed trade and a new one, commission pro rata', () => {
    // buy 10 @ 100 (c 2); sell 30 @ 110 (c 6): 10 close (c 2), 20 open short (c 4)
    // trade 1: gross 100, commission 2 + 2 = 4, net 96
    // buy 20 @ 105 (c 1): trade 2 gross (105 - 110) * 20 * -1 = 100, commission 4 + 1 = 5, net 95
    const b = new RoundTripBuilder();
    b.onFill('X', 1, 10, 100, 2, 1);
    b.onFill('X', 1, -30, 110, 6, 2);
    expect(b.trades[0]).toMatchObject({ direction: 'LONG', quantity: 10, entryTs: 1, exitTs: 2, grossPnl: 100, commission: 4, netPnl: 96 });
    expect(b.openTrades()).toEqual([{ instrument: 'X', direction: 'SHORT', quantity: 20, entryTs: 2, entryPrice: 110 }]);
    b.onFill('X', 1, 20, 105, 1, 3);
    expect(b.trades[1]).toMatchObject({ direction: 'SHORT', quantity: 20, entryTs: 2, exitTs: 3, entryPrice: 110, exitPrice: 105, grossPnl: 100, commission: 5, netPnl: 95 });
    expect(b.openTrades()).toEqual([]);
  });

  it('applies the futures multiplier', () => {
    // ES x50: buy 2 @ 4000, sell 2 @ 4010.25 => 10.25 * 2 * 50 = 1025; commission 2 * 2.25
    // return (1025 - 4.5) / (4000 * 2 * 50)
    const b = new RoundTripBuilder();
    b.onFill('ES', 50, 2, 4000, 2.25, 1);
    b.onFill('ES', 50, -2, 4010.25, 2.25, 2);
    expect(b.trades[0]).toMatchObject({ grossPnl: 1025, commission: 4.5, netPnl: 1020.5, returnPct: 1020.5 / 400_000 });
  });

  it('keeps instruments apart and lists trades in close order', () => {
    const b = new RoundTripBuilder();
    b.onFill('A', 1, 1, 10, 0, 1);
    b.onFill('B', 1, -1, 20, 0, 2);
    b.onFill('B', 1, 1, 19, 0, 3);
    b.onFill('C', 1, 1, 5, 0, 4);
    b.onFill('A', 1, -1, 12, 0, 5);
    expect(b.trades.map((t) => [t.instrument, t.grossPnl])).toEqual([
      ['B', 1],
      ['A', 2],
    ]);
    expect(b.openTrades().map((t) => t.instrument)).toEqual(['C']);
  });

  it('treats floating-point dust as flat', () => {
    // 0.1 + 0.2 = 0.30000000000000004, sold as 0.3: must close, not leave 5e-17 open
    const b = new RoundTripBuilder();
    b.onFill('BTC', 1, 0.1, 100, 0, 1);
    b.onFill('BTC', 1, 0.2, 100, 0, 2);
    b.onFill('BTC', 1, -0.3, 110, 0, 3);
    expect(b.openTrades()).toEqual([]);
    expect(b.trades[0]!.grossPnl).toBeCloseTo(3, 12);
  });

  it('rejects impossible fills as programmer errors', () => {
    const b = new RoundTripBuilder();
    expect(() => b.onFill('X', 1, 0, 100, 0, 1)).toThrow(InvariantError);
    expect(() => b.onFill('X', 0, 1, 100, 0, 1)).toThrow(InvariantError);
    expect(() => b.onFill('X', 1, 1, Number.NaN, 0, 1)).toThrow(InvariantError);
    b.onFill('X', 1, 1, 100, 0, 1);
    expect(() => b.onFill('X', 2, -1, 100, 0, 2)).toThrow(InvariantError);
  });
});
