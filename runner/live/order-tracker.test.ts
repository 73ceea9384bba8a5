/**
 * The tracker's dedupe and ordering rules, fed synthetic IB events. Every report goes into the
 * engine's real OrderManager, so an illegal sequence would throw.
 */
import { describe, expect, it } from 'vitest';
import { stockSpec } from '../../lib/data/instrument.js';
import { InstrumentRegistry } from '../../lib/engine/instrument-registry.js';
import { OrderManager } from '../../lib/engine/order-manager.js';
import { Portfolio } from '../../lib/engine/portfolio.js';
import type { ExecutionClient } from '../../lib/engine/ports.js';
import { RiskEngine } from '../../lib/engine/risk-engine.js';
import type { SessionScheduler } from '../../lib/ib/ib-session.js';
import type { ExecutionReport } from '../../lib/model/order-events.js';
import type { OrderRequest } from '../../lib/model/orders.js';
import type { IbExecutionView, IbOrderView, IbStatusView } from './ib-views.js';
import { OrderTracker, type TrackedOrder } from './order-tracker.js';

/** Timers that run when the test advances the clock. */
class FakeScheduler implements SessionScheduler {
  private t = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, x]) => x.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = due[1].at;
      due[1].fn();
    }
    this.t = end;
  }
  get pending(): number {
    return this.timers.size;
  }
}

const CONTRACT = { conId: 756733, symbol: 'SPY', secType: 'STK', localSymbol: 'SPY', lastTradeDateOrContractMonth: '', exchange: 'SMART', currency: 'USD' };
const IB_ID = 1_000_001;
const CLIENT = 5;
const PERM = 900_001;

function setup(request: Partial<OrderRequest> = {}) {
  const sched = new FakeScheduler();
  const reports: ExecutionReport[] = [];
  const alerts: { level: string; kind: string; message: string; orderId?: number }[] = [];
  const missing: number[] = [];
  const registry = new InstrumentRegistry();
  registry.add(stockSpec('SPY'));
  const portfolio = new Portfolio(1_000_000, registry);
  portfolio.sync();
  const venue: ExecutionClient = { name: 'stub', attach: () => undefined, submit: () => undefined, modify: () => undefined, cancel: () => undefined };
  const om = new OrderManager(registry, portfolio, new RiskEngine({}, portfolio), venue, { onEvent: () => undefined, onFill: () => undefined });
  const tracker = new OrderTracker({
    emit: (r) => {
      reports.push(r);
      om.apply(r);
    },
    now: () => sched.now(),
    scheduler: sched,
    commissionWaitMs: 1000,
    missingFillsWaitMs: 3000,
    alert: (level, kind, message, extra) => alerts.push({ level, kind, message, orderId: extra?.orderId }),
    onMissingFills: (t) => missing.push(t.orderId),
  });
  const order = om.submit({ instrument: 'SPY', side: 'BUY', quantity: 100, type: 'LIMIT', limitPrice: 450, ...request }, 'sma', 0);
  const t = tracker.add(order, 'sma@1#d1');
  tracker.bind(t, IB_ID, CLIENT);
  t.sent = true;
  const ib: IbOrderView = {
    orderId: IB_ID,
    clientId: CLIENT,
    permId: PERM,
    orderRef: 'sma@1#d1',
    account: 'DU1',
    side: order.side,
    totalQuantity: order.quantity,
    orderType: 'LMT',
    lmtPrice: request.limitPrice ?? 450,
    auxPrice: request.stopPrice,
    trailStopPrice: undefined,
    tif: 'DAY',
    parentId: 0,
    ocaGroup: '',
    status: 'Submitted',
    contract: CONTRACT,
  };
  const open = (status: string, over: Partial<IbOrderView> = {}) => tracker.onOpenOrder(t, { ...ib, status, ...over });
  const status = (s: string, filled = 0, remaining = order.quantity - filled): void => {
    const v: IbStatusView = { orderId: IB_ID, status: s, filled, remaining, avgFillPrice: 0, permId: PERM, parentId: 0, lastFillPrice: 0, clientId: CLIENT, whyHeld: '' };
    tracker.onStatus(t, v);
  };
  let cum = 0;
  const exec = (execId: string, shares: number, price = 449.5, recovered = false): boolean => {
    cum += shares;
    const v: IbExecutionView = { reqId: -1, execId, orderId: IB_ID, clientId: CLIENT, permId: PERM, orderRef: 'sma@1#d1', account: 'DU1', time: 1_767_366_000_000, side: order.side, shares, price, cumQty: cum, avgPrice: price, liquidity: 'maker', contract: CONTRACT };
    return tracker.onExecution(t, v, recovered);
  };
  const types = () => reports.map((r) => r.type);
  return { sched, tracker, t: t as TrackedOrder, om, order, reports, alerts, missing, open, status, exec, types };
}

describe('OrderTracker', () => {
  it('turns the TWS sequence of a marketable order into accepted + one filled carrying its commission', () => {
    const s = setup();
    s.open('Submitted');
    s.status('Submitted');
    s.exec('e1', 100, 449.95);
    // the fill waits for its commission report
    expect(s.types()).toEqual(['accepted']);
    s.open('Filled');
    s.status('Filled', 100, 0);
    s.tracker.onCommission('e1', 1.25);
    expect(s.types()).toEqual(['accepted', 'filled']);
    expect(s.reports[1]).toMatchObject({ quantity: 100, price: 449.95, commission: 1.25, executionId: 'e1', liquidity: 'maker', ts: 1_767_366_000_000 });
    // IB repeats itself; a reconciliation reports the same execution again
    s.open('Filled');
    s.status('Filled', 100, 0);
    expect(s.exec('e1', 100, 449.95, true)).toBe(false);
    s.tracker.onCommission('e1', 1.25);
    expect(s.types()).toEqual(['accepted', 'filled']);
    expect(s.om.get(s.order.id)).toMatchObject({ status: 'FILLED', commission: 1.25 });
    expect(s.alerts).toEqual([]);
    expect(s.sched.pending).toBe(0);
  });

  it('uses a commission report that came before its execution', () => {
    const s = setup();
    s.tracker.onCommission('e1', 0.7);
    s.exec('e1', 100);
    expect(s.reports.at(-1)).toMatchObject({ type: 'filled', commission: 0.7 });
  });

  it('sends a fill without its commission after commissionWaitMs and alerts the late commission', () => {
    const s = setup();
    s.status('Submitted');
    s.exec('e1', 40);
    s.sched.advance(999);
    expect(s.types()).toEqual(['accepted']);
    s.sched.advance(1);
    expect(s.reports.at(-1)).toMatchObject({ type: 'filled', quantity: 40, commission: 0 });
    s.tracker.onCommission('e1', 1);
    expect(s.alerts).toEqual([expect.objectContaining({ kind: 'late-commission', level: 'warning', orderId: s.order.id })]);
    expect(s.alerts[0]!.message).toContain('commission 1');
    expect(s.om.get(s.order.id)!.status).toBe('PARTIALLY_FILLED');
  });

  it('holds later reports of the order behind a fill waiting for its commission', () => {
    const s = setup();
    s.status('Submitted');
    s.exec('e1', 40);
    s.t.cancelRequested = true;
    s.status('Cancelled', 40, 60);
    expect(s.types()).toEqual(['accepted']);
    s.tracker.onCommission('e1', 1);
    expect(s.types()).toEqual(['accepted', 'filled', 'cancelled']);
    expect(s.om.get(s.order.id)).toMatchObject({ status: 'CANCELLED', filledQuantity: 40, reason: 'cancel requested' });
  });

  it('ignores repeated orderStatus and openOrder messages', () => {
    const s = setup();
    for (let i = 0; i < 3; i++) {
      s.open('PreSubmitted');
      s.status('PreSubmitted');
      s.open('Submitted');
      s.status('Submitted');
    }
    expect(s.types()).toEqual(['accepted']);
  });

  it('reports one cancel for orderStatus Cancelled + error 202, in either order', () => {
    const s = setup();
    s.status('Submitted');
    s.t.cancelRequested = true;
    s.status('Cancelled');
    s.tracker.onError(s.t, 202, 'Order Canceled - reason:');
    s.open('Cancelled');
    expect(s.types()).toEqual(['accepted', 'cancelled']);
    expect(s.reports[1]).toMatchObject({ reason: 'cancel requested' });

    const ib = setup();
    ib.status('Submitted');
    ib.tracker.onError(ib.t, 202, 'Order Canceled - reason:OCA group');
    ib.status('Cancelled');
    expect(ib.types()).toEqual(['accepted', 'cancelled']);
    expect(ib.reports[1]).toMatchObject({ reason: 'Order Canceled - reason:OCA group' });
  });

  it('rejects on 201 (Inactive after it adds nothing); Inactive after acceptance is a cancel', () => {
    const s = setup();
    s.tracker.onError(s.t, 201, 'Order rejected - reason:Margin');
    s.open('Inactive');
    s.status('Inactive');
    expect(s.types()).toEqual(['rejected']);
    expect(s.reports[0]).toMatchObject({ reason: 'Order rejected - reason:Margin' });

    const late = setup();
    late.status('Submitted');
    late.tracker.onError(late.t, 201, 'Order rejected - reason:something later');
    expect(late.types()).toEqual(['accepted']);
    expect(late.alerts.map((a) => a.kind)).toEqual(['order-error']);
    late.status('Inactive');
    expect(late.types()).toEqual(['accepted', 'cancelled']);
    expect(late.reports[1]).toMatchObject({ reason: 'Order rejected - reason:something later' });
  });

  it('answers a pending cancel with cancel_rejected on 10147 / 10148, ignores them otherwise', () => {
    const s = setup();
    s.status('Submitted');
    s.tracker.onError(s.t, 10147, 'OrderId 1000001 that needs to be cancelled is not found.');
    expect(s.types()).toEqual(['accepted']);
    s.om.cancel(s.order.id, 0);
    s.t.cancelRequested = true;
    s.tracker.onError(s.t, 10148, 'cannot be cancelled');
    expect(s.types()).toEqual(['accepted', 'cancel_rejected']);
    expect(s.om.get(s.order.id)!.status).toBe('ACCEPTED');
    expect(s.t.cancelRequested).toBe(false);
  });

  it('answers a modify: modified when IB shows the new values, modify_rejected on 201 / 103 / 104', () => {
    const s = setup();
    s.open('Submitted');
    s.t.pendingModify = true;
    s.open('Submitted', { totalQuantity: 60, lmtPrice: 451 });
    expect(s.reports.at(-1)).toEqual({ type: 'modified', orderId: s.order.id, ts: 0, quantity: 60, limitPrice: 451, stopPrice: NaN });
    for (const code of [201, 103, 104]) {
      s.t.pendingModify = true;
      s.tracker.onError(s.t, code, `no (${code})`);
      expect(s.reports.at(-1)).toMatchObject({ type: 'modify_rejected', reason: `no (${code})` });
    }
    expect(s.om.get(s.order.id)).toMatchObject({ status: 'ACCEPTED', quantity: 60, limitPrice: 451 });
    expect(s.alerts).toEqual([]);
  });

  it('reports an IB-side reduction (OCA / bracket sibling) as modified', () => {
    const s = setup();
    s.open('Submitted');
    s.open('Submitted', { totalQuantity: 70 });
    s.open('Submitted', { totalQuantity: 70 });
    expect(s.types()).toEqual(['accepted', 'modified']);
    expect(s.om.get(s.order.id)!.quantity).toBe(70);
  });

  it('logs 399 and other warnings without changing anything', () => {
    const s = setup();
    s.tracker.onError(s.t, 399, 'Order Message: Warning: your order will not be placed at the exchange until 09:30');
    s.tracker.onError(s.t, 2109, 'Order Event Warning: Attribute Outside Regular Trading Hours is ignored');
    expect(s.reports).toEqual([]);
    expect(s.alerts).toEqual([]);
    s.status('Submitted');
    expect(s.types()).toEqual(['accepted']);
  });

  it('a cancel IB counts fills for waits for them (and asks for them); the fill goes first', () => {
    const s = setup();
    s.status('Submitted');
    s.status('Cancelled', 30, 70);
    expect(s.missing).toEqual([s.order.id]);
    expect(s.types()).toEqual(['accepted']);
    s.tracker.onCommission('e1', 1);
    s.exec('e1', 30, 449.5, true);
    expect(s.types()).toEqual(['accepted', 'filled', 'cancelled']);
    expect(s.om.get(s.order.id)).toMatchObject({ status: 'CANCELLED', filledQuantity: 30 });

    const never = setup();
    never.status('Submitted');
    never.status('Cancelled', 30, 70);
    never.sched.advance(3000);
    expect(never.types()).toEqual(['accepted', 'cancelled']);
  });

  it('pause() holds every report; recovered fills go ahead of live ones', () => {
    const s = setup();
    s.status('Submitted');
    s.tracker.pause();
    s.tracker.onCommission('live', 1);
    s.tracker.onCommission('missed', 1);
    s.exec('live', 10, 449);
    s.exec('missed', 20, 448, true);
    s.status('Submitted', 30, 70);
    expect(s.types()).toEqual(['accepted']);
    s.tracker.resume();
    expect(s.reports.slice(1).map((r) => (r.type === 'filled' ? r.executionId : r.type))).toEqual(['missed', 'live']);
  });

  it('records the reports queued while recording (reconciliation notes)', () => {
    const s = setup();
    s.tracker.startRecording();
    s.status('Submitted');
    s.tracker.onCommission('e1', 1);
    s.exec('e1', 100, 449, true);
    expect(s.tracker.stopRecording().map((n) => [n.report.type, n.recovered])).toEqual([
      ['accepted', false],
      ['filled', true],
    ]);
  });

  it('never applies more than the quantity, nor a fill after a terminal report (alerts instead)', () => {
    const s = setup();
    s.tracker.onCommission('e1', 1);
    s.tracker.onCommission('e2', 1);
    s.exec('e1', 80);
    s.exec('e2', 50);
    expect(s.reports.filter((r) => r.type === 'filled').map((r) => (r as { quantity: number }).quantity)).toEqual([80, 20]);
    expect(s.alerts.map((a) => a.kind)).toEqual(['overfill']);
    expect(s.om.get(s.order.id)!.status).toBe('FILLED');

    const ended = setup();
    ended.status('Submitted');
    ended.tracker.onError(ended.t, 202, 'Order Canceled - reason:');
    ended.tracker.onCommission('e9', 1);
    ended.exec('e9', 10);
    expect(ended.types()).toEqual(['accepted', 'cancelled']);
    expect(ended.alerts.map((a) => [a.kind, a.level])).toEqual([['fill-after-terminal', 'critical']]);
  });

  it('reports a STOP_LIMIT electing (PreSubmitted -> Submitted) as triggered, once', () => {
    const s = setup({ type: 'STOP_LIMIT', stopPrice: 455, limitPrice: 456 });
    s.open('PreSubmitted', { orderType: 'STP LMT', lmtPrice: 456, auxPrice: 455 });
    s.open('Submitted', { orderType: 'STP LMT', lmtPrice: 456, auxPrice: 455 });
    s.status('Submitted');
    expect(s.types()).toEqual(['accepted', 'triggered']);
    expect(s.reports[1]).toMatchObject({ stopPrice: 455 });
    expect(s.om.get(s.order.id)!.triggered).toBe(true);
  });

  it('finds orders by permId, else by (order id, client id): never another client with the same order id', () => {
    const s = setup();
    expect(s.tracker.find({ orderId: IB_ID, clientId: 99, permId: 0 })).toBeUndefined();
    expect(s.tracker.find({ orderId: IB_ID, clientId: 99, permId: 12345 })).toBeUndefined();
    expect(s.tracker.find({ orderId: IB_ID, clientId: CLIENT, permId: 0 })).toBe(s.t);
    expect(s.tracker.find({ orderId: IB_ID, clientId: CLIENT, permId: PERM })).toBe(s.t);
    // once its permId is known, it is found under another client id too (a reconnect with a fallback id)
    expect(s.tracker.find({ orderId: 7, clientId: 0, permId: PERM })).toBe(s.t);
    expect(s.tracker.find({ orderId: IB_ID, clientId: CLIENT, permId: PERM + 1 })).toBeUndefined();
  });
});
