import type { BarKind, Interval } from '../data/interval.js';
import type { Bar } from '../model/market.js';
import type { ExecutionReport } from '../model/order-events.js';
import type { Order } from '../model/orders.js';
import { noCommission } from './commission.js';
import { SimulatedVenue, type SimulatedVenueConfig } from './sim-venue.js';

// Shared builders for the simulated venue's tests (not a test file itself)

export const MIN = 60_000;
/** 2013-10-07 14:00 UTC = 10:00 New York, inside the XNYS session (13:30-20:00 UTC) */
export const T = Date.UTC(2013, 9, 7, 14, 0);

/** A SUBMITTED GTC market buy of 100 SPY created at T, with `fields` overriding */
export function order(id: number, fields: Partial<Order> = {}): Order {
  return {
    id,
    clientOrderId: `s-${id}`,
    strategyId: 's',
    instrument: 'SPY',
    instrumentIndex: 0,
    side: 'BUY',
    type: 'MARKET',
    quantity: 100,
    limitPrice: NaN,
    stopPrice: NaN,
    trailingAmount: NaN,
    trailingPercent: NaN,
    tif: 'GTC',
    status: 'SUBMITTED',
    filledQuantity: 0,
    avgFillPrice: NaN,
    commission: 0,
    parentId: 0,
    ocaGroup: '',
    tag: '',
    createdAt: T,
    updatedAt: T,
    triggered: false,
    reason: '',
    ...fields,
  };
}

/** A SPY bar starting at `ts` */
export function bar(ts: number, open: number, high: number, low: number, close: number, volume = 10_000, kind: BarKind = 'trade', interval: Interval = '1m'): Bar {
  const len = interval === '5m' ? 5 * MIN : MIN;
  return { instrument: 'SPY', instrumentIndex: 0, interval, kind, ts, closeTime: ts + len, open, high, low, close, volume };
}

/** A next-open venue without commissions whose reports are collected */
export function setup(config: Partial<SimulatedVenueConfig> = {}): { venue: SimulatedVenue; reports: ExecutionReport[] } {
  const reports: ExecutionReport[] = [];
  const venue = new SimulatedVenue({ fill: 'next-open', commission: noCommission(), ...config });
  venue.attach((r) => reports.push(r));
  return { venue, reports };
}
