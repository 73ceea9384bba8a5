/**
 * The zod building blocks of the runner config's schemas and their messages: `expected <what>, got
 * <value>`, or `required (<what>)` when the key is missing. Every section schema is built from
 * these, so all problems read alike; the generic ones are shared with strategy manifests
 * (lib/core/config-schema.ts).
 */
import { z } from 'zod';
import { expected, finite } from '../../lib/core/config-schema.js';
import { symbolProblem } from '../../lib/data/instrument.js';

export { expected, finite, oneOf, pattern, section, show, text, type IssueLike } from '../../lib/core/config-schema.js';

export const positive = (what = 'a positive number') => finite(what, (n) => n > 0);
export const nonNegative = (what = 'a number >= 0') => finite(what, (n) => n >= 0);
export const integer = (what: string, ok: (n: number) => boolean) => finite(what, (n) => Number.isInteger(n) && ok(n));
export const positiveInt = (what = 'a positive integer') => integer(what, (n) => n > 0);
export const port = (what = 'a TCP port (integer 1..65535)', min = 1) => integer(what, (n) => n >= min && n <= 65535);
export const bool = () => z.boolean({ error: expected('true or false') });
export const percent = (what: string, max: number) => finite(what, (n) => n > 0 && n < max);

export const symbol = () =>
  z.string({ error: expected('a ticker symbol') }).superRefine((s, ctx) => {
    const problem = symbolProblem(s);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: s });
  });
