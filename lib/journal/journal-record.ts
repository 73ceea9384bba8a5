import { JOURNAL_KINDS, JournalError, type JournalFields, type JournalKind } from './journal-types.js';

const KIND_SET: ReadonlySet<string> = new Set(JOURNAL_KINDS);

/**
 * Validates a record and serializes it as one element of the JSON array the journal's INSERT
 * unnests (and its intent log stores). Throws JOURNAL_INPUT for a record recovery could not use.
 * `ts` defaults to `clock()`; `wallTs` is `wallClock()` now.
 */
export function serializeRecord(kind: JournalKind, f: JournalFields, seq: number, clock: (() => number) | undefined, wallClock: () => number): string {
  if (!KIND_SET.has(kind)) throw new JournalError('JOURNAL_INPUT', `unknown journal kind '${String(kind)}' (one of ${JOURNAL_KINDS.join(', ')})`);
  const problem = recordProblem(kind, f);
  if (problem !== undefined) throw new JournalError('JOURNAL_INPUT', `${kind} record: ${problem}`);
  let payload: string | undefined;
  try {
    payload = JSON.stringify(f.payload ?? {});
  } catch (e) {
    throw new JournalError('JOURNAL_INPUT', `${kind} record: payload is not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (payload === undefined) throw new JournalError('JOURNAL_INPUT', `${kind} record: payload is not JSON (${typeof f.payload})`);
  const ts = f.ts ?? clock?.();
  const t = ts !== undefined && Number.isFinite(ts) ? Math.round(ts * 1000) : null;
  const w = Math.round(wallClock() * 1000);
  const b = f.brokerOrderId === undefined ? null : String(f.brokerOrderId);
  // built by hand: the payload is already JSON and goes in as a JSON value, not a string
  return `{"s":${seq},"t":${t},"w":${w},"k":"${kind}","d":${jsonOrNull(f.decisionId)},"c":${jsonOrNull(f.clientOrderId)},"b":${jsonOrNull(b)},"i":${jsonOrNull(f.instrument)},"p":${payload}}`;
}

/** What a record of `kind` lacks for recovery to use it, or undefined */
function recordProblem(kind: JournalKind, f: JournalFields): string | undefined {
  if (f.ts !== undefined && typeof f.ts !== 'number') return `ts must be a number (engine ms), was ${typeof f.ts}`;
  const needsOrder = kind === 'order_intent' || kind === 'order_submitted' || kind === 'order_event';
  if (needsOrder && !nonEmpty(f.clientOrderId)) return 'clientOrderId is required';
  if (kind === 'order_submitted' && (f.brokerOrderId === undefined || String(f.brokerOrderId) === '')) return 'brokerOrderId is required';
  const p = f.payload as Record<string, unknown> | null | undefined;
  if (kind === 'order_event') {
    if (typeof p !== 'object' || p === null || (typeof p['type'] !== 'string' && typeof p['status'] !== 'string')) return 'payload needs the event type or the order status';
  }
  if (kind === 'fill') {
    if (typeof p !== 'object' || p === null) return 'payload must be the fill';
    if (!nonEmpty(p['executionId'])) return 'payload.executionId is required (fills are deduplicated by it)';
    if (p['side'] !== 'BUY' && p['side'] !== 'SELL') return `payload.side must be BUY or SELL, was ${JSON.stringify(p['side'])}`;
    if (typeof p['quantity'] !== 'number' || !(p['quantity'] > 0)) return `payload.quantity must be a positive number, was ${JSON.stringify(p['quantity'])}`;
    if (!nonEmpty(f.instrument) && !nonEmpty(p['instrument'])) return 'instrument is required';
  }
  if (kind === 'snapshot' && (typeof p !== 'object' || p === null || Array.isArray(p))) return 'payload must be an object';
  return undefined;
}

function nonEmpty(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

function jsonOrNull(v: string | null | undefined): string {
  return v === undefined || v === null ? 'null' : JSON.stringify(v);
}
