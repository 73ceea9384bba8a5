/** Exit codes scripts can rely on (documented in `monger --help` and the README). */
export const EXIT = {
  OK: 0,
  /** A bug: unexpected exception */
  INTERNAL: 1,
  /** Bad command line or configuration */
  USAGE: 2,
  /** Bad input data (file, line, column named) */
  DATA: 3,
  /** Store could not be opened, migrated or queried */
  STORE: 4,
  /** The command ran but its check failed (e.g. audit below --min-coverage) */
  CHECK_FAILED: 5,
} as const;

export const EXIT_HELP = `
Exit codes:
  0  success
  1  internal error (a bug; please report it)
  2  usage or configuration error
  3  bad input data (the message names file, line and column)
  4  store error (cannot open, migrate or query the database)
  5  a check failed (e.g. data audit below --min-coverage)`;
