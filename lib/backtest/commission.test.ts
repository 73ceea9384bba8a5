import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { stockSpec, type InstrumentSpec } from '../data/instrument.js';
import { ibFixed, ibTiered, newOrderCommissionState, noCommission, parseCommissionModel, perContract } from './commission.js';

const SPY = stockSpec('SPY');
function future(symbol: string, multiplier: number): InstrumentSpec {
  return { key: `${symbol}-201312`, symbol, secType: 'FUT', exchange: 'CME', currency: 'USD', multiplier, tickSize: 0.25, contractMonth: '201312' };
}
const EURUSD: InstrumentSpec = { key: 'EUR.USD', symbol: 'EUR', secType: 'CASH', exchange: 'IDEALPRO', currency: 'USD', multiplier: 1, tickSize: 0.00005 };
const OCT_15 = Date.UTC(2013, 9, 15, 15, 0);
const DAY = 86_400_000;

describe('ibFixed stocks', () => {
  it('charges 0.005 per share above the minimum', () => {
    // 1,000 * 0.005 = 5.00 (1% of 25,000 is far above)
    expect(ibFixed().commission(SPY, 1000, 25, OCT_15)).toBe(5);
  });

  it('charges the 1.00 minimum for small orders', () => {
    // 100 * 0.005 = 0.50 -> minimum 1.00
    expect(ibFixed().commission(SPY, 100, 25, OCT_15)).toBe(1);
  });

  it('caps the commission at 1% of trade value', () => {
    // IB's own example: 1,000 shares at 0.25: 5.00 raw, capped at 1% of 250 = 2.50
    expect(ibFixed().commission(SPY, 1000, 0.25, OCT_15)).toBe(2.5);
  });

  it('applies the minimum once per order across partial fills', () => {
    const model = ibFixed();
    const order = newOrderCommissionState();
    // 100 sh: raw 0.50 -> 1.00; +300 sh: raw 2.00 total -> +1.00; +600 sh: raw 5.00 total -> +3.00
    expect(model.commission(SPY, 100, 25, OCT_15, order)).toBe(1);
    expect(model.commission(SPY, 300, 25, OCT_15, order)).toBe(1);
    expect(model.commission(SPY, 600, 25, OCT_15, order)).toBe(3);
  });
});

describe('ibTiered stocks', () => {
  it('charges the 0.35 minimum plus clearing for a small order', () => {
    // 100 * 0.0035 = 0.35 (= minimum) + 100 * 0.0002 clearing = 0.37
    expect(ibTiered().commission(SPY, 100, 50, OCT_15)).toBe(0.37);
  });

  it('moves to the next tier once the month passes 300,000 shares and resets on a new New York month', () => {
    const model = ibTiered();
    // 299,000 * 0.0035 = 1,046.50 + 299,000 * 0.0002 = 59.80 -> 1,106.30
    expect(model.commission(SPY, 299_000, 10, OCT_15)).toBe(1106.3);
    // month-to-date 299,000 < 300,000: still tier 1: 2,000 * 0.0035 = 7.00 + 0.40 = 7.40
    expect(model.commission(SPY, 2_000, 10, OCT_15 + DAY)).toBe(7.4);
    // month-to-date 301,000: tier 2: 1,000 * 0.0020 = 2.00 + 0.20 = 2.20
    expect(model.commission(SPY, 1_000, 10, OCT_15 + 2 * DAY)).toBe(2.2);
    // 2013-11-01 02:00 UTC is still 31 October in New York: tier 2 again
    expect(model.commission(SPY, 1_000, 10, Date.UTC(2013, 10, 1, 2, 0))).toBe(2.2);
    // 2013-11-01 15:00 UTC: November in New York, volume restarts: 3.50 + 0.20 = 3.70
    expect(model.commission(SPY, 1_000, 10, Date.UTC(2013, 10, 1, 15, 0))).toBe(3.7);
  });

  it('forgets the month-to-date volume on reset', () => {
    const model = ibTiered();
    model.commission(SPY, 400_000, 10, OCT_15);
    model.reset();
    // tier 1 again: 1,000 * 0.0035 = 3.50 + 0.20
    expect(model.commission(SPY, 1_000, 10, OCT_15)).toBe(3.7);
  });

  it('caps the broker part at 1% of value but still adds clearing', () => {
    // 1,000 sh at 0.10: 3.50 raw, cap 1% of 100 = 1.00, + 0.20 clearing = 1.20
    expect(ibTiered().commission(SPY, 1000, 0.1, OCT_15)).toBe(1.2);
  });
});

describe('futures', () => {
  it('charges per contract by root, independent of price and multiplier', () => {
    const fixed = ibFixed();
    // ES: 3 * (0.85 + 1.38) = 6.69 although the notional is 3 * 1,700 * 50 = 255,000
    expect(fixed.commission(future('ES', 50), 3, 1700, OCT_15)).toBe(6.69);
    // GC: 2 * (0.85 + 1.60) = 4.90
    expect(fixed.commission(future('GC', 100), 2, 1300, OCT_15)).toBe(4.9);
    // 6E: 1 * 2.45; an unlisted root (CL) pays the 2.25 default
    expect(fixed.commission(future('6E', 125_000), 1, 1.35, OCT_15)).toBe(2.45);
    expect(fixed.commission(future('CL', 1000), 1, 100, OCT_15)).toBe(2.25);
    // tiered uses the same table (the <= 1,000 contracts/month rate)
    expect(ibTiered().commission(future('NQ', 20), 4, 3300, OCT_15)).toBe(8.92);
  });

  it('charges a flat per-contract rate with perContract', () => {
    expect(perContract(1.5).commission(future('ES', 50), 4, 1700, OCT_15)).toBe(6);
  });
});

describe('cash FX', () => {
  it('charges 0.2 bps of value with a 2.00 minimum', () => {
    // 100,000 EUR at 1.35 = 135,000 USD * 0.00002 = 2.70; 10,000 EUR -> 0.27 -> minimum 2.00
    expect(ibFixed().commission(EURUSD, 100_000, 1.35, OCT_15)).toBe(2.7);
    expect(ibTiered().commission(EURUSD, 10_000, 1.35, OCT_15)).toBe(2);
  });
});

describe('parseCommissionModel', () => {
  it('returns the named model', () => {
    expect(parseCommissionModel('none').name).toBe('none');
    expect(parseCommissionModel('ib-fixed').name).toBe('ib-fixed');
    expect(parseCommissionModel('ib-tiered').name).toBe('ib-tiered');
    expect(noCommission().commission(SPY, 1000, 100, OCT_15)).toBe(0);
  });

  it('throws a ConfigError listing the names for an unknown model', () => {
    expect(() => parseCommissionModel('ib')).toThrow(ConfigError);
    expect(() => parseCommissionModel('ib')).toThrow(/none, ib-fixed, ib-tiered/);
  });
});
