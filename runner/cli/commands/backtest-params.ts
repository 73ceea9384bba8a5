import { ConfigError } from '../../../lib/core/errors.js';

/**
 * Parses `k=v,k2=v2` into an object: numbers and booleans become numbers and booleans, everything
 * else stays a string; the strategy's zod schema then validates names and ranges.
 */
export function parseParamsFlag(text: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (text === undefined || text.trim() === '') return out;
  const problems: string[] = [];
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) {
      problems.push(`--params: expected key=value, was '${part}'`);
      continue;
    }
    const key = part.slice(0, eq).trim();
    const raw = part.slice(eq + 1).trim();
    out[key] = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  if (problems.length) throw new ConfigError('monger backtest', problems);
  return out;
}
