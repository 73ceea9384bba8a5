/**
 * The zod building blocks of the runner config's schemas and their messages: `expected <what>, got
 * <value>`, or `required (<what>)` when the key is missing. Every section schema is built from
 * these, so all problems read alike.
 */
import { z } from 'zod';
import { symbolProblem } from '../../lib/data/instrument.js';

/** How a value is named in a message */
export function show(v: unknown): string {
  if (v === null) return 'an empty value';
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

export interface IssueLike {
  code?: string;
  input?: unknown;
}

export function expected(what: string): (iss: IssueLike) => string {
  return (iss) => (iss.input === undefined ? `required (${what})` : `expected ${what}, got ${show(iss.input)}`);
}

export const finite = (what: string, ok: (n: number) => boolean) => z.number({ error: expected(what) }).refine((n) => Number.isFinite(n) && ok(n), { error: expected(what) });
export const positive = (what = 'a positive number') => finite(what, (n) => n > 0);
export const nonNegative = (what = 'a number >= 0') => finite(what, (n) => n >= 0);
export const integer = (what: string, ok: (n: number) => boolean) => finite(what, (n) => Number.isInteger(n) && ok(n));
export const positiveInt = (what = 'a positive integer') => integer(what, (n) => n > 0);
export const port = (what = 'a TCP port (integer 1..65535)', min = 1) => integer(what, (n) => n >= min && n <= 65535);
export const bool = () => z.boolean({ error: expected('true or false') });
export const text = (what: string) => z.string({ error: expected(what) }).refine((s) => s.trim() !== '', { error: expected(what) });
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: expected(`one of ${values.join(', ')}`) });
export const pattern = (what: string, re: RegExp) => z.string({ error: expected(what) }).refine((s) => re.test(s), { error: expected(what) });
export const percent = (what: string, max: number) => finite(what, (n) => n > 0 && n < max);

/** A mapping with exactly these keys; an unknown key is reported by its own path (see Validation.issues) */
export function section<S extends z.ZodRawShape>(shape: S, what = 'a mapping') {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss: IssueLike) => (iss.code === 'unrecognized_keys' ? `unknown setting; expected one of ${known}` : expected(what)(iss)),
  });
}

export const symbol = () =>
  z.string({ error: expected('a ticker symbol') }).superRefine((s, ctx) => {
    const problem = symbolProblem(s);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: s });
  });
