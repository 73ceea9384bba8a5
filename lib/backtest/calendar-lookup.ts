import { calendarForInstrument, type ExchangeCalendar } from '../calendar/index.js';
import type { InstrumentSpec } from '../data/instrument.js';

/** The instrument's calendar, or undefined for instruments no calendar covers (bars then close at start + interval) */
export function calendarOrUndefined(spec: InstrumentSpec): ExchangeCalendar | undefined {
  try {
    return calendarForInstrument(spec.secType, spec.symbol);
  } catch {
    return undefined;
  }
}
