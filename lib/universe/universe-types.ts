/**
 * The universe manager's vocabulary: modes, the states an instrument goes through, the ports it
 * drives (so the backtest and the runner plug in their own resolver, lines, data and traders), its
 * events and its typed errors.
 */
import { WorkbenchError } from '../core/errors.js';
import type { RoutedSignal, Signal } from '../signals/signal.js';

/**
 * - `static`: the configured symbols only; signals for others are ignored.
 * - `dynamic`: signal-driven only: a symbol joins with its first signal (no configured symbols).
 * - `mixed`: the configured symbols as a fixed base, plus signal-driven additions.
 */
export const UNIVERSE_MODES = ['static', 'dynamic', 'mixed'] as const;
export type UniverseMode = (typeof UNIVERSE_MODES)[number];

/**
 * pending → resolving → (waiting-for-line →) warming → active → (retiring →) retired; resolving or
 * warming may end in `invalid` (unknown symbol, no trading parameters, no data), a transient
 * resolution failure in `retired` (the next signal tries again).
 */
export const UNIVERSE_STATES = ['pending', 'resolving', 'waiting-for-line', 'warming', 'active', 'retiring', 'retired', 'invalid'] as const;
export type UniverseState = (typeof UNIVERSE_STATES)[number];

/**
 * What a graceful removal does with an open position: `market` stops new entries of the symbol,
 * cancels its working orders and closes the position with one market order, then leaves once flat;
 * `none` only waits until the position is closed by other means.
 */
export const REMOVAL_FLATTEN = ['market', 'none'] as const;
export type RemovalFlatten = (typeof REMOVAL_FLATTEN)[number];

export interface UniverseOptions {
  mode: UniverseMode;
  /** static/mixed: the configured symbols: activated at start, never retired for idleness */
  symbols?: readonly string[];
  /**
   * A signal-driven symbol with no signal for this long, flat and without working orders, is retired
   * and its lines freed (never while it holds a position or orders). Default Infinity: never.
   */
  idleMs?: number;
  /** How soon a retirement held up by a position or working orders is checked again (besides when the position goes flat); default idleMs */
  recheckMs?: number;
  /**
   * A signal published longer ago than this (now - availableAt) is dropped, not traded, whether its
   * symbol is active, still activating (checked again when it becomes active) or not a member (it
   * activates nothing), and a waiting symbol's held signal older than this no longer lets it evict
   * a member (it would be dropped at activation); default idleMs. The runner sets it from
   * `signals.maxAgeSeconds` (a resumed run's downtime backlog arrives in one burst).
   */
  maxSignalAgeMs?: number;
  /**
   * Preemption: a member whose last signal arrived longer ago than this has strength 0 (any fresh
   * waiter may take its lines). Default idleMs: a member keeps its last signal's strength until it
   * would retire idle. Separate from maxSignalAgeMs, which only says whether a signal may still trade.
   */
  strengthMaxAgeMs?: number;
  /** Graceful removal's policy for an open position; default { flatten: 'market' } */
  removal?: { flatten?: RemovalFlatten };
  /**
   * Preemption (default true): with the budget full, a waiting symbol with a stronger signal (or an
   * open position) takes the lines of a weak signal-driven member that is flat, has no working
   * orders and has been active for `minActiveMs` (see preemption.ts). false: waiters only get lines
   * that free up.
   */
  preempt?: boolean;
  /** A signal-driven member is never evicted before it has been active this long; default 5 min */
  minActiveMs?: number;
  /** The waiter's |signal| must exceed the member's × (1 + preemptMargin); default 0.25 */
  preemptMargin?: number;
  /**
   * At most this many evictions in any 10 minutes of engine time, all lines together (each costs a
   * warm-up history request; IB allows 60 in 10 minutes); default 30, Infinity: no budget. When it
   * is spent, waiters wait and the next pass comes when the oldest eviction leaves the window.
   */
  maxEvictionsPer10Min?: number;
  /** While a waiter could evict (a position, pinned, or a fresh signal), passes are repeated this often; default 1 min */
  preemptRecheckMs?: number;
}

export type ResolveOutcome =
  | { status: 'ok'; instrument: string }
  /** The symbol does not exist (IB error 200, not in the store): recorded, its signals skipped */
  | { status: 'invalid'; reason: string }
  /** Could not ask now (disconnected, rate limited, circuit open): the next signal tries again */
  | { status: 'failed'; reason: string };

/** Market-data lines: the universe never holds more than the budget (runner: IB lines; backtest: a cap) */
export interface LineAllocator {
  /** Lines the universe may use */
  readonly budget: number;
  readonly used: number;
  /** Takes the lines of one instrument if they are free */
  tryAcquire(symbol: string): boolean;
  release(symbol: string): void;
}

/** What the universe drives; the kernel host (kernel-universe.ts) and the runner implement it */
export interface UniversePorts {
  /** Symbol → engine instrument (runner: the contract resolver with its cache, rate limit and invalid records) */
  resolve(symbol: string): Promise<ResolveOutcome>;
  lines: LineAllocator;
  /** Checks (and builds) the instrument's trader from the defaults merged with its overrides; throws a ConfigError */
  createTrader(instrument: string, symbol: string): unknown;
  /** Subscribes the instrument's data and loads its warm-up history; resolves once it streams */
  subscribe(instrument: string): Promise<void>;
  unsubscribe(instrument: string): void;
  position(instrument: string): number;
  workingOrders(instrument: string): number;
  /** Hands a signal of an active instrument to the strategy */
  deliver(signal: RoutedSignal): void;
  /**
   * Graceful removal with flatten 'market': stop new entries of the instrument, cancel its working
   * orders and close its position with one market order (idempotent: called again at each recheck
   * while not flat). Without it, 'market' behaves as 'none'.
   */
  flatten?(instrument: string, reason: string): void;
  /** The instrument is active again (added back after a flattening removal): entries may open */
  resumeEntries?(instrument: string): void;
  now(): number;
  setTimer(name: string, at: number): void;
  cancelTimer(name: string): void;
  /** Async work started now (activation): a backtest finishes it before its next event (kernel.hold) */
  hold(work: Promise<unknown>): void;
}

export interface UniverseEntryView {
  symbol: string;
  instrument: string | undefined;
  state: UniverseState;
  origin: 'static' | 'signal' | 'added';
  /** Never retired for idleness (configured or added by hand) */
  pinned: boolean;
  lastSignalAt: number;
  lastValue: number;
  /** Why it is invalid, waiting, retiring or retired */
  reason: string | undefined;
  activations: number;
  /** Signals delivered to the strategy */
  delivered: number;
}

export interface UniverseStatus {
  mode: UniverseMode;
  lines: { budget: number; used: number };
  states: Record<UniverseState, number>;
  /** Waiting for a line, in the order they would get one */
  waiting: { symbol: string; hasPosition: boolean; signal: number; since: number; reason: string }[];
  entries: UniverseEntryView[];
  counters: UniverseCounters;
}

export interface UniverseCounters {
  delivered: number;
  /** Signals for symbols outside a static universe */
  ignored: number;
  /** Signals for invalid symbols */
  skippedInvalid: number;
  /** Signals for symbols being removed (or restored and awaiting their repeated removal) */
  skippedRetiring: number;
  /** Signals older than maxSignalAgeMs when they arrived or when their symbol became active */
  droppedStale: number;
  /** Active members whose lines were given to a stronger waiting symbol (preemption) */
  evicted: number;
}

export type UniverseEvent =
  | { type: 'state'; ts: number; symbol: string; instrument: string | undefined; from: UniverseState | 'none'; to: UniverseState; reason?: string }
  /** The first signal of a symbol a static universe does not trade */
  | { type: 'ignored'; ts: number; symbol: string; reason: string }
  /**
   * A signal dropped as older than maxSignalAgeMs (counter droppedStale): one event per dropped
   * signal; `first` is true for a symbol's first drop since one of its signals was delivered (a
   * backlog: one note per symbol)
   */
  | { type: 'stale'; ts: number; symbol: string; availableAt: number; ageMs: number; maxAgeMs: number; first: boolean };

export type UniverseErrorCode = 'UNIVERSE_DUPLICATE' | 'UNIVERSE_INVALID_SYMBOL' | 'UNIVERSE_NOT_MEMBER' | 'UNIVERSE_POSITION_OPEN';

/** A refused add/remove: nothing changed */
export class UniverseError extends WorkbenchError {
  readonly code: UniverseErrorCode;
  readonly symbol: string;
  constructor(code: UniverseErrorCode, symbol: string, message: string) {
    super(`${symbol}: ${message}`);
    this.code = code;
    this.symbol = symbol;
  }
}

export type { RoutedSignal, Signal };
