/**
 * Keeps outgoing API messages under IB's limit of 50 per second (tws-protocol.md §5): a token
 * bucket refilled at `ratePerSecond` (default 45) holding at most `burst` tokens (default 3), in
 * front of a FIFO queue. Any one-second window therefore carries at most burst + rate messages
 * (48 with the defaults, leaving room for the START_API message stoqey sends on its own). Pure:
 * the clock is injected and the caller schedules the next `take()` after `msUntilNext()`.
 */
import { ConfigError } from '../core/errors.js';

export interface MessageBudgetOptions {
  /** Sustained messages per second (default 45, below IB's 50) */
  ratePerSecond?: number;
  /** Bucket size: messages that may go back to back (default 3); peak per second is rate + burst */
  burst?: number;
  /** Queue bound; enqueue() refuses beyond it (default unbounded) */
  maxQueue?: number;
}

export const DEFAULT_MESSAGES_PER_SECOND = 45;
export const DEFAULT_MESSAGE_BURST = 3;

/** Tokens within this of a whole token count as one (floating-point refill). */
const EPSILON = 1e-9;

export class MessageBudget<T> {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly maxQueue: number;
  private tokens: number;
  private refilledAt: number;
  private readonly queue: T[] = [];

  constructor(
    options: MessageBudgetOptions,
    private readonly now: () => number,
  ) {
    this.ratePerSecond = options.ratePerSecond ?? DEFAULT_MESSAGES_PER_SECOND;
    this.burst = options.burst ?? DEFAULT_MESSAGE_BURST;
    this.maxQueue = options.maxQueue ?? Infinity;
    const problems: string[] = [];
    if (!(Number.isFinite(this.ratePerSecond) && this.ratePerSecond > 0)) problems.push(`ratePerSecond must be positive, got ${this.ratePerSecond}`);
    if (!(Number.isInteger(this.burst) && this.burst >= 1)) problems.push(`burst must be an integer >= 1, got ${this.burst}`);
    if (!(this.maxQueue >= 0)) problems.push(`maxQueue must be >= 0, got ${this.maxQueue}`);
    if (problems.length) throw new ConfigError('ib message budget', problems);
    this.tokens = this.burst;
    this.refilledAt = now();
  }

  /** Items waiting. */
  get size(): number {
    return this.queue.length;
  }

  /** Tokens available now (fractional). */
  available(): number {
    this.refill();
    return this.tokens;
  }

  /** Queues an item behind the others; false (not queued) when the queue is full. */
  enqueue(item: T): boolean {
    if (this.queue.length >= this.maxQueue) return false;
    this.queue.push(item);
    return true;
  }

  /** Removes and returns the items that may be sent now, in order, spending one token each. */
  take(): T[] {
    this.refill();
    const out: T[] = [];
    while (this.queue.length > 0 && this.tokens >= 1 - EPSILON) {
      this.tokens = Math.max(0, this.tokens - 1);
      out.push(this.queue.shift()!);
    }
    return out;
  }

  /** Ms until the head of the queue may go: 0 if now, undefined when the queue is empty. */
  msUntilNext(): number | undefined {
    if (this.queue.length === 0) return undefined;
    this.refill();
    const missing = 1 - EPSILON - this.tokens;
    if (missing <= 0) return 0;
    return Math.ceil((missing * 1000) / this.ratePerSecond);
  }

  /** Empties the queue (a connection ended) and returns what was waiting. */
  clear(): T[] {
    return this.queue.splice(0);
  }

  private refill(): void {
    const t = this.now();
    const elapsed = t - this.refilledAt;
    // a clock that steps back never takes tokens away
    if (elapsed > 0) this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    if (elapsed > 0 || this.refilledAt > t) this.refilledAt = t;
  }
}
