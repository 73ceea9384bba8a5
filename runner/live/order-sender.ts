/**
 * The sending side of the IB execution client: the submission queue, placeOrder / cancelOrder /
 * modify (a placeOrder with the same id) through the session's message budget, bracket
 * transmission and adoption of decisions IB already has.
 *
 * - Orders queue in submission order. Each waits for its contract (ContractResolver, one
 *   resolution per instrument) and for the gate (a successful reconciliation on the current
 *   connection), then takes its IB order id from `session.nextOrderId()` at send time, so ids
 *   reach TWS increasing.
 * - `beforeSend` (the journal's durable intent) starts for every order queued in a turn at the end
 *   of that turn, together (one journal write for a burst), without waiting for the orders ahead
 *   of it to be sent; each order is still sent only after its own intent is durable. An intent
 *   whose order is then refused or cancelled unsent is harmless: the order's end is journaled too.
 * - A bracket's legs are submitted in one synchronous turn and so sit in the queue together: each
 *   leg is sent transmit=false while another leg of its group is still queued, the last one
 *   transmit=true. When the last leg never goes out (cancelled or refused before sending), the
 *   last leg sent is placed again with transmit=true so nothing stays untransmitted at IB.
 * - Before sending, the orderRef is looked up among IB's orders and executions (BrokerOrders): a
 *   match is adopted instead of sent (see `adopt`).
 * - `t.sent` is set by the budget's send callback: a request dropped with the connection never
 *   ran it (the client rejects those orders on the disconnect).
 */
import type { Contract, Order as IbOrder } from '@stoqey/ib';
import type { Logger } from '../../lib/core/logger.js';
import type { InstrumentSpec } from '../../lib/data/instrument.js';
import { toIbContract, type ContractResolver } from '../../lib/ib/contract-resolver.js';
import type { IbSession } from '../../lib/ib/ib-session.js';
import type { Order, OrderChanges } from '../../lib/model/orders.js';
import type { BrokerOrder, BrokerOrders } from './broker-orders.js';
import type { AlertKind, AlertLevel } from './execution-types.js';
import { applyChanges, contractQueryFor, toIbOrder } from './ib-order-mapping.js';
import { describeContract, instrumentKeyGuess, type IbContractView } from './ib-views.js';
import type { OrderTracker, TrackedOrder } from './order-tracker.js';

export interface OrderSenderDeps {
  session: Pick<IbSession, 'request' | 'clientId' | 'nextOrderId'>;
  tracker: OrderTracker;
  broker: BrokerOrders;
  contracts: Pick<ContractResolver, 'resolveOne'>;
  account: string;
  outsideRth: boolean | undefined;
  /** Undefined when orders may be sent now, else why not (waits for a reconciliation in progress) */
  gate(): Promise<string | undefined>;
  /**
   * Awaited before each new order goes to IB (the journal's durable order intent): when it
   * rejects, the order is rejected and never sent
   */
  beforeSend?: (orderRef: string, order: Readonly<Order>, spec: InstrumentSpec) => Promise<void>;
  alert(level: AlertLevel, kind: AlertKind, message: string, extra?: { orderId?: number; orderRef?: string; details?: Record<string, unknown> }): void;
  log: Logger;
}

interface Placed {
  contract: Contract;
  ibOrder: IbOrder;
  tickSize: number;
}

type QueueItem =
  | { kind: 'submit'; t: TrackedOrder; order: Order; spec: InstrumentSpec; contract: Promise<Contract>; intent?: Promise<string | undefined> }
  | { kind: 'modify'; t: TrackedOrder; changes: OrderChanges };

const groupOf = (o: { parentId: number; id: number }): number => (o.parentId > 0 ? o.parentId : o.id);

export class OrderSender {
  private readonly queue: QueueItem[] = [];
  private readonly placed = new Map<number, Placed>();
  private readonly ocaNames = new Map<string, string>();
  private readonly untransmitted = new Map<number, TrackedOrder>();
  private readonly contracts = new Map<string, Promise<Contract>>();
  private readonly keyByConId = new Map<number, string>();
  private pumping = false;
  private intentsQueued = false;
  private closed = false;
  private seq = 0;

  constructor(private readonly deps: OrderSenderDeps) {}

  /** Orders sent so far (placeOrder callbacks run): reconciliation judges only orders sent before it asked. */
  get sendSeq(): number {
    return this.seq;
  }

  /** Our instrument key for an IB contract: from our resolutions, else a guess from the contract. */
  instrumentOf(c: IbContractView): string {
    return this.keyByConId.get(c.conId) ?? instrumentKeyGuess(c);
  }

  enqueue(t: TrackedOrder, order: Readonly<Order>, spec: InstrumentSpec): void {
    this.queue.push({ kind: 'submit', t, order: { ...order }, spec, contract: this.contractFor(spec) });
    if (this.deps.beforeSend !== undefined && !this.intentsQueued) {
      // the orders of this turn (a kernel step can submit a burst) start their intents together
      this.intentsQueued = true;
      queueMicrotask(() => {
        this.intentsQueued = false;
        if (!this.closed) this.startIntents();
      });
    }
    this.pump();
  }

  modify(t: TrackedOrder, changes: OrderChanges): void {
    if (this.queue.some((x) => x.t === t)) {
      this.queue.push({ kind: 'modify', t, changes });
      this.pump();
      return;
    }
    this.modifyNow(t, changes);
  }

  cancel(t: TrackedOrder): void {
    const { tracker, session } = this.deps;
    if (this.queue.some((x) => x.kind === 'submit' && x.t === t)) {
      for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]!.t === t) this.queue.splice(i, 1);
      tracker.end(t, 'cancelled', 'cancelled before it was sent to IB');
      this.finishGroup(groupOf({ parentId: t.parentId, id: t.orderId }));
      return;
    }
    const notOurs = this.notOurClient(t);
    if (notOurs) return tracker.cancelRejected(t, notOurs);
    t.cancelRequested = true;
    const ibOrderId = t.ibOrderId;
    const sent = session.request((api) => {
      api.cancelOrder(ibOrderId);
      this.deps.log.info('cancelOrder', { orderId: t.orderId, ibOrderId, orderRef: t.orderRef });
    }, `cancelOrder ${t.orderRef}`);
    if (!sent) tracker.cancelRejected(t, 'IB session not connected: cancel not sent');
  }

  /** Drops the queue (the client is closing). */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
  }

  private contractFor(spec: InstrumentSpec): Promise<Contract> {
    let p = this.contracts.get(spec.key);
    if (!p) {
      p = this.deps.contracts.resolveOne(contractQueryFor(spec)).then((resolved) => {
        this.keyByConId.set(resolved.conId, spec.key);
        return toIbContract(resolved);
      });
      // a failed resolution is asked again by the next order
      p.catch(() => this.contracts.delete(spec.key));
      this.contracts.set(spec.key, p);
    }
    return p;
  }

  private pump(): void {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    this.drain()
      .catch((e: unknown) => this.deps.log.error('order queue failed', { error: e instanceof Error ? e.message : String(e) }))
      .finally(() => {
        this.pumping = false;
        if (this.queue.length > 0 && !this.closed) this.pump();
      });
  }

  /** Sends queued orders in submission order. */
  private async drain(): Promise<void> {
    // a bracket's legs, submitted in the same synchronous turn, join the queue first
    await Promise.resolve();
    while (this.queue.length > 0 && !this.closed) {
      const item = this.queue[0]!;
      let contract: Contract | undefined;
      let problem: string | undefined;
      if (item.kind === 'submit') {
        try {
          contract = await item.contract;
        } catch (e) {
          problem = `cannot resolve the IB contract of ${item.spec.key}: ${e instanceof Error ? e.message : String(e)}`;
        }
      }
      problem ??= await this.deps.gate();
      if (problem === undefined && item.kind === 'submit' && this.deps.beforeSend !== undefined) {
        this.startIntents();
        problem = await item.intent;
      }
      // cancelled while it waited
      if (this.queue[0] !== item) continue;
      this.queue.shift();
      if (item.kind === 'modify') {
        if (problem) this.deps.tracker.modifyRejected(item.t, problem);
        else this.modifyNow(item.t, item.changes);
        continue;
      }
      if (problem || !contract) this.deps.tracker.end(item.t, 'rejected', problem ?? 'no contract');
      else this.place(item, contract);
      this.finishGroup(groupOf(item.order));
    }
  }

  /**
   * Starts `beforeSend` (the journal's durable intent) for every queued order that has not had it,
   * all in the same turn: the journal writes them together, so a burst of orders pays one write,
   * not one per order. Each order is still sent only after its own intent is durable, in queue order.
   */
  private startIntents(): void {
    const beforeSend = this.deps.beforeSend!;
    for (const item of this.queue) {
      if (item.kind !== 'submit' || item.intent !== undefined) continue;
      item.intent = beforeSend(item.t.orderRef, item.order, item.spec).then(
        () => undefined,
        (e: unknown) => `not sent: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }

  private place(item: Extract<QueueItem, { kind: 'submit' }>, contract: Contract): void {
    const { t, order, spec } = item;
    const { tracker, session } = this.deps;
    if (t.done) return;
    const existing = this.deps.broker.byOrderRef(t.orderRef);
    if (existing) return this.adopt(t, existing, order, spec, contract);
    let parentIbOrderId = 0;
    if (order.parentId > 0) {
      const p = tracker.get(order.parentId);
      if (!p || p.ibOrderId <= 0 || (p.done && p.filled <= 0)) return void tracker.end(t, 'cancelled', 'parent cancelled');
      if (p.clientId !== session.clientId) return void tracker.end(t, 'rejected', `parent order ${p.orderId} belongs to IB client ${p.clientId}`);
      parentIbOrderId = p.ibOrderId;
    }
    const root = groupOf(order);
    const transmit = !this.queue.some((x) => x.kind === 'submit' && groupOf(x.order) === root);
    const ibOrderId = session.nextOrderId();
    const clientId = session.clientId;
    const ibOrder = toIbOrder(order, {
      orderRef: t.orderRef,
      account: this.deps.account,
      transmit,
      parentIbOrderId,
      ocaGroup: this.ocaName(order, t.orderRef),
      tickSize: spec.tickSize,
      outsideRth: this.deps.outsideRth,
    });
    tracker.bind(t, ibOrderId, clientId);
    this.placed.set(t.orderId, { contract, ibOrder, tickSize: spec.tickSize });
    if (transmit) this.untransmitted.delete(root);
    else this.untransmitted.set(root, t);
    const sent = session.request((api) => {
      t.sent = true;
      t.sentSeq = ++this.seq;
      api.placeOrder(ibOrderId, contract, ibOrder);
      this.deps.log.info('placeOrder', { orderId: t.orderId, ibOrderId, clientId, orderRef: t.orderRef, type: ibOrder.orderType, side: ibOrder.action, quantity: ibOrder.totalQuantity, transmit });
    }, `placeOrder ${t.orderRef}`);
    if (!sent) tracker.end(t, 'rejected', 'IB session not connected: order not sent');
  }

  /** A group whose last leg never went out leaves the others untransmitted at IB: transmit them. */
  private finishGroup(root: number): void {
    const u = this.untransmitted.get(root);
    if (!u || this.queue.some((x) => x.kind === 'submit' && groupOf(x.order) === root)) return;
    this.untransmitted.delete(root);
    const placed = this.placed.get(u.orderId);
    if (!placed || u.done) return;
    placed.ibOrder = { ...placed.ibOrder, transmit: true };
    const ibOrder = placed.ibOrder;
    this.deps.session.request((api) => api.placeOrder(u.ibOrderId, placed.contract, ibOrder), `transmit ${u.orderRef}`);
  }

  /**
   * The decision reached IB before (a restart): bind to IB's order instead of sending it again,
   * replay its state and fills as reports. An orderRef IB knows for a different order (side,
   * quantity, contract) is refused with a 'ref-collision' alert and nothing is sent.
   */
  private adopt(t: TrackedOrder, b: BrokerOrder, order: Order, spec: InstrumentSpec, contract: Contract): void {
    const { tracker } = this.deps;
    const executions = [...b.executions.values()].sort((x, y) => (x.time || 0) - (y.time || 0));
    const view = b.order;
    const side = view?.side ?? executions[0]?.side;
    const ibContract = view?.contract ?? executions[0]?.contract;
    const problems: string[] = [];
    if (b.claimedBy > 0) problems.push(`already adopted by order ${b.claimedBy}`);
    if (side !== undefined && side !== order.side) problems.push(`side ${side}`);
    if (view && Math.abs(view.totalQuantity - order.quantity) > 1e-9) problems.push(`quantity ${view.totalQuantity}`);
    const filled = executions.reduce((s, e) => s + e.shares, 0);
    if (!view && filled > order.quantity + 1e-9) problems.push(`${filled} filled`);
    if (ibContract && ibContract.conId > 0 && (contract.conId ?? 0) > 0 && ibContract.conId !== contract.conId) problems.push(`contract ${describeContract(ibContract)}`);
    if (problems.length > 0) {
      const reason = `orderRef ${t.orderRef} is already used at IB by a different order (${problems.join(', ')})`;
      this.deps.alert('critical', 'ref-collision', reason, { orderId: t.orderId, orderRef: t.orderRef, details: { permId: b.permId, ibOrderId: b.orderId, clientId: b.clientId } });
      tracker.end(t, 'rejected', reason);
      return;
    }
    this.deps.broker.claim(b, t.orderId);
    tracker.bind(t, b.orderId, b.clientId, b.permId);
    t.sent = true;
    t.adopted = true;
    if (order.ocaGroup && view?.ocaGroup) this.ocaNames.set(`${order.strategyId}|${order.ocaGroup}`, view.ocaGroup);
    const ibOrder = toIbOrder(order, {
      orderRef: t.orderRef,
      account: this.deps.account,
      transmit: true,
      parentIbOrderId: view?.parentId ?? 0,
      ocaGroup: view?.ocaGroup ?? '',
      tickSize: spec.tickSize,
      outsideRth: this.deps.outsideRth,
    });
    this.placed.set(t.orderId, { contract, ibOrder, tickSize: spec.tickSize });
    const state = b.status?.status ?? view?.status ?? 'executed';
    this.deps.alert('info', 'adopted-order', `order ${t.orderId} (${t.orderRef}) was already at IB (IB id ${b.orderId}, client ${b.clientId}, permId ${b.permId}, ${state}): adopted, not sent again`, {
      orderId: t.orderId,
      orderRef: t.orderRef,
    });
    if (view) tracker.onOpenOrder(t, view);
    for (const e of executions) tracker.onExecution(t, e);
    if (b.status) tracker.onStatus(t, b.status);
    if (!b.open && !t.done) tracker.end(t, 'cancelled', 'the order had ended at IB before this run adopted it');
    else if (!t.accepted && !t.done) tracker.accept(t);
  }

  private modifyNow(t: TrackedOrder, changes: OrderChanges): void {
    const { tracker } = this.deps;
    if (t.done) return tracker.modifyRejected(t, 'order is not working at IB');
    const placed = this.placed.get(t.orderId);
    if (!placed || t.ibOrderId <= 0) return tracker.modifyRejected(t, 'order is not at IB');
    const notOurs = this.notOurClient(t);
    if (notOurs) return tracker.modifyRejected(t, notOurs);
    const next = applyChanges(placed.ibOrder, t.type, changes, placed.tickSize);
    placed.ibOrder = next;
    t.pendingModify = true;
    const ibOrderId = t.ibOrderId;
    const sent = this.deps.session.request((api) => {
      api.placeOrder(ibOrderId, placed.contract, next);
      this.deps.log.info('modifyOrder', { orderId: t.orderId, ibOrderId, orderRef: t.orderRef, ...changes });
    }, `modifyOrder ${t.orderRef}`);
    if (!sent) tracker.modifyRejected(t, 'IB session not connected: modify not sent');
  }

  /** Order ids are per client id: another client's order cannot be modified or cancelled from here. */
  private notOurClient(t: TrackedOrder): string | undefined {
    const own = this.deps.session.clientId;
    return t.clientId !== own ? `order ${t.orderId} belongs to IB client ${t.clientId}, this session is client ${own}` : undefined;
  }

  /** IB OCA group names: after the first member's orderRef, so unique per decision and stable across restarts. */
  private ocaName(order: Readonly<Order>, orderRef: string): string {
    if (!order.ocaGroup) return '';
    const key = `${order.strategyId}|${order.ocaGroup}`;
    let name = this.ocaNames.get(key);
    if (!name) {
      name = `oca:${orderRef}`;
      this.ocaNames.set(key, name);
    }
    return name;
  }
}
