import { describe, expect, it } from 'vitest';
import { getCalendar, type Session } from './index.js';

const t = (s: string): number => Date.parse(s);
const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString().replace('.000Z', 'Z'));
const view = (s: Session | undefined) =>
  s && { date: s.date, open: iso(s.open), close: iso(s.close), breakStart: iso(s.breakStart), breakEnd: iso(s.breakEnd), earlyClose: s.earlyClose };
const es = getCalendar('CME');
const fx = getCalendar('CME_FX');
const energy = getCalendar('CME_ENERGY_METALS');

describe('CME_EQUITY', () => {
  it('week of 2013-10-07: Sunday 17:00 CT open, 16:00 CT close, 15:15-15:30 CT halt', () => {
    expect(view(es.session('2013-10-07'))).toEqual({
      date: '2013-10-07',
      open: '2013-10-06T22:00:00Z',
      close: '2013-10-07T21:00:00Z',
      breakStart: '2013-10-07T20:15:00Z',
      breakEnd: '2013-10-07T20:30:00Z',
      earlyClose: false,
    });
    const week = es.sessions('2013-10-05', '2013-10-13');
    expect(week.map((s) => s.date)).toEqual(['2013-10-07', '2013-10-08', '2013-10-09', '2013-10-10', '2013-10-11']);
    expect(week.map((s) => iso(s.open))).toEqual(['06', '07', '08', '09', '10'].map((d) => `2013-10-${d}T22:00:00Z`));
  });

  it('is closed in the daily 16:00-17:00 CT gap, the 15:15 halt and the weekend', () => {
    expect(es.isOpen(t('2013-10-07T20:14:59Z'))).toBe(true);
    expect(es.isOpen(t('2013-10-07T20:20:00Z'))).toBe(false);
    expect(es.sessionAt(t('2013-10-07T20:20:00Z'))?.date).toBe('2013-10-07'); // the break belongs to the session
    expect(es.minutesToClose(t('2013-10-07T20:00:00Z'))).toBe(15);
    expect(es.nextOpen(t('2013-10-07T20:20:00Z'))).toBe(t('2013-10-07T20:30:00Z'));
    expect(es.nextClose(t('2013-10-07T20:20:00Z'))).toBe(t('2013-10-07T21:00:00Z'));
    expect(es.isOpen(t('2013-10-07T21:30:00Z'))).toBe(false);
    expect(es.sessionAt(t('2013-10-07T21:30:00Z'))).toBeUndefined();
    expect(es.nextOpen(t('2013-10-07T21:30:00Z'))).toBe(t('2013-10-07T22:00:00Z'));
    expect(es.sessionAt(t('2013-10-07T22:00:00Z'))?.date).toBe('2013-10-08');
    expect(es.isOpen(t('2013-10-12T12:00:00Z'))).toBe(false);
    expect(es.nextOpen(t('2013-10-11T21:00:00Z'))).toBe(t('2013-10-13T22:00:00Z'));
  });

  it('drops the 15:15 halt from trade date 2021-06-28', () => {
    expect(es.session('2021-06-25')?.breakStart).toBe(t('2021-06-25T20:15:00Z'));
    expect(es.session('2021-06-28')?.breakStart).toBeUndefined();
    expect(es.isOpen(t('2023-10-09T20:20:00Z'))).toBe(true);
  });

  it('Thanksgiving 2013: Thursday halts 10:30 CT (pmc pre-2014 rule), Friday 12:15 CT', () => {
    expect(view(es.session('2013-11-28'))).toMatchObject({ open: '2013-11-27T23:00:00Z', close: '2013-11-28T16:30:00Z', breakStart: undefined, earlyClose: true });
    expect(view(es.session('2013-11-29'))).toMatchObject({ open: '2013-11-28T23:00:00Z', close: '2013-11-29T18:15:00Z', earlyClose: true });
    expect(es.nextOpen(t('2013-11-28T16:30:00Z'))).toBe(t('2013-11-28T23:00:00Z'));
    expect(iso(es.session('2013-12-02')?.open)).toBe('2013-12-01T23:00:00Z');
  });

  it('Christmas 2013: Eve 12:15 CT, Christmas closed, Dec 26 opens Christmas evening', () => {
    expect(iso(es.session('2013-12-24')?.close)).toBe('2013-12-24T18:15:00Z');
    expect(es.session('2013-12-25')).toBeUndefined();
    expect(view(es.session('2013-12-26'))).toMatchObject({ open: '2013-12-25T23:00:00Z', close: '2013-12-26T22:00:00Z', earlyClose: false });
    expect(es.isOpen(t('2013-12-25T12:00:00Z'))).toBe(false);
  });

  it('US holidays from 2014 halt at 12:00 CT; Good Friday per pmc', () => {
    expect(iso(es.session('2024-01-15')?.close)).toBe('2024-01-15T18:00:00Z'); // MLK
    expect(iso(es.session('2023-06-19')?.close)).toBe('2023-06-19T17:00:00Z'); // Juneteenth (CDT)
    expect(iso(es.session('2024-07-03')?.close)).toBe('2024-07-03T17:15:00Z');
    expect(iso(es.session('2024-07-04')?.close)).toBe('2024-07-04T17:00:00Z');
    expect(es.session('2022-04-15')).toBeUndefined();
    expect(es.session('2020-04-10')).toBeUndefined();
    expect(iso(es.session('2023-04-07')?.close)).toBe('2023-04-07T13:15:00Z');
    expect(iso(es.session('2015-04-03')?.close)).toBe('2015-04-03T13:15:00Z');
  });

  it('opens Sunday 17:00 local across DST changes', () => {
    expect(iso(es.session('2023-03-13')?.open)).toBe('2023-03-12T22:00:00Z');
    expect(iso(es.session('2023-11-06')?.open)).toBe('2023-11-05T23:00:00Z');
    expect(iso(es.session('2023-11-03')?.close)).toBe('2023-11-03T21:00:00Z');
  });
});

describe('CME_FX', () => {
  it('January 2024: New Year closed, Jan 2 opens Jan 1 17:00 CST', () => {
    expect(fx.session('2024-01-01')).toBeUndefined();
    expect(view(fx.session('2024-01-02'))).toEqual({
      date: '2024-01-02',
      open: '2024-01-01T23:00:00Z',
      close: '2024-01-02T22:00:00Z',
      breakStart: undefined,
      breakEnd: undefined,
      earlyClose: false,
    });
    expect(fx.isOpen(t('2024-01-01T22:59:59Z'))).toBe(false);
    expect(fx.nextOpen(t('2023-12-29T22:00:00Z'))).toBe(t('2024-01-01T23:00:00Z'));
    expect(fx.sessions('2024-01-01', '2024-01-31')).toHaveLength(22);
    expect(fx.isOpen(t('2024-01-02T22:30:00Z'))).toBe(false); // maintenance gap
  });

  it('follows pmc: 12:00 CT holiday halts through 2021, Good Friday 2021 10:15 CT', () => {
    expect(iso(fx.session('2021-01-18')?.close)).toBe('2021-01-18T18:00:00Z');
    expect(fx.session('2024-01-15')?.earlyClose).toBe(false);
    expect(iso(fx.session('2021-04-02')?.close)).toBe('2021-04-02T15:15:00Z');
    expect(fx.session('2015-04-03')).toBeUndefined();
    expect(iso(fx.session('2023-11-24')?.close)).toBe('2023-11-24T18:15:00Z');
  });
});

describe('CME_ENERGY_METALS', () => {
  it('2023 holidays: 13:30 CT halts, 12:45 CT day after Thanksgiving, Good Friday and Christmas closed', () => {
    expect(iso(energy.session('2023-11-23')?.close)).toBe('2023-11-23T19:30:00Z');
    expect(iso(energy.session('2023-11-24')?.close)).toBe('2023-11-24T18:45:00Z');
    expect(iso(energy.session('2023-09-04')?.close)).toBe('2023-09-04T17:00:00Z'); // Labor Day stays 12:00 in pmc
    expect(energy.session('2023-04-07')).toBeUndefined();
    expect(energy.session('2023-12-25')).toBeUndefined();
    expect(iso(energy.session('2023-12-26')?.open)).toBe('2023-12-25T23:00:00Z');
    expect(energy.session('2023-12-22')?.earlyClose).toBe(false);
  });
});
