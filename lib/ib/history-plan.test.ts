import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { ibBarSize, ibEndDateTime, maxSecondsPerRequest, maxSessionsPerRequest, monthsBefore, planHistory, planUnits, type PlanSpec, type PlanUnit } from './history-plan.js';

const LATER = Date.UTC(2030, 0, 1);
const spec = (o: Partial<PlanSpec> = {}): PlanSpec => ({
  symbol: 'SPY',
  secType: 'STK',
  interval: '1m',
  fromDate: '2013-10-07',
  toDate: '2013-10-11',
  whatToShow: 'TRADES',
  useRTH: false,
  now: LATER,
  ...o,
});
const iso = (ms: number) => new Date(ms).toISOString();
const dates = (units: readonly PlanUnit[]) => units.map((u) => u.date);
const coveredDates =
  (...d: string[]) =>
  (u: PlanUnit) =>
    d.includes(u.date);

describe('IB parameters', () => {
  it('maps intervals to IB bar sizes and refuses weeks and months', () => {
    expect(['1s', '30s', '1m', '2m', '1h', '8h', '1d'].map((i) => ibBarSize(i as never))).toEqual(['1 secs', '30 secs', '1 min', '2 mins', '1 hour', '8 hours', '1 day']);
    expect(() => ibBarSize('1w')).toThrow(ConfigError);
    expect(() => ibBarSize('1M')).toThrow(/fetch 1d and aggregate/);
  });

  it('follows the duration / bar size table', () => {
    expect(['1s', '5s', '10s', '15s', '30s'].map((i) => maxSecondsPerRequest(i as never))).toEqual([1800, 3600, 14400, 14400, 28800]);
    expect(['1m', '2m', '3m', '5m', '20m', '30m', '1h', '8h'].map((i) => maxSessionsPerRequest(i as never))).toEqual([1, 2, 7, 7, 7, 30, 30, 30]);
  });

  it('writes end times in IB UTC form and counts months back as IB does', () => {
    expect(ibEndDateTime(Date.UTC(2013, 9, 8, 4, 0, 0, 999))).toBe('20131008-04:00:00');
    expect(iso(monthsBefore(Date.UTC(2024, 2, 31, 5), 1))).toBe('2024-02-29T05:00:00.000Z');
    expect(iso(monthsBefore(Date.UTC(2014, 0, 1, 5), 12))).toBe('2013-01-01T05:00:00.000Z');
  });
});

describe('minute and hour bars', () => {
  it('plans one "1 D" request per session for 1 min bars, ending at the next local midnight', () => {
    const p = planHistory(spec());
    expect(dates(p.units)).toEqual(['2013-10-07', '2013-10-08', '2013-10-09', '2013-10-10', '2013-10-11']);
    // stocks outside RTH: the whole New York date (EDT, UTC-4)
    expect([iso(p.units[0]!.start), iso(p.units[0]!.end)]).toEqual(['2013-10-07T04:00:00.000Z', '2013-10-08T04:00:00.000Z']);
    expect(p.requests.map((r) => [r.barSize, r.duration, r.endDateTime, r.units.length])).toEqual([
      ['1 min', '1 D', '20131008-04:00:00', 1],
      ['1 min', '1 D', '20131009-04:00:00', 1],
      ['1 min', '1 D', '20131010-04:00:00', 1],
      ['1 min', '1 D', '20131011-04:00:00', 1],
      ['1 min', '1 D', '20131012-04:00:00', 1],
    ]);
    expect(p.requests[0]).toMatchObject({ id: 'SPY:1m:TRADES:all:20131008-04:00:00', weight: 1, smallBars: false, key: 'SPY:TRADES', whatToShow: 'TRADES', useRTH: false });
    expect(new Set(p.requests.map((r) => r.signature)).size).toBe(5);
  });

  it('skips weekends and holidays by the exchange calendar (Thanksgiving 2013)', () => {
    const p = planHistory(spec({ fromDate: '2013-11-27', toDate: '2013-12-02' }));
    expect(dates(p.units)).toEqual(['2013-11-27', '2013-11-29', '2013-12-02']);
  });

  it('uses the regular session with useRTH, including an early close', () => {
    const p = planHistory(spec({ fromDate: '2013-11-29', toDate: '2013-11-29', useRTH: true }));
    expect([iso(p.units[0]!.start), iso(p.units[0]!.end)]).toEqual(['2013-11-29T14:30:00.000Z', '2013-11-29T18:00:00.000Z']);
    expect(p.requests[0]).toMatchObject({ duration: '1 D', endDateTime: '20131129-18:00:00', id: 'SPY:1m:TRADES:rth:20131129-18:00:00' });
  });

  it('requests only the sessions not covered', () => {
    const p = planHistory(spec(), coveredDates('2013-10-08', '2013-10-10'));
    expect(dates(p.missing)).toEqual(['2013-10-07', '2013-10-09', '2013-10-11']);
    expect(p.requests.map((r) => r.endDateTime)).toEqual(['20131008-04:00:00', '20131010-04:00:00', '20131012-04:00:00']);
    expect(planHistory(spec(), () => true).requests).toEqual([]);
  });

  it('groups sessions as far as the table allows, counting stored sessions in N D', () => {
    const two = planHistory(spec({ interval: '2m' }));
    expect(two.requests.map((r) => [r.duration, dates(r.units)])).toEqual([
      ['2 D', ['2013-10-07', '2013-10-08']],
      ['2 D', ['2013-10-09', '2013-10-10']],
      ['1 D', ['2013-10-11']],
    ]);
    // 10-08 stored: 10-07 and 10-09 are 3 sessions apart, too far for 2 mins bars
    expect(planHistory(spec({ interval: '2m' }), coveredDates('2013-10-08')).requests.map((r) => [r.duration, dates(r.units)])).toEqual([
      ['1 D', ['2013-10-07']],
      ['2 D', ['2013-10-09', '2013-10-10']],
      ['1 D', ['2013-10-11']],
    ]);
    // 5 mins: up to 7 sessions; the stored one is inside the span but not in the units
    const five = planHistory(spec({ interval: '5m' }), coveredDates('2013-10-08'));
    expect(five.requests.map((r) => [r.duration, r.endDateTime, dates(r.units)])).toEqual([['5 D', '20131012-04:00:00', ['2013-10-07', '2013-10-09', '2013-10-10', '2013-10-11']]]);
    // 1 hour: 30 sessions per request
    const hourly = planHistory(spec({ interval: '1h', fromDate: '2013-09-01', toDate: '2013-11-30' }));
    expect(hourly.requests.map((r) => r.duration)).toEqual(['30 D', '30 D', '3 D']);
    expect(hourly.requests.flatMap((r) => r.units)).toHaveLength(63);
  });

  it('requests an unfinished session up to now and never counts it as covered; later sessions are left out', () => {
    const now = Date.UTC(2013, 9, 9, 15, 0, 0, 500); // 2013-10-09 11:00 New York
    const p = planHistory(spec({ now }), () => true);
    expect(dates(p.units)).toEqual(['2013-10-07', '2013-10-08', '2013-10-09']);
    expect(p.units.map((u) => u.open)).toEqual([false, false, true]);
    expect(p.requests).toHaveLength(1);
    expect(p.requests[0]).toMatchObject({ endDateTime: '20131009-15:00:00', end: Date.UTC(2013, 9, 9, 15), duration: '1 D' });
  });

  it('uses the CME session for futures', () => {
    const p = planHistory(spec({ symbol: 'ES-201312', calendarSymbol: 'ES', secType: 'FUT', fromDate: '2013-10-07', toDate: '2013-10-08' }));
    // the 2013-10-07 session opens Sunday 17:00 Chicago (22:00 UTC) and closes Monday 16:00
    expect(p.units.map((u) => [u.date, iso(u.start), iso(u.end)])).toEqual([
      ['2013-10-07', '2013-10-06T22:00:00.000Z', '2013-10-07T21:00:00.000Z'],
      ['2013-10-08', '2013-10-07T22:00:00.000Z', '2013-10-08T21:00:00.000Z'],
    ]);
    expect(p.requests.map((r) => r.endDateTime)).toEqual(['20131007-21:00:00', '20131008-21:00:00']);
  });
});

describe('second bars', () => {
  it('slices sessions by the table: 1 secs in 1800 S pieces', () => {
    const p = planHistory(spec({ interval: '1s', fromDate: '2013-10-07', toDate: '2013-10-07', useRTH: true }));
    // 09:30-16:00 = 23400 s = 13 slices
    expect(p.units).toHaveLength(13);
    expect(p.requests.map((r) => r.duration)).toEqual(Array(13).fill('1800 S'));
    expect(p.requests[0]).toMatchObject({ endDateTime: '20131007-14:00:00', smallBars: true, barSize: '1 secs' });
    expect(p.requests.at(-1)!.endDateTime).toBe('20131007-20:00:00');
  });

  it('cuts the last slice short and skips covered slices', () => {
    const p = planHistory(spec({ interval: '30s', fromDate: '2013-11-29', toDate: '2013-11-29', useRTH: true }));
    // early close: 3.5 h fits one 28800 S slice, requested for exactly its length
    expect(p.requests.map((r) => [r.duration, r.endDateTime])).toEqual([['12600 S', '20131129-18:00:00']]);
    const ext = planUnits(spec({ interval: '5s', fromDate: '2013-10-07', toDate: '2013-10-07' }));
    expect(ext).toHaveLength(24);
    const some = planHistory(spec({ interval: '5s', fromDate: '2013-10-07', toDate: '2013-10-07' }), (u) => u.start < Date.UTC(2013, 9, 7, 20));
    expect(some.requests.map((r) => r.endDateTime)).toEqual(['20131007-21:00:00', '20131007-22:00:00', '20131007-23:00:00', '20131008-00:00:00', '20131008-01:00:00', '20131008-02:00:00', '20131008-03:00:00', '20131008-04:00:00']);
  });
});

describe('daily bars', () => {
  it('stamps units at 00:00 UTC of the session date and asks for up to a year per request', () => {
    const p = planHistory(spec({ interval: '1d', fromDate: '2013-01-01', toDate: '2014-12-31' }));
    expect([iso(p.units[0]!.start), iso(p.units[0]!.end)]).toEqual(['2013-01-02T00:00:00.000Z', '2013-01-03T00:00:00.000Z']);
    expect(p.requests.map((r) => [r.barSize, r.duration, r.endDateTime, r.units.length])).toEqual([
      ['1 day', '1 Y', '20140101-05:00:00', 252],
      ['1 day', '1 Y', '20150101-05:00:00', 252],
    ]);
  });

  it('asks for 1 W or 1 M when the missing sessions are recent', () => {
    const week = planHistory(spec({ interval: '1d' }));
    expect(week.requests.map((r) => [r.duration, r.endDateTime, r.units.length])).toEqual([['1 W', '20131012-04:00:00', 5]]);
    const month = planHistory(spec({ interval: '1d', fromDate: '2013-09-20' }));
    expect(month.requests.map((r) => r.duration)).toEqual(['1 M']);
    // only the missing sessions are units of the request
    const gaps = planHistory(spec({ interval: '1d', fromDate: '2013-01-01', toDate: '2013-12-31' }), (u) => u.date < '2013-12-20');
    // 12-20 05:00 UTC is more than a week before the end (2014-01-01 05:00 UTC): 1 M
    expect(gaps.requests.map((r) => [r.duration, dates(r.units)])).toEqual([['1 M', ['2013-12-20', '2013-12-23', '2013-12-24', '2013-12-26', '2013-12-27', '2013-12-30', '2013-12-31']]]);
  });
});

describe('pacing fields and validation', () => {
  it('weights BID_ASK twice and keys requests by contract and tick type', () => {
    const p = planHistory(spec({ whatToShow: 'BID_ASK', pacingKey: '756733@SMART:BID_ASK' }));
    expect(p.requests.every((r) => r.weight === 2 && r.key === '756733@SMART:BID_ASK')).toBe(true);
    expect(planHistory(spec({ whatToShow: 'MIDPOINT' })).requests[0]!.weight).toBe(1);
  });

  it('lists every problem of a bad spec', () => {
    try {
      planHistory(spec({ fromDate: '2013-13-01', toDate: 'x', whatToShow: 'HISTVOL' as never, interval: '1w' }));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems).toHaveLength(4);
    }
    expect(() => planHistory(spec({ fromDate: '2013-10-11', toDate: '2013-10-07' }))).toThrow(/after toDate/);
  });
});
