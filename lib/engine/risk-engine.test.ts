import { describe, expect, it } from 'vitest';
import { futureSpec } from '../data/futures.js';
import { stockSpec } from '../data/instrument.js';
import type { Order, OrderSide } from '../model/orders.js';
import { InstrumentRegistry } from './instrument-registry.js';
import { Portfolio } from './portfolio.js';
import { RiskEngine, workingQuantities, type RiskLimits } from './risk-engine.js';

function setup(limits: RiskLimits, openOrders?: () => number) {
  const reg = new InstrumentRegistry();
  const spy = reg.add(stockSpec('SPY'));
  const qqq = reg.add(stockSpec('QQQ'));
  const es = reg.add(futureSpec('ES', '201312'));
  const p = new Portfolio(100_000, reg);
  p.sync();
  p.mark(spy, 100);
  p.mark(qqq, 50);
  p.mark(es, 4000);
  const risk = new RiskEngine(limits, p, openOrders);
  const keys = ['SPY', 'QQQ', 'ES-201312'];
  const order = (index: number, side: OrderSide, quantity: number) => ({ instrument: keys[index]!, instrumentIndex: index, side, quantity }) as Readonly<Order>;
  return { p, risk, spy, qqq, es, order };
}

describe('RiskEngine', () => {
  it('with no limits lets everything through (the backtest default)', () => {
    const { risk, spy, order } = setup({});
    expect(risk.check(order(spy, 'BUY', 1e6), 100, 1)).toBeUndefined();
    expect(risk.check(order(spy, 'SELL', 5), 100, 1)).toBeUndefined();
    expect(risk.check(order(spy, 'BUY', 0), 100, 1)).toMatch(/quantity must be a positive number/);
  });

  it('global halt: rejects risk-increasing orders with the reason, lets reducing ones through', () => {
    const { p, risk, spy, order } = setup({});
    p.applyFill(spy, 100, 100, 0);
    risk.halt('drawdown 12% from peak');
    expect(risk.halted).toBe(true);
    expect(risk.reason).toBe('drawdown 12% from peak');
    expect(risk.check(order(spy, 'BUY', 1), 100, 1)).toBe('trading halted: drawdown 12% from peak');
    expect(risk.check(order(spy, 'SELL', 100), 100, 1)).toBeUndefined();
    // a sell beyond the position opens a short: risk-increasing
    expect(risk.check(order(spy, 'SELL', 101), 100, 1)).toMatch(/trading halted/);
    risk.resume();
    expect(risk.check(order(spy, 'BUY', 1), 100, 1)).toBeUndefined();
  });

  it('per-instrument halts: only that instrument, reducing orders allowed, resumable', () => {
    const { p, risk, spy, qqq, order } = setup({});
    p.applyFill(spy, 10, 100, 0);
    risk.haltInstrument(spy, 'stale data 45 s');
    expect(risk.instrumentHalt(spy)).toBe('stale data 45 s');
    expect(risk.instrumentHalt(qqq)).toBeUndefined();
    expect(risk.haltedInstruments()).toEqual([spy]);
    expect(risk.halted).toBe(false);
    expect(risk.check(order(spy, 'BUY', 1), 100, 1)).toBe('SPY halted: stale data 45 s');
    expect(risk.check(order(spy, 'SELL', 10), 100, 1)).toBeUndefined();
    expect(risk.check(order(qqq, 'BUY', 1), 50, 1)).toBeUndefined();
    risk.resumeInstrument(spy);
    expect(risk.check(order(spy, 'BUY', 1), 100, 1)).toBeUndefined();
    expect(risk.haltedInstruments()).toEqual([]);
  });

  it('maxOpenOrders counts working orders through the counter; reducing orders pass; no counter fails closed', () => {
    let working = 2;
    const { p, risk, spy, order } = setup({ maxOpenOrders: 3 }, () => working);
    expect(risk.check(order(spy, 'BUY', 1), 100, 1)).toBeUndefined();
    working = 3;
    expect(risk.check(order(spy, 'BUY', 1), 100, 1)).toBe('3 orders are working, maxOpenOrders is 3');
    p.applyFill(spy, 5, 100, 0);
    expect(risk.check(order(spy, 'SELL', 5), 100, 1)).toBeUndefined();

    const bare = setup({ maxOpenOrders: 3 });
    expect(bare.risk.check(bare.order(bare.spy, 'BUY', 1), 100, 1)).toMatch(/no open-order counter/);
    bare.risk.setOpenOrderCounter(() => 0);
    expect(bare.risk.check(bare.order(bare.spy, 'BUY', 1), 100, 1)).toBeUndefined();
  });

  it('maxNetLeverage: long and short exposure net out; gross is checked separately', () => {
    const { p, risk, spy, qqq, order } = setup({ maxNetLeverage: 1, maxGrossLeverage: 3 });
    // 100k equity: 900 SPY at 100 = 0.9 net
    p.applyFill(spy, 900, 100, 0);
    expect(risk.check(order(spy, 'BUY', 100), 100, 1)).toBeUndefined(); // exactly 1.0
    expect(risk.check(order(spy, 'BUY', 101), 100, 1)).toMatch(/net leverage would be 1\.00\d*, beyond maxNetLeverage 1/);
    // a short in another instrument lowers net exposure: allowed although gross grows
    expect(risk.check(order(qqq, 'SELL', 1000), 50, 1)).toBeUndefined();
    p.applyFill(qqq, -1000, 50, 0);
    expect(risk.check(order(spy, 'BUY', 500), 100, 1)).toBeUndefined(); // net (140k - 50k) / 100k = 0.9
    expect(risk.check(order(qqq, 'SELL', 5000), 50, 1)).toMatch(/gross leverage/);
  });

  it('maxPositionNotional: the allocation of one instrument, overridable per instrument', () => {
    const { p, risk, spy, qqq, es, order } = setup({ maxPositionNotional: 20_000, perInstrument: { QQQ: { maxPositionNotional: 5_000, maxPositionQuantity: 80 } } });
    expect(risk.check(order(spy, 'BUY', 200), 100, 1)).toBeUndefined();
    expect(risk.check(order(spy, 'BUY', 201), 100, 1)).toBe('position notional would be 20100.00, beyond maxPositionNotional 20000');
    p.applyFill(spy, 150, 100, 0);
    expect(risk.check(order(spy, 'BUY', 51), 100, 1)).toMatch(/position notional would be 20100\.00/);
    // the position, not the order: selling down is always fine
    expect(risk.check(order(spy, 'SELL', 150), 100, 1)).toBeUndefined();
    expect(risk.check(order(qqq, 'BUY', 80), 50, 1)).toBeUndefined();
    expect(risk.check(order(qqq, 'BUY', 81), 50, 1)).toBe('position would be 81, beyond maxPositionQuantity 80 of QQQ');
    risk.setInstrumentLimits('QQQ', { maxPositionNotional: 3_000 });
    expect(risk.check(order(qqq, 'BUY', 61), 50, 1)).toBe('position notional would be 3050.00, beyond maxPositionNotional 3000 of QQQ');
    expect(risk.instrumentLimitsOf('QQQ')).toEqual({ maxPositionNotional: 3_000 });
    risk.setInstrumentLimits('QQQ', undefined);
    expect(risk.check(order(qqq, 'BUY', 81), 50, 1)).toBeUndefined();
    // futures: quantity x price x multiplier
    expect(risk.check(order(es, 'BUY', 1), 4000, 50)).toMatch(/position notional would be 200000\.00/);
  });

  it('halts come before the limits; limits do not apply to reducing orders', () => {
    const { p, risk, spy, order } = setup({ maxOrderQuantity: 10, maxOpenOrders: 1 }, () => 5);
    p.applyFill(spy, 100, 100, 0);
    risk.haltInstrument(spy, 'session: no new entries');
    expect(risk.check(order(spy, 'BUY', 50), 100, 1)).toBe('SPY halted: session: no new entries');
    // above maxOrderQuantity and with too many orders working, but it only reduces
    expect(risk.check(order(spy, 'SELL', 100), 100, 1)).toBeUndefined();
  });

  it('working orders count: two closes of one position cannot overshoot into a short or past maxPositionQuantity', () => {
    const { p, risk, spy, order } = setup({ allowShort: false, maxPositionQuantity: 150 });
    let nextId = 1;
    const working: Order[] = [];
    const work = (side: OrderSide, quantity: number, extra: Partial<Order> = {}) => {
      const o = { ...order(spy, side, quantity), id: nextId++, status: 'ACCEPTED', filledQuantity: 0, parentId: 0, ocaGroup: '', ...extra } as Order;
      working.push(o);
      return o;
    };
    risk.setWorkingOrders((key) => working.filter((o) => o.instrument === key));
    p.applyFill(spy, 100, 100, 0);
    // a stop-loss exit SELL 100 is working: a second SELL 100 (a sell signal, the supervisor's
    // flatten) would leave -100 if both filled
    const exit = work('SELL', 100);
    expect(risk.check(order(spy, 'SELL', 100), 100, 1)).toBe('position would be -100: shorting is not allowed');
    expect(risk.check(order(spy, 'SELL', 1), 100, 1)).toMatch(/shorting is not allowed/);
    // a partly filled exit counts its remaining quantity only: 40 held, 40 left to sell
    exit.filledQuantity = 60;
    p.applyFill(spy, -60, 100, 0);
    expect(risk.check(order(spy, 'SELL', 1), 100, 1)).toMatch(/position would be -1/);
    // an order being cancelled no longer counts (the flatten that replaces it must go)
    exit.status = 'PENDING_CANCEL';
    expect(risk.check(order(spy, 'SELL', 40), 100, 1)).toBeUndefined();
    exit.status = 'CANCELLED';
    // buys: a working BUY 100 on 40 held makes 140; 10 more is the limit
    work('BUY', 100);
    expect(risk.check(order(spy, 'BUY', 10), 100, 1)).toBeUndefined();
    expect(risk.check(order(spy, 'BUY', 11), 100, 1)).toBe('position would be 151, beyond maxPositionQuantity 150');
    // working buys do not let a sell go short (they may never fill): selling 40 is the most
    expect(risk.check(order(spy, 'SELL', 40), 100, 1)).toBeUndefined();
    expect(risk.check(order(spy, 'SELL', 41), 100, 1)).toMatch(/position would be -1/);
  });

  it('workingQuantities: bracket exits wait for their entry, an OCO group counts once', () => {
    const base = { instrument: 'SPY', instrumentIndex: 0, filledQuantity: 0, parentId: 0, ocaGroup: '', status: 'ACCEPTED' };
    const entry = { ...base, id: 1, side: 'BUY', quantity: 100 } as Order;
    const tp = { ...base, id: 2, side: 'SELL', quantity: 100, parentId: 1, ocaGroup: 'oco-1' } as Order;
    const sl = { ...base, id: 3, side: 'SELL', quantity: 100, parentId: 1, ocaGroup: 'oco-1' } as Order;
    expect(workingQuantities([entry, tp, sl])).toEqual({ buy: 100, sell: 0 });
    entry.status = 'FILLED';
    entry.filledQuantity = 100;
    expect(workingQuantities([entry, tp, sl])).toEqual({ buy: 0, sell: 100 });
    expect(workingQuantities([tp, sl, { ...base, id: 4, side: 'SELL', quantity: 5 } as Order])).toEqual({ buy: 0, sell: 105 });
  });
});
