/**
 * The logging port. Libraries and strategies log through this interface only (never console.*);
 * the runner binds it to pino, backtests default to a silent or warn-level logger stamped with
 * simulated time.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface LogRecord {
  level: Exclude<LogLevel, 'silent'>;
  /** Time from the injected clock (simulated in backtests) */
  time: number;
  message: string;
  fields: Record<string, unknown>;
}

/**
 * A logger that hands records to a sink, stamped with a clock of the caller's choosing: in a
 * backtest, log lines carry simulated time, not the wall clock.
 */
export function createLogger(options: {
  level?: LogLevel;
  now: () => number;
  sink: (record: LogRecord) => void;
  bindings?: Record<string, unknown>;
}): Logger {
  const min = LEVEL_RANK[options.level ?? 'info'];
  const bindings = options.bindings ?? {};
  const emit = (level: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>): void => {
    if (LEVEL_RANK[level] < min) return;
    options.sink({ level, time: options.now(), message, fields: { ...bindings, ...fields } });
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (b) => createLogger({ ...options, bindings: { ...bindings, ...b } }),
  };
}

/** Discards everything */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
