import { describe, expect, it } from 'vitest';
import { durationStart, parseBarSize, parseDuration, parseEndDateTime, smallestBarSeconds } from './hist-request.js';

const SPY = { secType: 'STK', symbol: 'SPY' };
const ES = { secType: 'FUT', symbol: 'ES' };

describe('parseBarSize', () => {
  it('maps every IB bar size onto a store interval', () => {
    const sizes = ['1 secs', '5 secs', '10 secs', '15 secs', '30 secs', '1 min', '2 mins', '3 mins', '5 mins', '10 mins', '15 mins', '20 mins', '30 mins', '1 hour', '2 hours', '3 hours', '4 hours', '8 hours', '1 day', '1 week', '1 month'];
    expect(sizes.map(parseBarSize)).toEqual(['1s', '5s', '10s', '15s', '30s', '1m', '2m', '3m', '5m', '10m', '15m', '20m', '30m', '1h', '2h', '3h', '4h', '8h', '1d', '1w', '1M']);
    expect([parseBarSize('1W'), parseBarSize('1M'), parseBarSize('1 MIN')]).toEqual(['1w', '1M', '1m']);
  });

  it('refuses sizes IB does not have', () => {
    expect([parseBarSize('7 mins'), parseBarSize('1 m'), parseBarSize('2 days'), parseBarSize('')]).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe('parseEndDateTime', () => {
  it('reads the dashed form as UTC and the spaced form in its zone or the login zone', () => {
    expect(parseEndDateTime('20231006-20:00:00', 'America/New_York')).toBe(Date.parse('2023-10-06T20:00:00Z'));
    expect(parseEndDateTime('20231006 16:00:00 US/Eastern', 'UTC')).toBe(Date.parse('2023-10-06T20:00:00Z'));
    expect(parseEndDateTime('20240105 16:00:00', 'America/New_York')).toBe(Date.parse('2024-01-05T21:00:00Z'));
    expect(parseEndDateTime('20240105 16:00:00 UTC', 'America/New_York')).toBe(Date.parse('2024-01-05T16:00:00Z'));
  });

  it('refuses malformed dates, times and zones', () => {
    for (const s of ['2023-10-06', '20231006', '20231306 10:00:00', '20230231 10:00:00', '20231006 25:00:00', '20231006 10:00:00 Mars/Base', '20231006-10:00:00 UTC']) {
      expect(parseEndDateTime(s, 'UTC'), s).toBeUndefined();
    }
  });
});

describe('durations', () => {
  it('parses N unit', () => {
    expect(parseDuration('30 S')).toEqual({ n: 30, unit: 'S' });
    expect(parseDuration('2 y')).toEqual({ n: 2, unit: 'Y' });
    expect([parseDuration('0 D'), parseDuration('1D'), parseDuration('1 Q')]).toEqual([undefined, undefined, undefined]);
  });

  it('counts N D back in trading dates: stocks from local midnight, CME from 17:00 the evening before', () => {
    // Monday 2024-01-08 12:00 ET: 2 D = Friday and Monday
    const end = Date.parse('2024-01-08T17:00:00Z');
    expect(durationStart(SPY, end, { n: 2, unit: 'D' })).toBe(Date.parse('2024-01-05T05:00:00Z'));
    // Monday 2024-01-08 12:00 CT: 1 D is Monday's session, opened Sunday 17:00 CT
    expect(durationStart(ES, Date.parse('2024-01-08T18:00:00Z'), { n: 1, unit: 'D' })).toBe(Date.parse('2024-01-07T23:00:00Z'));
  });

  it('counts seconds, weeks, months and years on the clock', () => {
    const end = Date.parse('2024-03-31T20:00:00Z');
    expect(durationStart(SPY, end, { n: 30, unit: 'S' })).toBe(end - 30_000);
    expect(durationStart(SPY, end, { n: 1, unit: 'W' })).toBe(end - 7 * 86_400_000);
    expect(durationStart(SPY, end, { n: 1, unit: 'M' })).toBe(Date.parse('2024-02-29T20:00:00Z'));
    expect(durationStart(SPY, end, { n: 13, unit: 'M' })).toBe(Date.parse('2023-02-28T20:00:00Z'));
    expect(durationStart(SPY, end, { n: 1, unit: 'Y' })).toBe(Date.parse('2023-03-31T20:00:00Z'));
  });

  it("knows IB's smallest bar per duration", () => {
    expect(smallestBarSeconds({ n: 1800, unit: 'S' })).toBe(1);
    expect(smallestBarSeconds({ n: 3600, unit: 'S' })).toBe(5);
    expect(smallestBarSeconds({ n: 1, unit: 'D' })).toBe(60);
    expect(smallestBarSeconds({ n: 1, unit: 'W' })).toBe(180);
    expect(smallestBarSeconds({ n: 1, unit: 'Y' })).toBe(86_400);
  });
});
