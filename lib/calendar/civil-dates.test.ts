import { describe, expect, it } from 'vitest';
import { utcOffsetMs, zonedWallToUtc } from '../core/time-zone.js';
import { MONDAY, THURSDAY, dayOf, easterSunday, labelOf, lastWeekday, nearestWorkday, nthWeekday, weekdayOf } from './civil-dates.js';
import { fastOffsetMs, fastWallToUtc } from './zone-offsets.js';

describe('civil dates', () => {
  it('computes Easter', () => {
    const easter = [1990, 2000, 2008, 2019, 2024, 2025, 2038].map((y) => labelOf(easterSunday(y)));
    expect(easter).toEqual(['1990-04-15', '2000-04-23', '2008-03-23', '2019-04-21', '2024-03-31', '2025-04-20', '2038-04-25']);
  });

  it('finds nth and last weekdays and observed dates', () => {
    expect(labelOf(nthWeekday(2024, 1, MONDAY, 3))).toBe('2024-01-15');
    expect(labelOf(nthWeekday(2013, 11, THURSDAY, 4))).toBe('2013-11-28');
    expect(labelOf(lastWeekday(2027, 5, MONDAY))).toBe('2027-05-31');
    expect(weekdayOf(dayOf(1969, 12, 28))).toBe(0);
    expect(labelOf(nearestWorkday(dayOf(2027, 12, 25)))).toBe('2027-12-24');
    expect(labelOf(nearestWorkday(dayOf(2022, 6, 19)))).toBe('2022-06-20');
  });
});

describe('fast zone offsets agree with lib/core/time-zone', () => {
  it.each(['America/New_York', 'America/Chicago'])('%s', (zone) => {
    const H = 3_600_000;
    // hourly through the transition months, daily elsewhere
    for (const [from, to, step] of [
      [Date.UTC(2020, 0, 1), Date.UTC(2021, 0, 1), 24 * H],
      [Date.UTC(2020, 2, 1), Date.UTC(2020, 3, 1), H],
      [Date.UTC(2020, 9, 25), Date.UTC(2020, 10, 10), H],
    ] as const) {
      for (let ts = from; ts < to; ts += step) expect(fastOffsetMs(zone, ts)).toBe(utcOffsetMs(zone, ts));
    }
    // every quarter hour of wall time around both 2023 transitions, including the gap and the repeat
    for (const start of [Date.UTC(2023, 2, 11), Date.UTC(2023, 10, 4)]) {
      for (let wall = start; wall < start + 3 * 24 * H; wall += H / 4) expect(fastWallToUtc(zone, wall)).toBe(zonedWallToUtc(zone, wall));
    }
  });
});
