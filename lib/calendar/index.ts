/** Exchange trading calendars: sessions, open/closed queries and expected bar grids. */
export { CALENDAR_NAMES, type CalendarName, type ExchangeCalendar, type Session } from './types.js';
export { CalendarError, type CalendarErrorCode } from './errors.js';
export { getCalendar, calendarForInstrument, CALENDAR_NAMES_AND_ALIASES } from './registry.js';
export { expectedBarStarts } from './bars.js';
export { RuleCalendar } from './rule-calendar.js';
export { hm, type CalendarSpec, type DayHours, type EarlyCloseGroup } from './spec.js';
export { NYSE_SPEC, NYSE_ADHOC_CLOSURES, NYSE_ADHOC_EARLY_CLOSES } from './nyse.js';
export { CME_EQUITY_SPEC, CME_FX_SPEC, CME_ENERGY_METALS_SPEC, CME_EQUITY_HALT_REMOVED } from './cme.js';
