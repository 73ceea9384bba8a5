/**
 * Applying a broker snapshot: recovered fills once, orders IB no longer lists ended, external vs
 * unclaimed orders, position differences, and the report built from what the tracker queued.
 */
import { describe, expect, it } from 'vitest';
import type { SessionScheduler } from '../../lib/ib/ib-session.js';
import type { ExecutionReport } from '../../lib/model/order-events.js';
import type { Order } from '../../lib/model/orders.js';
import { BrokerOrders } from './broker-orders.js';
import type { BrokerSnapshot } from './broker-snapshot.js';
import type { IbContractView, IbExecutionView, IbOrderView, IbPositionView } from './ib-views.js';
import { instrumentKeyGuess } from './ib-views.js';
import { parseOrderRef } from './order-ref.js';
import { OrderTracker } from './order-tracker.js';
import { applySnapshot, buildReport, type ReconcileContext } from './reconcile.js';

const idle: SessionScheduler = { now: () => 0, setTimeout: () => 0, clearTimeout: () => undefined };
const SPY: IbContractView = { conId: 1, symbol: 'SPY', secType: 'STK', localSymbol: 'SPY', lastTradeDateOrContractMonth: '', exchange: 'SMART', currency: 'USD' };
const CLIENT = 5;

function ourOrder(id: number, over: Partial<Order> = {}): Order {
  return {
    id,
    clientOrderId: `sma-${id}`,
    strategyId: 'sma',
    instrument: 'SPY',
    instrumentIndex: 0,
    side: 'BUY',
    type: 'LIMIT',
    quantity: 10,
    limitPrice: 100,
    stopPrice: NaN,
    trailingAmount: NaN,
    trailingPercent: NaN,
    tif: 'DAY',
    status: 'SUBMITTED',
    filledQuantity: 0,
    avgFillPrice: NaN,
    commission: 0,
    parentId: 0,
    ocaGroup: '',
    tag: '',
    createdAt: 0,
    updatedAt: 0,
    triggered: false,
    reason: '',
    ...over,
  };
}

function ibOrder(orderId: number, permId: number, orderRef: string, over: Partial<IbOrderView> = {}): IbOrderView {
  return { orderId, clientId: CLIENT, permId, orderRef, account: 'DU1', side: 'BUY', totalQuantity: 10, orderType: 'LMT', lmtPrice: 100, auxPrice: undefined, trailStopPrice: undefined, tif: 'DAY', parentId: 0, ocaGroup: '', status: 'Submitted', contract: SPY, ...over };
}

function execution(execId: string, orderId: number, permId: number, orderRef: string, shares: number, over: Partial<IbExecutionView> = {}): IbExecutionView {
  return { reqId: 700_000, execId, orderId, clientId: CLIENT, permId, orderRef, account: 'DU1', time: 1000, side: 'BUY', shares, price: 99.5, cumQty: shares, avgPrice: 99.5, liquidity: 'maker', contract: SPY, ...over };
}

const position = (qty: number): IbPositionView => ({ account: 'DU1', contract: SPY, position: qty, avgCost: 99.5 });

function setup() {
  const reports: ExecutionReport[] = [];
  const alerts: string[] = [];
  const tracker = new OrderTracker({ emit: (r) => reports.push(r), now: () => 0, scheduler: idle, alert: (_l, kind) => alerts.push(kind) });
  const broker = new BrokerOrders();
  const ctx: ReconcileContext = {
    tracker,
    broker,
    isOurRef: (ref) => parseOrderRef(ref)?.strategy === 'sma' && parseOrderRef(ref)?.version === '1',
    instrumentOf: instrumentKeyGuess,
    expectedPositions: () => tracker.netPositions(),
    account: 'DU1',
    alert: (_level, kind) => alerts.push(kind),
  };
  /** A tracked order placed as IB id 1_000_000 + id, sent at sequence `seq`, accepted. */
  const placed = (id: number, seq: number) => {
    const t = tracker.add(ourOrder(id), `sma@1#d${id}`);
    tracker.bind(t, 1_000_000 + id, CLIENT, 500 + id);
    t.sent = true;
    t.sentSeq = seq;
    tracker.accept(t);
    return t;
  };
  return { reports, alerts, tracker, broker, ctx, placed };
}

describe('applySnapshot / buildReport', () => {
  it('recovers missed fills once, ends orders IB no longer lists, tells external from unclaimed, compares positions', () => {
    const s = setup();
    const working = s.placed(1, 1);
    const vanished = s.placed(2, 2);
    const filledMeanwhile = s.placed(3, 3);
    const sentAfter = s.placed(4, 9);
    const snap: BrokerSnapshot = {
      openOrders: [
        { order: ibOrder(1_000_001, 501, 'sma@1#d1'), status: undefined },
        { order: ibOrder(3_000_000, 777, 'manual-1', { clientId: 77, totalQuantity: 5 }), status: undefined },
        { order: ibOrder(1_000_050, 550, 'sma@1#old'), status: undefined },
        { order: ibOrder(1_000_060, 560, 'sma@0.9#x'), status: undefined },
      ],
      executions: [execution('x3', 1_000_003, 503, 'sma@1#d3', 10), execution('ext', 3_000_001, 778, '', 7, { clientId: 77 })],
      commissions: new Map([
        ['x3', 1],
        ['ext', 1],
      ]),
      positions: [position(17)],
      openOrdersSeq: 5,
    };
    s.tracker.startRecording();
    const applied = applySnapshot(s.ctx, snap);
    const report = buildReport('reconnect', 42, applied, s.tracker.stopRecording(), snap);

    expect(report.recoveredFills).toEqual([{ orderId: 3, orderRef: 'sma@1#d3', executionId: 'x3', quantity: 10, price: 99.5, commission: 1, ts: 1000 }]);
    expect(report.updatedOrders).toEqual([{ orderId: 2, orderRef: 'sma@1#d2', update: 'cancelled', detail: 'no longer open at IB (found at reconciliation)' }]);
    expect(report.externalOrders.map((o) => o.orderRef)).toEqual(['manual-1', 'sma@0.9#x']);
    expect(report.unclaimedOrders.map((o) => o.orderRef)).toEqual(['sma@1#old']);
    expect(report.externalOrders[0]).toMatchObject({ clientId: 77, orderId: 3_000_000, quantity: 5, instrument: 'SPY', side: 'BUY', status: 'Submitted' });
    // ours: 10 recovered; IB: 17 (7 from the external fill)
    expect(report.externalPositions).toEqual([{ instrument: 'SPY', account: 'DU1', conId: 1, brokerQuantity: 17, ourQuantity: 10, difference: 7, avgCost: 99.5 }]);
    expect(report.mismatches.map((m) => [m.kind, m.orderId])).toEqual([
      ['missed-fill', 3],
      ['order-missing', 2],
      ['position', undefined],
    ]);
    expect(report.counts).toEqual({ openOrders: 4, executions: 2, positions: 1 });
    expect([working.done, vanished.done, filledMeanwhile.done, sentAfter.done]).toEqual([false, true, true, false]);
    expect(s.reports.filter((r) => r.orderId === 3).map((r) => r.type)).toEqual(['accepted', 'filled']);
    expect(s.reports.filter((r) => r.orderId === 2).map((r) => r.type)).toEqual(['accepted', 'cancelled']);

    // the same truth again: nothing new
    s.tracker.startRecording();
    const again = buildReport('manual', 43, applySnapshot(s.ctx, snap), s.tracker.stopRecording(), snap);
    expect(again.recoveredFills).toEqual([]);
    expect(again.updatedOrders).toEqual([]);
    expect(again.mismatches.map((m) => m.kind)).toEqual(['position']);
    expect(s.broker.byOrderRef('sma@1#old')).toMatchObject({ open: true, permId: 550, claimedBy: 0 });
  });

  it('rejects (not cancels) an order IB never acknowledged and does not list', () => {
    const s = setup();
    const t = s.tracker.add(ourOrder(1), 'sma@1#d1');
    s.tracker.bind(t, 1_000_001, CLIENT);
    t.sent = true;
    t.sentSeq = 1;
    const snap: BrokerSnapshot = { openOrders: [], executions: [], commissions: new Map(), positions: [], openOrdersSeq: 2 };
    const applied = applySnapshot(s.ctx, snap);
    expect(applied.mismatches.map((m) => m.kind)).toEqual(['order-missing']);
    expect(s.reports).toEqual([{ type: 'rejected', orderId: 1, ts: 0, reason: 'not found at IB (found at reconciliation)' }]);
  });

  it('ignores other accounts and flat positions; reports a position we expect but IB does not hold', () => {
    const s = setup();
    s.ctx.expectedPositions = () => new Map([['ES-202603', 2]]);
    const snap: BrokerSnapshot = {
      openOrders: [],
      executions: [],
      commissions: new Map(),
      positions: [{ ...position(5), account: 'U999' }, position(0)],
      openOrdersSeq: 0,
    };
    expect(applySnapshot(s.ctx, snap).externalPositions).toEqual([{ instrument: 'ES-202603', account: 'DU1', conId: 0, brokerQuantity: 0, ourQuantity: 2, difference: -2, avgCost: NaN }]);
  });

  it('after a restart binds recovered orders by orderRef: adopted (fills the journal lacks replayed once), not found (never sent again), collision', () => {
    const s = setup();
    // journal: d1 open with one fill x1 (3 of 10) known; d2 unconfirmed, IB filled it meanwhile; d3 unconfirmed, never reached IB;
    // d4 open, IB has that orderRef for a SELL
    const open = s.tracker.addRecovered(ourOrder(1, { status: 'PARTIALLY_FILLED', filledQuantity: 3 }), 'sma@1#d1', ['x1']);
    const unconfirmedFilled = s.tracker.addRecovered(ourOrder(2), 'sma@1#d2', []);
    const neverSent = s.tracker.addRecovered(ourOrder(3), 'sma@1#d3', []);
    const clash = s.tracker.addRecovered(ourOrder(4, { status: 'ACCEPTED' }), 'sma@1#d4', []);
    const snap: BrokerSnapshot = {
      openOrders: [
        { order: ibOrder(1_000_001, 501, 'sma@1#d1'), status: undefined },
        { order: ibOrder(1_000_004, 504, 'sma@1#d4', { side: 'SELL' }), status: undefined },
      ],
      executions: [execution('x1', 1_000_001, 501, 'sma@1#d1', 3), execution('x1b', 1_000_001, 501, 'sma@1#d1', 2), execution('x2', 1_000_002, 502, 'sma@1#d2', 10)],
      commissions: new Map([
        ['x1', 1],
        ['x1b', 1],
        ['x2', 1],
      ]),
      positions: [position(15)],
      openOrdersSeq: 0,
    };
    // IB's 15: the journal's 3 before the restart plus the 2 + 10 replayed now
    s.ctx.expectedPositions = () => new Map([['SPY', 3 + (s.tracker.netPositions().get('SPY') ?? 0)]]);
    s.tracker.startRecording();
    const applied = applySnapshot(s.ctx, snap);
    const report = buildReport('start', 1, applied, s.tracker.stopRecording(), snap);

    expect(applied.recovered.map((r) => [r.clientOrderId, r.outcome, r.status, r.ibOrderId, r.ibFilled])).toEqual([
      ['sma-1', 'adopted', 'PARTIALLY_FILLED', 1_000_001, 5],
      ['sma-2', 'adopted', 'FILLED', 1_000_002, 10],
      ['sma-3', 'not-found', 'NOT_FOUND', 0, 0],
      ['sma-4', 'collision', 'REJECTED', 1_000_004, 0],
    ]);
    // the known execution x1 is not reported again; x1b and x2 are, once
    expect(s.reports.filter((r) => r.type === 'filled').map((r) => [r.orderId, (r as { executionId: string }).executionId])).toEqual([
      [1, 'x1b'],
      [2, 'x2'],
    ]);
    // the unconfirmed order IB filled is accepted first; the open one was accepted before the restart
    expect(s.reports.filter((r) => r.orderId === 2).map((r) => r.type)).toEqual(['accepted', 'filled']);
    expect(s.reports.filter((r) => r.orderId === 1).map((r) => r.type)).toEqual(['filled']);
    // never sent: rejected (it was never accepted); the collision was accepted before: cancelled
    expect(s.reports.filter((r) => r.orderId === 3)).toEqual([{ type: 'rejected', orderId: 3, ts: 0, reason: 'not found at IB after a restart (not sent again)' }]);
    expect(s.reports.filter((r) => r.orderId === 4).map((r) => r.type)).toEqual(['cancelled']);
    expect([open.done, unconfirmedFilled.done, neverSent.done, clash.done]).toEqual([false, true, true, true]);
    expect(open.filled).toBe(5);
    expect(s.alerts).toEqual(expect.arrayContaining(['adopted-order', 'ref-collision']));
    expect(report.externalPositions).toEqual([]);
    // the other client's order with d4's orderRef stays unclaimed
    expect(report.unclaimedOrders.map((o) => o.orderRef)).toEqual(['sma@1#d4']);
  });
});
