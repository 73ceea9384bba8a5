/**
 * Line preemption, the pure choice (the universe manager gathers the inputs and carries it out):
 * when the line budget is full, a waiting symbol may take the lines of one active member.
 *
 * - Members offered here are already eligible by state (the manager's job): signal-driven, active
 *   (not retiring), flat, no working orders. Here: active for at least `minActiveMs`, and weaker
 *   than the waiter by the margin: waiter |signal| > member |signal| × (1 + margin). A waiter with
 *   an open position needs no margin (it cannot run its exits without data), nor does a configured
 *   or operator-added one (the operator asked for it; a model's weak score does not outrank that).
 * - Waiters are served in the waiting order (position, pinned, |signal|, time); each takes the
 *   weakest eligible member (ties: the longest since its last signal, then the symbol), one each.
 *   So the members taken are always a prefix of the eligible ones sorted weakest first, and the
 *   first signal-backed waiter that cannot take the next one ends the pass: every waiter after it
 *   is signal-backed and no stronger. A pass is O(waiters + members log members).
 * - `limit`: evictions the budget allows now (EvictionBudget); `paced` says it stopped one.
 * - `recheckAt`: when a member now too young comes of age and some unserved waiter would take it,
 *   so the strong waiter does not wait for the next signal or for an idle retirement.
 */

/**
 * Defaults. 5 minutes: a member gets at least five 1-minute bars to act on the signal that brought
 * it in (the rules enter on it at once; one that entered is not flat and stays). 25%: models'
 * successive scores jitter by a few percent; a waiter must be clearly stronger, and two symbols can
 * never evict each other back and forth on unchanged signals.
 * 30 evictions per 10 minutes: each eviction starts a warm-up history request for the waiter, and
 * IB allows 60 historical requests in any 10 minutes (error 162 beyond; tws-protocol.md). Half of
 * that goes to preemption; the other half stays for what the budget does not limit: symbols taking
 * free lines, adds, restarts, backfills after a reconnect. minActiveMs alone only paces each line
 * (12 changes an hour), not their total (1,200 an hour on 100 lines).
 * 1 minute between re-checks while someone could evict: a member's orders may be cancelled or
 * expire, or its signal go stale, without an event the manager sees; a pass costs microseconds.
 */
export const PREEMPT_DEFAULTS = { minActiveMs: 5 * 60_000, margin: 0.25, maxEvictionsPer10Min: 30, recheckMs: 60_000 } as const;

export interface PreemptionPolicy {
  minActiveMs: number;
  margin: number;
}

export interface PreemptWaiter {
  symbol: string;
  /** |last signal| (0 without one) */
  strength: number;
  hasPosition: boolean;
  /** Configured or added by the operator */
  pinned: boolean;
}

export interface PreemptMember {
  symbol: string;
  /** |last signal|; 0 without one, or when it is older than maxSignalAgeMs (the manager's call) */
  strength: number;
  /** When it became active */
  activeSince: number;
  lastSignalAt: number;
}

export interface Eviction<W, M> {
  waiter: W;
  evictee: M;
  /** Why, for the evictee's retirement reason */
  why: string;
}

export interface EvictionPlan<W, M> {
  evictions: Eviction<W, M>[];
  /** When a young member comes of age that an unserved waiter would take (Infinity: none) */
  recheckAt: number;
  /** The limit stopped an eviction that would have happened */
  paced: boolean;
}

/** |value| of a signal; no signal (NaN) is no strength */
export function signalStrength(value: number): number {
  return Number.isFinite(value) ? Math.abs(value) : 0;
}

/**
 * Which waiter takes which member's lines now, and when to look again. `waiters` must be in waiting
 * order (position first, then pinned, then |signal| descending): the early end relies on it.
 */
export function planEvictions<W extends PreemptWaiter, M extends PreemptMember>(waiters: readonly W[], members: readonly M[], now: number, p: PreemptionPolicy, limit = Infinity): EvictionPlan<W, M> {
  const evictions: Eviction<W, M>[] = [];
  if (waiters.length === 0 || members.length === 0) return { evictions, recheckAt: Infinity, paced: false };
  const eligible: M[] = [];
  const young: M[] = [];
  for (const m of members) (now - m.activeSince >= p.minActiveMs ? eligible : young).push(m);
  eligible.sort(weakestFirst);
  // eligible[taken..] are still there: each served waiter took the weakest one left
  let taken = 0;
  let i = 0;
  let paced = false;
  for (; i < waiters.length && taken < eligible.length; i++) {
    const w = waiters[i]!;
    const m = eligible[taken]!;
    if (!w.hasPosition && !w.pinned && !(w.strength > m.strength * (1 + p.margin))) break;
    if (evictions.length >= limit) {
      paced = true;
      break;
    }
    taken++;
    evictions.push({ waiter: w, evictee: m, why: w.hasPosition ? 'it holds a position' : w.pinned ? 'configured or added by the operator' : `|signal| ${num(w.strength)} > ${num(m.strength)}` });
  }
  let recheckAt = Infinity;
  // the first unserved waiter leads the rest: a position or pin among them is here, else it is the strongest
  const first = waiters[i];
  if (first !== undefined) {
    const any = first.hasPosition || first.pinned;
    for (const m of young) if (any || first.strength > m.strength * (1 + p.margin)) recheckAt = Math.min(recheckAt, m.activeSince + p.minActiveMs);
  }
  return { evictions, recheckAt, paced };
}

function weakestFirst(a: PreemptMember, b: PreemptMember): number {
  return a.strength - b.strength || a.lastSignalAt - b.lastSignalAt || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0);
}

/**
 * The global eviction budget: at most `max` evictions in any `windowMs` of engine time (a token
 * spent at t is back at t + windowMs), the way IB counts historical requests. Deterministic: it
 * sees only the times it is given.
 */
export class EvictionBudget {
  /** Times of the evictions still in the window, oldest first (times[start..]) */
  private times: number[] = [];
  private start = 0;

  constructor(
    readonly max: number,
    readonly windowMs = 10 * 60_000,
  ) {}

  /** Evictions allowed at `now` */
  available(now: number): number {
    if (this.max === Infinity) return Infinity;
    this.expire(now);
    return this.max - (this.times.length - this.start);
  }

  /** When the next eviction is allowed (now when one is) */
  nextAt(now: number): number {
    if (this.available(now) > 0) return now;
    return this.times[this.start]! + this.windowMs;
  }

  spend(now: number): void {
    if (this.max !== Infinity) this.times.push(now);
  }

  private expire(now: number): void {
    while (this.start < this.times.length && this.times[this.start]! <= now - this.windowMs) this.start++;
    if (this.start > 64 && this.start * 2 > this.times.length) {
      this.times = this.times.slice(this.start);
      this.start = 0;
    }
  }
}

function num(x: number): string {
  return String(Number(x.toPrecision(4)));
}
