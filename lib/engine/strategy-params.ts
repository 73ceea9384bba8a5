import { ConfigError } from '../core/errors.js';
import type { StrategyDefinition } from './strategy.js';

/**
 * Validates raw params against a strategy's schema. Every problem is listed by path in one
 * ConfigError, and names the schema does not know are errors too (a typo must not be ignored).
 */
export function validateStrategyParams(definition: StrategyDefinition, raw: unknown): Record<string, unknown> {
  const problems: string[] = [];
  const shape = (definition.params as { shape?: Record<string, unknown> }).shape;
  if (shape !== undefined && raw !== null && typeof raw === 'object') {
    const known = Object.keys(shape);
    for (const key of Object.keys(raw)) {
      if (!known.includes(key)) problems.push(`${key}: unknown parameter; ${definition.name} knows ${known.join(', ')}`);
    }
  }
  const parsed = definition.params.safeParse(raw ?? {});
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  if (problems.length > 0) throw new ConfigError(`strategy ${definition.name} params`, problems);
  return parsed.data as Record<string, unknown>;
}
