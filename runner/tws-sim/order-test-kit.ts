/**
 * Test fixtures for the order feature: instruments, a QuoteBook the test sets by hand, and
 * placeOrder requests with defaults. Used by the unit and integration tests only.
 */
import type { InstrumentRow } from '../../lib/store/instruments.js';
import { matchContracts, type SimContract } from './contract-match.js';
import type { SimOrderRequest } from './place-order.js';
import type { QuoteBook, SimQuote } from './types.js';

export const SPY_ROW: InstrumentRow = { instrumentId: 1, key: 'SPY', symbol: 'SPY', secType: 'STK', exchange: 'ARCA', currency: 'USD', multiplier: 1, tickSize: 0.01 };
export const ES_ROW: InstrumentRow = {
  instrumentId: 2,
  key: 'ES-202603',
  symbol: 'ES',
  secType: 'FUT',
  exchange: 'CME',
  currency: 'USD',
  multiplier: 50,
  tickSize: 0.25,
  contractMonth: '202603',
  expiry: '2026-03-20',
  localSymbol: 'ESH6',
};

/** The SimContract TWS would resolve for a stored instrument at `now`. */
export function contractOf(inst: InstrumentRow, now: number): SimContract {
  const [c] = matchContracts(
    [inst],
    { conId: 0, symbol: inst.symbol, secType: inst.secType, lastTradeDateOrContractMonth: inst.contractMonth ?? '', strike: 0, right: '', multiplier: undefined, exchange: '', primaryExch: '', currency: '', localSymbol: '', tradingClass: '', includeExpired: false },
    now,
  );
  if (!c) throw new Error(`no contract for ${inst.key}`);
  return c;
}

/** A QuoteBook whose quotes the test sets; every `set` is a new displayed quote (new ts). */
export class FakeQuoteBook implements QuoteBook {
  private readonly quotes = new Map<string, SimQuote>();
  private seq = 0;
  readonly asked: string[] = [];

  set(key: string, q: Partial<SimQuote>): void {
    const base: SimQuote = { ts: 0, bid: NaN, ask: NaN, bidSize: NaN, askSize: NaN, last: NaN, lastSize: NaN, volume: NaN };
    this.quotes.set(key, { ...base, ...this.quotes.get(key), ...q, ts: q.ts ?? ++this.seq });
  }

  clear(key: string): void {
    this.quotes.delete(key);
  }

  async quote(instrumentKey: string): Promise<SimQuote | undefined> {
    this.asked.push(instrumentKey);
    return this.quotes.get(instrumentKey);
  }
}

/** A placeOrder request as the parser returns it, with IB's defaults. */
export function orderRequest(over: Partial<SimOrderRequest> & { orderId: number }): SimOrderRequest {
  return {
    contract: { conId: 0, symbol: 'SPY', secType: 'STK', lastTradeDateOrContractMonth: '', strike: 0, right: '', multiplier: undefined, exchange: 'SMART', primaryExch: '', currency: 'USD', localSymbol: '', tradingClass: '', secIdType: '', secId: '' },
    action: 'BUY',
    totalQuantity: 100,
    orderType: 'MKT',
    lmtPrice: undefined,
    auxPrice: undefined,
    tif: 'DAY',
    ocaGroup: '',
    ocaType: 0,
    account: '',
    openClose: '',
    origin: 0,
    orderRef: '',
    transmit: true,
    parentId: 0,
    blockOrder: false,
    sweepToFill: false,
    displaySize: undefined,
    triggerMethod: 0,
    outsideRth: false,
    hidden: false,
    goodAfterTime: '',
    goodTillDate: '',
    allOrNone: false,
    minQty: undefined,
    trailStopPrice: undefined,
    trailingPercent: undefined,
    whatIf: false,
    algoStrategy: '',
    comboLegCount: 0,
    conditionCount: 0,
    cashQty: undefined,
    modelCode: '',
    ...over,
  };
}
