/**
 * US holiday date rules shared by the NYSE and CME calendars. Each rule yields the observed
 * day (a day number) for a year, optionally limited to a span of years, the way
 * pandas `Holiday(start_date=…, end_date=…)` rules are (all our start/end dates fall on year boundaries).
 */
import {
  FRIDAY,
  MONDAY,
  THURSDAY,
  dayOf,
  easterSunday,
  lastWeekday,
  nearestWorkday,
  nthWeekday,
  sundayToMonday,
  weekdayOf,
} from './civil-dates.js';

/** A yearly date rule, effective for years in [fromYear, toYear]. */
export interface DateRule {
  /** Name for diagnostics and tests. */
  readonly name: string;
  /** Observed day number in `year`, or undefined when the rule yields no date that year. */
  readonly day: (year: number) => number | undefined;
  readonly fromYear?: number;
  readonly toYear?: number;
}

/** The rule's day for `year`, honouring its year span. */
export function ruleDay(rule: DateRule, year: number): number | undefined {
  if (rule.fromYear !== undefined && year < rule.fromYear) return undefined;
  if (rule.toYear !== undefined && year > rule.toYear) return undefined;
  return rule.day(year);
}

/** A copy of `rule` restricted to [fromYear, toYear] (either end open when undefined). */
export function during(rule: DateRule, fromYear?: number, toYear?: number): DateRule {
  const span = fromYear === undefined ? `..${toYear}` : toYear === undefined ? `${fromYear}..` : `${fromYear}..${toYear}`;
  return { name: `${rule.name} ${span}`, day: rule.day, fromYear, toYear };
}

/** Only in the listed years (pmc's one-year rules such as `GoodFriday2021`). */
export function inYears(rule: DateRule, years: readonly number[]): DateRule {
  return { name: `${rule.name} ${years.join(',')}`, day: (y) => (years.includes(y) ? rule.day(y) : undefined) };
}

/** Every year except the listed ones. */
export function exceptYears(rule: DateRule, years: readonly number[]): DateRule {
  return { name: `${rule.name} except ${years.join(',')}`, day: (y) => (years.includes(y) ? undefined : rule.day(y)) };
}

const onWeekdays = (day: number, weekdays: readonly number[]): number | undefined =>
  weekdays.includes(weekdayOf(day)) ? day : undefined;

/** Jan 1; a Sunday is observed on Monday, a Saturday is not observed at all (NYSE rule since 1950s). */
export const newYearsDay: DateRule = { name: "New Year's Day", day: (y) => sundayToMonday(dayOf(y, 1, 1)) };
/** Third Monday of January; US markets closed from 1998. */
export const martinLutherKingDay: DateRule = { name: 'Martin Luther King Jr. Day', day: (y) => nthWeekday(y, 1, MONDAY, 3) };
/** Third Monday of February (Washington's Birthday) since 1971. */
export const presidentsDay: DateRule = { name: "Presidents' Day", day: (y) => nthWeekday(y, 2, MONDAY, 3) };
/** Friday before Easter Sunday. */
export const goodFriday: DateRule = { name: 'Good Friday', day: (y) => easterSunday(y) - 2 };
/** Last Monday of May since 1971. */
export const memorialDay: DateRule = { name: 'Memorial Day', day: (y) => lastWeekday(y, 5, MONDAY) };
/** June 19, Saturday → Friday, Sunday → Monday. */
export const juneteenth: DateRule = { name: 'Juneteenth', day: (y) => nearestWorkday(dayOf(y, 6, 19)) };
/** July 4, Saturday → Friday, Sunday → Monday. */
export const independenceDay: DateRule = { name: 'Independence Day', day: (y) => nearestWorkday(dayOf(y, 7, 4)) };
/** First Monday of September. */
export const laborDay: DateRule = { name: 'Labor Day', day: (y) => nthWeekday(y, 9, MONDAY, 1) };
/** Fourth Thursday of November. */
export const thanksgiving: DateRule = { name: 'Thanksgiving', day: (y) => nthWeekday(y, 11, THURSDAY, 4) };
/** The Friday after Thanksgiving. */
export const dayAfterThanksgiving: DateRule = { name: 'Day after Thanksgiving', day: (y) => nthWeekday(y, 11, THURSDAY, 4) + 1 };
/** Dec 25, Saturday → Friday, Sunday → Monday. */
export const christmas: DateRule = { name: 'Christmas', day: (y) => nearestWorkday(dayOf(y, 12, 25)) };
/** Dec 24 when Monday–Thursday (on a Friday it is the observed Christmas holiday). */
export const christmasEve: DateRule = { name: 'Christmas Eve', day: (y) => onWeekdays(dayOf(y, 12, 24), [1, 2, 3, 4]) };

/** July 3 when it falls on one of `weekdays` (NYSE half days before Independence Day). */
export function july3On(weekdays: readonly number[]): DateRule {
  return { name: `July 3 on weekdays ${weekdays.join(',')}`, day: (y) => onWeekdays(dayOf(y, 7, 3), weekdays) };
}

/** July 5 when it is a Friday (NYSE half day after a Thursday Independence Day, until 2012). */
export const fridayJuly5: DateRule = { name: 'Friday July 5', day: (y) => onWeekdays(dayOf(y, 7, 5), [FRIDAY]) };

/** July 3 when July 4 is Tuesday–Friday (pmc `USIndependenceDayBefore2022PreviousDay`). */
export const dayBeforeIndependenceDay: DateRule = {
  name: 'Day before Independence Day',
  day: (y) => (onWeekdays(dayOf(y, 7, 4), [2, 3, 4, 5]) === undefined ? undefined : dayOf(y, 7, 3)),
};
