/**
 * Operational sections with safe defaults: `session` (the supervisor's session guard), `data`
 * (market-data lines, staleness, depth), `health`, `journal`, `logging`.
 */
import { z } from 'zod';
import { bool, expected, finite, nonNegative, oneOf, port, positive, positiveInt, section, symbol, text } from './config-schema-util.js';
import type { Validation } from './config-validation.js';

/** The market-data lines an IB account has without booster packs */
export const DEFAULT_LINE_BUDGET = 100;
/** Positions are flat at least this many minutes before the close, whatever the config says */
export const MIN_FLATTEN_MINUTES = 5;

export const sessionSchema = section({
  noNewEntriesMinutesBeforeClose: nonNegative('a number of minutes >= 0').default(15),
  flattenMinutesBeforeClose: finite(`a number of minutes >= ${MIN_FLATTEN_MINUTES} (positions are flat at least ${MIN_FLATTEN_MINUTES} minutes before the close)`, (n) => n >= MIN_FLATTEN_MINUTES).default(MIN_FLATTEN_MINUTES),
  tradeOutsideSessions: bool().default(false),
});
export type SessionSettings = z.output<typeof sessionSchema>;

export const dataSchema = section({
  lineBudget: positiveInt('a positive number of market-data lines').default(DEFAULT_LINE_BUDGET),
  allowMoreLines: bool().default(false),
  staleSeconds: positive('a positive number of seconds').default(30),
  depth: z.array(symbol(), { error: expected('a list of symbols wanting market depth (L2)') }).default([]),
  realtimeBars: bool().default(true),
});
export type DataSettings = z.output<typeof dataSchema>;

/** GET /health on host:port (no port: no endpoint; 0: a free port); degradation thresholds */
export const healthSchema = section({
  host: text('a host name or IP address').default('127.0.0.1'),
  port: port('a TCP port (integer 0..65535; 0 picks a free one)', 0).optional(),
  eventLoopLagMs: positive('a positive number of milliseconds').default(200),
  memoryMb: positive('a positive number of megabytes').optional(),
});
export type HealthSettings = z.output<typeof healthSchema>;

export const journalSchema = section({ path: text('a file path').default('data/journal.duckdb') });
export type JournalSettings = z.output<typeof journalSchema>;

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export const loggingSchema = section({
  level: oneOf(LOG_LEVELS).default('info'),
  maxLinesPerSecond: positiveInt('a positive number of lines').default(200),
});
export type LoggingSettings = z.output<typeof loggingSchema>;

export function checkSessionAndData(session: SessionSettings | undefined, data: DataSettings | undefined, symbols: readonly string[] | undefined, v: Validation): void {
  if (session !== undefined && session.noNewEntriesMinutesBeforeClose < session.flattenMinutesBeforeClose) {
    v.problem(
      ['session', 'noNewEntriesMinutesBeforeClose'],
      `${session.noNewEntriesMinutesBeforeClose} is less than session.flattenMinutesBeforeClose ${session.flattenMinutesBeforeClose}: entries would open after the positions were flattened`,
    );
  }
  if (data === undefined) return;
  if (data.lineBudget > DEFAULT_LINE_BUDGET && !data.allowMoreLines) {
    v.problem(['data', 'lineBudget'], `${data.lineBudget} is above the ${DEFAULT_LINE_BUDGET} market-data lines of an IB account; set data.allowMoreLines: true if yours has more (quote booster packs)`);
  }
  data.depth.forEach((sym, i, all) => {
    if (symbols !== undefined && !symbols.includes(sym)) v.problem(['data', 'depth', i], `'${sym}' is not in universe.symbols`);
    else if (all.indexOf(sym) !== i) v.problem(['data', 'depth', i], `'${sym}' is listed twice`);
  });
}
