import { describe, expect, it } from 'vitest';
import { CalendarError, expectedBarStarts, getCalendar, type Session } from './index.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const t = (s: string): number => Date.parse(s);
const hhmm = (ms: number): string => new Date(ms).toISOString().slice(11, 16);
const nyse = getCalendar('XNYS');
const es = getCalendar('CME_EQUITY');
const session = (cal: typeof nyse, date: string): Session => {
  const s = cal.session(date);
  if (!s) throw new Error(`no session ${date}`);
  return s;
};

describe('expectedBarCount / expectedBarStarts', () => {
  it('NYSE regular day: 1m 390, 5m 78, 30m 13, 1h 7 starting 09:30 then on the hour', () => {
    const s = session(nyse, '2024-01-03');
    expect(nyse.expectedBarCount(s, MIN)).toBe(390);
    expect(nyse.expectedBarCount(s, 5 * MIN)).toBe(78);
    expect(nyse.expectedBarCount(s, 30 * MIN)).toBe(13);
    // 14:30Z is 09:30 EST
    expect(nyse.expectedBarStarts(s, HOUR).map(hhmm)).toEqual(['14:30', '15:00', '16:00', '17:00', '18:00', '19:00', '20:00']);
    expect(nyse.expectedBarCount(s, DAY)).toBe(1);
    expect(nyse.expectedBarStarts(s, 7 * DAY)).toEqual([s.open]);
  });

  it('NYSE early close 13:00: 210 1m bars, 4 1h bars', () => {
    const s = session(nyse, '2023-11-24');
    expect(nyse.expectedBarCount(s, MIN)).toBe(210);
    expect(nyse.expectedBarStarts(s, HOUR).map(hhmm)).toEqual(['14:30', '15:00', '16:00', '17:00']);
  });

  it('intervals that do not divide the hour align to local midnight', () => {
    // 7-minute buckets from 00:00 ET: 09:27 (clipped to 09:30), 09:34 … 15:59
    const starts = nyse.expectedBarStarts(session(nyse, '2024-01-03'), 7 * MIN);
    expect(starts.length).toBe(57);
    expect(hhmm(starts[1] as number)).toBe('14:34');
  });

  it('CME equity with the 15:15-15:30 halt: buckets inside the halt vanish, straddling ones count once', () => {
    const s = session(es, '2013-10-07');
    expect(es.expectedBarCount(s, MIN)).toBe(23 * 60 - 15);
    expect(es.expectedBarCount(s, 15 * MIN)).toBe(23 * 4 - 1);
    expect(es.expectedBarCount(s, HOUR)).toBe(23);
    // 20-minute buckets: 15:00-15:20 before the halt, 15:20-15:40 reported from 15:30 CDT (20:30Z)
    expect(es.expectedBarStarts(s, 20 * MIN).filter((x) => x >= t('2013-10-07T19:55:00Z')).map(hhmm)).toEqual(['20:00', '20:30', '20:40']);
  });

  it('CME sessions span local midnight: 1h buckets restart at 00:00', () => {
    const s = session(es, '2023-10-10');
    expect(es.expectedBarCount(s, MIN)).toBe(1380);
    const starts = es.expectedBarStarts(s, HOUR);
    expect(starts.length).toBe(23);
    expect(starts[0]).toBe(t('2023-10-09T22:00:00Z'));
    expect(starts).toContain(t('2023-10-10T05:00:00Z')); // 00:00 CDT
  });

  it('handles a session spanning a DST fall-back (wall buckets, the repeated hour is one bucket)', () => {
    const s: Session = { date: '2023-11-05', open: t('2023-11-05T05:00:00Z'), close: t('2023-11-05T12:00:00Z'), earlyClose: false };
    // 00:00 CDT .. 06:00 CST: wall hours 00,01(x2),02,03,04,05
    expect(expectedBarStarts(s, HOUR, 'America/Chicago').map(hhmm)).toEqual(['05:00', '06:00', '08:00', '09:00', '10:00', '11:00']);
    // 7 real hours but 6 hours of distinct wall-clock minute labels
    expect(expectedBarStarts(s, MIN, 'America/Chicago').length).toBe(6 * 60);
  });

  it('rejects non-positive or fractional intervals', () => {
    const s = session(nyse, '2024-01-03');
    expect(() => nyse.expectedBarCount(s, 0)).toThrow(CalendarError);
    expect(() => nyse.expectedBarCount(s, 1.5)).toThrow(CalendarError);
  });
});
