/**
 * Which instruments are traded now: configured symbols (static/mixed) and symbols that arrive with
 * signals (dynamic/mixed), each activated on demand and retired when idle. Independent of IB and of
 * the kernel: it drives ports (universe-types.ts) that the backtest and the runner implement.
 *
 * Activation (a signal for a symbol with no trader, `add`, a configured symbol at start): resolve the
 * symbol (invalid ones are recorded and their signals skipped), check its trading parameters
 * (defaults merged with its overrides), take its market-data lines (or wait for them), subscribe and
 * warm up its history, then deliver the newest signal that waited. The async steps run under
 * `ports.hold`, so a backtest completes them at the signal's simulated time.
 *
 * Lines: never more than the allocator's budget. When full, symbols wait; a freed line goes to the
 * waiting symbol with an open position first, then configured/added ones, then the strongest |last
 * signal|, then the longest waiting. `status().waiting` reports who waits and why. Preemption
 * (`preempt`, default on; the choice is preemption.ts, the passes preemption-pass.ts): a waiter may
 * take the lines of a weak, flat, idle signal-driven member (retired: `evicted: …`; its unsubscribe
 * and release come before the waiter's acquire, so the budget holds). A member's strength is its
 * last signal's, 0 once that is older than `strengthMaxAgeMs` (default idleMs). At most `maxEvictionsPer10Min`
 * evictions in any 10 minutes. A pass runs when a symbol starts waiting, a waiter gets a signal or
 * a member goes flat (held work right after them; a fill is no place to unsubscribe), and by timer.
 *
 * Retirement: a signal-driven symbol with no signal for `idleMs`, flat and without working orders,
 * is unsubscribed and its lines freed; one with a position or orders is checked again when the host
 * reports it flat (`onFlat`) and at least every `recheckMs`, and never retired while it holds either. Configured and added symbols are not
 * retired for idleness. A later signal activates a retired symbol again.
 *
 * add/remove: a duplicate add, an invalid symbol, the removal of a symbol that is not a member throw
 * a UniverseError and change nothing. A removed symbol leaves once flat with no working orders
 * (graceful; `immediate` cancels its orders at once and refuses while a position is open); its
 * signals are then ignored until it is added again. Graceful removal with `removal.flatten`
 * 'market' (the default; per request overridable) also has the host stop the symbol's entries,
 * cancel its orders and close the position with a market order (`ports.flatten`, repeated at each
 * recheck until flat), so the symbol leaves instead of waiting for an exit that may never come.
 */
import { symbolProblem } from '../data/instrument.js';
import type { Signal } from '../signals/signal.js';
import { PREEMPT_DEFAULTS, signalStrength } from './preemption.js';
import { PREEMPT_TIMER, PreemptionPass } from './preemption-pass.js';
import { EntryIndex, MEMBER_STATES, byWaitingOrder, newEntry, view, type Entry, type WaitKey } from './universe-entry.js';
import { checkUniverseOptions } from './universe-options.js';
import {
  UNIVERSE_STATES,
  UniverseError,
  type ResolveOutcome,
  type UniverseCounters,
  type UniverseEntryView,
  type UniverseEvent,
  type UniverseOptions,
  type UniversePorts,
  type UniverseState,
  type UniverseStatus,
  type RemovalFlatten,
} from './universe-types.js';

export { checkUniverseOptions };

const IDLE = 'idle:';

export class UniverseManager {
  readonly mode: UniverseOptions['mode'];
  private readonly idleMs: number;
  private readonly recheckMs: number;
  private readonly maxSignalAgeMs: number;
  private readonly strengthMaxAgeMs: number;
  private readonly flattenPolicy: RemovalFlatten;
  /** Line preemption (preemption-pass.ts; off when `preempt` is false) */
  private readonly pass: PreemptionPass;
  /** By symbol, instrument and state (kept by transition()) */
  private readonly index = new EntryIndex();
  private readonly entries = this.index.bySymbol;
  private readonly byInstrument = this.index.byInstrument;
  private readonly listeners: ((e: UniverseEvent) => void)[] = [];
  private readonly ignoredOnce = new Set<string>();
  /** Symbols with a stale drop since their last delivery (the next drop's event is not `first`) */
  private readonly staleReported = new Set<string>();
  private started = false;
  readonly counters: UniverseCounters = { delivered: 0, ignored: 0, skippedInvalid: 0, skippedRetiring: 0, droppedStale: 0, evicted: 0 };

  constructor(
    options: UniverseOptions,
    private readonly ports: UniversePorts,
  ) {
    checkUniverseOptions(options);
    this.mode = options.mode;
    this.idleMs = options.idleMs ?? Infinity;
    this.recheckMs = options.recheckMs ?? (Number.isFinite(this.idleMs) ? this.idleMs : 60_000);
    this.maxSignalAgeMs = options.maxSignalAgeMs ?? this.idleMs;
    // not maxSignalAgeMs: a short trading limit (the runner's 5 min) must not make every quiet member evictable
    this.strengthMaxAgeMs = options.strengthMaxAgeMs ?? this.idleMs;
    this.flattenPolicy = options.removal?.flatten ?? 'market';
    const policy = options.preempt === false ? undefined : { minActiveMs: options.minActiveMs ?? PREEMPT_DEFAULTS.minActiveMs, margin: options.preemptMargin ?? PREEMPT_DEFAULTS.margin };
    this.pass = new PreemptionPass(policy, options.maxEvictionsPer10Min ?? PREEMPT_DEFAULTS.maxEvictionsPer10Min, options.preemptRecheckMs ?? PREEMPT_DEFAULTS.recheckMs, {
      ports,
      waiting: this.index.waiting,
      active: this.index.active,
      maxSignalAgeMs: this.maxSignalAgeMs,
      strengthMaxAgeMs: this.strengthMaxAgeMs,
      counters: this.counters,
      hasPosition: (e) => this.hasPosition(e),
      evict: (e, reason) => this.retire(e, reason, false),
      grantWaiting: () => this.grantWaiting(),
      warm: (e) => this.ports.hold(this.warm(e, e.generation)),
    });
    for (const symbol of options.symbols ?? []) this.entries.set(symbol, newEntry(symbol, 'static', -Infinity));
  }

  /** Every state change and ignored symbol (journal, logs) */
  on(listener: (e: UniverseEvent) => void): () => void {
    this.listeners.push(listener);
    return () => this.listeners.splice(this.listeners.indexOf(listener), 1);
  }

  /** Activates the configured symbols */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const e of this.entries.values()) if (e.state === 'pending') this.request(e);
  }

  /**
   * A signal (in time order): delivered when its symbol is active, else it activates the symbol. One
   * published more than maxSignalAgeMs ago is dropped (`droppedStale`), member or not: live, signals
   * arrive within a poll of publication, so only a backlog (a resumed run polling on from its
   * watermark) is that old, and it must not trade at today's prices nor take lines. In a backtest a
   * signal is dispatched at its availableAt: never stale.
   */
  onSignal(signal: Signal): void {
    const now = this.ports.now();
    const e = this.entries.get(signal.symbol);
    if (e?.state === 'invalid') {
      this.counters.skippedInvalid++;
      return;
    }
    if (e?.state === 'retiring' || e?.awaitingRemoval === true) {
      this.counters.skippedRetiring++;
      return;
    }
    const member = e !== undefined && MEMBER_STATES.has(e.state);
    if (!member && (e?.removed === true || (this.mode === 'static' && e?.pinned !== true))) {
      this.ignore(signal.symbol, now, e?.removed ? 'removed from the universe' : 'not in the static universe');
      return;
    }
    if (now - signal.availableAt > this.maxSignalAgeMs) {
      this.dropStale(signal, now);
      return;
    }
    if (member) {
      e.lastSignalAt = now;
      e.lastValue = signal.value;
      if (e.state === 'active') this.deliver(e, signal);
      else e.pending = signal;
      // a waiter's strength changed: it may now outrank a member
      if (e.state === 'waiting-for-line') this.pass.request();
      return;
    }
    const entry = e ?? newEntry(signal.symbol, 'signal', now);
    if (e === undefined) this.entries.set(signal.symbol, entry);
    entry.lastSignalAt = now;
    entry.lastValue = signal.value;
    entry.pending = signal;
    this.request(entry);
  }

  /**
   * Restore (KernelUniverse): the member is removed again once active (the host does that): its entries
   * count as stopped (the host stopped them; lifted only when it is active again after the removal)
   * and its signals are skipped (`skippedRetiring`) until the removal, so none is traded in between.
   * `on` false: the restore failed and the host lifted its stop.
   */
  awaitRemoval(symbol: string, on = true): void {
    const e = this.entries.get(symbol);
    if (e === undefined) return;
    // off: the restore failed (the host lifts its stop): the symbol is as if it had never been stopped
    e.awaitingRemoval = on;
    e.entriesStopped = on;
    e.pending = undefined;
  }

  /** A provider saw symbols for the first time (live): start resolving them before their signals are dispatched */
  notice(symbols: readonly string[]): void {
    if (this.mode === 'static') return;
    for (const symbol of symbols) {
      if (symbolProblem(symbol) !== undefined) continue;
      const e = this.entries.get(symbol);
      if (e !== undefined && (e.state !== 'retired' || e.removed)) continue;
      const entry = e ?? newEntry(symbol, 'signal', -Infinity);
      if (e === undefined) this.entries.set(symbol, entry);
      this.request(entry);
    }
  }

  /** Adds a symbol by hand (kept until removed); resolves once active or waiting for a line */
  async add(symbol: string): Promise<UniverseEntryView> {
    const bad = symbolProblem(symbol);
    if (bad !== undefined) throw new UniverseError('UNIVERSE_INVALID_SYMBOL', symbol, bad);
    const prev = this.entries.get(symbol);
    if (prev !== undefined && MEMBER_STATES.has(prev.state)) {
      throw new UniverseError('UNIVERSE_DUPLICATE', symbol, `already in the universe (${prev.state}, ${prev.origin === 'signal' ? 'from signals' : prev.origin})`);
    }
    if (prev?.state === 'retiring') throw new UniverseError('UNIVERSE_DUPLICATE', symbol, 'is being removed (retiring until flat); add it again once retired');
    const snapshot = prev === undefined ? undefined : { ...prev, waiters: [] };
    const e = prev ?? newEntry(symbol, 'added', this.ports.now());
    this.entries.set(symbol, e);
    Object.assign(e, { origin: 'added', pinned: true, removed: false, awaitingRemoval: false, pending: undefined });
    const done = new Promise<void>((resolve, reject) => e.waiters.push({ resolve, reject }));
    this.request(e);
    try {
      await done;
    } catch (err) {
      // nothing changes: the universe is as before the add
      if (snapshot === undefined) this.entries.delete(symbol);
      else Object.assign(e, snapshot);
      throw err;
    }
    return view(e);
  }

  /** Removes a member (see the file comment); returns its state afterwards (retiring or retired) */
  remove(symbol: string, mode: 'graceful' | 'immediate' = 'graceful', options: { flatten?: RemovalFlatten } = {}): UniverseEntryView {
    const e = this.entries.get(symbol);
    if (e !== undefined) e.awaitingRemoval = false;
    if (e === undefined || !MEMBER_STATES.has(e.state)) {
      throw new UniverseError('UNIVERSE_NOT_MEMBER', symbol, e === undefined ? 'not in the universe' : `not in the universe (${e.state}${e.reason ? `: ${e.reason}` : ''})`);
    }
    if (e.state === 'active') {
      const position = this.ports.position(e.instrument!);
      if (mode === 'immediate' && position !== 0) throw new UniverseError('UNIVERSE_POSITION_OPEN', symbol, `holds a position of ${position}: close it first, or remove gracefully (leaves once flat)`);
      e.removed = true;
      e.pinned = false;
      if (mode === 'graceful' && (position !== 0 || this.ports.workingOrders(e.instrument!) > 0)) {
        const flatten = (options.flatten ?? this.flattenPolicy) === 'market' && this.ports.flatten !== undefined;
        this.transition(e, 'retiring', flatten ? 'removed: closing the position at market, leaves once flat' : 'removed: leaves once flat with no working orders');
        e.closing = flatten;
        if (flatten) {
          e.entriesStopped = true;
          this.ports.flatten!(e.instrument!, 'removed from the universe');
          // cancels and a close that filled at once (an immediate venue) end the removal now
          if (this.ports.position(e.instrument!) === 0 && this.ports.workingOrders(e.instrument!) === 0) {
            this.retire(e, 'removed');
            return view(e);
          }
        }
        this.ports.setTimer(IDLE + symbol, this.ports.now() + this.recheckMs);
      } else this.retire(e, 'removed');
      return view(e);
    }
    e.removed = true;
    e.pinned = false;
    this.rejectWaiters(e, new UniverseError('UNIVERSE_NOT_MEMBER', symbol, 'removed before it became active'));
    this.retire(e, 'removed');
    return view(e);
  }

  /** The host routes its timers here; true when the timer was the universe's */
  onTimer(name: string): boolean {
    if (name === PREEMPT_TIMER) {
      this.pass.onTimer();
      return true;
    }
    if (!name.startsWith(IDLE)) return false;
    const e = this.entries.get(name.slice(IDLE.length));
    if (e === undefined) return true;
    const now = this.ports.now();
    if (e.state === 'retiring') {
      if (this.ports.position(e.instrument!) === 0 && this.ports.workingOrders(e.instrument!) === 0) this.retire(e, 'removed');
      else {
        // a closing order that was rejected or cancelled is sent again
        if (e.closing) this.ports.flatten?.(e.instrument!, 'removed from the universe (still not flat)');
        this.ports.setTimer(name, now + this.recheckMs);
      }
      return true;
    }
    if (e.pinned || !MEMBER_STATES.has(e.state)) return true;
    const due = (Number.isFinite(e.lastSignalAt) ? e.lastSignalAt : e.since) + this.idleMs;
    if (now < due) {
      this.ports.setTimer(name, due);
      return true;
    }
    if (e.state === 'waiting-for-line') {
      this.transition(e, 'retired', `no signal for ${seconds(this.idleMs)} while waiting for a line`);
    } else if (e.state !== 'active') {
      this.ports.setTimer(name, now + this.recheckMs);
    } else if (this.ports.position(e.instrument!) !== 0 || this.ports.workingOrders(e.instrument!) > 0) {
      this.ports.setTimer(name, now + this.recheckMs);
    } else {
      this.retire(e, `idle: no signal for ${seconds(this.idleMs)}, flat, no working orders`);
    }
    return true;
  }

  /**
   * The host saw the instrument's position go flat (a fill): a retirement that waited for it is
   * checked right after the current event (a timer at now), not at the next recheck.
   */
  onFlat(instrument: string): void {
    const e = this.byInstrument.get(instrument);
    if (e === undefined || e.instrument !== instrument) return;
    const overdue = e.state === 'active' && !e.pinned && this.ports.now() >= (Number.isFinite(e.lastSignalAt) ? e.lastSignalAt : e.since) + this.idleMs;
    if (e.state === 'retiring' || overdue) this.ports.setTimer(IDLE + e.symbol, this.ports.now());
    // a member that went flat may now be evicted for a waiter (after the fill's processing)
    else if (e.state === 'active' && !e.pinned) this.pass.request();
  }

  entry(symbol: string): UniverseEntryView | undefined {
    const e = this.entries.get(symbol);
    return e === undefined ? undefined : view(e);
  }

  /** Instruments streaming for the strategy now */
  activeInstruments(): string[] {
    return [...this.entries.values()].filter((e) => e.state === 'active' || e.state === 'retiring').map((e) => e.instrument!);
  }

  status(): UniverseStatus {
    const states = Object.fromEntries(UNIVERSE_STATES.map((s) => [s, 0])) as Record<UniverseState, number>;
    for (const e of this.entries.values()) states[e.state]++;
    const lines = this.ports.lines;
    return {
      mode: this.mode,
      lines: { budget: lines.budget, used: lines.used },
      states,
      waiting: this.waitingInOrder().map(({ e, hasPosition }) => ({ symbol: e.symbol, hasPosition, signal: e.lastValue, since: e.since, reason: e.reason ?? '' })),
      entries: [...this.entries.values()].map(view),
      counters: { ...this.counters },
    };
  }

  // ---- activation ------------------------------------------------------------------------

  private request(e: Entry): void {
    e.generation++;
    e.activations++;
    this.transition(e, 'resolving');
    this.ports.hold(this.activate(e, e.generation));
  }

  private async activate(e: Entry, gen: number): Promise<void> {
    let outcome: ResolveOutcome;
    try {
      outcome = await this.ports.resolve(e.symbol);
    } catch (err) {
      outcome = { status: 'failed', reason: message(err) };
    }
    if (e.generation !== gen) return;
    if (outcome.status !== 'ok') {
      const invalid = outcome.status === 'invalid';
      this.transition(e, invalid ? 'invalid' : 'retired', invalid ? outcome.reason : `could not resolve now (the next signal tries again): ${outcome.reason}`);
      this.rejectWaiters(e, new UniverseError('UNIVERSE_INVALID_SYMBOL', e.symbol, invalid ? outcome.reason : `could not resolve now: ${outcome.reason}`));
      return;
    }
    e.instrument = outcome.instrument;
    this.byInstrument.set(e.instrument, e);
    try {
      this.ports.createTrader(e.instrument, e.symbol);
    } catch (err) {
      this.transition(e, 'invalid', `no trader: ${message(err)}`);
      this.rejectWaiters(e, new UniverseError('UNIVERSE_INVALID_SYMBOL', e.symbol, `no trader: ${message(err)}`));
      return;
    }
    if (!this.ports.lines.tryAcquire(e.symbol)) {
      this.transition(e, 'waiting-for-line', `line budget ${this.ports.lines.budget} used up (${this.ports.lines.used} lines held)`);
      this.resolveWaiters(e);
      this.armIdle(e);
      this.pass.request();
      return;
    }
    e.holdsLine = true;
    await this.warm(e, gen);
  }

  private async warm(e: Entry, gen: number): Promise<void> {
    this.transition(e, 'warming');
    const instrument = e.instrument!;
    try {
      await this.ports.subscribe(instrument);
    } catch (err) {
      if (e.generation !== gen) return;
      this.transition(e, 'invalid', `no market data: ${message(err)}`);
      this.rejectWaiters(e, new UniverseError('UNIVERSE_INVALID_SYMBOL', e.symbol, `no market data: ${message(err)}`));
      this.releaseLine(e);
      return;
    }
    if (e.generation !== gen) {
      // removed while subscribing: its line is already free
      this.ports.unsubscribe(instrument);
      return;
    }
    e.subscribed = true;
    // a symbol awaiting its repeated removal keeps its entries stopped
    if (e.entriesStopped && !e.awaitingRemoval) {
      e.entriesStopped = false;
      this.ports.resumeEntries?.(instrument);
    }
    this.transition(e, 'active');
    this.resolveWaiters(e);
    this.armIdle(e);
    const p = e.pending;
    e.pending = undefined;
    if (p === undefined) return;
    if (e.awaitingRemoval) this.counters.skippedRetiring++;
    else if (this.ports.now() - p.availableAt <= this.maxSignalAgeMs) this.deliver(e, p);
    else this.dropStale(p, this.ports.now());
  }

  /** Counted and reported each time; `first` once per symbol until it gets a fresh signal delivered (a backlog: one note per symbol) */
  private dropStale(s: Signal, now: number): void {
    this.counters.droppedStale++;
    const first = !this.staleReported.has(s.symbol);
    if (first) this.staleReported.add(s.symbol);
    const event: UniverseEvent = { type: 'stale', ts: now, symbol: s.symbol, availableAt: s.availableAt, ageMs: now - s.availableAt, maxAgeMs: this.maxSignalAgeMs, first };
    for (const l of this.listeners) l(event);
  }

  private deliver(e: Entry, s: Signal): void {
    if (this.staleReported.size > 0) this.staleReported.delete(e.symbol);
    e.delivered++;
    this.counters.delivered++;
    this.ports.deliver({ ...s, instrument: e.instrument! });
  }

  // ---- lines and retirement ----------------------------------------------------------------

  private retire(e: Entry, reason: string, grant = true): void {
    e.generation++;
    e.awaitingRemoval = false;
    e.closing = false;
    e.pending = undefined;
    if (e.subscribed) {
      this.ports.unsubscribe(e.instrument!);
      e.subscribed = false;
    }
    this.ports.cancelTimer(IDLE + e.symbol);
    this.transition(e, 'retired', reason);
    this.releaseLine(e, grant);
  }

  private releaseLine(e: Entry, grant = true): void {
    if (!e.holdsLine) return;
    e.holdsLine = false;
    this.ports.lines.release(e.symbol);
    if (grant) this.grantWaiting();
  }

  /** Freed lines go to waiting symbols in priority order */
  private grantWaiting(): void {
    for (const { e: next } of this.waitingInOrder()) {
      if (!this.ports.lines.tryAcquire(next.symbol)) return;
      next.holdsLine = true;
      this.ports.hold(this.warm(next, next.generation));
    }
  }

  private waitingInOrder(): WaitKey[] {
    const keys: WaitKey[] = [];
    for (const e of this.index.waiting) keys.push({ e, hasPosition: this.hasPosition(e), strength: signalStrength(e.lastValue) });
    return keys.sort(byWaitingOrder);
  }

  private hasPosition(e: Entry): boolean {
    return e.instrument !== undefined && this.ports.position(e.instrument) !== 0;
  }

  private armIdle(e: Entry): void {
    if (e.pinned || !Number.isFinite(this.idleMs)) return;
    const from = Number.isFinite(e.lastSignalAt) ? e.lastSignalAt : this.ports.now();
    this.ports.setTimer(IDLE + e.symbol, Math.max(from + this.idleMs, this.ports.now()));
  }

  // ---- bookkeeping -------------------------------------------------------------------------

  private transition(e: Entry, to: UniverseState, reason?: string): void {
    const from = e.state;
    const ts = this.ports.now();
    this.index.move(e, to);
    e.reason = reason;
    e.since = ts;
    const event: UniverseEvent = { type: 'state', ts, symbol: e.symbol, instrument: e.instrument, from, to, ...(reason !== undefined ? { reason } : {}) };
    for (const l of this.listeners) l(event);
  }

  private ignore(symbol: string, ts: number, reason: string): void {
    this.counters.ignored++;
    if (this.ignoredOnce.has(symbol)) return;
    this.ignoredOnce.add(symbol);
    for (const l of this.listeners) l({ type: 'ignored', ts, symbol, reason });
  }

  private resolveWaiters(e: Entry): void {
    for (const w of e.waiters.splice(0)) w.resolve();
  }

  private rejectWaiters(e: Entry, error: Error): void {
    for (const w of e.waiters.splice(0)) w.reject(error);
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function seconds(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`;
}
