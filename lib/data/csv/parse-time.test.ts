import { describe, expect, it } from 'vitest';
import { parseDateBytes, parseTimeOfDayBytes, parseTimestampBytes } from './parse-time.js';

const enc = new TextEncoder();
// parseTimestampBytes reuses one result object: copy the fields before the next call
const ts = (s: string): { ms: number; hasZone: boolean } => {
  const b = enc.encode(s);
  const r = parseTimestampBytes(b, 0, b.length);
  return { ms: r.ms, hasZone: r.hasZone };
};
const date = (s: string): number => {
  const b = enc.encode(s);
  return parseDateBytes(b, 0, b.length);
};
const tod = (s: string): number => {
  const b = enc.encode(s);
  return parseTimeOfDayBytes(b, 0, b.length);
};

describe('parseTimestampBytes', () => {
  it('reads "YYYY-MM-DD HH:MM:SS" as wall-clock fields without a zone', () => {
    expect(ts('2024-01-01 23:01:00')).toEqual({ ms: Date.UTC(2024, 0, 1, 23, 1, 0), hasZone: false });
  });

  it('reads "YYYY-MM-DDTHH:MM:SSZ" as a UTC instant', () => {
    expect(ts('2024-01-02T14:30:00Z')).toEqual({ ms: Date.parse('2024-01-02T14:30:00Z'), hasZone: true });
  });

  it('subtracts a +01:00 offset and adds a -05:00 offset', () => {
    expect(ts('2024-01-02T15:30:00+01:00')).toEqual({ ms: Date.parse('2024-01-02T14:30:00Z'), hasZone: true });
    expect(ts('2024-01-02 09:30:00-05:00')).toEqual({ ms: Date.parse('2024-01-02T14:30:00Z'), hasZone: true });
  });

  it('keeps milliseconds from a fractional second', () => {
    expect(ts('2024-01-02T14:30:00.123Z').ms).toBe(Date.parse('2024-01-02T14:30:00.123Z'));
  });

  it('reads a date alone as midnight of that date', () => {
    expect(ts('2024-03-15')).toEqual({ ms: Date.UTC(2024, 2, 15), hasZone: false });
    expect(ts('20240315').ms).toBe(Date.UTC(2024, 2, 15));
  });

  it('reads HH:MM without seconds', () => {
    expect(ts('2024-03-15 09:30').ms).toBe(Date.UTC(2024, 2, 15, 9, 30));
  });

  it.each(['2023-02-30', '2023-02-30 10:00:00', '2023-13-01', '2024-01-02 24:00:00', '2024-01-02 10:60', '2024-01-02X10:00', 'yesterday', ''])('returns NaN when the text is %j', (s) => {
    expect(ts(s).ms).toBeNaN();
  });

  it('accepts 29 February only in a leap year', () => {
    expect(ts('2024-02-29').ms).toBe(Date.UTC(2024, 1, 29));
    expect(ts('2023-02-29').ms).toBeNaN();
  });
});

describe('parseDateBytes', () => {
  it('reads YYYY-MM-DD, YYYYMMDD and M/D/YYYY (9+ characters) as the same day', () => {
    const want = Date.UTC(2021, 6, 4);
    expect([date('2021-07-04'), date('20210704'), date('07/04/2021'), date('7/04/2021')]).toEqual([want, want, want, want]);
    expect(date('12/25/2021')).toBe(Date.UTC(2021, 11, 25));
  });

  it('returns NaN when the day does not exist', () => {
    expect(date('2/30/2023')).toBeNaN();
    expect(date('20230230')).toBeNaN();
  });
});

describe('parseTimeOfDayBytes', () => {
  it('returns ms since midnight for HH:MM, HH:MM:SS and HH:MM:SS.f', () => {
    expect(tod('09:30')).toBe((9 * 60 + 30) * 60_000);
    expect(tod('09:30:15')).toBe(((9 * 60 + 30) * 60 + 15) * 1000);
    expect(tod('09:30:15.5')).toBe(((9 * 60 + 30) * 60 + 15) * 1000 + 500);
  });

  it('returns NaN when a field is out of range or malformed', () => {
    expect(tod('9:30')).toBeNaN();
    expect(tod('23:59:60')).toBeNaN();
    expect(tod('12:00:00.1x')).toBeNaN();
  });
});

describe('parseDateBytes with one-digit month and day', () => {
  it('reads an 8-character M/D/YYYY date as month/day/year, not as YYYYMMDD', () => {
    const b = new TextEncoder().encode('1/2/2024');
    expect(parseDateBytes(b, 0, b.length)).toBe(Date.UTC(2024, 0, 2));
  });

  it('rejects a time of day with a dot and no fraction digits', () => {
    const b = new TextEncoder().encode('14:30:00.');
    expect(parseTimeOfDayBytes(b, 0, b.length)).toBeNaN();
  });
});
