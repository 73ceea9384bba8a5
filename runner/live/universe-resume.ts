/**
 * What a signal-driven universe takes back from its journal when the runner resumes a run, and which
 * members it brings back before the strategy starts (universe-runner.ts writes the notes read here).
 *
 * - Signal watermark: the poller's position in the provider, journaled as a note
 *   `{ signals: 'watermark', provider, watermark }` at the start of a new run and whenever a poll
 *   hands on a batch that moves it, before the kernel dispatches the batch. Every order those
 *   signals cause is journaled durably after it (and a durable append makes everything before it
 *   durable), so a signal that traded is never polled again after a crash: at most once. The
 *   milliseconds between hand-off and the note's commit (buffered, ~25 ms) are the documented loss
 *   window: a crash inside them re-delivers a batch that cannot have traded yet.
 * - Members: the universe's state notes `{ universe: SYM, from, to, origin, flatten? }`; the last one
 *   per symbol says what it was at the crash. Operator-added members come back pinned, a symbol being
 *   removed with a position or working orders comes back and is removed again, and every other
 *   position or adopted working order in a ticker the config does not name comes back as a
 *   signal-driven member (`restorePlan`).
 */
import type { JournalRecord } from '../../lib/journal/journal.js';
import { journalRecordColumns, toRecord } from '../../lib/journal/journal.js';
import type { SignalWatermark } from '../../lib/signals/provider.js';
import type { Store } from '../../lib/store/store.js';
import type { UniverseRestore } from '../../lib/universe/kernel-universe.js';
import type { RemovalFlatten, UniverseEntryView, UniverseState } from '../../lib/universe/universe-types.js';

/** The `signals` value of a watermark note */
export const WATERMARK_NOTE = 'watermark';

export type WatermarkNote = {
  signals: typeof WATERMARK_NOTE;
  provider: string;
  watermark: SignalWatermark;
};

export function watermarkNote(provider: string, watermark: SignalWatermark): WatermarkNote {
  return { signals: WATERMARK_NOTE, provider, watermark };
}

/** A symbol as its last state note left it */
export interface JournaledMember {
  state: UniverseState;
  /** Absent in notes written before origins were journaled: treated as signal-driven */
  origin: UniverseEntryView['origin'] | undefined;
  /** A graceful removal's policy (on the note that entered `retiring`) */
  flatten: RemovalFlatten | undefined;
}

export interface UniverseResume {
  /** Provider name -> the last watermark journaled for it */
  watermarks: Map<string, SignalWatermark>;
  /** Symbol -> its last state */
  members: Map<string, JournaledMember>;
}

const STATES_IN_UNIVERSE: ReadonlySet<UniverseState> = new Set(['pending', 'resolving', 'waiting-for-line', 'warming', 'active']);

/** Pure: the watermarks and member states of a run's note records (any order; other records ignored) */
export function universeResumeFromRecords(records: readonly JournalRecord[]): UniverseResume {
  const out: UniverseResume = { watermarks: new Map(), members: new Map() };
  for (const r of [...records].sort((a, b) => a.seq - b.seq)) {
    if (r.kind !== 'note' || typeof r.payload !== 'object' || r.payload === null) continue;
    const p = r.payload as Record<string, unknown>;
    if (p['signals'] === WATERMARK_NOTE && typeof p['provider'] === 'string' && isWatermark(p['watermark'])) {
      out.watermarks.set(p['provider'], p['watermark']);
    } else if (typeof p['universe'] === 'string' && typeof p['to'] === 'string') {
      const origin = p['origin'];
      const flatten = p['flatten'];
      out.members.set(p['universe'], {
        state: p['to'] as UniverseState,
        origin: origin === 'static' || origin === 'signal' || origin === 'added' ? origin : undefined,
        flatten: flatten === 'market' || flatten === 'none' ? flatten : undefined,
      });
    }
  }
  return out;
}

/** Loads the universe notes of a run (after `recover()`, which syncs the intent log) */
export async function readUniverseResume(store: Store, runId: string): Promise<UniverseResume> {
  const rows = await store.all<Record<string, unknown>>(
    `SELECT ${journalRecordColumns()} FROM journal WHERE run_id = $1 AND kind = 'note'
       AND (json_extract_string(payload, '$.signals') = '${WATERMARK_NOTE}' OR json_extract_string(payload, '$.universe') IS NOT NULL)
     ORDER BY seq`,
    [runId],
  );
  return universeResumeFromRecords(rows.map(toRecord));
}

export interface RestoreInputs {
  /** The configured symbols (static/mixed): the universe activates them itself */
  configured: readonly string[];
  /** Instruments the engine holds a position in when the strategy starts (journal and broker) */
  positions: readonly string[];
  /**
   * Instruments of the engine's working orders when the strategy starts (adopted by prepareResume):
   * a flat symbol with one comes back too, or a fill would leave an unmanaged position
   */
  workingOrders?: readonly string[];
  /** The journal's members (a resumed run); none for a new run */
  members?: ReadonlyMap<string, JournaledMember>;
}

/**
 * Who comes back: members added by the operator (pinned again), symbols being removed that still
 * hold a position or working orders (activated and removed again with their policy), and every other
 * position or working order outside the configured symbols (a signal-driven member: line priority
 * while it holds the position, never retired with a position or orders, retired once flat and idle).
 * Configured symbols are left to the universe's own start.
 */
export function restorePlan(i: RestoreInputs): Required<UniverseRestore> {
  const configured = new Set(i.configured);
  const held = new Set([...i.positions, ...(i.workingOrders ?? [])]);
  const added: string[] = [];
  const removing: { symbol: string; flatten?: RemovalFlatten }[] = [];
  for (const [symbol, m] of i.members ?? []) {
    if (m.state === 'retiring' && held.has(symbol)) removing.push({ symbol, ...(m.flatten !== undefined ? { flatten: m.flatten } : {}) });
    else if (m.origin === 'added' && STATES_IN_UNIVERSE.has(m.state) && !configured.has(symbol)) added.push(symbol);
  }
  const taken = new Set([...added, ...removing.map((r) => r.symbol)]);
  // positions first (requested first, they get the first lines), then symbols with only working orders
  const positions = new Set(i.positions);
  const signal = [...held].filter((s) => !configured.has(s) && !taken.has(s)).sort((a, b) => Number(positions.has(b)) - Number(positions.has(a)) || (a < b ? -1 : 1));
  return { signal, added: added.sort(), removing: removing.sort((a, b) => (a.symbol < b.symbol ? -1 : 1)) };
}

/** Instruments a resumed run must know before the journal's positions and orders are restored */
export function heldInstruments(recovery: { positions: Record<string, unknown>; openIntents: readonly { instrument: string | null }[] }): string[] {
  const out = new Set(Object.keys(recovery.positions));
  for (const o of recovery.openIntents) if (o.instrument !== null) out.add(o.instrument);
  return [...out].sort();
}

function isWatermark(v: unknown): v is SignalWatermark {
  if (typeof v !== 'object' || v === null) return false;
  const a = (v as { availableAt?: unknown }).availableAt;
  return a === null || (typeof a === 'number' && Number.isFinite(a));
}
