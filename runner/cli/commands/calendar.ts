/**
 * `monger calendar …`: print sessions, whether an exchange is open, and its next open/close.
 * Bad flags throw `ConfigError` (main prints it and exits 2); only this layer reads the clock.
 */
import type { Command } from 'commander';
import {
  CALENDAR_NAMES_AND_ALIASES,
  CalendarError,
  getCalendar,
  type ExchangeCalendar,
  type Session,
} from '../../../lib/calendar/index.js';
import { ConfigError } from '../../../lib/core/errors.js';
import { parseIsoDate } from '../../../lib/core/time-zone.js';
import { out } from '../output.js';

const FORMATS = ['csv', 'json', 'table'] as const;
type Format = (typeof FORMATS)[number];
// An explicit zone is required: a bare local time would depend on the machine's zone
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

interface SessionsOptions {
  exchange?: string;
  from?: string;
  to?: string;
  format: string;
}
interface AtOptions {
  exchange?: string;
  at?: string;
}

/** UTC ISO timestamp without a zero millisecond part (`2023-11-24T18:00:00Z`). */
function isoUtc(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}


/** Resolves `--exchange`, pushing a problem instead of throwing. */
function exchangeOf(value: string | undefined, problems: string[]): ExchangeCalendar | undefined {
  const expected = `expected one of ${CALENDAR_NAMES_AND_ALIASES.join(', ')}`;
  if (value === undefined) {
    problems.push(`--exchange is required; ${expected}`);
    return undefined;
  }
  try {
    return getCalendar(value);
  } catch (err) {
    if (!(err instanceof CalendarError)) throw err;
    problems.push(`--exchange: ${expected}, was '${value}'`);
    return undefined;
  }
}

function dateOf(flag: string, value: string | undefined, cal: ExchangeCalendar | undefined, problems: string[]): string | undefined {
  if (value === undefined) {
    problems.push(`${flag} is required (a session date, YYYY-MM-DD)`);
    return undefined;
  }
  try {
    parseIsoDate(value);
  } catch {
    problems.push(`${flag}: expected a date as YYYY-MM-DD, was '${value}'`);
    return undefined;
  }
  const year = Number(value.slice(0, 4));
  if (cal && (year < cal.firstYear || year > cal.lastYear)) {
    problems.push(`${flag}: ${cal.name} covers ${cal.firstYear}..${cal.lastYear}, was '${value}'`);
    return undefined;
  }
  return value;
}

/** `--at` as epoch ms; the current time when absent. */
function instantOf(value: string | undefined, cal: ExchangeCalendar | undefined, problems: string[]): number {
  if (value === undefined) return Date.now();
  const ms = INSTANT_RE.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    problems.push(`--at: expected an ISO instant with a zone, e.g. 2024-01-02T15:00:00Z, was '${value}'`);
    return ms;
  }
  const year = new Date(ms).getUTCFullYear();
  if (cal && (year < cal.firstYear || year > cal.lastYear)) problems.push(`--at: ${cal.name} covers ${cal.firstYear}..${cal.lastYear}, was '${value}'`);
  return ms;
}

function fail(source: string, problems: string[]): void {
  if (problems.length > 0) throw new ConfigError(source, problems);
}

function sessionsCsv(sessions: readonly Session[]): string {
  const opt = (ms: number | undefined): string => (ms === undefined ? '' : isoUtc(ms));
  const rows = sessions.map((s) => [s.date, isoUtc(s.open), isoUtc(s.close), opt(s.breakStart), opt(s.breakEnd)].join(','));
  return ['session,open,close,break_start,break_end', ...rows].join('\n');
}

function sessionsJson(sessions: readonly Session[]): string {
  const opt = (ms: number | undefined): string | null => (ms === undefined ? null : isoUtc(ms));
  const rows = sessions.map((s) => ({
    session: s.date,
    open: isoUtc(s.open),
    close: isoUtc(s.close),
    break_start: opt(s.breakStart),
    break_end: opt(s.breakEnd),
    early_close: s.earlyClose,
  }));
  return JSON.stringify(rows, null, 2);
}

function sessionsTable(sessions: readonly Session[]): string {
  if (sessions.length === 0) return '(no sessions)';
  const withBreaks = sessions.some((s) => s.breakStart !== undefined);
  const header = ['session', 'open (UTC)', 'close (UTC)', ...(withBreaks ? ['break_start', 'break_end'] : []), 'note'];
  const rows = sessions.map((s) => [
    s.date,
    isoUtc(s.open),
    isoUtc(s.close),
    ...(withBreaks ? [s.breakStart === undefined ? '' : isoUtc(s.breakStart), s.breakEnd === undefined ? '' : isoUtc(s.breakEnd)] : []),
    s.earlyClose ? 'early close' : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

function describeSession(s: Session): string {
  const brk = s.breakStart !== undefined && s.breakEnd !== undefined ? `, break ${isoUtc(s.breakStart)}..${isoUtc(s.breakEnd)}` : '';
  return `${s.date} (open ${isoUtc(s.open)}, close ${isoUtc(s.close)}${brk}${s.earlyClose ? ', early close' : ''})`;
}

/** Registers `calendar sessions`, `calendar is-open` and `calendar next` on `program`. */
export function registerCalendarCommands(program: Command): void {
  const calendar = program.command('calendar').description('exchange trading calendars (all times printed in UTC)');
  const exchangeHelp = `calendar: ${CALENDAR_NAMES_AND_ALIASES.join(', ')} (CME = CME_EQUITY)`;

  calendar
    .command('sessions')
    .description('list trading sessions by session date, inclusive')
    .option('--exchange <name>', exchangeHelp)
    .option('--from <date>', 'first session date, YYYY-MM-DD')
    .option('--to <date>', 'last session date, YYYY-MM-DD')
    .option('--format <format>', `output format: ${FORMATS.join(', ')}`, 'table')
    .action((opts: SessionsOptions) => {
      const source = 'calendar sessions';
      const problems: string[] = [];
      const cal = exchangeOf(opts.exchange, problems);
      const from = dateOf('--from', opts.from, cal, problems);
      const to = dateOf('--to', opts.to, cal, problems);
      if (from !== undefined && to !== undefined && from > to) problems.push(`--from ${from} is after --to ${to}`);
      if (!(FORMATS as readonly string[]).includes(opts.format)) problems.push(`--format: expected one of ${FORMATS.join(', ')}, was '${opts.format}'`);
      fail(source, problems);
      const sessions = (cal as ExchangeCalendar).sessions(from as string, to as string);
      const format = opts.format as Format;
      out(format === 'csv' ? sessionsCsv(sessions) : format === 'json' ? sessionsJson(sessions) : sessionsTable(sessions));
    });

  calendar
    .command('is-open')
    .description('whether the exchange is trading at an instant, its session and minutes to close')
    .option('--exchange <name>', exchangeHelp)
    .option('--at <instant>', 'ISO instant with zone (default: now)')
    .action((opts: AtOptions) => {
      const problems: string[] = [];
      const cal = exchangeOf(opts.exchange, problems);
      const at = instantOf(opts.at, cal, problems);
      fail('calendar is-open', problems);
      const c = cal as ExchangeCalendar;
      const session = c.sessionAt(at);
      const open = c.isOpen(at);
      const lines = [`exchange: ${c.name}`, `at: ${isoUtc(at)}`, `status: ${open ? 'open' : session ? 'closed (break)' : 'closed'}`];
      lines.push(`session: ${session ? describeSession(session) : 'none'}`);
      const minutes = c.minutesToClose(at);
      if (minutes !== undefined) lines.push(`minutes_to_close: ${Math.round(minutes * 100) / 100}`);
      else lines.push(`next_open: ${isoUtc(c.nextOpen(at))}`);
      out(lines.join('\n'));
    });

  calendar
    .command('next')
    .description('the next open and next close strictly after an instant')
    .option('--exchange <name>', exchangeHelp)
    .option('--at <instant>', 'ISO instant with zone (default: now)')
    .action((opts: AtOptions) => {
      const problems: string[] = [];
      const cal = exchangeOf(opts.exchange, problems);
      const at = instantOf(opts.at, cal, problems);
      fail('calendar next', problems);
      const c = cal as ExchangeCalendar;
      out([`exchange: ${c.name}`, `at: ${isoUtc(at)}`, `next_open: ${isoUtc(c.nextOpen(at))}`, `next_close: ${isoUtc(c.nextClose(at))}`].join('\n'));
    });
}
