/**
 * When each planned historical request may be sent under IB's pacing rules (tws-protocol.md §5),
 * pure and clock-injected:
 *
 * - no identical request within 15 s;
 * - fewer than 6 requests for one contract + exchange + tick type within 2 s;
 * - at most 60 requests within 10 minutes;
 * - at most 50 requests open (sent, not yet answered) at once;
 * - BID_ASK counts twice for the three counting rules.
 *
 * The rules are applied to every bar size by default (`scope: 'all'`): IB documents them for bars
 * of 30 s or less, but throttles larger bars too in practice; `scope: 'small-bars'` follows the
 * documentation. A 162 pacing violation blocks every request for a backoff that doubles with
 * each consecutive violation (15 s, 30 s, … up to the 10-minute window) and puts the request back
 * at the front; a "no data" answer is final (the caller records the range as empty).
 */
import { ConfigError } from '../core/errors.js';

export interface HistoryPacingLimits {
  /** An identical request within this many ms is a violation */
  identicalMs: number;
  /** `burstCount` or more weighted requests for one key within `burstMs` is a violation */
  burstMs: number;
  burstCount: number;
  /** More than `windowCount` weighted requests within `windowMs` is a violation */
  windowMs: number;
  windowCount: number;
  /** Requests open at once */
  maxInFlight: number;
}

export const IB_HISTORY_LIMITS: Readonly<HistoryPacingLimits> = {
  identicalMs: 15_000,
  burstMs: 2_000,
  burstCount: 6,
  windowMs: 600_000,
  windowCount: 60,
  maxInFlight: 50,
};

/** What the scheduler needs to know about a request. */
export interface PacedRequest {
  id: string;
  /** Equal signatures are identical requests */
  signature: string;
  /** Contract + exchange + tick type */
  key: string;
  /** 2 for BID_ASK, else 1 */
  weight: number;
  /** Bars of 30 s or less (`scope: 'small-bars'` paces only these) */
  smallBars?: boolean;
}

export interface HistorySchedulerOptions {
  /** Epoch ms */
  now: () => number;
  limits?: Partial<HistoryPacingLimits>;
  /** 'all' (default): every bar size is paced; 'small-bars': only bars of 30 s or less */
  scope?: 'all' | 'small-bars';
  /** Backoff after a pacing violation: base doubled per consecutive violation, capped (default 15 s .. 600 s) */
  backoff?: { baseMs?: number; maxMs?: number };
  /** Sends of one request (first + retries) before it is given up (default 6) */
  maxAttempts?: number;
  /**
   * Added to every time span (default 250 ms): a request leaves here a little before TWS stamps
   * it (message budget, network), so spans are kept a little longer than IB's.
   */
  marginMs?: number;
}

export type WaitReason = 'identical' | 'burst' | 'window' | 'backoff';

/** The next request and the earliest instant it may go (`at <= now` means now). */
export interface Slot<T> {
  request: T;
  at: number;
  /** The rule that holds it back when `at > now` */
  reason?: WaitReason;
}

export interface RetryDecision {
  retry: boolean;
  /** Sends of this request so far */
  attempts: number;
  /** When requests may go again (pacing violations) */
  resumeAt: number;
}

export interface SchedulerStats {
  sent: number;
  answered: number;
  empty: number;
  failed: number;
  violations: number;
  retries: number;
}

interface Sent {
  at: number;
  signature: string;
  key: string;
  weight: number;
}

export class HistoryScheduler<T extends PacedRequest> {
  readonly limits: HistoryPacingLimits;
  private readonly now: () => number;
  private readonly scope: 'all' | 'small-bars';
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxAttempts: number;
  private readonly marginMs: number;
  private queue: T[] = [];
  private readonly open = new Set<string>();
  private readonly attempts = new Map<string, number>();
  private history: Sent[] = [];
  private blockedUntil = -Infinity;
  private consecutiveViolations = 0;
  readonly stats: SchedulerStats = { sent: 0, answered: 0, empty: 0, failed: 0, violations: 0, retries: 0 };

  constructor(options: HistorySchedulerOptions) {
    this.limits = { ...IB_HISTORY_LIMITS, ...options.limits };
    const L = this.limits;
    const problems: string[] = [];
    for (const [k, v] of Object.entries(L)) if (!(v >= 0)) problems.push(`limits.${k} must be >= 0, was ${v}`);
    if (!(L.burstCount >= 2)) problems.push(`limits.burstCount must be >= 2 (a single request must fit), was ${L.burstCount}`);
    if (!(L.windowCount >= 1)) problems.push(`limits.windowCount must be >= 1, was ${L.windowCount}`);
    if (!(L.maxInFlight >= 1)) problems.push(`limits.maxInFlight must be >= 1, was ${L.maxInFlight}`);
    this.baseBackoffMs = options.backoff?.baseMs ?? 15_000;
    this.maxBackoffMs = options.backoff?.maxMs ?? L.windowMs;
    if (!(this.baseBackoffMs >= 0) || !(this.maxBackoffMs >= this.baseBackoffMs)) problems.push('backoff needs 0 <= baseMs <= maxMs');
    this.maxAttempts = options.maxAttempts ?? 6;
    if (!(this.maxAttempts >= 1)) problems.push(`maxAttempts must be >= 1, was ${this.maxAttempts}`);
    this.marginMs = options.marginMs ?? 250;
    if (!(this.marginMs >= 0)) problems.push(`marginMs must be >= 0, was ${this.marginMs}`);
    if (problems.length) throw new ConfigError('ib history scheduler', problems);
    this.now = options.now;
    this.scope = options.scope ?? 'all';
  }

  /** Queues requests (after those already waiting). */
  add(requests: readonly T[]): void {
    this.queue.push(...requests);
  }

  get pending(): number {
    return this.queue.length;
  }

  get inFlight(): number {
    return this.open.size;
  }

  /** Nothing queued and nothing in flight. */
  get idle(): boolean {
    return this.queue.length === 0 && this.open.size === 0;
  }

  /** Sends of a request so far. */
  attemptsOf(id: string): number {
    return this.attempts.get(id) ?? 0;
  }

  /**
   * The queued request that may go first (ties: queue order) and when. Undefined when nothing is
   * queued or the in-flight limit is reached (wait for an answer).
   */
  next(): Slot<T> | undefined {
    if (this.queue.length === 0 || this.open.size >= this.limits.maxInFlight) return undefined;
    const now = this.now();
    this.prune(now);
    let best: Slot<T> | undefined;
    for (const request of this.queue) {
      const slot = this.earliest(request, now);
      if (!best || slot.at < best.at) best = slot;
      if (slot.at <= now) break;
    }
    return best;
  }

  /** Records that `request` was sent now: it leaves the queue, counts for pacing and is in flight. */
  sent(request: T): void {
    const i = this.queue.findIndex((r) => r.id === request.id);
    if (i >= 0) this.queue.splice(i, 1);
    const attempts = this.attemptsOf(request.id) + 1;
    this.attempts.set(request.id, attempts);
    if (attempts > 1) this.stats.retries++;
    this.stats.sent++;
    this.open.add(request.id);
    if (this.paced(request)) this.history.push({ at: this.now(), signature: request.signature, key: request.key, weight: this.weightOf(request) });
  }

  /** Bars arrived: done. */
  answered(request: T): void {
    this.close(request);
    this.stats.answered++;
    this.consecutiveViolations = 0;
  }

  /** No data for the range (162 "HMDS query returned no data" or an empty answer): done, never retried. */
  empty(request: T): void {
    this.close(request);
    this.stats.empty++;
    this.consecutiveViolations = 0;
  }

  /**
   * 162 pacing violation: every request waits out a backoff that doubles per consecutive
   * violation; the request goes back to the front unless it has used up its attempts.
   */
  pacingViolation(request: T): RetryDecision {
    this.close(request);
    this.stats.violations++;
    this.consecutiveViolations++;
    const delay = Math.min(this.maxBackoffMs, this.baseBackoffMs * 2 ** (this.consecutiveViolations - 1));
    this.blockedUntil = Math.max(this.blockedUntil, this.now() + delay);
    return this.requeue(request);
  }

  /** Any other failure: retried (at the front) when `retryable` and attempts remain, else given up. */
  failed(request: T, retryable: boolean): RetryDecision {
    this.close(request);
    if (retryable) return this.requeue(request);
    this.stats.failed++;
    return { retry: false, attempts: this.attemptsOf(request.id), resumeAt: this.now() };
  }

  /** Drops every queued request (the fetch is aborted); returns them. */
  clear(): T[] {
    const dropped = this.queue;
    this.queue = [];
    return dropped;
  }

  private requeue(request: T): RetryDecision {
    const attempts = this.attemptsOf(request.id);
    const resumeAt = Math.max(this.now(), this.blockedUntil);
    if (attempts >= this.maxAttempts) {
      this.stats.failed++;
      return { retry: false, attempts, resumeAt };
    }
    this.queue.unshift(request);
    return { retry: true, attempts, resumeAt };
  }

  private close(request: T): void {
    this.open.delete(request.id);
  }

  private paced(request: T): boolean {
    return this.scope === 'all' || request.smallBars === true;
  }

  /** A request heavier than a rule's capacity could never go: it counts as the capacity. */
  private weightOf(request: T): number {
    return Math.max(1, Math.min(request.weight, this.limits.burstCount - 1, this.limits.windowCount));
  }

  private prune(now: number): void {
    const L = this.limits;
    const keep = Math.max(L.windowMs, L.identicalMs, L.burstMs) + this.marginMs;
    this.history = this.history.filter((h) => now - h.at < keep);
  }

  private earliest(request: T, now: number): Slot<T> {
    let at = now;
    let reason: WaitReason | undefined;
    const later = (t: number, why: WaitReason) => {
      if (t > at) {
        at = t;
        reason = why;
      }
    };
    later(this.blockedUntil, 'backoff');
    if (this.paced(request)) {
      const L = this.limits;
      const weight = this.weightOf(request);
      const m = this.marginMs;
      for (const h of this.history) if (h.signature === request.signature && L.identicalMs > 0) later(h.at + L.identicalMs + m, 'identical');
      if (L.burstMs > 0) {
        later(
          freeAt(
            this.history.filter((h) => h.key === request.key),
            L.burstMs + m,
            L.burstCount - 1,
            weight,
            now,
          ),
          'burst',
        );
      }
      if (L.windowMs > 0) later(freeAt(this.history, L.windowMs + m, L.windowCount, weight, now), 'window');
    }
    return reason === undefined ? { request, at } : { request, at, reason };
  }
}

/**
 * Earliest t >= now at which the weights of `sent` still inside (t - span, t] plus `weight` fit
 * in `capacity`. An entry sent at `a` leaves the span at a + span.
 */
function freeAt(sent: readonly Sent[], spanMs: number, capacity: number, weight: number, now: number): number {
  const inside = sent.filter((h) => now - h.at < spanMs).sort((a, b) => a.at - b.at);
  let total = inside.reduce((s, h) => s + h.weight, 0);
  if (total + weight <= capacity) return now;
  for (const h of inside) {
    total -= h.weight;
    if (total + weight <= capacity) return Math.max(now, h.at + spanMs);
  }
  return now;
}
