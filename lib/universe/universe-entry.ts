/**
 * The universe manager's bookkeeping of one symbol (Entry), its public view, the waiting order and
 * the indexes by symbol, instrument and state that the manager keeps (universe-manager.ts).
 */
import type { Signal } from '../signals/signal.js';
import type { UniverseEntryView, UniverseState } from './universe-types.js';

export interface Entry {
  symbol: string;
  instrument: string | undefined;
  state: UniverseState;
  origin: 'static' | 'signal' | 'added';
  pinned: boolean;
  /** Removed by hand: its signals are ignored until it is added again */
  removed: boolean;
  lastSignalAt: number;
  lastValue: number;
  /** The newest signal that arrived before the symbol was active */
  pending: Signal | undefined;
  /** When it entered its state (waiting order) */
  since: number;
  reason: string | undefined;
  activations: number;
  delivered: number;
  /** Its entries were stopped by a flattening removal: resumed when it is active again */
  entriesStopped: boolean;
  /** A flattening removal is under way: its close is sent again at each recheck until flat */
  closing: boolean;
  /** A restored symbol that is removed again once active: its entries stay stopped, its signals are skipped */
  awaitingRemoval: boolean;
  /** Bumped by every activation and removal: a stale async step sees it changed and stops */
  generation: number;
  holdsLine: boolean;
  subscribed: boolean;
  /** add() callers waiting for active/waiting (resolve) or failure (reject) */
  waiters: { resolve: () => void; reject: (e: Error) => void }[];
}

/** A waiting symbol keyed for the waiting order: position, pinned, |last signal|, waiting since, symbol */
export interface WaitKey {
  e: Entry;
  hasPosition: boolean;
  strength: number;
}

export function byWaitingOrder(a: WaitKey, b: WaitKey): number {
  return Number(b.hasPosition) - Number(a.hasPosition) || Number(b.e.pinned) - Number(a.e.pinned) || b.strength - a.strength || a.e.since - b.e.since || (a.e.symbol < b.e.symbol ? -1 : 1);
}

export const MEMBER_STATES: ReadonlySet<UniverseState> = new Set(['pending', 'resolving', 'waiting-for-line', 'warming', 'active']);

export function newEntry(symbol: string, origin: Entry['origin'], since: number): Entry {
  const pinned = origin !== 'signal';
  return { symbol, instrument: undefined, state: 'pending', origin, pinned, removed: false, lastSignalAt: -Infinity, lastValue: NaN, pending: undefined, since, reason: undefined, activations: 0, delivered: 0, entriesStopped: false, closing: false, awaitingRemoval: false, generation: 0, holdsLine: false, subscribed: false, waiters: [] };
}

export function view(e: Entry): UniverseEntryView {
  return { symbol: e.symbol, instrument: e.instrument, state: e.state, origin: e.origin, pinned: e.pinned, lastSignalAt: e.lastSignalAt, lastValue: e.lastValue, reason: e.reason, activations: e.activations, delivered: e.delivered };
}

/** The entries by symbol and instrument, and by state where the manager scans often */
export class EntryIndex {
  readonly bySymbol = new Map<string, Entry>();
  readonly byInstrument = new Map<string, Entry>();
  /** Kept by move(): the preemption checks and the waiting order look only at these */
  readonly waiting = new Set<Entry>();
  readonly active = new Set<Entry>();

  /** Sets the entry's state and keeps the state sets */
  move(e: Entry, to: UniverseState): void {
    const from = e.state;
    if (from === 'waiting-for-line') this.waiting.delete(e);
    else if (from === 'active') this.active.delete(e);
    if (to === 'waiting-for-line') this.waiting.add(e);
    else if (to === 'active') this.active.add(e);
    e.state = to;
  }
}
