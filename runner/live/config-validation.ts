/**
 * Collecting the problems of a runner config: every problem by its path, naming the environment
 * variable a value came from (`ib.port (IB_PORT): …`), plus the small helpers the cross-section
 * checks share.
 */
import type { z } from 'zod';
import { formatPath, issueProblems } from '../../lib/core/config-schema.js';

export { formatPath } from '../../lib/core/config-schema.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** Collects problems; paths whose value came from the environment name the variable. */
export class Validation {
  readonly problems: string[] = [];
  readonly fromEnv = new Map<string, string>();

  constructor(readonly env: Env) {}

  problem(path: readonly PropertyKey[], message: string): void {
    const p = formatPath(path);
    const variable = this.fromEnv.get(p);
    this.problems.push(`${p}${variable ? ` (${variable})` : ''}: ${message}`);
  }

  issues(prefix: readonly PropertyKey[], issues: readonly z.core.$ZodIssue[]): void {
    for (const { path, message } of issueProblems(issues, prefix)) this.problem(path, message);
  }
}

/** The mapping under `key` of a raw (unvalidated) document, if it is one */
export function mappingAt(obj: unknown, key: string): Record<string, unknown> | undefined {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const value = (obj as Record<string, unknown>)[key];
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
