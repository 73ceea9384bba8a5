/**
 * Readers of values of unknown shape (journal payloads, IB message fields): the value when it has
 * the type asked for, else the caller's fallback, so a missing or malformed field never throws.
 */

/** `v` when it is a finite number, else `fallback` */
export function numberOr<F>(v: unknown, fallback: F): number | F {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

/** `v` when it is a non-empty string, else `fallback` */
export function stringOr<F>(v: unknown, fallback: F): string | F {
  return typeof v === 'string' && v !== '' ? v : fallback;
}
