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
 * - `recheckAt`: when a member now too young comes of age and some unserved waiter would take it,
 *   so the strong waiter does not wait for the next signal or for an idle retirement.
 */

/**
 * Defaults. 5 minutes: a member gets at least five 1-minute bars to act on the signal that brought
 * it in (the rules enter on it at once; one that entered is not flat and stays), and one line
 * changes hands at most 12 times an hour (each activation costs a warm-up history request, which
 * IB paces). 25%: models' successive scores jitter by a few percent; a waiter must be clearly
 * stronger, and two symbols can never evict each other back and forth on unchanged signals.
 */
export const PREEMPT_DEFAULTS = { minActiveMs: 5 * 60_000, margin: 0.25 } as const;

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

/** |value| of a signal; no signal (NaN) is no strength */
export function signalStrength(value: number): number {
  return Number.isFinite(value) ? Math.abs(value) : 0;
}

/** Which waiter takes which member's lines now (waiters in waiting order), and when to look again */
export function planEvictions<W extends PreemptWaiter, M extends PreemptMember>(waiters: readonly W[], members: readonly M[], now: number, p: PreemptionPolicy): { evictions: Eviction<W, M>[]; recheckAt: number } {
  const evictions: Eviction<W, M>[] = [];
  if (waiters.length === 0 || members.length === 0) return { evictions, recheckAt: Infinity };
  const order = [...members].sort((a, b) => a.strength - b.strength || a.lastSignalAt - b.lastSignalAt || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  const taken = new Set<M>();
  const unserved: W[] = [];
  for (const w of waiters) {
    let chosen: M | undefined;
    for (const m of order) {
      if (!w.hasPosition && !w.pinned && !(w.strength > m.strength * (1 + p.margin))) break; // the rest are stronger still
      if (taken.has(m) || now - m.activeSince < p.minActiveMs) continue;
      chosen = m;
      break;
    }
    if (chosen === undefined) {
      unserved.push(w);
      continue;
    }
    taken.add(chosen);
    evictions.push({ waiter: w, evictee: chosen, why: w.hasPosition ? 'it holds a position' : w.pinned ? 'configured or added by the operator' : `|signal| ${num(w.strength)} > ${num(chosen.strength)}` });
  }
  let recheckAt = Infinity;
  if (unserved.length > 0) {
    let anyPosition = false;
    let strongest = 0;
    for (const w of unserved) {
      anyPosition ||= w.hasPosition || w.pinned;
      strongest = Math.max(strongest, w.strength);
    }
    for (const m of order) {
      if (taken.has(m) || now - m.activeSince >= p.minActiveMs) continue;
      if (anyPosition || strongest > m.strength * (1 + p.margin)) recheckAt = Math.min(recheckAt, m.activeSince + p.minActiveMs);
    }
  }
  return { evictions, recheckAt };
}

function num(x: number): string {
  return String(Number(x.toPrecision(4)));
}
