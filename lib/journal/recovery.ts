import { TERMINAL_STATUSES } from '../model/order-state.js';
import type { OrderSide } from '../model/orders.js';
import type { Store } from '../store/store.js';
import { Journal, JournalError, journalRecordColumns, syncIntentLog, toRecord, type JournalRecord, type JournalRun, type JournalSnapshot } from './journal.js';

/**
 * What a restart learns from the journal of a run, before it asks the broker anything.
 *
 * `recover(store, runId)` loads the run's records and hands them to `recoverFromRecords`, which is
 * pure: it reads records in seq order and applies the rules below. The runner then reconciles the
 * result with the broker (open orders, positions, executions since `lastExecutionTime`) and
 * journals what it finds as `reconcile` records, which a later recovery reads back.
 *
 * Record conventions (what the writers put in, what is read here):
 * - `order_intent` (client_order_id required, decision_id, instrument): the order about to be sent,
 *   committed before it is. payload: `{ request: { instrument, side, quantity, ... }, ... }` (side
 *   and quantity may also sit at the top level of the payload).
 * - `order_submitted` (client_order_id, broker_order_id required): the order was handed to the
 *   broker under that id.
 * - `order_event` (client_order_id required): payload `{ type: OrderEventType, status?: OrderStatus,
 *   reason?, filledQuantity? }`. Types filled / cancelled / rejected / expired, or a terminal status,
 *   end the order. Type `submitted` is the engine's own step before it calls the venue: it proves
 *   nothing reached the broker. Any other event (accepted, partially_filled, pending_cancel, ...)
 *   is the broker talking about the order.
 * - `fill`: payload is the Fill (`executionId`, `side`, `quantity`, `price`, `commission`, `ts`);
 *   client_order_id may be null (an external order). Fills are counted once per `executionId`.
 * - `snapshot`: payload is a JournalSnapshot (strategy states, positions, cash, equity).
 * - `reconcile` with client_order_id: the broker's word on one order, payload `{ status }` where
 *   status is an OrderStatus or 'NOT_FOUND' (the broker never had it); broker_order_id if known.
 *   `reconcile` without client_order_id but with payload `{ positions }`: the broker's positions,
 *   which replace the journal's from that seq on.
 * - `halt` / `resume`: trading halted / resumed, for `instrument` (the column, else `payload.instrument`)
 *   or (no instrument) everything; payload `{ source?, reason? }`: a resume with a source lifts only
 *   that source's halt, one without lifts every halt.
 * - `note` with payload `{ type: 'baseline', context: { startEquity, peakEquity } }`: the loss
 *   baseline of the runner's supervisor (the equity its cumulative loss and drawdown are measured
 *   from); the last one is read back. Other notes are not read (their payloads are not even loaded).
 *
 * Orders, keyed by client order id, end in one of three states:
 * - `closed`: a terminal event, a terminal or NOT_FOUND reconcile, or fills adding up to the intent's
 *   quantity. Nothing to do.
 * - `open`: submitted to the broker (order_submitted, a broker order id, a broker event, a fill, or a
 *   reconcile saying it works) and not closed: expect it among the broker's open orders.
 * - `unconfirmed`: an intent (or the engine's `submitted` event) and nothing after it: the process
 *   died between deciding to send and knowing it was sent. Look it up at the broker by its client
 *   order id (IB's orderRef) before anything else; never send it again blindly.
 * A later reconcile overrides earlier records (the broker is the truth); after a terminal event only
 * a reconcile can reopen an order.
 *
 * Positions: the base is the last snapshot or position reconcile (empty if none), plus every fill
 * committed after it whose execution id was not seen before it, at average cost (as the engine's
 * Portfolio: a fill against the position realizes, a flip opens the rest at the fill price). Cash is
 * the snapshot's as taken (fills after it are not priced in: the broker's account is the truth).
 */

export type RecoveredOrderState = 'unconfirmed' | 'open' | 'closed';

export interface RecoveredOrder {
  clientOrderId: string;
  state: RecoveredOrderState;
  brokerOrderId: string | null;
  decisionId: string | null;
  instrument: string | null;
  side: OrderSide | null;
  /** Ordered quantity from the intent, when it says */
  quantity: number | null;
  /** Last status known: an OrderStatus, 'NOT_FOUND' from a reconcile, or null (intent only) */
  status: string | null;
  /** Sum of this order's distinct fills */
  filledQuantity: number;
  /** Payload of the order_intent record (null when the order has none) */
  intent: unknown;
  intentSeq: number | null;
  submittedSeq: number | null;
  /** Seq of the last record about this order */
  lastSeq: number;
}

export interface RecoveredFill {
  seq: number;
  executionId: string;
  clientOrderId: string | null;
  instrument: string;
  side: OrderSide;
  quantity: number;
  price: number;
  commission: number;
  /** Execution time (payload ts, else the record's engine time), null if neither */
  ts: number | null;
}

export interface RecoveredPosition {
  quantity: number;
  avgPrice: number;
}

export interface HaltState {
  seq: number;
  reason: string | null;
}

/** The supervisor's loss baseline as last journaled (runner/live/supervisor.ts `baseline` action) */
export interface LossBaseline {
  seq: number;
  startEquity: number;
  peakEquity: number;
}

export interface Recovery {
  runId: string;
  /** The journal_runs row (null when only records were given) */
  run: JournalRun | null;
  /** Records read */
  records: number;
  /** Highest seq (0 for an empty journal) */
  lastSeq: number;
  /** Seqs are exactly 1..lastSeq (false means a damaged journal: investigate before trading) */
  contiguous: boolean;
  lastSnapshot: { seq: number; ts: number | null; wallTs: number; state: JournalSnapshot } | null;
  /** Strategy id -> state entries, from the last snapshot ({} when none) */
  strategyState: Record<string, Record<string, unknown>>;
  /** Every order the journal names, by client order id */
  orders: Map<string, RecoveredOrder>;
  /** Orders not closed (unconfirmed and open), in order of their first record */
  openIntents: RecoveredOrder[];
  /** Intents with no evidence they reached the broker: check each at the broker */
  unconfirmed: RecoveredOrder[];
  /** Orders the broker should be working */
  openOrders: RecoveredOrder[];
  /** Client order id -> broker order id, for every order with a broker id */
  submitted: Map<string, string>;
  /** Execution id -> first fill record with it: apply a broker execution only if it is not here */
  fillsSeen: Map<string, RecoveredFill>;
  /** Fill records skipped because their execution id was already seen */
  duplicateFills: number;
  /** Latest execution time among the fills (ask the broker for executions since then) */
  lastExecutionTime: number | null;
  /** Seq of the snapshot or reconcile the positions start from (0: none, positions from fills only) */
  positionsBaseSeq: number;
  /** Instrument -> position implied by the base plus later fills (flat instruments left out) */
  positions: Record<string, RecoveredPosition>;
  /** Cash of the last snapshot (null without one) */
  snapshotCash: number | null;
  /** decision_id of the last decision record */
  lastDecisionId: string | null;
  /**
   * Halts still in force at the end of the journal: `global` the last whole-book halt (null once a
   * resume follows), `sources` every whole-book halt by its source ('' when the record names none),
   * `instruments` the last halt per instrument
   */
  halted: { global: HaltState | null; sources: Record<string, HaltState>; instruments: Record<string, HaltState> };
  /**
   * Instrument halts in force by source (`halted.instruments` keeps only each instrument's last):
   * instrument -> source ('' when the record names none) -> halt. A resume with a source lifts only
   * that source's, one without every halt of the instrument, a whole-book resume without a source all
   */
  instrumentHaltSources: Record<string, Record<string, HaltState>>;
  /** The last loss baseline journaled (null: none) */
  lossBaseline: LossBaseline | null;
}

type Phase = 'intent' | 'sent' | 'terminal';

interface Work extends RecoveredOrder {
  phase: Phase;
  firstSeq: number;
}

const TERMINAL_EVENT_TYPES: ReadonlySet<string> = new Set(['filled', 'cancelled', 'rejected', 'expired']);
const EPS = 1e-9;

/** Loads a run's records and recovers it (JOURNAL_NOT_FOUND for an unknown run) */
export async function recover(store: Store, runId: string): Promise<Recovery> {
  const run = await Journal.find(store, runId);
  if (run === undefined) throw new JournalError('JOURNAL_NOT_FOUND', `no journal run '${runId}'`);
  await syncIntentLog(store, runId); // durable records still only in the intent log (a crash before their insert)
  // payloads recovery never reads stay in the database: decisions, notes (but loss baselines), alerts, older snapshots
  const rows = await store.all<Record<string, unknown>>(
    `WITH last_snapshot AS (SELECT coalesce(max(seq), 0) AS s FROM journal WHERE run_id = $1 AND kind = 'snapshot')
     SELECT ${journalRecordColumns(`CASE WHEN kind = 'note' AND json_extract_string(payload, '$.type') = 'baseline' THEN payload
       WHEN kind IN ('decision', 'note', 'alert') OR (kind = 'snapshot' AND seq < (SELECT s FROM last_snapshot)) THEN NULL ELSE payload END`)}
     FROM journal WHERE run_id = $1 ORDER BY seq`,
    [runId],
  );
  return recoverFromRecords(runId, rows.map(toRecord), run);
}

/** The recovery rules (see the module comment) over a run's records; pure, records in any order */
export function recoverFromRecords(runId: string, input: readonly JournalRecord[], run: JournalRun | null = null): Recovery {
  const records = [...input].sort((a, b) => a.seq - b.seq);
  const orders = new Map<string, Work>();
  const fillsSeen = new Map<string, RecoveredFill>();
  let duplicateFills = 0;
  let lastSnapshot: Recovery['lastSnapshot'] = null;
  let base: { seq: number; positions: Record<string, RecoveredPosition> } = { seq: 0, positions: {} };
  let lastDecisionId: string | null = null;
  let global: HaltState | null = null;
  const haltSources: Record<string, HaltState> = {};
  const haltedInstruments: Record<string, HaltState> = {};
  const instrumentHaltSources: Record<string, Record<string, HaltState>> = {};
  let lossBaseline: LossBaseline | null = null;
  let contiguous = true;
  let expected = 1;

  const orderOf = (r: JournalRecord, coid: string): Work => {
    let o = orders.get(coid);
    if (o === undefined) {
      o = {
        clientOrderId: coid,
        state: 'unconfirmed',
        brokerOrderId: null,
        decisionId: null,
        instrument: null,
        side: null,
        quantity: null,
        status: null,
        filledQuantity: 0,
        intent: null,
        intentSeq: null,
        submittedSeq: null,
        lastSeq: r.seq,
        phase: 'intent',
        firstSeq: r.seq,
      };
      orders.set(coid, o);
    }
    o.lastSeq = r.seq;
    if (r.brokerOrderId !== null) o.brokerOrderId = r.brokerOrderId;
    if (r.decisionId !== null && o.decisionId === null) o.decisionId = r.decisionId;
    if (r.instrument !== null && o.instrument === null) o.instrument = r.instrument;
    return o;
  };

  for (const r of records) {
    if (r.seq !== expected) contiguous = false;
    expected = r.seq + 1;
    const p = asObject(r.payload);
    switch (r.kind) {
      case 'decision':
        if (r.decisionId !== null) lastDecisionId = r.decisionId;
        break;
      case 'order_intent': {
        if (r.clientOrderId === null) break;
        const o = orderOf(r, r.clientOrderId);
        o.intent = r.payload;
        o.intentSeq = r.seq;
        const request = asObject(p['request']);
        const side = request['side'] ?? p['side'];
        const quantity = request['quantity'] ?? p['quantity'];
        if (side === 'BUY' || side === 'SELL') o.side = side;
        if (typeof quantity === 'number' && quantity > 0) o.quantity = quantity;
        if (o.instrument === null && typeof request['instrument'] === 'string') o.instrument = request['instrument'];
        break;
      }
      case 'order_submitted': {
        if (r.clientOrderId === null) break;
        const o = orderOf(r, r.clientOrderId);
        o.submittedSeq = r.seq;
        if (o.phase === 'intent') o.phase = 'sent';
        break;
      }
      case 'order_event': {
        if (r.clientOrderId === null) break;
        const o = orderOf(r, r.clientOrderId);
        const type = typeof p['type'] === 'string' ? p['type'] : '';
        const status = typeof p['status'] === 'string' ? p['status'] : statusOfEvent(type);
        if (o.phase === 'terminal') break; // only a reconcile reopens an order
        if (status !== null) o.status = status;
        const order = asObject(p['order']);
        if (o.side === null && (order['side'] === 'BUY' || order['side'] === 'SELL')) o.side = order['side'];
        if (o.quantity === null && typeof order['quantity'] === 'number' && order['quantity'] > 0) o.quantity = order['quantity'];
        if (TERMINAL_EVENT_TYPES.has(type) || (status !== null && TERMINAL_STATUSES.has(status as never))) o.phase = 'terminal';
        else if (type !== 'submitted' && type !== '') o.phase = 'sent';
        else if (type === '' && status !== null && status !== 'SUBMITTED' && status !== 'INITIALIZED') o.phase = 'sent';
        break;
      }
      case 'fill': {
        const executionId = typeof p['executionId'] === 'string' ? p['executionId'] : `seq:${r.seq}`;
        if (fillsSeen.has(executionId)) {
          duplicateFills++;
          break;
        }
        const side = p['side'] === 'SELL' ? 'SELL' : 'BUY';
        const fill: RecoveredFill = {
          seq: r.seq,
          executionId,
          clientOrderId: r.clientOrderId,
          instrument: r.instrument ?? (typeof p['instrument'] === 'string' ? p['instrument'] : ''),
          side,
          quantity: num(p['quantity']),
          price: num(p['price']),
          commission: num(p['commission']),
          ts: typeof p['ts'] === 'number' && Number.isFinite(p['ts']) ? p['ts'] : r.ts,
        };
        fillsSeen.set(executionId, fill);
        if (r.clientOrderId !== null) {
          const o = orderOf(r, r.clientOrderId);
          o.filledQuantity += fill.quantity;
          if (o.side === null) o.side = side;
          if (o.instrument === null && fill.instrument !== '') o.instrument = fill.instrument;
          if (o.phase === 'intent') o.phase = 'sent';
        }
        break;
      }
      case 'snapshot': {
        if (r.payload === null) break; // an older snapshot whose payload was not loaded
        const state = p as JournalSnapshot;
        lastSnapshot = { seq: r.seq, ts: r.ts, wallTs: r.wallTs, state };
        if (state.positions !== undefined) base = { seq: r.seq, positions: readPositions(state.positions) };
        break;
      }
      case 'reconcile': {
        if (r.clientOrderId !== null) {
          const o = orderOf(r, r.clientOrderId);
          const status = typeof p['status'] === 'string' ? p['status'] : null;
          if (status === null) break;
          o.status = status;
          o.phase = status === 'NOT_FOUND' || TERMINAL_STATUSES.has(status as never) ? 'terminal' : status === 'INITIALIZED' ? 'intent' : 'sent';
        } else if (p['positions'] !== undefined) {
          base = { seq: r.seq, positions: readPositions(p['positions']) };
        }
        break;
      }
      case 'halt':
      case 'resume': {
        const state = r.kind === 'halt' ? { seq: r.seq, reason: typeof p['reason'] === 'string' ? p['reason'] : null } : null;
        // the supervisor's instrument halts carry the instrument in their payload
        const instrument = r.instrument ?? (typeof p['instrument'] === 'string' ? p['instrument'] : null);
        const source = typeof p['source'] === 'string' ? p['source'] : null;
        if (instrument === null) {
          if (state !== null) haltSources[source ?? ''] = state;
          else if (source !== null) delete haltSources[source];
          else for (const k of Object.keys(haltSources)) delete haltSources[k];
          global = state;
          if (state === null && source === null) {
            for (const k of Object.keys(haltedInstruments)) delete haltedInstruments[k];
            for (const k of Object.keys(instrumentHaltSources)) delete instrumentHaltSources[k];
          }
        } else {
          if (state === null) delete haltedInstruments[instrument];
          else haltedInstruments[instrument] = state;
          const bySource = (instrumentHaltSources[instrument] ??= {});
          if (state !== null) bySource[source ?? ''] = state;
          else if (source !== null) delete bySource[source];
          if (source === null && state === null) delete instrumentHaltSources[instrument];
          else if (Object.keys(bySource).length === 0) delete instrumentHaltSources[instrument];
        }
        break;
      }
      case 'note': {
        const c = asObject(p['context']);
        if (p['type'] === 'baseline' && typeof c['startEquity'] === 'number' && typeof c['peakEquity'] === 'number') {
          lossBaseline = { seq: r.seq, startEquity: c['startEquity'], peakEquity: c['peakEquity'] };
        }
        break;
      }
      default:
        break;
    }
  }

  // positions: the base, then fills first seen after it
  const positions = new Map<string, RecoveredPosition>();
  for (const [k, v] of Object.entries(base.positions)) positions.set(k, { ...v });
  let lastExecutionTime: number | null = null;
  for (const f of fillsSeen.values()) {
    if (f.ts !== null && (lastExecutionTime === null || f.ts > lastExecutionTime)) lastExecutionTime = f.ts;
    if (f.seq <= base.seq) continue;
    const pos = positions.get(f.instrument) ?? { quantity: 0, avgPrice: 0 };
    applyFill(pos, f.side === 'BUY' ? f.quantity : -f.quantity, f.price);
    positions.set(f.instrument, pos);
  }

  const all = new Map<string, RecoveredOrder>();
  const submitted = new Map<string, string>();
  const openIntents: RecoveredOrder[] = [];
  for (const o of [...orders.values()].sort((a, b) => a.firstSeq - b.firstSeq)) {
    if (o.phase !== 'terminal' && o.quantity !== null && o.filledQuantity >= o.quantity - EPS) {
      o.phase = 'terminal';
      o.status = 'FILLED';
    }
    const { phase, firstSeq, ...order } = o;
    void firstSeq;
    order.state = phase === 'terminal' ? 'closed' : phase === 'sent' ? 'open' : 'unconfirmed';
    all.set(order.clientOrderId, order);
    if (order.brokerOrderId !== null) submitted.set(order.clientOrderId, order.brokerOrderId);
    if (order.state !== 'closed') openIntents.push(order);
  }

  const last = records[records.length - 1];
  return {
    runId,
    run,
    records: records.length,
    lastSeq: last?.seq ?? 0,
    contiguous,
    lastSnapshot,
    strategyState: lastSnapshot?.state.strategies ?? {},
    orders: all,
    openIntents,
    unconfirmed: openIntents.filter((o) => o.state === 'unconfirmed'),
    openOrders: openIntents.filter((o) => o.state === 'open'),
    submitted,
    fillsSeen,
    duplicateFills,
    lastExecutionTime,
    positionsBaseSeq: base.seq,
    positions: Object.fromEntries([...positions].filter(([, v]) => Math.abs(v.quantity) > EPS)),
    snapshotCash: typeof lastSnapshot?.state.cash === 'number' ? lastSnapshot.state.cash : null,
    lastDecisionId,
    halted: { global, sources: haltSources, instruments: haltedInstruments },
    instrumentHaltSources,
    lossBaseline,
  };
}

/** Average-cost position update, as lib/engine/portfolio.ts applies a fill */
function applyFill(pos: RecoveredPosition, signed: number, price: number): void {
  const q = pos.quantity;
  if (q === 0 || Math.sign(q) === Math.sign(signed)) {
    const total = Math.abs(q) + Math.abs(signed);
    pos.avgPrice = (pos.avgPrice * Math.abs(q) + price * Math.abs(signed)) / total;
    pos.quantity = q + signed;
    return;
  }
  const next = q + signed;
  pos.quantity = Math.abs(next) < EPS ? 0 : next;
  if (pos.quantity === 0) pos.avgPrice = 0;
  else if (Math.sign(next) !== Math.sign(q)) pos.avgPrice = price;
}

/** Status an event type implies when the payload carries none */
function statusOfEvent(type: string): string | null {
  switch (type) {
    case 'submitted':
      return 'SUBMITTED';
    case 'accepted':
      return 'ACCEPTED';
    case 'partially_filled':
      return 'PARTIALLY_FILLED';
    case 'filled':
      return 'FILLED';
    case 'pending_cancel':
      return 'PENDING_CANCEL';
    case 'cancelled':
      return 'CANCELLED';
    case 'rejected':
      return 'REJECTED';
    case 'expired':
      return 'EXPIRED';
    default:
      return null;
  }
}

/** Snapshot/reconcile positions: instrument -> {quantity, avgPrice} or a bare signed quantity */
function readPositions(v: unknown): Record<string, RecoveredPosition> {
  const out: Record<string, RecoveredPosition> = {};
  for (const [k, x] of Object.entries(asObject(v))) {
    if (typeof x === 'number') out[k] = { quantity: x, avgPrice: 0 };
    else {
      const o = asObject(x);
      out[k] = { quantity: num(o['quantity']), avgPrice: num(o['avgPrice']) };
    }
  }
  return out;
}

function asObject(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}
