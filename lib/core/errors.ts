/**
 * Typed errors with stable codes. Scripts and tests match on `code`, people read `message`.
 * Expected trading outcomes (rejected, cancelled) are events, never these.
 */
export abstract class WorkbenchError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Where in an input file a problem was found; every field optional except the file. */
export interface InputLocation {
  file: string;
  line?: number;
  column?: string;
}

export function formatLocation(loc: InputLocation): string {
  let s = loc.file;
  if (loc.line !== undefined) s += `:${loc.line}`;
  if (loc.column !== undefined) s += ` column '${loc.column}'`;
  return s;
}

export type DataErrorCode =
  | 'BAD_NUMBER'
  | 'BAD_TIMESTAMP'
  | 'OHLC_INCONSISTENT'
  | 'OUT_OF_ORDER'
  | 'DUPLICATE_BAR'
  | 'UNKNOWN_SYMBOL'
  | 'BAD_SYMBOL'
  | 'BAD_HEADER'
  | 'BAD_ROW'
  | 'EMPTY_INPUT'
  | 'UNSUPPORTED_INPUT';

/** Bad input data: names file, line and column and what was expected. */
export class DataError extends WorkbenchError {
  readonly code: DataErrorCode;
  readonly location: InputLocation;
  constructor(code: DataErrorCode, location: InputLocation, detail: string) {
    super(`${formatLocation(location)}: ${detail}`);
    this.code = code;
    this.location = location;
  }
}

/** Invalid configuration or command-line arguments, listing every problem. */
export class ConfigError extends WorkbenchError {
  readonly code = 'CONFIG_INVALID';
  readonly problems: readonly string[];
  constructor(source: string, problems: readonly string[]) {
    super(`${source}: invalid configuration\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Something the store refused or could not do (migration, missing instrument, bad query). */
export class StoreError extends WorkbenchError {
  readonly code: 'STORE_MIGRATION' | 'STORE_QUERY' | 'STORE_NOT_FOUND';
  constructor(code: StoreError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** A bug or corrupted state: fail fast, never swallow. */
export class InvariantError extends WorkbenchError {
  readonly code = 'INVARIANT';
}
