/**
 * Which of IB's positions a NEW run of a signal-driven universe (mode dynamic or mixed) may adopt
 * (`universe.adoptPositions`). In such a universe every ticker resolves, so without a policy a new
 * run would take EVERY stock position of the account into the engine and trade it (exits, signals):
 * right for an account dedicated to the runner, dangerous beside manual holdings or other strategies.
 *
 * - `journal` (default): the configured symbols plus the instruments the previous run of the same
 *   strategy and mode in this journal held at its end (`recover()`): what the runner itself left at
 *   IB. Every other position stays external (alerted, never traded).
 * - `all`: every position (a dedicated account).
 *
 * A static universe keeps its own rule (its configured symbols) and a resumed run restores what its
 * own journal holds: neither asks this policy.
 */
import { WorkbenchError } from '../../lib/core/errors.js';
import { Journal, type JournalRun } from '../../lib/journal/journal.js';
import { recover } from '../../lib/journal/recovery.js';
import type { Store } from '../../lib/store/store.js';
import type { AdoptPositions, UniverseSettings } from './config-schema-strategy.js';
import type { PositionDiscrepancy } from './execution-types.js';

/** What a new run under the `journal` policy may adopt, and why */
export interface AdoptionScope {
  strategy: string;
  mode: string;
  /** Instruments the run may adopt: configured symbols plus the previous run's positions */
  instruments: ReadonlySet<string>;
  /** The previous run of the strategy and mode (undefined: none in this journal) */
  previousRunId: string | undefined;
  /** Its positions at its end (instrument -> quantity) */
  previousPositions: Readonly<Record<string, number>>;
  /** Why the previous run's positions are unknown (its recovery failed): nothing of it is adopted */
  previousError?: string;
}

/** A broker position a new run leaves external under `universe.adoptPositions: journal` */
export class PositionNotAdoptedError extends WorkbenchError {
  readonly code = 'POSITION_NOT_ADOPTED';
}

export interface AdoptionScopeInput {
  strategy: string;
  mode: string;
  /** The new run (left out of the search) */
  runId: string;
  universe: Pick<UniverseSettings, 'mode' | 'symbols'> & { adoptPositions?: AdoptPositions | undefined };
}

/** The newest run of the strategy and mode other than `runId` (Journal.list: newest first) */
export function previousRun(runs: readonly JournalRun[], strategy: string, mode: string, runId: string): JournalRun | undefined {
  return runs.filter((r) => r.strategy === strategy && r.mode === mode && r.runId !== runId).sort((a, b) => b.startedAt - a.startedAt)[0];
}

/**
 * The adoption scope of a new run, or undefined when every position in the universe is adoptable:
 * a static universe (its configured symbols), or `adoptPositions: all`.
 */
export async function adoptionScope(store: Store, input: AdoptionScopeInput): Promise<AdoptionScope | undefined> {
  const u = input.universe;
  if (u.mode === 'static' || (u.adoptPositions ?? 'journal') === 'all') return undefined;
  const prev = previousRun(await Journal.list(store, 100_000), input.strategy, input.mode, input.runId);
  const instruments = new Set(u.mode === 'mixed' ? u.symbols : []);
  const scope: AdoptionScope = { strategy: input.strategy, mode: input.mode, instruments, previousRunId: prev?.runId, previousPositions: {} };
  if (prev === undefined) return scope;
  try {
    const recovery = await recover(store, prev.runId);
    scope.previousPositions = Object.fromEntries(Object.entries(recovery.positions).map(([k, p]) => [k, p.quantity]));
  } catch (e) {
    // a journal the runner cannot read back adopts nothing of it: the safe side is "not ours" (alerted)
    scope.previousError = e instanceof Error ? e.message : String(e);
    return scope;
  }
  for (const k of Object.keys(scope.previousPositions)) instruments.add(k);
  return scope;
}

/** Why `instrument` stays external under the `journal` policy (the alert's message) */
export function notAdoptedReason(scope: AdoptionScope, instrument: string): string {
  const prev =
    scope.previousRunId === undefined
      ? `no previous run of ${scope.strategy} in ${scope.mode} mode in this journal`
      : scope.previousError !== undefined
        ? `the previous run ${scope.previousRunId} of ${scope.strategy} could not be recovered (${scope.previousError})`
        : `not held by the previous run of ${scope.strategy} (${scope.previousRunId})`;
  return `new run: IB's position in ${instrument} stays external (universe.adoptPositions: journal): ${prev}; set universe.adoptPositions: all to adopt it`;
}

/**
 * The positions IB holds outside the runner after a reconciliation (`report.externalPositions`):
 * IB's quantity of every instrument the engine does not hold (`held`: a position or working orders,
 * i.e. adopted or traded by this run). A signal-driven universe refuses to activate these for a
 * signal (UniverseRunner.setExternalPositions): its trader would see position 0 and trade beside them.
 */
export function externalHoldings(positions: readonly Pick<PositionDiscrepancy, 'instrument' | 'brokerQuantity'>[], held: (instrument: string) => boolean): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of positions) if (p.brokerQuantity !== 0 && !held(p.instrument)) out.set(p.instrument, p.brokerQuantity);
  return out;
}

/** Why a signal's ticker is not activated: IB holds it outside the runner (the `invalid` reason) */
export function heldOutsideReason(symbol: string, quantity: number, policy: AdoptPositions): string {
  return `held outside the runner: IB holds ${quantity} ${symbol} (not adopted, universe.adoptPositions: ${policy}); its signals are skipped`;
}
