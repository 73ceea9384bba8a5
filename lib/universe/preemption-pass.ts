/**
 * Line preemption carried out for the universe manager: when a pass runs (held work after the
 * events that ask for one, a timer when a member comes of age, a spent eviction comes back or
 * waiters could evict by changes nobody reports), the inputs it gathers, and the evictions it makes
 * within the eviction budget's window. The choice itself is preemption.ts (pure).
 */
import { EvictionBudget, planEvictions, signalStrength, type PreemptionPolicy } from './preemption.js';
import { byWaitingOrder, type Entry, type WaitKey } from './universe-entry.js';
import type { UniverseCounters, UniversePorts } from './universe-types.js';

/** The timer name the host routes back to onTimer */
export const PREEMPT_TIMER = 'preempt';

type Waiter = WaitKey & { symbol: string; pinned: boolean };
type Member = { symbol: string; strength: number; activeSince: number; lastSignalAt: number; e: Entry };

/** What a pass needs of the manager */
export interface PreemptionHost {
  readonly ports: UniversePorts;
  readonly waiting: ReadonlySet<Entry>;
  readonly active: ReadonlySet<Entry>;
  /** A waiter's held signal older than this would be dropped at activation: it evicts nobody */
  readonly maxSignalAgeMs: number;
  /** A member whose last signal is older than this has strength 0 */
  readonly strengthMaxAgeMs: number;
  readonly counters: UniverseCounters;
  hasPosition(e: Entry): boolean;
  /** Retires the evictee; its lines are not granted to the queue (the waiter takes them) */
  evict(e: Entry, reason: string): void;
  /** Freed lines go to waiting symbols in priority order */
  grantWaiting(): void;
  /** Warms a waiter that took lines, as held work */
  warm(e: Entry): void;
}

export class PreemptionPass {
  /** When the preemption timer is due (Infinity: not armed) */
  private preemptAt = Infinity;
  /** A pass is queued as held work (request) */
  private passQueued = false;
  private readonly evictionBudget: EvictionBudget;

  /** `policy` undefined: preemption off (nothing ever runs) */
  constructor(
    private readonly policy: PreemptionPolicy | undefined,
    maxEvictionsPer10Min: number,
    private readonly recheckMs: number,
    private readonly host: PreemptionHost,
  ) {
    this.evictionBudget = new EvictionBudget(maxEvictionsPer10Min);
  }

  /**
   * A pass for a new waiter, a waiter's signal or a member gone flat: one for all those handled
   * together (hundreds of waiting symbols may signal at once), run as held work right after them.
   * Not a timer at now: the kernel fires that just before its next, later event without waiting
   * for the activation it starts, so the waiter would activate a bar late in a backtest. Held work
   * completes at this simulated time (a backtest waits for it after each event: one pass per
   * signal there); a live kernel runs it once the current batch of events is done.
   */
  request(): void {
    if (this.policy === undefined || this.host.waiting.size === 0 || this.passQueued) return;
    this.passQueued = true;
    this.host.ports.hold(
      Promise.resolve().then(() => {
        this.passQueued = false;
        this.run();
      }),
    );
  }

  /** The PREEMPT_TIMER fired */
  onTimer(): void {
    this.preemptAt = Infinity;
    this.run();
  }

  /** Asks for a pass at `at` (only while someone waits); an earlier request wins */
  private arm(at: number): void {
    if (this.policy === undefined || this.host.waiting.size === 0 || at >= this.preemptAt) return;
    this.preemptAt = at;
    this.host.ports.setTimer(PREEMPT_TIMER, at);
  }

  /**
   * Waiters that may evict: one with a position, a configured or operator-added one, or one with a
   * signal still fresh enough to deliver (evicting for a signal that will be dropped as stale would
   * gain nothing). Members offered: signal-driven, active, flat, no working orders, with their
   * strength (0 once their last signal is older than strengthMaxAgeMs); planEvictions applies age,
   * margin and the eviction budget.
   */
  private run(): void {
    const p = this.policy;
    const h = this.host;
    if (p === undefined || h.waiting.size === 0) return;
    const now = h.ports.now();
    const members: Member[] = [];
    let weakest = Infinity;
    for (const e of h.active) {
      if (e.origin !== 'signal' || e.pinned || e.removed) continue;
      if (h.ports.position(e.instrument!) !== 0 || h.ports.workingOrders(e.instrument!) > 0) continue;
      const strength = now - e.lastSignalAt <= h.strengthMaxAgeMs ? signalStrength(e.lastValue) : 0;
      weakest = Math.min(weakest, strength);
      members.push({ symbol: e.symbol, strength, activeSince: e.since, lastSignalAt: e.lastSignalAt, e });
    }
    // only waiters that could take even the weakest member are ordered, each position asked once
    const floor = weakest * (1 + p.margin);
    const able: Waiter[] = [];
    let hopeful = 0;
    for (const e of h.waiting) {
      const hasPosition = h.hasPosition(e);
      const fresh = e.pending !== undefined && now - e.pending.availableAt <= h.maxSignalAgeMs;
      if (!hasPosition && !e.pinned && !fresh) continue;
      hopeful++;
      const strength = signalStrength(e.lastValue);
      if (hasPosition || e.pinned || strength > floor) able.push({ symbol: e.symbol, strength, hasPosition, pinned: e.pinned, e });
    }
    able.sort(byWaitingOrder);
    const plan = planEvictions(able, members, now, p, this.evictionBudget.available(now));
    for (const { waiter, evictee, why } of plan.evictions) {
      h.counters.evicted++;
      this.evictionBudget.spend(now);
      h.evict(evictee.e, `evicted: line given to ${waiter.symbol} (${why})`);
      // the freed lines go to this waiter, not to the head of the queue
      if (!h.ports.lines.tryAcquire(waiter.symbol)) {
        h.grantWaiting();
        continue;
      }
      waiter.e.holdsLine = true;
      h.warm(waiter.e);
    }
    // the budget is spent: nothing can be evicted before a spent eviction leaves the window
    if (plan.paced) this.arm(this.evictionBudget.nextAt(now));
    else {
      if (Number.isFinite(plan.recheckAt)) this.arm(plan.recheckAt);
      // the others may be served by changes nobody reports: orders cancelled or expired, signals going stale
      if (hopeful > plan.evictions.length) this.arm(now + this.recheckMs);
    }
  }
}
