/** Calendar lookup by name and by instrument. Calendars are singletons so their year caches are shared. */
import { CME_ENERGY_METALS_SPEC, CME_EQUITY_SPEC, CME_FX_SPEC } from './cme.js';
import { CalendarError } from './errors.js';
import { NYSE_SPEC } from './nyse.js';
import { RuleCalendar } from './rule-calendar.js';
import { CALENDAR_NAMES, type CalendarName, type ExchangeCalendar } from './types.js';

const SPECS = { XNYS: NYSE_SPEC, CME_EQUITY: CME_EQUITY_SPEC, CME_FX: CME_FX_SPEC, CME_ENERGY_METALS: CME_ENERGY_METALS_SPEC };
const ALIASES: Readonly<Record<string, CalendarName>> = { CME: 'CME_EQUITY' };
const instances = new Map<CalendarName, ExchangeCalendar>();

/** Every name `getCalendar` accepts: the canonical names plus aliases. */
export const CALENDAR_NAMES_AND_ALIASES: readonly string[] = [...CALENDAR_NAMES, ...Object.keys(ALIASES)];

/**
 * The calendar called `name` (case-insensitive; `CME` means `CME_EQUITY`).
 * Throws `CalendarError` (`UNKNOWN_CALENDAR`) listing the valid names.
 */
export function getCalendar(name: string): ExchangeCalendar {
  const upper = name.trim().toUpperCase();
  const canonical = ALIASES[upper] ?? (CALENDAR_NAMES as readonly string[]).find((n) => n === upper);
  if (canonical === undefined) {
    throw new CalendarError('UNKNOWN_CALENDAR', `unknown calendar '${name}'; expected one of ${CALENDAR_NAMES_AND_ALIASES.join(', ')}`);
  }
  const key = canonical as CalendarName;
  let cal = instances.get(key);
  if (!cal) {
    cal = new RuleCalendar(SPECS[key]);
    instances.set(key, cal);
  }
  return cal;
}

// Root symbols (IB `symbol`, e.g. ES, MES) by CME product group
const EQUITY_ROOTS = ['ES', 'MES', 'NQ', 'MNQ', 'YM', 'MYM', 'RTY', 'M2K', 'EMD', 'NKD', 'SP', 'ND', 'DJ'];
const FX_ROOTS = ['6A', '6B', '6C', '6E', '6J', '6L', '6M', '6N', '6S', '6Z', 'M6A', 'M6B', 'M6E', 'E7', 'J7', 'DX'];
const ENERGY_METALS_ROOTS = ['CL', 'MCL', 'QM', 'NG', 'QG', 'HO', 'RB', 'BZ', 'GC', 'MGC', 'QO', 'SI', 'SIL', 'QI', 'HG', 'MHG', 'PL', 'PA', 'ALI'];

/**
 * The calendar an instrument trades on: stocks → XNYS, cash FX → CME_FX (IB's IDEALPRO follows the
 * same Sunday–Friday 17:00 CT day), futures by root symbol. Throws `CalendarError` for an unknown future root.
 */
export function calendarForInstrument(secType: 'STK' | 'FUT' | 'CASH', symbol: string): ExchangeCalendar {
  if (secType === 'STK') return getCalendar('XNYS');
  if (secType === 'CASH') return getCalendar('CME_FX');
  const root = symbol.trim().toUpperCase();
  if (EQUITY_ROOTS.includes(root)) return getCalendar('CME_EQUITY');
  if (FX_ROOTS.includes(root)) return getCalendar('CME_FX');
  if (ENERGY_METALS_ROOTS.includes(root)) return getCalendar('CME_ENERGY_METALS');
  throw new CalendarError(
    'UNKNOWN_CALENDAR',
    `no calendar known for future '${symbol}'; known roots: ${[...EQUITY_ROOTS, ...FX_ROOTS, ...ENERGY_METALS_ROOTS].join(', ')}`,
  );
}
