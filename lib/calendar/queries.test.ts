import { describe, expect, it } from 'vitest';
import { CalendarError, getCalendar } from './index.js';

const t = (s: string): number => Date.parse(s);
const nyse = getCalendar('XNYS');

describe('XNYS open/closed queries', () => {
  it('around an early close (2023-11-24, 13:00 ET = 18:00Z) and the weekend after', () => {
    expect(nyse.isOpen(t('2023-11-24T17:59:59Z'))).toBe(true);
    expect(nyse.minutesToClose(t('2023-11-24T17:00:00Z'))).toBe(60);
    expect(nyse.minutesToClose(t('2023-11-24T17:59:30Z'))).toBe(0.5);
    expect(nyse.nextClose(t('2023-11-24T17:00:00Z'))).toBe(t('2023-11-24T18:00:00Z'));
    expect(nyse.isOpen(t('2023-11-24T18:00:00Z'))).toBe(false);
    expect(nyse.minutesToClose(t('2023-11-24T18:00:00Z'))).toBeUndefined();
    expect(nyse.sessionAt(t('2023-11-24T18:00:00Z'))).toBeUndefined();
    expect(nyse.sessionAt(t('2023-11-24T14:30:00Z'))?.date).toBe('2023-11-24');
    // Saturday: next open is Monday's
    expect(nyse.isOpen(t('2023-11-25T16:00:00Z'))).toBe(false);
    expect(nyse.nextOpen(t('2023-11-24T18:00:00Z'))).toBe(t('2023-11-27T14:30:00Z'));
    expect(nyse.nextClose(t('2023-11-25T16:00:00Z'))).toBe(t('2023-11-27T21:00:00Z'));
  });

  it('skips Thanksgiving', () => {
    expect(nyse.session('2023-11-23')).toBeUndefined();
    expect(nyse.nextOpen(t('2023-11-22T21:00:00Z'))).toBe(t('2023-11-24T14:30:00Z'));
  });

  it('across the DST changes (UTC hours move, ET hours do not)', () => {
    // Spring forward on Sunday 2023-03-12
    expect(nyse.nextOpen(t('2023-03-10T21:00:00Z'))).toBe(t('2023-03-13T13:30:00Z'));
    expect(nyse.nextClose(t('2023-03-11T00:00:00Z'))).toBe(t('2023-03-13T20:00:00Z'));
    expect(nyse.isOpen(t('2023-03-13T13:29:59Z'))).toBe(false);
    expect(nyse.isOpen(t('2023-03-13T13:30:00Z'))).toBe(true);
    // Fall back on Sunday 2023-11-05
    expect(nyse.session('2023-11-03')?.close).toBe(t('2023-11-03T20:00:00Z'));
    expect(nyse.nextOpen(t('2023-11-03T20:00:00Z'))).toBe(t('2023-11-06T14:30:00Z'));
    expect(nyse.minutesToClose(t('2023-11-06T20:00:00Z'))).toBe(60);
  });

  it('nextOpen/nextClose are strictly after the instant', () => {
    expect(nyse.nextOpen(t('2024-01-02T14:30:00Z'))).toBe(t('2024-01-03T14:30:00Z'));
    expect(nyse.nextClose(t('2024-01-02T21:00:00Z'))).toBe(t('2024-01-03T21:00:00Z'));
  });

  it('refuses dates outside its years and malformed arguments', () => {
    const err = (f: () => unknown): CalendarError => {
      try {
        f();
      } catch (e) {
        if (e instanceof CalendarError) return e;
        throw e;
      }
      throw new Error('expected a CalendarError');
    };
    expect(err(() => nyse.sessions('1989-12-01', '1990-01-31')).code).toBe('OUT_OF_RANGE');
    expect(err(() => nyse.isOpen(t('1985-06-03T15:00:00Z'))).code).toBe('OUT_OF_RANGE');
    expect(err(() => nyse.session('2024-02-30')).code).toBe('BAD_ARGUMENT');
    expect(err(() => nyse.sessions('2024-02-01', '2024-01-01')).code).toBe('BAD_ARGUMENT');
    expect(err(() => nyse.nextOpen(Number.NaN)).code).toBe('BAD_ARGUMENT');
    expect(err(() => nyse.nextOpen(t('2099-12-31T22:00:00Z'))).code).toBe('OUT_OF_RANGE');
  });

  it('sessions() is inclusive by session date', () => {
    expect(nyse.sessions('2024-01-02', '2024-01-05').map((s) => s.date)).toEqual(['2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05']);
    expect(nyse.sessions('2024-01-06', '2024-01-07')).toEqual([]);
  });
});
