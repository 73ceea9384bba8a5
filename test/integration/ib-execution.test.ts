/**
 * IbExecutionClient over REAL TCP: IbSession + ContractResolver + the real @stoqey/ib client
 * against the TWS simulator (contract details + orders on a FakeQuoteBook the test moves), with
 * the engine's real OrderManager applying every report (an illegal transition would throw and be
 * alerted as 'sink-failed'). Market, resting limit, modify, cancel, rejection (fault injection),
 * bracket, a fill while the connection is down (recovered exactly once), restart idempotency
 * (a new client, on a new or the same session, adopts the decision instead of re-sending it) and
 * an external order from another API client.
 */
import { EventName, IBApi, OrderAction, OrderType, SecType } from '@stoqey/ib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { futureSpec } from '../../lib/data/futures.js';
import { stockSpec, type InstrumentSpec } from '../../lib/data/instrument.js';
import { InstrumentRegistry } from '../../lib/engine/instrument-registry.js';
import { OrderManager } from '../../lib/engine/order-manager.js';
import { Portfolio } from '../../lib/engine/portfolio.js';
import { RiskEngine } from '../../lib/engine/risk-engine.js';
import { ContractResolver } from '../../lib/ib/contract-resolver.js';
import { IbSession } from '../../lib/ib/ib-session.js';
import type { ExecutionReport, OrderEvent } from '../../lib/model/order-events.js';
import type { OrderRequest } from '../../lib/model/orders.js';
import { upsertInstruments } from '../../lib/store/instruments.js';
import { Store } from '../../lib/store/store.js';
import type { ExecutionAlert, ReconcileReport } from '../../runner/live/execution-types.js';
import { IbExecutionClient, type IbExecutionClientOptions } from '../../runner/live/ib-execution-client.js';
import { contractDetailsFeature } from '../../runner/tws-sim/contract-details.js';
import { FaultInjector } from '../../runner/tws-sim/faults.js';
import { ES_ROW, FakeQuoteBook, SPY_ROW } from '../../runner/tws-sim/order-test-kit.js';
import { ordersFeature, type OrdersFeature } from '../../runner/tws-sim/orders.js';
import { readPlaceOrder } from '../../runner/tws-sim/place-order.js';
import { TwsSimulator } from '../../runner/tws-sim/server.js';
import { replayClock } from '../../runner/tws-sim/sim-clock.js';
import { OUT, type RequestHandler, type SimFeature } from '../../runner/tws-sim/types.js';
import { Fields } from '../../runner/tws-sim/wire.js';

const WAIT = { timeout: 8000, interval: 10 };
const SIM_START = Date.UTC(2026, 0, 2, 15, 0); // Friday 10:00 New York: NYSE open
const ACCOUNT = 'DU1234567';
const STRATEGY = 'sma';
const VERSION = '1.0.0';
const SPY: InstrumentSpec = stockSpec('SPY');
const ES: InstrumentSpec = futureSpec('ES', '202603');
const ref = (decision: string, leg = 1) => `${STRATEGY}@${VERSION}#${decision}${leg > 1 ? `/${leg}` : ''}`;

let store: Store;
let sim: TwsSimulator | undefined;
let orders: OrdersFeature;
let quotes: FakeQuoteBook;
let faults: FaultInjector | undefined;
/** Every placeOrder the simulator received: order id, orderRef, transmit, parent */
let placed: { orderId: number; orderRef: string; transmit: boolean; parentId: number; clientId: number }[] = [];
const cleanups: (() => void | Promise<void>)[] = [];
let nextClientId = 50;

beforeAll(async () => {
  store = await Store.open(':memory:');
  await upsertInstruments(store, [SPY_ROW, ES_ROW], 'test');
});
afterAll(() => store.close());
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  faults?.close();
  faults = undefined;
  await sim?.stop();
  sim = undefined;
});

/** Counts placeOrder requests (orderRef, transmit) before the orders feature handles them. */
function recordingPlaceOrder(feature: OrdersFeature): SimFeature {
  const handlers = new Map(feature.handlers);
  const inner = feature.handlers.get(OUT.PLACE_ORDER)!;
  const handler: RequestHandler = (conn, fields, ctx) => {
    const raw: string[] = [];
    while (fields.remaining() > 0) raw.push(fields.string());
    const req = readPlaceOrder(new Fields(raw), conn.serverVersion);
    placed.push({ orderId: req.orderId, orderRef: req.orderRef, transmit: req.transmit, parentId: req.parentId, clientId: conn.clientId });
    return inner(conn, new Fields(raw), ctx);
  };
  handlers.set(OUT.PLACE_ORDER, handler);
  return { name: feature.name, handlers, close: feature.close };
}

async function startSim(): Promise<number> {
  placed = [];
  quotes = new FakeQuoteBook();
  quotes.set('SPY', { bid: 450, ask: 450.05, bidSize: 1000, askSize: 1000, last: 450.02 });
  quotes.set('ES-202603', { bid: 6010, ask: 6010.25, bidSize: 20, askSize: 20, last: 6010 });
  const faultsRef = { takeRejection: () => faults?.takeRejection() };
  orders = ordersFeature({ quotes, matchIntervalMs: 20, faults: faultsRef });
  sim = new TwsSimulator({ store, port: 0, clock: replayClock({ start: SIM_START, speed: 1 }), features: [contractDetailsFeature(), recordingPlaceOrder(orders)] });
  const { port } = await sim.start();
  faults = new FaultInjector(sim);
  return port;
}

function openSession(port: number, clientId = nextClientId++): IbSession {
  const session = new IbSession({ port, clientId, connectTimeoutMs: 2000, backoff: { baseMs: 20, factor: 2, maxMs: 100, resetAfterMs: 60_000 } });
  cleanups.push(() => session.stop());
  session.start();
  return session;
}

/** A client on `session` with a real OrderManager applying its reports. */
function harness(session: IbSession, beforeSend?: IbExecutionClientOptions['beforeSend']) {
  const resolver = new ContractResolver({ session, requestTimeoutMs: 3000 });
  const alerts: ExecutionAlert[] = [];
  const reconciles: ReconcileReport[] = [];
  const reports: ExecutionReport[] = [];
  const events: OrderEvent[] = [];
  const client = new IbExecutionClient({
    session,
    contracts: resolver,
    account: ACCOUNT,
    versions: { [STRATEGY]: VERSION },
    onAlert: (a) => alerts.push(a),
    onReconcile: (r) => reconciles.push(r),
    commissionWaitMs: 1000,
    reconcileTimeoutMs: 3000,
    beforeSend,
  });
  const registry = new InstrumentRegistry();
  registry.add(SPY);
  registry.add(ES);
  const portfolio = new Portfolio(1_000_000, registry);
  portfolio.sync();
  const om = new OrderManager(registry, portfolio, new RiskEngine({}, portfolio), client, { onEvent: (e) => events.push(e), onFill: () => undefined });
  client.attach((r) => {
    reports.push(r);
    om.apply(r);
  });
  cleanups.push(() => {
    client.close();
    resolver.close();
  });
  const of = (orderId: number) => reports.filter((r) => r.orderId === orderId);
  const types = (orderId: number) => of(orderId).map((r) => r.type);
  const submit = (request: Omit<OrderRequest, 'instrument'> & { instrument?: string }) => om.submit({ instrument: 'SPY', ...request }, STRATEGY, Date.now());
  const brokenAlerts = () => alerts.filter((a) => a.kind === 'sink-failed' || a.kind === 'fill-after-terminal' || a.kind === 'overfill' || a.kind === 'reconcile-failed');
  return { client, om, portfolio, alerts, reconciles, reports, events, of, types, submit, brokenAlerts };
}

async function started(port: number, clientId?: number) {
  const session = openSession(port, clientId);
  const h = harness(session);
  const report = await h.client.start();
  return { session, ...h, startReport: report };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('IbExecutionClient against the TWS simulator', () => {
  it('fills a market order: accepted then filled with the commission, orderRef <strategy>@<version>#<decision>', async () => {
    const h = await started(await startSim());
    expect(h.startReport).toMatchObject({ cause: 'start', recoveredFills: [], externalOrders: [], externalPositions: [], mismatches: [] });
    const order = h.submit({ side: 'BUY', quantity: 100, type: 'MARKET', tag: 'decision=m1' });
    await vi.waitFor(() => expect(h.om.get(order.id)!.status).toBe('FILLED'), WAIT);
    expect(h.types(order.id)).toEqual(['accepted', 'filled']);
    const fill = h.of(order.id)[1] as Extract<ExecutionReport, { type: 'filled' }>;
    expect(fill).toMatchObject({ quantity: 100, price: 450.05, commission: 1, liquidity: 'taker', ts: expect.any(Number) });
    expect(fill.executionId).toBe(orders.book!.executions()[0]!.execId);
    expect(h.om.get(order.id)!.commission).toBe(1);
    expect(placed.map((p) => p.orderRef)).toEqual([ref('m1')]);
    expect(placed[0]!.orderId).toBeGreaterThanOrEqual(1_000_000);
    expect(orders.book!.executions()[0]!.orderRef).toBe(ref('m1'));
    expect(h.client.ibOrderIdOf(order.id)).toMatchObject({ ibOrderId: placed[0]!.orderId, permId: expect.any(Number) });
    // repeated orderStatus / openOrder messages and a reconciliation add nothing
    const again = await h.client.reconcile();
    expect(again.recoveredFills).toEqual([]);
    expect(again.externalPositions).toEqual([]);
    expect(h.types(order.id)).toEqual(['accepted', 'filled']);
    expect(h.brokenAlerts()).toEqual([]);
  });

  it('awaits beforeSend (the durable journal intent) before placeOrder, and never sends when it fails', async () => {
    const port = await startSim();
    const session = openSession(port);
    const seen: { orderRef: string; placedBefore: number }[] = [];
    const h = harness(session, async (orderRef) => {
      await sleep(50); // a slow commit: the order must still wait for it
      seen.push({ orderRef, placedBefore: placed.length });
      if (orderRef === ref('j2')) throw new Error('journal write failed');
    });
    await h.client.start();
    const ok = h.submit({ side: 'BUY', quantity: 10, type: 'MARKET', tag: 'decision=j1' });
    await vi.waitFor(() => expect(h.om.get(ok.id)!.status).toBe('FILLED'), WAIT);
    expect(seen[0]).toEqual({ orderRef: ref('j1'), placedBefore: 0 });
    expect(placed.map((p) => p.orderRef)).toEqual([ref('j1')]);
    const failed = h.submit({ side: 'BUY', quantity: 10, type: 'MARKET', tag: 'decision=j2' });
    await vi.waitFor(() => expect(h.om.get(failed.id)!.status).toBe('REJECTED'), WAIT);
    expect(h.om.get(failed.id)!.reason).toContain('journal write failed');
    expect(placed.map((p) => p.orderRef)).toEqual([ref('j1')]);
  });

  it('rests a limit order until the quote moves through it, then fills it (maker)', async () => {
    const h = await started(await startSim());
    const order = h.submit({ side: 'BUY', quantity: 50, type: 'LIMIT', limitPrice: 449, tag: 'decision=l1' });
    await vi.waitFor(() => expect(h.om.get(order.id)!.status).toBe('ACCEPTED'), WAIT);
    await sleep(100);
    expect(h.types(order.id)).toEqual(['accepted']);
    quotes.set('SPY', { bid: 448.85, ask: 448.9, last: 448.9 });
    await vi.waitFor(() => expect(h.om.get(order.id)!.status).toBe('FILLED'), WAIT);
    expect(h.of(order.id)[1]).toMatchObject({ type: 'filled', quantity: 50, price: 448.9, liquidity: 'maker', commission: 1 });
    expect(h.types(order.id)).toEqual(['accepted', 'filled']);
    expect(h.brokenAlerts()).toEqual([]);
  });

  it('modifies a resting limit (modified report) so that it fills', async () => {
    const h = await started(await startSim());
    const order = h.submit({ side: 'BUY', quantity: 10, type: 'LIMIT', limitPrice: 440, tag: 'decision=mod1' });
    await vi.waitFor(() => expect(h.om.get(order.id)!.status).toBe('ACCEPTED'), WAIT);
    h.om.modify(order.id, { limitPrice: 450.1 }, Date.now());
    await vi.waitFor(() => expect(h.om.get(order.id)!.status).toBe('FILLED'), WAIT);
    expect(h.types(order.id)).toEqual(['accepted', 'modified', 'filled']);
    expect(h.of(order.id)[1]).toMatchObject({ type: 'modified', quantity: 10, limitPrice: 450.1 });
    expect(placed.map((p) => p.orderId)).toEqual([placed[0]!.orderId, placed[0]!.orderId]);
    expect(h.brokenAlerts()).toEqual([]);
  });

  it('cancels a working order: one cancelled report for orderStatus Cancelled + error 202', async () => {
    const h = await started(await startSim());
    const order = h.submit({ side: 'BUY', quantity: 10, type: 'LIMIT', limitPrice: 440, tag: 'decision=c1' });
    await vi.waitFor(() => expect(h.om.get(order.id)!.status).toBe('ACCEPTED'), WAIT);
    h.om.cancel(order.id, Date.now());
    await vi.waitFor(() => expect(h.om.get(order.id)!.status).toBe('CANCELLED'), WAIT);
    await sleep(150);
    expect(h.types(order.id)).toEqual(['accepted', 'cancelled']);
    expect(h.om.get(order.id)!.reason).toBe('cancel requested');
    // cancelling again is refused by the engine before it reaches the client
    h.om.cancel(order.id, Date.now());
    expect(h.events.at(-1)).toMatchObject({ type: 'cancel_rejected' });
    expect(orders.book!.openOrders()).toEqual([]);
    expect(h.brokenAlerts()).toEqual([]);
  });

  it('reports a rejection (201 from fault injection) as rejected', async () => {
    const h = await started(await startSim());
    faults!.rejectNextOrders(1, 'Simulated margin check failed');
    const order = h.submit({ side: 'BUY', quantity: 10, type: 'MARKET', tag: 'decision=rej1' });
    await vi.waitFor(() => expect(h.om.get(order.id)!.status).toBe('REJECTED'), WAIT);
    expect(h.types(order.id)).toEqual(['rejected']);
    expect(h.om.get(order.id)!.reason).toContain('Simulated margin check failed');
    // the next order goes through
    const next = h.submit({ side: 'BUY', quantity: 10, type: 'MARKET', tag: 'decision=rej2' });
    await vi.waitFor(() => expect(h.om.get(next.id)!.status).toBe('FILLED'), WAIT);
    expect(h.brokenAlerts()).toEqual([]);
  });

  it('refuses what the simulated TWS cannot work (TRAIL): the 201 becomes rejected', async () => {
    const h = await started(await startSim());
    const order = h.submit({ side: 'SELL', quantity: 10, type: 'TRAILING_STOP', trailingPercent: 0.01, tag: 'decision=t1' });
    await vi.waitFor(() => expect(h.om.get(order.id)!.status).toBe('REJECTED'), WAIT);
    expect(h.om.get(order.id)!.reason).toMatch(/TRAIL/);
    expect(h.types(order.id)).toEqual(['rejected']);
  });

  it('trades a future resolved by its local symbol; positions are keyed by our instrument key', async () => {
    const h = await started(await startSim());
    const order = h.submit({ instrument: ES.key, side: 'BUY', quantity: 2, type: 'MARKET', tag: 'decision=f1' });
    await vi.waitFor(() => expect(h.om.get(order.id)!.status).toBe('FILLED'), WAIT);
    expect(h.of(order.id)[1]).toMatchObject({ type: 'filled', quantity: 2, price: 6010.25 });
    expect((h.of(order.id)[1] as { commission: number }).commission).toBeGreaterThan(0);
    const rec = await h.client.reconcile();
    expect(rec.externalPositions).toEqual([]);
    expect(rec.counts.positions).toBe(1);
    expect(h.brokenAlerts()).toEqual([]);
  });

  it('holds orders submitted while the client starts until the first reconciliation, rejects them while disconnected', async () => {
    const port = await startSim();
    const session = openSession(port);
    const h = harness(session);
    const starting = h.client.start();
    const early = h.submit({ side: 'BUY', quantity: 5, type: 'MARKET', tag: 'decision=e1' });
    await starting;
    await vi.waitFor(() => expect(h.om.get(early.id)!.status).toBe('FILLED'), WAIT);
    expect(h.reconciles[0]!.cause).toBe('start');

    faults!.refuseConnections(1);
    faults!.dropAll();
    await vi.waitFor(() => expect(session.state).not.toBe('connected'), WAIT);
    const offline = h.submit({ side: 'BUY', quantity: 5, type: 'MARKET', tag: 'decision=e2' });
    await vi.waitFor(() => expect(h.om.get(offline.id)!.status).toBe('REJECTED'), WAIT);
    expect(h.om.get(offline.id)!.reason).toMatch(/not connected/);
    // back online: reconciled, and orders go out again
    await vi.waitFor(() => expect(h.reconciles.some((r) => r.cause === 'reconnect')).toBe(true), WAIT);
    const online = h.submit({ side: 'SELL', quantity: 5, type: 'MARKET', tag: 'decision=e3' });
    await vi.waitFor(() => expect(h.om.get(online.id)!.status).toBe('FILLED'), WAIT);
    expect(placed.map((p) => p.orderRef)).toEqual([ref('e1'), ref('e3')]);
    expect(h.brokenAlerts()).toEqual([]);
  });

  it('sends a bracket as one IB group (transmit on the last leg only) and runs it to the take-profit', async () => {
    const h = await started(await startSim());
    const { entry, takeProfit, stopLoss } = h.om.submitBracket(
      { entry: { instrument: 'SPY', side: 'BUY', quantity: 100, type: 'LIMIT', limitPrice: 450.1 }, takeProfitPrice: 455, stopLossPrice: 445, tag: 'decision=b1' },
      STRATEGY,
      Date.now(),
    );
    await vi.waitFor(() => {
      expect(h.om.get(entry.id)!.status).toBe('FILLED');
      expect(h.om.get(takeProfit.id)!.status).toBe('ACCEPTED');
      expect(h.om.get(stopLoss.id)!.status).toBe('ACCEPTED');
    }, WAIT);
    expect(placed.map((p) => [p.orderRef, p.transmit])).toEqual([
      [ref('b1'), false],
      [ref('b1', 2), false],
      [ref('b1', 3), true],
    ]);
    expect(placed[1]!.parentId).toBe(placed[0]!.orderId);
    expect(placed[2]!.parentId).toBe(placed[0]!.orderId);
    quotes.set('SPY', { bid: 455.1, ask: 455.2, last: 455.1 });
    await vi.waitFor(() => {
      expect(h.om.get(takeProfit.id)!.status).toBe('FILLED');
      expect(h.om.get(stopLoss.id)!.status).toBe('CANCELLED');
    }, WAIT);
    expect(h.types(entry.id)).toEqual(['accepted', 'filled']);
    expect(h.types(takeProfit.id)).toEqual(['accepted', 'filled']);
    expect(h.types(stopLoss.id)).toEqual(['accepted', 'cancelled']);
    expect(h.of(takeProfit.id)[1]).toMatchObject({ price: 455.1, quantity: 100 });
    const rec = await h.client.reconcile();
    expect(rec.externalPositions).toEqual([]);
    expect(h.brokenAlerts()).toEqual([]);
  });

  it('recovers a fill that happened while the connection was down, exactly once', async () => {
    const port = await startSim();
    const h = await started(port);
    // an earlier fill: the reconciliation then asks for executions from a time on
    const first = h.submit({ side: 'BUY', quantity: 1, type: 'MARKET', tag: 'decision=d0' });
    await vi.waitFor(() => expect(h.om.get(first.id)!.status).toBe('FILLED'), WAIT);
    const order = h.submit({ side: 'BUY', quantity: 20, type: 'LIMIT', limitPrice: 449, tag: 'decision=d1' });
    await vi.waitFor(() => expect(h.om.get(order.id)!.status).toBe('ACCEPTED'), WAIT);
    faults!.refuseConnections(0.6);
    faults!.dropAll();
    await vi.waitFor(() => expect(h.session.state).not.toBe('connected'), WAIT);
    quotes.set('SPY', { bid: 448.85, ask: 448.9, last: 448.9 });
    // the simulator's matching timer fills it while nobody is connected
    await vi.waitFor(() => expect(orders.book!.executions().length).toBe(2), WAIT);
    expect(h.types(order.id)).toEqual(['accepted']);
    await vi.waitFor(() => expect(h.reconciles.some((r) => r.cause === 'reconnect')).toBe(true), WAIT);
    const rec = h.reconciles.find((r) => r.cause === 'reconnect')!;
    expect(rec.recoveredFills).toEqual([
      { orderId: order.id, orderRef: ref('d1'), executionId: orders.book!.executions()[1]!.execId, quantity: 20, price: 448.9, commission: 1, ts: expect.any(Number) },
    ]);
    expect(rec.mismatches).toEqual([expect.objectContaining({ kind: 'missed-fill', orderId: order.id })]);
    expect(rec.counts.executions).toBe(2);
    expect(rec.externalPositions).toEqual([]);
    expect(h.om.get(order.id)!.status).toBe('FILLED');
    expect(h.alerts.filter((a) => a.kind === 'missed-fill')).toHaveLength(1);
    const again = await h.client.reconcile();
    expect(again.recoveredFills).toEqual([]);
    expect(again.mismatches).toEqual([]);
    expect(h.types(order.id)).toEqual(['accepted', 'filled']);
    expect(h.brokenAlerts()).toEqual([]);
  });

  it('after a restart (new session, same client id) adopts the decision already at IB instead of re-sending it', async () => {
    const port = await startSim();
    const first = await started(port, 61);
    const order = first.submit({ side: 'BUY', quantity: 30, type: 'LIMIT', limitPrice: 440, tag: 'decision=r1' });
    await vi.waitFor(() => expect(first.om.get(order.id)!.status).toBe('ACCEPTED'), WAIT);
    // the runner dies
    first.client.close();
    first.session.stop();
    await vi.waitFor(() => expect(sim!.connections().map((c) => c.clientId)).not.toContain(61), WAIT);

    const second = await started(port, 61);
    expect(second.startReport.unclaimedOrders).toEqual([expect.objectContaining({ orderRef: ref('r1'), quantity: 30, side: 'BUY', instrument: 'SPY' })]);
    expect(second.startReport.externalOrders).toEqual([]);
    // the restarted engine replays the same decision
    const again = second.submit({ side: 'BUY', quantity: 30, type: 'LIMIT', limitPrice: 440, tag: 'decision=r1' });
    await vi.waitFor(() => expect(second.om.get(again.id)!.status).toBe('ACCEPTED'), WAIT);
    await sleep(100);
    expect(placed.filter((p) => p.orderRef === ref('r1'))).toHaveLength(1);
    expect(second.alerts.filter((a) => a.kind === 'adopted-order')).toHaveLength(1);
    expect(second.client.ibOrderIdOf(again.id)).toMatchObject({ ibOrderId: placed[0]!.orderId, clientId: 61 });
    // the adopted order lives on: it fills and can be reported
    quotes.set('SPY', { bid: 439.9, ask: 439.95, last: 439.95 });
    await vi.waitFor(() => expect(second.om.get(again.id)!.status).toBe('FILLED'), WAIT);
    expect(second.types(again.id)).toEqual(['accepted', 'filled']);
    expect(orders.book!.executions()).toHaveLength(1);
    expect(second.brokenAlerts()).toEqual([]);
  });

  it('a new client on the same session adopts a filled decision (its fill replayed once), nothing re-sent', async () => {
    const port = await startSim();
    const first = await started(port);
    const order = first.submit({ side: 'SELL', quantity: 10, type: 'MARKET', tag: 'decision=r2' });
    await vi.waitFor(() => expect(first.om.get(order.id)!.status).toBe('FILLED'), WAIT);
    first.client.close();

    const second = harness(first.session);
    const start = await second.client.start();
    expect(start.unclaimedOrders).toEqual([]);
    const again = second.submit({ side: 'SELL', quantity: 10, type: 'MARKET', tag: 'decision=r2' });
    await vi.waitFor(() => expect(second.om.get(again.id)!.status).toBe('FILLED'), WAIT);
    expect(second.types(again.id)).toEqual(['accepted', 'filled']);
    expect(second.of(again.id)[1]).toMatchObject({ quantity: 10, price: 450, commission: 1, executionId: orders.book!.executions()[0]!.execId });
    expect(placed.filter((p) => p.orderRef === ref('r2'))).toHaveLength(1);
    const rec = await second.client.reconcile();
    expect(rec.recoveredFills).toEqual([]);
    expect(second.types(again.id)).toEqual(['accepted', 'filled']);
    expect(second.brokenAlerts()).toEqual([]);
  });

  it('reports orders and positions placed by another API client as external, and never adopts them', async () => {
    const port = await startSim();
    const h = await started(port);
    const other = new IBApi({ host: '127.0.0.1', port, clientId: 77 });
    cleanups.push(() => void other.disconnect());
    const ids: number[] = [];
    other.on(EventName.nextValidId, (id: number) => ids.push(id));
    other.connect();
    await vi.waitFor(() => expect(ids.length).toBe(1), WAIT);
    const contract = { symbol: 'SPY', secType: SecType.STK, exchange: 'SMART', currency: 'USD' };
    other.placeOrder(2_000_000, contract, { action: OrderAction.BUY, orderType: OrderType.LMT, totalQuantity: 5, lmtPrice: 400, tif: 'GTC', orderRef: 'manual-1', transmit: true });
    other.placeOrder(2_000_001, contract, { action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: 7, transmit: true });
    await vi.waitFor(() => expect(orders.book!.executions().length).toBe(1), WAIT);

    const rec = await h.client.reconcile();
    expect(rec.externalOrders).toEqual([expect.objectContaining({ orderRef: 'manual-1', clientId: 77, orderId: 2_000_000, side: 'BUY', quantity: 5, instrument: 'SPY', status: 'Submitted' })]);
    expect(rec.unclaimedOrders).toEqual([]);
    expect(rec.externalPositions).toEqual([expect.objectContaining({ instrument: 'SPY', brokerQuantity: 7, ourQuantity: 0, difference: 7 })]);
    expect(h.alerts.map((a) => a.kind)).toEqual(expect.arrayContaining(['external-order', 'external-position']));
    expect(h.reports).toEqual([]);
    // a second look reports them again but alerts only once
    const again = await h.client.reconcile();
    expect(again.externalOrders).toHaveLength(1);
    expect(h.alerts.filter((a) => a.kind === 'external-order')).toHaveLength(1);
    expect(h.brokenAlerts()).toEqual([]);
  });
});
