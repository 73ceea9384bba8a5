import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DAY_MS, isoDate, parseIsoDate } from '../core/time-zone.js';
import { getCalendar } from './index.js';

const DATA = join(process.cwd(), 'data', 'calendars');
const iso = (ms: number | undefined): string => (ms === undefined ? '' : new Date(ms).toISOString().replace('.000Z', 'Z'));
const nyse = getCalendar('XNYS');

/** Weekdays in [from, to] that are not sessions. */
function closedWeekdays(from: string, to: string): string[] {
  const sessions = new Set(nyse.sessions(from, to).map((s) => s.date));
  const out: string[] = [];
  for (let t = parseIsoDate(from); t <= parseIsoDate(to); t += DAY_MS) {
    const wd = new Date(t).getUTCDay();
    if (wd !== 0 && wd !== 6 && !sessions.has(isoDate(t))) out.push(isoDate(t));
  }
  return out;
}
const earlyCloses = (from: string, to: string): string[] =>
  nyse.sessions(from, to).filter((s) => s.earlyClose).map((s) => `${s.date} ${iso(s.close)}`);

describe('XNYS against the answer file', () => {
  it('reproduces every session 1990-01-02..2023-01-13 exactly (date, open, close, no breaks)', () => {
    const rows = readFileSync(join(DATA, 'xnys.csv'), 'utf8').trim().split('\n');
    expect(rows[0]).toBe(',open,close,break_start,break_end');
    const expected = rows.slice(1).map((line) => {
      const [label, open, close, bs, be] = line.split(',');
      return `${label?.slice(0, 10)},${open},${close},${bs},${be}`;
    });
    const actual = nyse
      .sessions('1990-01-02', '2023-01-13')
      .map((s) => `${s.date},${iso(s.open)},${iso(s.close)},${iso(s.breakStart)},${iso(s.breakEnd)}`);
    expect(actual.length).toBe(8324);
    expect(actual).toEqual(expected);
  });

  it('is closed on every weekday full-day closure since 1990 in the pmc holidays file', () => {
    const dates = readFileSync(join(DATA, 'pmc_nyse_all_full_day_holidays_since_1928.csv'), 'utf8')
      .trim()
      .split(/\r?\n/)
      .map((line) => {
        const [m, d, y] = line.trim().split('/').map(Number);
        return isoDate(Date.UTC(y as number, (m as number) - 1, d as number));
      })
      .filter((d) => d >= '1990-01-02' && d <= '2099-12-31');
    const weekday = dates.filter((d) => ![0, 6].includes(new Date(parseIsoDate(d)).getUTCDay()));
    expect(weekday.length).toBeGreaterThan(250);
    for (const d of weekday) expect(nyse.session(d), d).toBeUndefined();
    // and up to its last entry the file's weekday closures are exactly ours
    const last = dates.reduce((a, b) => (a > b ? a : b));
    expect(closedWeekdays('1990-01-02', last)).toEqual([...weekday].sort());
  });

  it('New Year on a Saturday is not observed on the Friday before', () => {
    for (const d of ['1993-12-31', '1999-12-31', '2004-12-31', '2010-12-31', '2021-12-31']) expect(nyse.session(d)).toBeDefined();
    expect(nyse.session('2022-01-03')).toBeDefined();
  });

  it('builds 30 years quickly once cached', () => {
    nyse.sessions('1994-01-01', '2023-12-31');
    const t0 = performance.now();
    expect(nyse.sessions('1994-01-01', '2023-12-31').length).toBeGreaterThan(7500);
    expect(performance.now() - t0).toBeLessThan(50);
  });
});

describe('XNYS published schedules 2024-2027', () => {
  it('2024', () => {
    expect(closedWeekdays('2024-01-01', '2024-12-31')).toEqual(
      ['01-01', '01-15', '02-19', '03-29', '05-27', '06-19', '07-04', '09-02', '11-28', '12-25'].map((d) => `2024-${d}`),
    );
    expect(earlyCloses('2024-01-01', '2024-12-31')).toEqual([
      '2024-07-03 2024-07-03T17:00:00Z',
      '2024-11-29 2024-11-29T18:00:00Z',
      '2024-12-24 2024-12-24T18:00:00Z',
    ]);
  });

  it('2025 including the Carter day of mourning', () => {
    expect(closedWeekdays('2025-01-01', '2025-12-31')).toEqual(
      ['01-01', '01-09', '01-20', '02-17', '04-18', '05-26', '06-19', '07-04', '09-01', '11-27', '12-25'].map((d) => `2025-${d}`),
    );
    expect(earlyCloses('2025-01-01', '2025-12-31').map((s) => s.slice(0, 10))).toEqual(['2025-07-03', '2025-11-28', '2025-12-24']);
  });

  it('2026: July 3 observed, no July 2 early close', () => {
    expect(closedWeekdays('2026-01-01', '2026-12-31')).toEqual(
      ['01-01', '01-19', '02-16', '04-03', '05-25', '06-19', '07-03', '09-07', '11-26', '12-25'].map((d) => `2026-${d}`),
    );
    expect(earlyCloses('2026-01-01', '2026-12-31').map((s) => s.slice(0, 10))).toEqual(['2026-11-27', '2026-12-24']);
  });

  it('2027: Juneteenth, July 4 and Christmas observed; no Christmas Eve early close', () => {
    expect(closedWeekdays('2027-01-01', '2027-12-31')).toEqual(
      ['01-01', '01-18', '02-15', '03-26', '05-31', '06-18', '07-05', '09-06', '11-25', '12-24'].map((d) => `2027-${d}`),
    );
    expect(earlyCloses('2027-01-01', '2027-12-31').map((s) => s.slice(0, 10))).toEqual(['2027-11-26']);
  });
});
