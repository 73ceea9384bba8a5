/**
 * Applying a broker snapshot (broker-snapshot.ts) to our orders, and the report that comes out.
 *
 * Order of application, so the engine never sees an impossible sequence:
 * 0. after a restart, the orders recovered from the journal are looked up by orderRef and bound to
 *    IB's orders or ended (recovered-orders.ts), so the steps below treat them as ours;
 * 1. commissions (a recovered fill goes out with its commission);
 * 2. open orders and their statuses (accepted / modified / cancelled as IB says);
 * 3. executions in time order: fills the live feed never delivered are applied, once per execId
 *    (a second reconciliation finds them known and adds nothing);
 * 4. our orders IB no longer lists as open and fills do not complete: ended (cancelled, or
 *    rejected when IB never acknowledged them) and reported as 'order-missing';
 * 5. orders at IB this run does not own: unclaimed (our orderRef, adopted on submit) or external
 *    (anything else: manual orders, other tools, other strategy versions); reported, never adopted;
 * 6. positions: IB's per instrument against ours (the runner's, else the net of our fills); the
 *    differences are reported as external positions.
 * The tracker records every report queued meanwhile (live messages included); they become
 * `recoveredFills`, `updatedOrders` and mismatches. Every mismatch is logged and alerted.
 */
import type { BrokerOrders } from './broker-orders.js';
import type { BrokerSnapshot } from './broker-snapshot.js';
import type { IbContractView } from './ib-views.js';
import type { AlertKind, AlertLevel } from './execution-types.js';
import type { OrderTracker, ReportNote } from './order-tracker.js';
import { bindRecovered, type RecoveredOrderOutcome } from './recovered-orders.js';
import {
  orderSummary,
  type BrokerOrderSummary,
  type Mismatch,
  type OrderUpdate,
  type PositionDiscrepancy,
  type ReconcileCause,
  type ReconcileReport,
  type RecoveredFill,
} from './execution-types.js';

const EPS = 1e-9;

export interface ReconcileContext {
  tracker: OrderTracker;
  broker: BrokerOrders;
  /** True for an orderRef of a strategy and version this runner runs */
  isOurRef(ref: string): boolean;
  /** Our instrument key for an IB contract */
  instrumentOf(c: IbContractView): string;
  /** Signed position per instrument key that we expect IB to hold */
  expectedPositions(): ReadonlyMap<string, number>;
  /** Only this account's positions count ('' all) */
  account: string;
  alert(level: AlertLevel, kind: AlertKind, message: string, extra?: { orderId?: number; orderRef?: string; details?: Record<string, unknown> }): void;
}

export interface AppliedSnapshot {
  externalOrders: BrokerOrderSummary[];
  unclaimedOrders: BrokerOrderSummary[];
  externalPositions: PositionDiscrepancy[];
  /** order-missing and position mismatches (the others come from the recorded reports) */
  mismatches: Mismatch[];
  /** What became of the orders recovered from the journal (empty unless some were waiting) */
  recovered: RecoveredOrderOutcome[];
}

/** Applies IB's truth to the tracker and the broker index (steps 1-6 above). */
export function applySnapshot(ctx: ReconcileContext, snap: BrokerSnapshot): AppliedSnapshot {
  const { tracker, broker } = ctx;
  const mismatches: Mismatch[] = [];
  const recovered = bindRecovered(ctx, snap);
  for (const [execId, commission] of snap.commissions) tracker.onCommission(execId, commission);

  const listed = new Set<string>();
  for (const { order, status } of snap.openOrders) {
    const b = broker.noteOrder(order);
    listed.add(b.key);
    if (status) broker.noteStatus(status);
    const t = tracker.find(order);
    if (!t) continue;
    broker.claim(b, t.orderId);
    if (t.done && t.filled < t.quantity - EPS) {
      mismatches.push({ kind: 'order-still-open', orderId: t.orderId, orderRef: t.orderRef, instrument: t.instrument, detail: `order ${t.orderId} (${t.orderRef}) ended for us but IB lists it as ${order.status}: cancel it at IB` });
    }
    tracker.onOpenOrder(t, order);
    if (status) tracker.onStatus(t, status);
  }

  const executions = [...snap.executions].sort((a, b) => (a.time || 0) - (b.time || 0) || a.execId.localeCompare(b.execId));
  for (const e of executions) {
    const b = broker.noteExecution(e);
    const t = tracker.find(e);
    if (!t) continue;
    broker.claim(b, t.orderId);
    if (!tracker.hasExecution(e.execId)) tracker.onExecution(t, e, true);
  }
  broker.markOpen(listed);

  for (const t of tracker.all()) {
    if (t.done || !t.sent || (!t.adopted && t.sentSeq >= snap.openOrdersSeq)) continue;
    const key = t.permId > 0 ? `p${t.permId}` : `c${t.clientId}:${t.ibOrderId}`;
    if (listed.has(key) || listed.has(`c${t.clientId}:${t.ibOrderId}`)) continue;
    const detail = `order ${t.orderId} (${t.orderRef}, IB id ${t.ibOrderId}) is not open at IB and its fills (${t.filled} of ${t.quantity}) do not complete it`;
    tracker.end(t, 'rejected', t.accepted ? 'no longer open at IB (found at reconciliation)' : 'not found at IB (found at reconciliation)');
    mismatches.push({ kind: 'order-missing', orderId: t.orderId, orderRef: t.orderRef, instrument: t.instrument, detail });
  }

  const externalOrders: BrokerOrderSummary[] = [];
  const unclaimedOrders: BrokerOrderSummary[] = [];
  for (const b of broker.all()) {
    if (!b.open || !b.order || b.claimedBy > 0 || tracker.find(b)) continue;
    const filled = b.status?.filled ?? [...b.executions.values()].reduce((s, e) => s + e.shares, 0);
    const summary = orderSummary(b.order, ctx.instrumentOf(b.order.contract), filled);
    (ctx.isOurRef(b.orderRef) ? unclaimedOrders : externalOrders).push(summary);
  }

  const externalPositions = comparePositions(ctx, snap);
  for (const p of externalPositions) {
    mismatches.push({ kind: 'position', instrument: p.instrument, detail: `IB holds ${p.brokerQuantity} ${p.instrument}, we expect ${p.ourQuantity}` });
  }
  return { externalOrders, unclaimedOrders, externalPositions, mismatches, recovered };
}

function comparePositions(ctx: ReconcileContext, snap: BrokerSnapshot): PositionDiscrepancy[] {
  const broker = new Map<string, { qty: number; conId: number; account: string; avgCost: number }>();
  for (const p of snap.positions) {
    if (ctx.account && p.account && p.account !== ctx.account) continue;
    const key = ctx.instrumentOf(p.contract);
    const prev = broker.get(key);
    broker.set(key, { qty: (prev?.qty ?? 0) + p.position, conId: p.contract.conId, account: p.account, avgCost: p.avgCost });
  }
  const ours = ctx.expectedPositions();
  const out: PositionDiscrepancy[] = [];
  for (const key of new Set([...broker.keys(), ...ours.keys()])) {
    const b = broker.get(key);
    const brokerQuantity = b?.qty ?? 0;
    const ourQuantity = ours.get(key) ?? 0;
    const difference = brokerQuantity - ourQuantity;
    if (Math.abs(difference) <= EPS) continue;
    out.push({ instrument: key, account: b?.account ?? ctx.account, conId: b?.conId ?? 0, brokerQuantity, ourQuantity, difference, avgCost: b?.avgCost ?? NaN });
  }
  return out.sort((a, b) => a.instrument.localeCompare(b.instrument));
}

/** The report: applied snapshot plus what the tracker queued meanwhile. */
export function buildReport(cause: ReconcileCause, at: number, applied: AppliedSnapshot, notes: readonly ReportNote[], snap: BrokerSnapshot): ReconcileReport {
  const recoveredFills: RecoveredFill[] = [];
  const updatedOrders: OrderUpdate[] = [];
  const mismatches: Mismatch[] = [];
  const missing = new Set(applied.mismatches.filter((m) => m.kind === 'order-missing').map((m) => m.orderId));
  for (const n of notes) {
    const r = n.report;
    if (r.type === 'filled') {
      if (!n.recovered) continue;
      recoveredFills.push({ orderId: n.orderId, orderRef: n.orderRef, executionId: r.executionId, quantity: r.quantity, price: r.price, commission: r.commission, ts: r.ts });
      mismatches.push({ kind: 'missed-fill', orderId: n.orderId, orderRef: n.orderRef, detail: `fill ${r.executionId}: ${r.quantity} @ ${r.price} happened while we were not listening` });
      continue;
    }
    const detail = describeUpdate(r);
    updatedOrders.push({ orderId: n.orderId, orderRef: n.orderRef, update: r.type, detail });
    if (!missing.has(n.orderId) && r.type !== 'cancel_rejected' && r.type !== 'modify_rejected') {
      mismatches.push({ kind: 'order-state', orderId: n.orderId, orderRef: n.orderRef, detail: `IB says ${r.type}${detail ? `: ${detail}` : ''}` });
    }
  }
  return {
    cause,
    at,
    recoveredFills,
    updatedOrders,
    externalOrders: applied.externalOrders,
    unclaimedOrders: applied.unclaimedOrders,
    externalPositions: applied.externalPositions,
    mismatches: [...mismatches, ...applied.mismatches],
    counts: { openOrders: snap.openOrders.length, executions: snap.executions.length, positions: snap.positions.length },
  };
}

function describeUpdate(r: ReportNote['report']): string {
  switch (r.type) {
    case 'rejected':
    case 'cancelled':
    case 'cancel_rejected':
    case 'modify_rejected':
      return r.reason;
    case 'modified':
      return `quantity ${r.quantity}, limit ${r.limitPrice}, stop ${r.stopPrice}`;
    case 'triggered':
      return `stop ${r.stopPrice}`;
    default:
      return '';
  }
}
