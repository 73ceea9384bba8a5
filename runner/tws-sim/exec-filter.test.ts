import { SecType } from '@stoqey/ib';
import { describe, expect, it } from 'vitest';
import { matchesFilter, parseFilterTime, readExecFilter, type ExecFilter } from './exec-filter.js';
import type { ExecutionRecord } from './order-book.js';
import { contractOf, ES_ROW, SPY_ROW } from './order-test-kit.js';
import { encodeRequest } from './test-wire.js';
import { Fields } from './wire.js';

const T = Date.UTC(2026, 0, 2, 15, 0);

function exec(over: Partial<ExecutionRecord>): ExecutionRecord {
  return {
    execId: 'x',
    orderId: 1,
    clientId: 7,
    permId: 1,
    account: 'DU1234567',
    contract: contractOf(SPY_ROW, T),
    side: 'BOT',
    shares: 1,
    price: 1,
    time: T,
    cumQty: 1,
    avgPrice: 1,
    orderRef: '',
    liquidity: 2,
    commission: 1,
    currency: 'USD',
    realizedPnl: undefined,
    ...over,
  };
}

const none: ExecFilter = { reqId: 1, clientId: 0, acctCode: '', since: undefined, symbol: '', secType: '', exchange: '', side: '' };

describe('reqExecutions filter', () => {
  it('reads the filter the real encoder writes', () => {
    const { fields } = encodeRequest(193, (e) => e.reqExecutions(9, { clientId: '7', acctCode: 'DU1234567', time: '20260102-09:30:00', symbol: 'spy', secType: SecType.STK, exchange: 'ARCA', side: 'BUY' }));
    const r = new Fields(fields);
    expect(readExecFilter(r)).toEqual({ reqId: 9, clientId: 7, acctCode: 'DU1234567', since: Date.UTC(2026, 0, 2, 14, 30), symbol: 'SPY', secType: 'STK', exchange: 'ARCA', side: 'BUY' });
    expect(r.remaining()).toBe(0);
  });

  it('parses filter times in New York unless a zone is given', () => {
    expect(parseFilterTime('20260102-09:30')).toBe(Date.UTC(2026, 0, 2, 14, 30));
    expect(parseFilterTime('20260102 09:30:15 UTC')).toBe(Date.UTC(2026, 0, 2, 9, 30, 15));
    expect(parseFilterTime('20260102 09:30:00 US/Eastern')).toBe(Date.UTC(2026, 0, 2, 14, 30));
    expect(parseFilterTime('')).toBeUndefined();
    expect(parseFilterTime('yesterday')).toBeUndefined();
  });

  it('narrows on every set field and passes everything when empty', () => {
    const e = exec({});
    expect(matchesFilter(e, none)).toBe(true);
    expect(matchesFilter(e, { ...none, clientId: 8 })).toBe(false);
    expect(matchesFilter(e, { ...none, acctCode: 'U1' })).toBe(false);
    expect(matchesFilter(e, { ...none, since: T + 1 })).toBe(false);
    expect(matchesFilter(e, { ...none, since: T })).toBe(true);
    expect(matchesFilter(e, { ...none, symbol: 'QQQ' })).toBe(false);
    expect(matchesFilter(e, { ...none, secType: 'FUT' })).toBe(false);
    expect(matchesFilter(e, { ...none, exchange: 'ARCA' })).toBe(true);
    expect(matchesFilter(e, { ...none, side: 'SELL' })).toBe(false);
    expect(matchesFilter(exec({ contract: contractOf(ES_ROW, T), side: 'SLD' }), { ...none, secType: 'FUT', side: 'SELL', exchange: 'CME' })).toBe(true);
  });
});
