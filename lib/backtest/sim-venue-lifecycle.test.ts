import { describe, expect, it } from 'vitest';
import { stockSpec } from '../data/instrument.js';
import type { ExecutionReport } from '../model/order-events.js';
import { SimulatedVenue } from './sim-venue.js';
import { bar, MIN, order, setup, T } from './sim-venue-fixtures.js';

const CLOSE = Date.UTC(2013, 9, 7, 20, 0);
const NEXT_OPEN = Date.UTC(2013, 9, 8, 13, 30);
const SPY = stockSpec('SPY');




/** Reports after the acceptances, as [type, orderId, detail] */
function summary(reports: ExecutionReport[]): unknown[][] {
  return reports
    .filter((r) => r.type !== 'accepted')
    .map((r) => {
      if (r.type === 'filled') return [r.type, r.orderId, r.quantity, r.price];
      if (r.type === 'cancelled') return [r.type, r.orderId, r.reason];
      if (r.type === 'modified') return [r.type, r.orderId, r.quantity];
      if (r.type === 'triggered') return [r.type, r.orderId, r.stopPrice];
      return [r.type, r.orderId];
    });
}

describe('time in force', () => {
  it('fills a DAY order on the last bar of the session and expires it at the close afterwards', () => {
    const { venue, reports } = setup();
    venue.submit(order(1, { type: 'LIMIT', limitPrice: 99, tif: 'DAY', createdAt: CLOSE - 10 * MIN }), SPY);
    venue.submit(order(2, { type: 'LIMIT', limitPrice: 90, tif: 'DAY', createdAt: CLOSE - 10 * MIN }), SPY);
    venue.onTime(CLOSE); // the kernel moves the clock before delivering the bar that closes at 20:00
    venue.onBar(bar(CLOSE - MIN, 99.5, 99.6, 98.9, 99.2));
    expect(summary(reports)).toEqual([['filled', 1, 100, 99]]);
    venue.onTime(CLOSE + 1);
    expect(reports.at(-1)).toEqual({ type: 'expired', orderId: 2, ts: CLOSE });
  });

  it('expires a DAY order before using a bar that starts at the close', () => {
    const { venue, reports } = setup();
    venue.submit(order(1, { type: 'LIMIT', limitPrice: 99, tif: 'DAY', createdAt: CLOSE - 10 * MIN }), SPY);
    venue.onBar(bar(CLOSE, 98, 98, 98, 98)); // post-market print
    expect(summary(reports)).toEqual([['expired', 1]]);
  });

  it('gives a DAY order submitted after the close the next session', () => {
    const { venue, reports } = setup();
    venue.submit(order(1, { type: 'LIMIT', limitPrice: 99, tif: 'DAY', createdAt: CLOSE + 60 * MIN }), SPY);
    venue.onTime(NEXT_OPEN);
    venue.onBar(bar(NEXT_OPEN, 100, 100, 99.5, 100));
    venue.onTime(Date.UTC(2013, 9, 8, 20, 0, 1));
    expect(reports.at(-1)).toEqual({ type: 'expired', orderId: 1, ts: Date.UTC(2013, 9, 8, 20, 0) });
  });

  it('keeps a GTC order working across sessions until it fills', () => {
    const { venue, reports } = setup();
    venue.submit(order(1, { type: 'LIMIT', limitPrice: 99, tif: 'GTC' }), SPY);
    venue.onBar(bar(T, 100, 100, 99.5, 100));
    venue.onTime(CLOSE + 1);
    venue.onBar(bar(NEXT_OPEN, 99.8, 100, 98.5, 99));
    expect(summary(reports)).toEqual([['filled', 1, 100, 99]]);
  });
});

describe('stop-limit', () => {
  it('fills at the stop when triggered within the limit on the same bar', () => {
    const { venue, reports } = setup();
    venue.submit(order(1, { type: 'STOP_LIMIT', stopPrice: 101, limitPrice: 101.5 }), SPY);
    venue.onBar(bar(T, 100, 102, 99.8, 101.8));
    expect(summary(reports)).toEqual([
      ['triggered', 1, 101],
      ['filled', 1, 100, 101],
    ]);
  });

  it('triggers on a gap above the limit, then rests as a limit from the next bar', () => {
    const { venue, reports } = setup();
    venue.submit(order(1, { type: 'STOP_LIMIT', stopPrice: 101, limitPrice: 101.5 }), SPY);
    venue.onBar(bar(T, 102, 102.5, 101.2, 102)); // low within the limit, but maybe before the trigger
    expect(summary(reports)).toEqual([['triggered', 1, 101]]);
    venue.onBar(bar(T + MIN, 101.8, 102, 101.3, 101.6));
    expect(summary(reports).at(-1)).toEqual(['filled', 1, 100, 101.5]);
    expect(reports.at(-1)).toMatchObject({ liquidity: 'maker' });
  });
});

describe('trailing stop', () => {
  it('takes its stop from the last price, ratchets with highs and fills when the low reaches it (amount)', () => {
    const { venue, reports } = setup({ fill: 'close' });
    venue.onBar(bar(T - MIN, 100, 100, 100, 100));
    venue.submit(order(1, { side: 'SELL', type: 'TRAILING_STOP', trailingAmount: 2 }), SPY);
    venue.onBar(bar(T, 100, 103, 99, 102.5)); // stop 98 not hit; ratchets to 101
    venue.onBar(bar(T + MIN, 102.5, 104, 101.5, 103)); // 101 not hit (checked first); ratchets to 102
    venue.onBar(bar(T + 2 * MIN, 103, 103.5, 101.9, 102)); // 102 hit
    expect(summary(reports)).toEqual([
      ['triggered', 1, 98],
      ['triggered', 1, 101],
      ['triggered', 1, 102],
      ['filled', 1, 100, 102],
    ]);
  });

  it('ratchets a buy trailing stop down with lows by a percent and fills at the open on a gap', () => {
    const { venue, reports } = setup();
    venue.submit(order(1, { side: 'BUY', type: 'TRAILING_STOP', trailingPercent: 0.05 }), SPY);
    venue.onBar(bar(T, 100, 101, 96, 97)); // first open sets 105; not hit; low 96 -> 100.8
    venue.onBar(bar(T + MIN, 102, 103, 101, 102)); // gaps above 100.8: fills at 102
    const r = summary(reports);
    expect(r[0]).toEqual(['triggered', 1, 105]);
    expect(r[1]![2]).toBeCloseTo(100.8, 10); // 96 * 1.05
    expect(r[2]).toEqual(['filled', 1, 100, 102]);
  });
});

describe('brackets', () => {
  function bracket(venue: SimulatedVenue, quantity = 100): void {
    venue.submit(order(1, { quantity }), SPY);
    const exit = { side: 'SELL', quantity, parentId: 1, ocaGroup: 'oco-1' } as const;
    venue.submit(order(2, { ...exit, type: 'LIMIT', limitPrice: 105 }), SPY);
    venue.submit(order(3, { ...exit, type: 'STOP', stopPrice: 95 }), SPY);
  }

  it('holds the exits until the entry fills, then lets the first exit cancel the other (OCO)', () => {
    const { venue, reports } = setup();
    bracket(venue);
    venue.onBar(bar(T, 100, 106, 94, 100)); // entry fills at 100; exits only from the next bar
    venue.onBar(bar(T + MIN, 100, 101, 99, 100));
    venue.onBar(bar(T + 2 * MIN, 101, 105.5, 100, 105));
    expect(summary(reports)).toEqual([
      ['filled', 1, 100, 100],
      ['filled', 2, 100, 105],
      ['cancelled', 3, 'OCO'],
    ]);
  });

  it('fills the stop-loss when one bar reaches both exits', () => {
    const { venue, reports } = setup();
    bracket(venue);
    venue.onBar(bar(T, 100, 100, 100, 100));
    venue.onBar(bar(T + MIN, 100, 106, 94, 100));
    expect(summary(reports).slice(1)).toEqual([
      ['filled', 3, 100, 95],
      ['cancelled', 2, 'OCO'],
    ]);
  });

  it('activates the exits for the partially filled quantity and cuts them when the entry is cancelled', () => {
    const { venue, reports } = setup({ participationRate: 0.1 });
    bracket(venue);
    venue.onBar(bar(T, 100, 100, 100, 100, 300)); // entry fills 30
    venue.cancel(order(1));
    venue.onBar(bar(T + MIN, 100, 106, 99, 105, 10_000));
    expect(summary(reports)).toEqual([
      ['filled', 1, 30, 100],
      ['cancelled', 1, 'cancel requested'],
      ['modified', 2, 30],
      ['modified', 3, 30],
      ['filled', 2, 30, 105],
      ['cancelled', 3, 'OCO'],
    ]);
  });

  it('cancels both exits when the stop-loss sold what a partly filled entry bought and the entry is cancelled', () => {
    const { venue, reports } = setup({ participationRate: 0.1 });
    venue.submit(order(1, { type: 'LIMIT', limitPrice: 100 }), SPY); // a limit entry ranks after the stop
    const exit = { side: 'SELL', parentId: 1, ocaGroup: 'oco-1' } as const;
    venue.submit(order(2, { ...exit, type: 'LIMIT', limitPrice: 105 }), SPY);
    venue.submit(order(3, { ...exit, type: 'STOP', stopPrice: 95 }), SPY);
    venue.onBar(bar(T, 100, 100, 99, 100, 300)); // entry buys 30
    venue.onBar(bar(T + MIN, 96, 97, 94, 95, 300)); // stop-loss sells those 30; the cap leaves the entry nothing
    venue.cancel(order(1));
    expect(summary(reports)).toEqual([
      ['filled', 1, 30, 100],
      ['filled', 3, 30, 95],
      ['modified', 2, 70],
      ['cancelled', 1, 'cancel requested'],
      ['cancelled', 2, 'parent cancelled'],
      ['cancelled', 3, 'parent cancelled'],
    ]);
  });

  it('cancels the exits when the entry is cancelled unfilled', () => {
    const { venue, reports } = setup();
    bracket(venue);
    venue.cancel(order(1));
    expect(summary(reports)).toEqual([
      ['cancelled', 1, 'cancel requested'],
      ['cancelled', 2, 'parent cancelled'],
      ['cancelled', 3, 'parent cancelled'],
    ]);
  });

  it('cancels exits whose entry never reached the venue', () => {
    const { venue, reports } = setup();
    venue.submit(order(2, { side: 'SELL', type: 'LIMIT', limitPrice: 105, parentId: 1 }), SPY);
    expect(reports.map((r) => r.type)).toEqual(['accepted', 'cancelled']);
  });
});

describe('OCA groups', () => {
  it('reduces the other members by a partial fill and cancels them on a complete one', () => {
    const { venue, reports } = setup({ participationRate: 0.1 });
    venue.submit(order(1, { side: 'SELL', type: 'LIMIT', limitPrice: 101, ocaGroup: 'g' }), SPY);
    venue.submit(order(2, { side: 'SELL', type: 'LIMIT', limitPrice: 110, ocaGroup: 'g' }), SPY);
    venue.onBar(bar(T, 100, 101.5, 100, 101, 300)); // order 1 fills 30
    venue.onBar(bar(T + MIN, 101, 102, 100, 101, 10_000)); // order 1 fills its last 70
    expect(summary(reports)).toEqual([
      ['filled', 1, 30, 101],
      ['modified', 2, 70],
      ['filled', 1, 70, 101],
      ['cancelled', 2, 'OCO'],
    ]);
  });
});
