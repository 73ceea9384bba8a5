import { describe, expect, it } from 'vitest';
import { getCalendar } from '../calendar/index.js';
import { ConfigError } from '../core/errors.js';
import { ContractNotFoundError, type ContractQuery, type ContractResolver, type ResolvedContract, type ResolveOptions } from './contract-resolver.js';
import { continuousToFront, frontMonth, listFutureMonths, tradingDateAt, tradingDaysUntil, type RollRule } from './futures-discovery.js';

const CME = getCalendar('CME_EQUITY');

function month(contractMonth: string, lastTradeDate: string, conId: number, secType = 'FUT'): ResolvedContract {
  return {
    conId,
    symbol: 'ES',
    secType,
    localSymbol: `ES${contractMonth}`,
    tradingClass: 'ES',
    exchange: 'CME',
    primaryExch: '',
    currency: 'USD',
    multiplier: 50,
    minTick: 0.25,
    lastTradeDate,
    contractMonth,
    realExpirationDate: lastTradeDate,
    longName: 'E-mini S&P 500',
    timeZoneId: 'US/Central',
    tradingHours: '',
    liquidHours: '',
    validExchanges: 'CME',
    orderTypes: '',
    marketRuleIds: '',
    underConId: 0,
  };
}

const Z3 = month('201312', '20131220', 1);
const H4 = month('201403', '20140321', 2);
const M4 = month('201406', '20140620', 3);
/** A hypothetical month expiring the Friday after Christmas 2013 (holiday on Wednesday) */
const XMAS = month('201312', '20131227', 4);
const CONT = month('201312', '20131220', 1, 'CONTFUT');

const utc = (iso: string) => Date.parse(iso);
const days = (n: number): RollRule => ({ kind: 'days-before-expiry', days: n, calendar: CME });
const front = (months: ResolvedContract[], at: string, rule: RollRule) => frontMonth(months, utc(at), rule)?.contractMonth;

/** A resolver stand-in answering from a table keyed by secType (and conId). */
function fakeResolver(answers: (q: ContractQuery) => ResolvedContract[]) {
  const calls: { query: ContractQuery; options?: ResolveOptions }[] = [];
  const resolver = {
    resolve: async (query: ContractQuery, options?: ResolveOptions) => {
      calls.push({ query, options });
      return answers(query);
    },
  } as unknown as ContractResolver;
  return { resolver, calls };
}

describe('trading-day arithmetic on the CME calendar', () => {
  it('dates an instant by its session, and nights and weekends by the next session', () => {
    expect(tradingDateAt(CME, utc('2013-12-16T15:00:00Z'))).toBe('2013-12-16');
    // Sunday 17:00 CT opens the session dated Monday
    expect(tradingDateAt(CME, utc('2013-12-15T23:30:00Z'))).toBe('2013-12-16');
    expect(tradingDateAt(CME, utc('2013-12-14T12:00:00Z'))).toBe('2013-12-16');
    // the daily close-to-open gap belongs to the next day
    expect(tradingDateAt(CME, utc('2013-12-16T22:30:00Z'))).toBe('2013-12-17');
    // Christmas Day: the next session is dated the 26th
    expect(tradingDateAt(CME, utc('2013-12-25T12:00:00Z'))).toBe('2013-12-26');
  });

  it('counts sessions after today up to the expiry, skipping weekends and holidays', () => {
    expect(tradingDaysUntil(CME, '2013-12-16', '2013-12-20')).toBe(4);
    expect(tradingDaysUntil(CME, '2013-12-13', '2013-12-20')).toBe(5); // over the weekend
    expect(tradingDaysUntil(CME, '2013-12-23', '2013-12-27')).toBe(3); // 24, 26, 27: Christmas is closed
    expect(tradingDaysUntil(CME, '2014-04-16', '2014-04-22')).toBe(3); // 17, 21, 22: Good Friday is closed
    expect(tradingDaysUntil(CME, '2013-12-20', '2013-12-20')).toBe(0);
    expect(tradingDaysUntil(CME, '2013-12-23', '2013-12-20')).toBe(-1);
  });
});

describe('frontMonth, days before expiry', () => {
  it('holds the month while more than N trading days remain and rolls exactly N trading days before expiry', () => {
    const months = [M4, Z3, H4]; // any order in, sorted by expiry inside
    // Mon 16 Dec: 4 trading days left in Z3
    expect(front(months, '2013-12-16T15:00:00Z', days(3))).toBe('201312');
    expect(front(months, '2013-12-16T15:00:00Z', days(4))).toBe('201403');
    expect(front(months, '2013-12-16T15:00:00Z', days(5))).toBe('201403');
    // Fri 13 Dec: 5 left
    expect(front(months, '2013-12-13T15:00:00Z', days(4))).toBe('201312');
  });

  it('N = 0 holds through the day before expiry and rolls on the expiry day', () => {
    expect(front([Z3, H4], '2013-12-19T15:00:00Z', days(0))).toBe('201312');
    expect(front([Z3, H4], '2013-12-20T15:00:00Z', days(0))).toBe('201403');
    // after the expiry the month is gone whatever N is
    expect(front([Z3, H4], '2013-12-23T15:00:00Z', days(0))).toBe('201403');
  });

  it('counts a weekend toward the next trading day', () => {
    // Saturday 14 Dec: the next session (Sunday evening) is dated Monday 16, the roll day for N = 4
    expect(front([Z3, H4], '2013-12-14T12:00:00Z', days(4))).toBe('201403');
    expect(front([Z3, H4], '2013-12-14T12:00:00Z', days(5))).toBe('201403');
    expect(front([Z3, H4], '2013-12-14T12:00:00Z', days(3))).toBe('201312');
    // Friday after the close (22:00 UTC) is already Monday's trading date
    expect(front([Z3, H4], '2013-12-13T21:59:00Z', days(4))).toBe('201312');
    expect(front([Z3, H4], '2013-12-13T22:00:00Z', days(4))).toBe('201403');
  });

  it('skips holidays when counting (Christmas 2013)', () => {
    const months = [XMAS, H4];
    // Mon 23 Dec: 24, 26, 27 remain (3), though 4 calendar days do
    expect(front(months, '2013-12-23T15:00:00Z', days(2))).toBe('201312');
    expect(front(months, '2013-12-23T15:00:00Z', days(3))).toBe('201403');
    // on Christmas Day the trading date is the 26th: one day left
    expect(front(months, '2013-12-25T12:00:00Z', days(1))).toBe('201403');
    expect(front(months, '2013-12-25T12:00:00Z', days(0))).toBe('201312');
  });

  it('never returns CONTFUT, returns undefined when every month is rolled past, and refuses a bad N', () => {
    expect(frontMonth([CONT], utc('2013-12-16T15:00:00Z'), days(0))).toBeUndefined();
    expect(frontMonth([CONT, Z3], utc('2013-12-16T15:00:00Z'), days(0))?.secType).toBe('FUT');
    expect(frontMonth([Z3], utc('2013-12-19T15:00:00Z'), days(1))).toBeUndefined();
    expect(() => frontMonth([Z3], 0, days(-1))).toThrow(ConfigError);
    expect(() => frontMonth([Z3], 0, days(1.5))).toThrow(ConfigError);
  });
});

describe('frontMonth by volume', () => {
  it('picks the live month with the most volume, nearer expiry on ties, missing volume as 0', () => {
    const vol = (entries: [number, number][], calendar = true): RollRule => ({ kind: 'volume', volumes: new Map(entries), ...(calendar ? { calendar: CME } : {}) });
    const at = '2013-12-10T15:00:00Z';
    expect(front([Z3, H4, M4], at, vol([[1, 900], [2, 100]]))).toBe('201312');
    expect(front([Z3, H4, M4], at, vol([[1, 100], [2, 900]]))).toBe('201403');
    expect(front([Z3, H4, M4], at, vol([[1, 500], [2, 500]]))).toBe('201312');
    expect(front([Z3, H4, M4], at, vol([]))).toBe('201312');
    expect(front([Z3, H4, M4], at, vol([[3, 1]]))).toBe('201406');
    // an expired month never wins, whatever its volume
    expect(front([Z3, H4], '2013-12-23T15:00:00Z', vol([[1, 1e9], [2, 1]]))).toBe('201403');
    // without a calendar, the UTC date decides expiry
    expect(front([Z3, H4], '2013-12-20T23:00:00Z', vol([[1, 1e9]], false))).toBe('201312');
    expect(front([Z3, H4], '2013-12-21T00:00:00Z', vol([[1, 1e9]], false))).toBe('201403');
    expect(frontMonth([CONT], utc(at), vol([[1, 5]]))).toBeUndefined();
  });
});

describe('listFutureMonths and continuousToFront', () => {
  it('lists FUT months sorted by expiry, dropping CONTFUT and entries without an expiry', async () => {
    const { resolver, calls } = fakeResolver(() => [M4, CONT, Z3, { ...H4, lastTradeDate: '' }, H4]);
    const months = await listFutureMonths(resolver, 'ES', 'CME', { includeExpired: true });
    expect(months.map((m) => m.contractMonth)).toEqual(['201312', '201403', '201406']);
    expect(calls[0]!.query).toEqual({ symbol: 'ES', secType: 'FUT', exchange: 'CME', currency: 'USD', includeExpired: true });
    await listFutureMonths(resolver, 'ES', 'CME');
    expect(calls[1]!.query).toEqual({ symbol: 'ES', secType: 'FUT', exchange: 'CME', currency: 'USD' });
  });

  it('reads the CONTFUT conId and returns the real FUT contract', async () => {
    const { resolver, calls } = fakeResolver((q) => (q.secType === 'CONTFUT' ? [CONT] : q.conId === 1 ? [Z3] : []));
    const f = await continuousToFront(resolver, 'ES', 'CME', utc('2013-12-16T15:00:00Z'));
    expect(f).toEqual(Z3);
    expect(f.secType).toBe('FUT');
    expect(calls.map((c) => c.query)).toEqual([
      { symbol: 'ES', secType: 'CONTFUT', exchange: 'CME', currency: 'USD' },
      { symbol: 'ES', secType: 'FUT', exchange: 'CME', currency: 'USD', conId: 1 },
    ]);
  });

  it('throws ContractNotFoundError without a continuous contract, for a conId with no FUT, and for an expired front month', async () => {
    const none = fakeResolver(() => []);
    await expect(continuousToFront(none.resolver, 'XX', 'CME', 0)).rejects.toBeInstanceOf(ContractNotFoundError);
    const noFut = fakeResolver((q) => (q.secType === 'CONTFUT' ? [CONT] : [CONT]));
    await expect(continuousToFront(noFut.resolver, 'ES', 'CME', 0)).rejects.toMatchObject({ code: 'IB_CONTRACT_NOT_FOUND', reason: expect.stringContaining('conId 1') });
    const stale = fakeResolver((q) => (q.secType === 'CONTFUT' ? [CONT] : [Z3]));
    await expect(continuousToFront(stale.resolver, 'ES', 'CME', utc('2013-12-21T12:00:00Z'))).rejects.toMatchObject({ reason: expect.stringContaining('expired on 2013-12-20') });
  });
});
