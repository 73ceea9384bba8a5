/**
 * The zod building blocks of config files (the runner config, strategy manifests) and their problem
 * lines: `<path>: expected <what>, got <value>`, or `required (<what>)` when the key is missing; an
 * unknown key is reported by its own path. Schemas built from these report problems alike.
 */
import { z } from 'zod';

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
export const text = (what: string) => z.string({ error: expected(what) }).refine((s) => s.trim() !== '', { error: expected(what) });
export const pattern = (what: string, re: RegExp) => z.string({ error: expected(what) }).refine((s) => re.test(s), { error: expected(what) });
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: expected(`one of ${values.join(', ')}`) });

/** A mapping with exactly these keys; an unknown key is reported by its own path (see issueProblems) */
export function section<S extends z.ZodRawShape>(shape: S, what = 'a mapping') {
  const known = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss: IssueLike) => (iss.code === 'unrecognized_keys' ? `unknown setting; expected one of ${known}` : expected(what)(iss)),
  });
}

/** `trading.symbols.SPY.maxPosition`, `universe.symbols[1]` */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const k of path) s += typeof k === 'number' ? `[${k}]` : s === '' ? String(k) : `.${String(k)}`;
  return s || '(root)';
}

/** The problems of a failed parse by path (under `prefix`), one per unknown key */
export function issueProblems(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): { path: PropertyKey[]; message: string }[] {
  const out: { path: PropertyKey[]; message: string }[] = [];
  for (const i of issues) {
    if (i.code === 'unrecognized_keys') for (const key of i.keys) out.push({ path: [...prefix, ...i.path, key], message: i.message });
    else out.push({ path: [...prefix, ...i.path], message: i.message });
  }
  return out;
}
