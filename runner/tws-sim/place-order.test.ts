import {
  ConjunctionConnection,
  ExecutionCondition,
  MarginCondition,
  OrderAction,
  OrderType,
  PercentChangeCondition,
  PriceCondition,
  SecType,
  TimeCondition,
  VolumeCondition,
  type Contract,
  type Order,
} from '@stoqey/ib';
import { describe, expect, it } from 'vitest';
import { readCancelOrder, readGlobalCancel, readPlaceOrder } from './place-order.js';
import { encodeRequest } from './test-wire.js';
import { OUT } from './types.js';
import { Fields, WireProtocolError } from './wire.js';

const SPY: Contract = { symbol: 'SPY', secType: SecType.STK, exchange: 'SMART', currency: 'USD' };
const ES: Contract = { symbol: 'ES', secType: SecType.FUT, exchange: 'CME', currency: 'USD', lastTradeDateOrContractMonth: '202603', multiplier: 50, localSymbol: 'ESH6', tradingClass: 'ES', conId: 495512563 };

/** Encodes placeOrder with the real client and parses it back, checking every field was read. */
function roundTrip(order: Order, contract: Contract = SPY, serverVersion = 193, id = 1_000_001) {
  const { msgId, fields } = encodeRequest(serverVersion, (e) => e.placeOrder(id, contract, order));
  expect(msgId).toBe(OUT.PLACE_ORDER);
  const reader = new Fields(fields);
  const parsed = readPlaceOrder(reader, serverVersion);
  expect(reader.remaining()).toBe(0);
  return { parsed, count: fields.length + 1, fields };
}

const lmt: Order = { action: OrderAction.BUY, orderType: OrderType.LMT, totalQuantity: 100, lmtPrice: 450.25, tif: 'DAY', transmit: true };

describe('readPlaceOrder at v193', () => {
  it('reads a plain LMT order of 118 fields with the doc indices', () => {
    const { parsed, count, fields } = roundTrip({ ...lmt, orderRef: 'ref-1', account: 'DU1234567', outsideRth: true });
    expect(count).toBe(118);
    // tws-protocol.md: action f[16], totalQuantity f[17], orderType f[18], lmtPrice f[19], auxPrice f[20], tif f[21]
    expect([fields[15], fields[16], fields[17], fields[18], fields[19], fields[20]]).toEqual(['BUY', '100', 'LMT', '450.25', '', 'DAY']);
    expect(parsed).toMatchObject({
      orderId: 1_000_001,
      action: 'BUY',
      totalQuantity: 100,
      orderType: 'LMT',
      lmtPrice: 450.25,
      auxPrice: undefined,
      tif: 'DAY',
      account: 'DU1234567',
      orderRef: 'ref-1',
      transmit: true,
      parentId: 0,
      outsideRth: true,
      whatIf: false,
      comboLegCount: 0,
      conditionCount: 0,
    });
    expect(parsed.contract).toMatchObject({ symbol: 'SPY', secType: 'STK', exchange: 'SMART', currency: 'USD', conId: 0, multiplier: undefined });
  });

  it('reads a futures contract block, stop prices, OCA and bracket fields', () => {
    const { parsed } = roundTrip(
      { action: OrderAction.SELL, orderType: OrderType.STP_LMT, totalQuantity: 2, lmtPrice: 4990, auxPrice: 4995, tif: 'GTC', ocaGroup: 'oca-7', ocaType: 1, parentId: 999_999, transmit: false },
      ES,
    );
    expect(parsed.contract).toMatchObject({ conId: 495512563, symbol: 'ES', secType: 'FUT', lastTradeDateOrContractMonth: '202603', multiplier: 50, exchange: 'CME', localSymbol: 'ESH6', tradingClass: 'ES' });
    expect(parsed).toMatchObject({ action: 'SELL', orderType: 'STP LMT', totalQuantity: 2, lmtPrice: 4990, auxPrice: 4995, tif: 'GTC', ocaGroup: 'oca-7', ocaType: 1, parentId: 999_999, transmit: false });
  });

  it('reads MKT with unset prices and an empty tif', () => {
    const { parsed, count } = roundTrip({ action: OrderAction.SELL, orderType: OrderType.MKT, totalQuantity: 5 });
    expect(count).toBe(118);
    expect(parsed).toMatchObject({ action: 'SELL', orderType: 'MKT', lmtPrice: undefined, auxPrice: undefined, tif: '', transmit: false });
  });

  it('follows the conditional blocks: delta-neutral, scale, hedge, algo, delta-neutral contract', () => {
    const order: Order = {
      ...lmt,
      deltaNeutralOrderType: 'LMT',
      deltaNeutralAuxPrice: 1,
      deltaNeutralConId: 5,
      deltaNeutralSettlingFirm: 'F',
      deltaNeutralClearingAccount: 'C',
      deltaNeutralClearingIntent: 'IB',
      deltaNeutralOpenClose: 'O',
      deltaNeutralShortSale: false,
      deltaNeutralShortSaleSlot: 0,
      deltaNeutralDesignatedLocation: '',
      scaleInitLevelSize: 10,
      scaleSubsLevelSize: 5,
      scalePriceIncrement: 0.05,
      scalePriceAdjustValue: 0.01,
      scaleAutoReset: true,
      hedgeType: 'D',
      hedgeParam: '0.5',
      algoStrategy: 'Adaptive',
      algoParams: [
        { tag: 'adaptivePriority', value: 'Normal' },
        { tag: 'x', value: 'y' },
      ],
    };
    const { parsed, count } = roundTrip(order, { ...SPY, deltaNeutralContract: { conId: 9, delta: 0.5, price: 10 } });
    expect(count).toBe(118 + 8 + 7 + 1 + 1 + 4 + 3);
    expect(parsed).toMatchObject({ algoStrategy: 'Adaptive', lmtPrice: 450.25, tif: 'DAY' });
  });

  it('reads every condition type and the two condition flags', () => {
    const conditions = [
      new PriceCondition(455, 0, 756733, 'SMART', true, ConjunctionConnection.AND),
      new TimeCondition('20260102 10:00:00 US/Eastern', true, ConjunctionConnection.OR),
      new MarginCondition(30, false, ConjunctionConnection.AND),
      new ExecutionCondition('SMART', SecType.STK, 'AAPL', ConjunctionConnection.AND),
      new VolumeCondition(1000, 756733, 'SMART', true, ConjunctionConnection.AND),
      new PercentChangeCondition(2.5, 756733, 'SMART', true, ConjunctionConnection.AND),
    ];
    const { parsed, count } = roundTrip({ ...lmt, conditions, conditionsIgnoreRth: true, conditionsCancelOrder: false });
    expect(count).toBe(118 + 6 * 2 + (5 + 2 + 2 + 3 + 4 + 4) + 2);
    expect(parsed.conditionCount).toBe(6);
    expect(parsed.lmtPrice).toBe(450.25);
  });

  it('reads BAG combo legs, order leg prices and smart routing params', () => {
    const bag: Contract = {
      symbol: 'SPY',
      secType: SecType.BAG,
      exchange: 'SMART',
      currency: 'USD',
      comboLegs: [
        { conId: 1, ratio: 1, action: OrderAction.BUY, exchange: 'SMART', openClose: 0, shortSaleSlot: 0, designatedLocation: '', exemptCode: -1 },
        { conId: 2, ratio: 1, action: OrderAction.SELL, exchange: 'SMART', openClose: 0, shortSaleSlot: 0, designatedLocation: '', exemptCode: -1 },
      ],
    };
    const { parsed, count } = roundTrip({ ...lmt, orderComboLegs: [{ price: 1 }, { price: 2 }], smartComboRoutingParams: [{ tag: 'NonGuaranteed', value: '1' }] }, bag);
    expect(count).toBe(118 + 1 + 16 + 1 + 2 + 1 + 2);
    expect(parsed.comboLegCount).toBe(2);
    expect(parsed.contract.secType).toBe('BAG');
  });

  it('reads PEG BENCH, PEG BEST (with and without mid offsets), PEG MID and the IBKRATS minTradeQty', () => {
    const bench = roundTrip({ ...lmt, orderType: OrderType.PEG_BENCH, referenceContractId: 1, isPeggedChangeAmountDecrease: false, peggedChangeAmount: 1, referenceChangeAmount: 1, referenceExchangeId: 'X' });
    expect(bench.count).toBe(118 + 5);
    const best = roundTrip({ ...lmt, orderType: OrderType.PEG_BEST, minCompeteSize: 100, competeAgainstBestOffset: 0.01 });
    expect(best.count).toBe(118 + 2);
    const bestMid = roundTrip({ ...lmt, orderType: OrderType.PEG_BEST, minCompeteSize: 100, competeAgainstBestOffset: Infinity, midOffsetAtWhole: 0.01, midOffsetAtHalf: 0.005 });
    expect(bestMid.count).toBe(118 + 4);
    const mid = roundTrip({ ...lmt, orderType: OrderType.PEG_MID, midOffsetAtWhole: 0.01, midOffsetAtHalf: 0.005 });
    expect(mid.count).toBe(118 + 2);
    expect(mid.parsed.orderType).toBe('PEG MID');
    const ats = roundTrip({ ...lmt, minTradeQty: 50 }, { ...SPY, exchange: 'IBKRATS' });
    expect(ats.count).toBe(118 + 1);
    expect(ats.parsed.contract.exchange).toBe('IBKRATS');
  });

  it('resolves the scale ambiguity: MAX_VALUE scalePriceIncrement still sends 7 extras behind an empty field', () => {
    const { parsed, count } = roundTrip({ ...lmt, scalePriceIncrement: Number.MAX_VALUE, orderRef: 'amb' });
    expect(count).toBe(118 + 7);
    expect(parsed).toMatchObject({ orderRef: 'amb', lmtPrice: 450.25 });
  });

  it('refuses a message that is not exactly one order', () => {
    const { fields } = encodeRequest(193, (e) => e.placeOrder(1, SPY, lmt));
    expect(() => readPlaceOrder(new Fields([...fields, 'extra']), 193)).toThrow(WireProtocolError);
    expect(() => readPlaceOrder(new Fields(fields.slice(0, 60)), 193)).toThrow(WireProtocolError);
  });
});

describe('readPlaceOrder at v176 (TWS 10.19)', () => {
  it('reads the 176 layout: faProfile kept, no customer/overnight/manual-indicator fields', () => {
    const { parsed, count } = roundTrip({ ...lmt, orderRef: 'old' }, SPY, 176);
    // 118 - customerAccount, professionalCustomer, includeOvernight, manualOrderIndicator + faProfile
    expect(count).toBe(115);
    expect(parsed).toMatchObject({ orderRef: 'old', action: 'BUY', totalQuantity: 100, lmtPrice: 450.25, transmit: true });
  });

  it('reads conditions and algo params at 176 too', () => {
    const { parsed } = roundTrip(
      { ...lmt, algoStrategy: 'Vwap', algoParams: [{ tag: 'a', value: 'b' }], conditions: [new PriceCondition(1, 0, 2, 'SMART', true, ConjunctionConnection.AND)] },
      ES,
      176,
    );
    expect(parsed).toMatchObject({ algoStrategy: 'Vwap', conditionCount: 1 });
    expect(parsed.contract.multiplier).toBe(50);
  });

  it('reads the RFQ-era layout (187..189) as well', () => {
    const { count } = roundTrip(lmt, SPY, 188);
    expect(count).toBe(118 - 2 + 2);
  });
});

describe('readCancelOrder / readGlobalCancel', () => {
  for (const v of [193, 188, 176]) {
    it(`reads the order id at v${v} and consumes every field`, () => {
      const { msgId, fields } = encodeRequest(v, (e) => e.cancelOrder(1_000_007, {}));
      expect(msgId).toBe(OUT.CANCEL_ORDER);
      const r = new Fields(fields);
      expect(readCancelOrder(r, v)).toBe(1_000_007);
      expect(r.remaining()).toBe(0);
      const g = encodeRequest(v, (e) => e.reqGlobalCancel({}));
      expect(g.msgId).toBe(OUT.REQ_GLOBAL_CANCEL);
      const gr = new Fields(g.fields);
      readGlobalCancel(gr, v);
      expect(gr.remaining()).toBe(0);
    });
  }
});
