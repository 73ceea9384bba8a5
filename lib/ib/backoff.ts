/**
 * Reconnect delays: exponential backoff with full jitter ("AWS full jitter"): attempt n waits a
 * uniform random time in [0, min(maxMs, baseMs * factor^n)], drawn from an injected SeededRandom
 * so runs are reproducible. The attempt counter resets once a connection has stayed up for
 * `resetAfterMs`: a drop after a long stable period starts again from the base delay, while a
 * connection that keeps flapping keeps backing off.
 */
import { ConfigError } from '../core/errors.js';
import type { SeededRandom } from '../core/seeded-random.js';

export interface BackoffOptions {
  /** Ceiling of the first delay (ms) */
  baseMs: number;
  /** Growth of the ceiling per attempt (>= 1) */
  factor: number;
  /** Largest ceiling (ms) */
  maxMs: number;
  /** A connection up at least this long resets the attempt counter (ms) */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = { baseMs: 500, factor: 2, maxMs: 30_000, resetAfterMs: 60_000 };

export function resolveBackoffOptions(options: Partial<BackoffOptions> = {}): BackoffOptions {
  const o: BackoffOptions = { ...DEFAULT_BACKOFF, ...options };
  const problems: string[] = [];
  if (!(Number.isFinite(o.baseMs) && o.baseMs > 0)) problems.push(`baseMs must be a positive number, got ${o.baseMs}`);
  if (!(Number.isFinite(o.factor) && o.factor >= 1)) problems.push(`factor must be >= 1, got ${o.factor}`);
  if (!(Number.isFinite(o.maxMs) && o.maxMs >= o.baseMs)) problems.push(`maxMs must be >= baseMs, got ${o.maxMs}`);
  if (!(o.resetAfterMs >= 0)) problems.push(`resetAfterMs must be >= 0, got ${o.resetAfterMs}`);
  if (problems.length) throw new ConfigError('ib backoff', problems);
  return o;
}

/** The largest delay attempt `attempt` (0-based) may wait. */
export function backoffCeiling(options: BackoffOptions, attempt: number): number {
  return Math.min(options.maxMs, options.baseMs * Math.pow(options.factor, attempt));
}

export class Backoff {
  readonly options: BackoffOptions;
  private attempts = 0;
  private connectedAt: number | undefined;

  constructor(
    options: Partial<BackoffOptions>,
    private readonly random: SeededRandom,
  ) {
    this.options = resolveBackoffOptions(options);
  }

  /** Delays handed out since the last reset. */
  get attempt(): number {
    return this.attempts;
  }

  /** The next delay in whole ms, uniform in [0, ceiling(attempt)]; advances the attempt. */
  next(): number {
    const ceiling = backoffCeiling(this.options, this.attempts);
    this.attempts++;
    return Math.floor(this.random.next() * (Math.floor(ceiling) + 1));
  }

  reset(): void {
    this.attempts = 0;
    this.connectedAt = undefined;
  }

  /** A connection became usable at `at`. */
  connected(at: number): void {
    this.connectedAt = at;
  }

  /** The usable connection ended at `at`: resets the counter if it was stable long enough. */
  disconnected(at: number): void {
    if (this.connectedAt !== undefined && at - this.connectedAt >= this.options.resetAfterMs) this.attempts = 0;
    this.connectedAt = undefined;
  }
}
