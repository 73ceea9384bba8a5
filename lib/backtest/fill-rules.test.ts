import { describe, expect, it } from 'vitest';
import {
  limitFillPrice,
  marketFillPrice,
  pointBar,
  stopLimitOnBar,
  stopTriggerPrice,
  trailingStopFrom,
  trailingStopOnBar,
  type Ohlc,
} from './fill-rules.js';

function ohlc(open: number, high: number, low: number, close: number): Ohlc {
  return { open, high, low, close };
}

describe('market', () => {
  it('fills at the open of the first bar after the order', () => {
    expect(marketFillPrice(ohlc(100, 101, 99, 100.5))).toBe(100);
  });
});

describe('limit', () => {
  it('fills a buy at the open when the bar gaps below the limit (price improvement)', () => {
    expect(limitFillPrice('BUY', 100, ohlc(98, 99, 97, 98.5), 'touch')).toBe(98);
  });

  it('fills a buy at the limit when the low touches it', () => {
    expect(limitFillPrice('BUY', 100, ohlc(101, 102, 100, 101), 'touch')).toBe(100);
  });

  it('does not fill a buy on a touch in through mode, but does when the low trades below', () => {
    expect(limitFillPrice('BUY', 100, ohlc(101, 102, 100, 101), 'through')).toBeNaN();
    expect(limitFillPrice('BUY', 100, ohlc(101, 102, 99.99, 101), 'through')).toBe(100);
  });

  it('fills a buy at the open in through mode only when the open is strictly below the limit', () => {
    expect(limitFillPrice('BUY', 100, ohlc(100, 101, 100, 100.5), 'through')).toBeNaN();
    expect(limitFillPrice('BUY', 100, ohlc(99.5, 101, 99.5, 100.5), 'through')).toBe(99.5);
  });

  it('fills a sell at the open when the bar gaps above the limit, else at the limit on a touch', () => {
    expect(limitFillPrice('SELL', 100, ohlc(102, 103, 101, 102), 'touch')).toBe(102);
    expect(limitFillPrice('SELL', 100, ohlc(99, 100, 98, 99), 'touch')).toBe(100);
    expect(limitFillPrice('SELL', 100, ohlc(99, 99.99, 98, 99), 'touch')).toBeNaN();
  });
});

describe('stop', () => {
  it('fills a sell stop at the open when the bar gaps below the stop (worse than the stop)', () => {
    expect(stopTriggerPrice('SELL', 99, ohlc(97, 98, 96, 97))).toBe(97);
  });

  it('fills a sell stop at the stop when the low reaches it', () => {
    expect(stopTriggerPrice('SELL', 99, ohlc(100, 101, 99, 100))).toBe(99);
    expect(stopTriggerPrice('SELL', 99, ohlc(100, 101, 99.01, 100))).toBeNaN();
  });

  it('fills a buy stop at the open on a gap up, else at the stop when the high reaches it', () => {
    expect(stopTriggerPrice('BUY', 101, ohlc(103, 104, 102, 103))).toBe(103);
    expect(stopTriggerPrice('BUY', 101, ohlc(100, 101, 99, 100))).toBe(101);
    expect(stopTriggerPrice('BUY', 101, ohlc(100, 100.99, 99, 100))).toBeNaN();
  });
});

describe('stop-limit', () => {
  it('fills at the stop when triggered inside the bar and the stop is within the limit', () => {
    expect(stopLimitOnBar('BUY', 101, 101.5, ohlc(100, 102, 99, 101))).toEqual({ triggerPrice: 101, fillPrice: 101 });
  });

  it('fills at the open when it gaps through the stop but not through the limit', () => {
    expect(stopLimitOnBar('BUY', 101, 101.5, ohlc(101.2, 102, 101, 101.5))).toEqual({ triggerPrice: 101.2, fillPrice: 101.2 });
  });

  it('triggers without filling when the gap open is beyond the limit (rests as a limit from the next bar)', () => {
    // The low of 101.1 is within the limit, but it may have come before the trigger: no fill
    expect(stopLimitOnBar('BUY', 101, 101.5, ohlc(102, 102.5, 101.1, 102))).toEqual({ triggerPrice: 102, fillPrice: NaN });
  });

  it('triggers a sell stop-limit on a gap down below its limit without filling', () => {
    expect(stopLimitOnBar('SELL', 99, 98.5, ohlc(98, 99.5, 97.5, 98))).toEqual({ triggerPrice: 98, fillPrice: NaN });
  });

  it('does nothing when the stop is not reached', () => {
    expect(stopLimitOnBar('SELL', 99, 98.5, ohlc(100, 101, 99.5, 100))).toEqual({ triggerPrice: NaN, fillPrice: NaN });
  });
});

describe('trailing stop', () => {
  it('places the stop an amount or a percent away from the reference', () => {
    expect(trailingStopFrom('SELL', 100, 2, NaN)).toBe(98);
    expect(trailingStopFrom('BUY', 100, 2, NaN)).toBe(102);
    expect(trailingStopFrom('SELL', 100, NaN, 0.05)).toBeCloseTo(95, 12);
    expect(trailingStopFrom('BUY', 100, 0, 0.05)).toBeCloseTo(105, 12);
  });

  it('ratchets a sell stop up with the high when not hit, and never down', () => {
    expect(trailingStopOnBar('SELL', 98, 2, NaN, ohlc(100, 103, 99, 102))).toEqual({ fillPrice: NaN, stopPrice: 101 });
    expect(trailingStopOnBar('SELL', 98, 2, NaN, ohlc(99, 99.5, 98.5, 99))).toEqual({ fillPrice: NaN, stopPrice: 98 });
  });

  it('checks the old stop before ratcheting: a new high then a drop below the new stop does not fill', () => {
    // Stop 98; high 104 would move it to 102, and the low 101 is below 102 — but the order is unknown
    expect(trailingStopOnBar('SELL', 98, 2, NaN, ohlc(100, 104, 101, 101))).toEqual({ fillPrice: NaN, stopPrice: 102 });
  });

  it('fills at the stop when the low reaches it, and at the open on a gap', () => {
    expect(trailingStopOnBar('SELL', 98, 2, NaN, ohlc(99, 100, 97, 97.5))).toEqual({ fillPrice: 98, stopPrice: 98 });
    expect(trailingStopOnBar('SELL', 98, 2, NaN, ohlc(96, 97, 95, 96))).toEqual({ fillPrice: 96, stopPrice: 98 });
  });

  it('ratchets a buy stop down with the low by a percent and fills when the high reaches it', () => {
    const r = trailingStopOnBar('BUY', 105, NaN, 0.05, ohlc(99, 100, 98, 99));
    expect(r.fillPrice).toBeNaN();
    expect(r.stopPrice).toBeCloseTo(102.9, 10); // 98 * 1.05
    expect(trailingStopOnBar('BUY', 102.9, NaN, 0.05, ohlc(101, 103, 100.5, 102.5))).toEqual({ fillPrice: 102.9, stopPrice: 102.9 });
  });
});

describe('ticks as one-price bars', () => {
  it('fills a buy limit on a quote when ask <= limit, at the ask', () => {
    const ask = pointBar(99.95);
    expect(limitFillPrice('BUY', 100, ask, 'touch')).toBe(99.95);
    expect(limitFillPrice('BUY', 100, pointBar(100.05), 'touch')).toBeNaN();
  });

  it('triggers a sell stop on a bid at or below the stop, at the bid', () => {
    expect(stopTriggerPrice('SELL', 99, pointBar(98.9))).toBe(98.9);
  });

  it('reuses the object it is given', () => {
    const out = pointBar(1);
    expect(pointBar(2, out)).toBe(out);
    expect(out).toEqual({ open: 2, high: 2, low: 2, close: 2 });
  });
});
