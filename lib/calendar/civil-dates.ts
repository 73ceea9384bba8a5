/**
 * Proleptic-Gregorian date arithmetic on day numbers (days since 1970-01-01), so holiday
 * rules never touch time zones: a session date is a label, not an instant.
 */
import { DAY_MS, isoDate } from '../core/time-zone.js';

export const SUNDAY = 0;
export const MONDAY = 1;
export const TUESDAY = 2;
export const WEDNESDAY = 3;
export const THURSDAY = 4;
export const FRIDAY = 5;
export const SATURDAY = 6;

/** Day number of a calendar date (`month` 1-12). */
export function dayOf(year: number, month: number, day: number): number {
  return Date.UTC(year, month - 1, day) / DAY_MS;
}

/** Day of week of a day number, 0 = Sunday … 6 = Saturday. */
export function weekdayOf(day: number): number {
  return (((day + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
}

/** `YYYY-MM-DD` label of a day number. */
export function labelOf(day: number): string {
  return isoDate(day * DAY_MS);
}

/** The `n`th (1-based) `weekday` of a month. */
export function nthWeekday(year: number, month: number, weekday: number, n: number): number {
  const first = dayOf(year, month, 1);
  return first + ((weekday - weekdayOf(first) + 7) % 7) + (n - 1) * 7;
}

/** The last `weekday` of a month. */
export function lastWeekday(year: number, month: number, weekday: number): number {
  const last = dayOf(year, month + 1, 0);
  return last - ((weekdayOf(last) - weekday + 7) % 7);
}

/** Western (Gregorian) Easter Sunday, by the anonymous Gregorian computus. */
export function easterSunday(year: number): number {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return dayOf(year, month, day);
}

/** Saturday → preceding Friday, Sunday → following Monday (US federal observance). */
export function nearestWorkday(day: number): number {
  const wd = weekdayOf(day);
  if (wd === SATURDAY) return day - 1;
  if (wd === SUNDAY) return day + 1;
  return day;
}

/** Sunday → following Monday; a Saturday stays put (so it is simply not observed on a weekday). */
export function sundayToMonday(day: number): number {
  return weekdayOf(day) === SUNDAY ? day + 1 : day;
}

/** True for Monday–Friday. */
export function isWeekday(day: number): boolean {
  const wd = weekdayOf(day);
  return wd !== SATURDAY && wd !== SUNDAY;
}
