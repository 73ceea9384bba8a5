import { describe, expect, it } from 'vitest';
import { futureSpec } from '../../lib/data/futures.js';
import { stockSpec } from '../../lib/data/instrument.js';
import type { Order } from '../../lib/model/orders.js';
import {
  applyChanges,
  changesProblem,
  classifyIbStatus,
  contractQueryFor,
  ibOrderProblem,
  isFinalIbStatus,
  ourPrices,
  roundToTick,
  sideOf,
  toIbOrder,
  type IbOrderContext,
} from './ib-order-mapping.js';
import { executionView, formatFilterTime, instrumentKeyGuess, liquidityOf, orderView, parseIbTime } from './ib-views.js';
import { decisionIdOf, formatOrderRef, orderRefProblem, parseOrderRef } from './order-ref.js';
import { parseFilterTime } from '../tws-sim/exec-filter.js';

function order(over: Partial<Order> = {}): Order {
  return {
    id: 7,
    clientOrderId: 'sma-7',
    strategyId: 'sma',
    instrument: 'SPY',
    instrumentIndex: 0,
    side: 'BUY',
    type: 'MARKET',
    quantity: 100,
    limitPrice: NaN,
    stopPrice: NaN,
    trailingAmount: NaN,
    trailingPercent: NaN,
    tif: 'DAY',
    status: 'SUBMITTED',
    filledQuantity: 0,
    avgFillPrice: NaN,
    commission: 0,
    parentId: 0,
    ocaGroup: '',
    tag: '',
    createdAt: 0,
    updatedAt: 0,
    triggered: false,
    reason: '',
    ...over,
  };
}

const ctx: IbOrderContext = { orderRef: 'sma@1.0.0#d1', account: 'DU1234567', transmit: true, parentIbOrderId: 0, ocaGroup: '', tickSize: 0.01 };

describe('orderRef', () => {
  it('formats and parses <strategy>@<version>#<decisionId>[/<leg>]', () => {
    expect(formatOrderRef({ strategy: 'sma-cross', version: '1.2.0', decisionId: 'sma-cross-17', leg: 1 })).toBe('sma-cross@1.2.0#sma-cross-17');
    expect(formatOrderRef({ strategy: 'sma', version: '2', decisionId: 'D:2026-01-02.3', leg: 3 })).toBe('sma@2#D:2026-01-02.3/3');
    expect(parseOrderRef('sma-cross@1.2.0#sma-cross-17')).toEqual({ strategy: 'sma-cross', version: '1.2.0', decisionId: 'sma-cross-17', leg: 1 });
    expect(parseOrderRef('sma@2#D:2026-01-02.3/3')).toEqual({ strategy: 'sma', version: '2', decisionId: 'D:2026-01-02.3', leg: 3 });
    expect(parseOrderRef('sma@1.0.0+build.5#x')).toMatchObject({ version: '1.0.0+build.5' });
  });

  it('does not parse references other tools (or people) write', () => {
    for (const ref of ['', 'manual-1', 'sma@1', 'sma#d', '@1#d', 'sma@1#', 'sma@1#d/0', 'sma@1#d/x', 'a b@1#d', undefined]) expect(parseOrderRef(ref)).toBeUndefined();
  });

  it('refuses parts that would make the reference ambiguous', () => {
    expect(orderRefProblem({ strategy: 'a@b', version: '1', decisionId: 'd' })).toMatch(/strategy id/);
    expect(orderRefProblem({ strategy: 'a', version: '1#2', decisionId: 'd' })).toMatch(/version/);
    expect(orderRefProblem({ strategy: 'a', version: '1', decisionId: 'd/2' })).toMatch(/decision id/);
    expect(orderRefProblem({ strategy: 'a', version: '1', decisionId: 'd 2' })).toMatch(/decision id/);
    expect(() => formatOrderRef({ strategy: 'a', version: '1', decisionId: 'd', leg: 0 })).toThrow(RangeError);
  });

  it('takes the decision id from the tag (decision=<id> or decision:<id>), else the clientOrderId', () => {
    expect(decisionIdOf({ tag: 'decision=D17', clientOrderId: 'sma-3' })).toBe('D17');
    expect(decisionIdOf({ tag: 'entry decision:2026-01-02T15:00Z.1 breakout', clientOrderId: 'sma-3' })).toBe('2026-01-02T15:00Z.1');
    expect(decisionIdOf({ tag: 'entry;decision=abc,long', clientOrderId: 'sma-3' })).toBe('abc');
    expect(decisionIdOf({ tag: 'nodecision=1', clientOrderId: 'sma-3' })).toBe('sma-3');
    expect(decisionIdOf({ tag: '', clientOrderId: 'sma-3' })).toBe('sma-3');
  });
});

describe('our order -> IB order', () => {
  it('maps every order type (the mapping table)', () => {
    expect(toIbOrder(order(), ctx)).toEqual({ action: 'BUY', totalQuantity: 100, orderType: 'MKT', tif: 'DAY', orderRef: 'sma@1.0.0#d1', transmit: true, parentId: 0, outsideRth: false, account: 'DU1234567' });
    expect(toIbOrder(order({ type: 'LIMIT', limitPrice: 450.1, side: 'SELL', tif: 'GTC' }), ctx)).toMatchObject({ action: 'SELL', orderType: 'LMT', lmtPrice: 450.1, tif: 'GTC' });
    const stop = toIbOrder(order({ type: 'STOP', stopPrice: 445 }), ctx);
    expect(stop).toMatchObject({ orderType: 'STP', auxPrice: 445 });
    expect(stop.lmtPrice).toBeUndefined();
    expect(toIbOrder(order({ type: 'STOP_LIMIT', stopPrice: 445, limitPrice: 444.5, tif: 'IOC' }), ctx)).toMatchObject({ orderType: 'STP LMT', auxPrice: 445, lmtPrice: 444.5, tif: 'IOC' });
    expect(toIbOrder(order({ type: 'TRAILING_STOP', side: 'SELL', trailingAmount: 1.5 }), ctx)).toMatchObject({ orderType: 'TRAIL', auxPrice: 1.5 });
    const pct = toIbOrder(order({ type: 'TRAILING_STOP', side: 'SELL', trailingPercent: 0.02, stopPrice: 441 }), ctx);
    expect(pct).toMatchObject({ orderType: 'TRAIL', trailingPercent: 2, trailStopPrice: 441 });
    expect(pct.auxPrice).toBeUndefined();
  });

  it('links brackets (parentId, transmit) and OCA groups (ocaType 2: reduce with block)', () => {
    const child = toIbOrder(order({ type: 'LIMIT', limitPrice: 455, side: 'SELL', parentId: 3, ocaGroup: 'oco-sma-1' }), { ...ctx, transmit: false, parentIbOrderId: 1_000_004, ocaGroup: 'oca:sma@1.0.0#b1' });
    expect(child).toMatchObject({ parentId: 1_000_004, transmit: false, ocaGroup: 'oca:sma@1.0.0#b1', ocaType: 2 });
    expect(toIbOrder(order(), { ...ctx, account: '' }).account).toBeUndefined();
  });

  it('rounds prices to the instrument tick, without float noise', () => {
    expect(roundToTick(450.123, 0.01)).toBe(450.12);
    expect(roundToTick(0.1 + 0.2, 0.01)).toBe(0.3);
    expect(roundToTick(4512.3, 0.25)).toBe(4512.25);
    expect(roundToTick(4512.4, 0.25)).toBe(4512.5);
    expect(roundToTick(1.23456, 0)).toBe(1.23456);
    expect(toIbOrder(order({ type: 'LIMIT', limitPrice: 4512.3 }), { ...ctx, tickSize: 0.25 }).lmtPrice).toBe(4512.25);
  });

  it('knows what IB cannot take', () => {
    expect(ibOrderProblem(order())).toBeUndefined();
    expect(ibOrderProblem(order({ quantity: 0 }))).toMatch(/quantity/);
    expect(ibOrderProblem(order({ type: 'PEGGED' as never }))).toMatch(/no IB equivalent/);
  });

  it('modifies through a new placeOrder: changed fields, always transmitted', () => {
    const base = toIbOrder(order({ type: 'STOP_LIMIT', stopPrice: 445, limitPrice: 444 }), { ...ctx, transmit: false });
    expect(applyChanges(base, 'STOP_LIMIT', { quantity: 50, limitPrice: 443.999, stopPrice: 444.5 }, 0.01)).toMatchObject({ totalQuantity: 50, lmtPrice: 444, auxPrice: 444.5, transmit: true });
    expect(applyChanges(base, 'STOP_LIMIT', {}, 0.01)).toMatchObject({ totalQuantity: 100, lmtPrice: 444, auxPrice: 445 });
    expect(changesProblem('MARKET', { limitPrice: 1 })).toMatch(/no limit price/);
    expect(changesProblem('LIMIT', { stopPrice: 1 })).toMatch(/no stop price/);
    expect(changesProblem('LIMIT', { quantity: -1 })).toMatch(/quantity/);
    expect(changesProblem('STOP', { stopPrice: 0 })).toMatch(/stopPrice/);
    expect(changesProblem('TRAILING_STOP', { stopPrice: 10 })).toBeUndefined();
  });

  it('reads IB prices back as our fields', () => {
    expect(ourPrices('LIMIT', { lmtPrice: 1, auxPrice: 0 })).toEqual({ limitPrice: 1, stopPrice: NaN });
    expect(ourPrices('STOP', { lmtPrice: 0, auxPrice: 2 })).toEqual({ limitPrice: NaN, stopPrice: 2 });
    expect(ourPrices('STOP_LIMIT', { lmtPrice: 1, auxPrice: 2 })).toEqual({ limitPrice: 1, stopPrice: 2 });
    expect(ourPrices('TRAILING_STOP', { trailStopPrice: Number.MAX_VALUE })).toEqual({ limitPrice: NaN, stopPrice: NaN });
    expect(ourPrices('MARKET', { lmtPrice: 0 })).toEqual({ limitPrice: NaN, stopPrice: NaN });
  });

  it('resolves stocks through SMART and futures by conId, local symbol or month', () => {
    expect(contractQueryFor(stockSpec('SPY', 'ARCA'))).toEqual({ symbol: 'SPY', secType: 'STK', exchange: 'SMART', currency: 'USD' });
    expect(contractQueryFor({ ...stockSpec('SPY'), conId: 756733 })).toMatchObject({ conId: 756733, exchange: 'SMART' });
    const es = futureSpec('ES', '202603');
    expect(contractQueryFor(es)).toMatchObject({ symbol: 'ES', secType: 'FUT', localSymbol: es.localSymbol });
    expect(contractQueryFor({ ...es, localSymbol: undefined })).toMatchObject({ lastTradeDateOrContractMonth: '202603' });
    expect(contractQueryFor({ ...es, conId: 99 })).toMatchObject({ conId: 99 });
    expect(contractQueryFor({ ...es, conId: 99 }).localSymbol).toBeUndefined();
  });
});

describe('IB values read back', () => {
  it('classifies IB order statuses', () => {
    expect(['PendingSubmit', 'ApiPending'].map(classifyIbStatus)).toEqual(['pending', 'pending']);
    expect(['PreSubmitted', 'Submitted'].map(classifyIbStatus)).toEqual(['working', 'working']);
    expect(['PendingCancel', 'Filled', 'Cancelled', 'ApiCancelled', 'Inactive', 'Unknown', undefined].map(classifyIbStatus)).toEqual([
      'pending-cancel',
      'filled',
      'cancelled',
      'cancelled',
      'inactive',
      'unknown',
      'unknown',
    ]);
    expect(['Filled', 'Cancelled', 'Inactive', 'Submitted'].map(isFinalIbStatus)).toEqual([true, true, true, false]);
    expect(['BOT', 'SLD', 'BUY', 'SELL', 'SSHORT', 'x'].map(sideOf)).toEqual(['BUY', 'SELL', 'BUY', 'SELL', 'SELL', undefined]);
  });

  it('parses execution times in their zone (or TWS login zone) and formats the filter time in UTC', () => {
    expect(parseIbTime('20260102 10:00:05 US/Eastern', 'America/New_York')).toBe(Date.UTC(2026, 0, 2, 15, 0, 5));
    expect(parseIbTime('20260702  10:00:05', 'America/New_York')).toBe(Date.UTC(2026, 6, 2, 14, 0, 5));
    expect(parseIbTime('20260102-15:00:05 UTC', 'America/New_York')).toBe(Date.UTC(2026, 0, 2, 15, 0, 5));
    expect(parseIbTime('20260102 09:00:00 CST', 'America/New_York')).toBe(Date.UTC(2026, 0, 2, 15, 0, 0));
    expect(parseIbTime('yesterday', 'America/New_York')).toBeUndefined();
    expect(formatFilterTime(Date.UTC(2026, 0, 2, 15, 0, 5, 900))).toBe('20260102 15:00:05 UTC');
    // the simulated TWS reads it back as the same instant
    expect(parseFilterTime(formatFilterTime(Date.UTC(2026, 6, 2, 15, 0, 5, 900)))).toBe(Date.UTC(2026, 6, 2, 15, 0, 5));
  });

  it('converts stoqey messages to plain views', () => {
    const exec = executionView(
      -1,
      { conId: 1, symbol: 'spy', secType: 'STK' as never, exchange: 'SMART', currency: 'USD' },
      { execId: 'e1', orderId: 5, clientId: 3, permId: 9, orderRef: 'r', time: '20260102 10:00:00 US/Eastern', side: 'SLD', shares: 10, price: 1.5, lastLiquidity: 1 as never },
      'America/New_York',
    );
    expect(exec).toMatchObject({ reqId: -1, execId: 'e1', side: 'SELL', liquidity: 'maker', time: Date.UTC(2026, 0, 2, 15), contract: { symbol: 'SPY', conId: 1 } });
    expect([1, 2, 3, undefined].map(liquidityOf)).toEqual(['maker', 'taker', 'taker', 'taker']);
    const view = orderView(5, { symbol: 'ES', secType: 'FUT' as never, lastTradeDateOrContractMonth: '20260320', localSymbol: 'ESH6' }, { orderType: 'LMT' as never, action: 'BUY' as never, totalQuantity: 2, lmtPrice: Number.MAX_VALUE, permId: 4 }, { status: 'Submitted' as never });
    expect(view).toMatchObject({ orderId: 5, permId: 4, side: 'BUY', lmtPrice: undefined, status: 'Submitted', orderRef: '' });
    expect(instrumentKeyGuess(view.contract)).toBe('ES-202603');
    expect(instrumentKeyGuess({ ...view.contract, secType: 'STK', symbol: 'SPY' })).toBe('SPY');
  });
});
