/**
 * The execution port for paper and live trading: our orders become IB orders over an IbSession,
 * and everything IB says about them comes back as ExecutionReports, exactly once per state change.
 *
 * Lifecycle. `start()` listens to the session (every new IBApi of every connection: openOrder,
 * orderStatus, execDetails, commissionReport, error, and the answers a reconciliation asks for),
 * waits until the session is usable and reconciles. Every reconnect reconciles again. `close()`
 * stops listening.
 *
 * Submission (see ib-order-mapping.ts for the field mapping, order-ref.ts for the orderRef).
 * `submit` validates at once (a refusal is a 'rejected' report), then queues the order: contract
 * resolution (ContractResolver, cached per instrument), then, in submission order, the idempotency
 * check and placeOrder through the session's message budget with an IB order id from
 * `session.nextOrderId()` taken at send time (so ids reach TWS increasing). Orders submitted in one
 * synchronous turn travel together: a bracket's parent and children are sent transmit=false
 * except the last. Nothing is sent before a reconciliation succeeded on the current connection
 * (orders wait for one in progress); while the session is not connected an order is rejected.
 *
 * Idempotency. Before an order is sent, its orderRef is looked up among the orders and executions
 * IB reported (the last reconciliation plus live messages since): when IB has it, the order is
 * adopted (bound to that IB order, IB's state and fills replayed as reports) and nothing is sent,
 * so a restarted runner never sends a decision twice. An orderRef IB knows for a different order
 * (side, quantity or contract) is rejected with a 'ref-collision' alert. Limit: an order that
 * reached IB, was cancelled without any fill and is no longer open is invisible to the API
 * (reqAllOpenOrders lists open orders, reqExecutions fills): the journal must know it was sent.
 *
 * Reports (order-tracker.ts): accepted once; fills once per execId with the commission of their
 * commissionReport (a fill waits up to `commissionWaitMs` for it, then goes out with 0 and a late
 * commission is alerted); 201 -> rejected (modify_rejected while a modify is pending), 202 ->
 * cancelled, 10147 / 10148 -> cancel_rejected, 399 and other warnings -> log only.
 *
 * Reconciliation (reconcile.ts): open orders, executions since the last seen execution (minus a
 * margin) and positions; missed fills applied once, order states corrected from IB's, external
 * orders and positions reported; every mismatch alerted through `onAlert`.
 *
 * Restart (`recover`, before `start`): the orders an earlier process of the run sent or was about to
 * send, adopted by the engine from the journal, are tracked unbound; the first reconciliation looks
 * each up by orderRef and binds it to IB's order (its fills since replayed once) or ends it as not
 * found, never sending it again (recovered-orders.ts).
 */
import type { IBApi } from '@stoqey/ib';
import { ConfigError } from '../../lib/core/errors.js';
import { silentLogger, type Logger } from '../../lib/core/logger.js';
import type { InstrumentSpec } from '../../lib/data/instrument.js';
import type { ExecutionClient, ExecutionReportSink } from '../../lib/engine/ports.js';
import type { ContractResolver } from '../../lib/ib/contract-resolver.js';
import { realScheduler, type IbConnection, type IbSession, type SessionScheduler } from '../../lib/ib/ib-session.js';
import type { SessionTransition } from '../../lib/ib/session-state.js';
import type { ExecutionReport } from '../../lib/model/order-events.js';
import type { Order, OrderChanges } from '../../lib/model/orders.js';
import type { RecoveredOrderOutcome } from './recovered-orders.js';
import { BrokerOrders } from './broker-orders.js';
import { IbExecutionError, SnapshotCollector } from './broker-snapshot.js';
import type { AlertKind, AlertLevel, ExecutionAlert, ReconcileCause, ReconcileReport } from './execution-types.js';
import { changesProblem, ibOrderProblem } from './ib-order-mapping.js';
import { listenToApi } from './ib-listeners.js';
import { formatFilterTime, type IbExecutionView } from './ib-views.js';
import { decisionIdOf, formatOrderRef, orderRefProblem, parseOrderRef } from './order-ref.js';
import { OrderSender } from './order-sender.js';
import { OrderTracker, type TrackedOrder } from './order-tracker.js';
import { applySnapshot, buildReport, type ReconcileContext } from './reconcile.js';

export { IbExecutionError } from './broker-snapshot.js';

/** The part of IbSession the client uses. */
export type ExecutionSession = Pick<IbSession, 'request' | 'on' | 'api' | 'clientId' | 'nextOrderId' | 'ready'>;

export interface IbExecutionClientOptions {
  session: ExecutionSession;
  contracts: Pick<ContractResolver, 'resolveOne'>;
  /** The IB account orders go to; positions of other accounts are ignored ('' for none) */
  account: string;
  /** Version per strategy id: the `<version>` of every orderRef. A strategy without one cannot trade */
  versions: Readonly<Record<string, string>>;
  /** The decision id of an order (default: `decision=<id>` in its tag, else its clientOrderId) */
  decisionIdOf?: (order: Readonly<Order>) => string;
  onAlert?: (alert: ExecutionAlert) => void;
  /** Every completed reconciliation (the ones after reconnects included) */
  onReconcile?: (report: ReconcileReport) => void;
  /** Positions we expect IB to hold, per instrument key (default: `positionsBefore` plus the net of the fills this client reported) */
  expectedPositions?: () => ReadonlyMap<string, number>;
  /** Positions held before this process's fills (a resumed run's, from its journal); default none */
  positionsBefore?: ReadonlyMap<string, number>;
  /** Longest wait of a fill for its commission report (default 2000 ms) */
  commissionWaitMs?: number;
  /** Longest wait of a cancel for fills IB counted but did not send (default 5000 ms) */
  missingFillsWaitMs?: number;
  /** Per reconciliation step (default 10 s) */
  reconcileTimeoutMs?: number;
  /** Retry after a failed reconciliation while connected (default 5 s) */
  reconcileRetryMs?: number;
  /** start(): how long to wait for a usable session (default 30 s) */
  readyTimeoutMs?: number;
  /** The executions filter starts this long before the last execution seen (default 60 s) */
  execFilterMarginMs?: number;
  /** reqExecutions request ids (default 700_000..799_999: clear of the resolver's and of order ids) */
  reqIdRange?: { from: number; to: number };
  /** TWS's login time zone, for execution times without a zone (default America/New_York) */
  twsTimeZone?: string;
  outsideRth?: boolean;
  /** Awaited before each new order is sent (write the durable order intent here); a rejection rejects the order */
  beforeSend?: (orderRef: string, order: Readonly<Order>, spec: InstrumentSpec) => Promise<void>;
  now?: () => number;
  scheduler?: SessionScheduler;
  logger?: Logger;
}

const noop = () => undefined;

/** An order of an earlier process of the run, as the engine adopted it (see `IbExecutionClient.recover`) */
export interface RecoveredOrderInput {
  order: Readonly<Order>;
  /** The orderRef it was (or was to be) sent with */
  orderRef: string;
  /** Executions the journal already applied to it */
  knownExecutions: readonly string[];
}

export class IbExecutionClient implements ExecutionClient {
  readonly name = 'ib';
  private readonly session: ExecutionSession;
  private readonly log: Logger;
  private readonly scheduler: SessionScheduler;
  private readonly now: () => number;
  private readonly tracker: OrderTracker;
  private readonly broker = new BrokerOrders();
  private readonly sender: OrderSender;
  /** Orders per decision, for the `/<leg>` of the orderRef */
  private readonly legs = new Map<string, number>();
  private readonly detach = new Map<IBApi, () => void>();
  private readonly alerted = new Set<string>();
  private readonly unsubscribe: (() => void)[] = [];
  private sink: ExecutionReportSink | undefined;
  private collector: SnapshotCollector | undefined;
  private reconciling: Promise<ReconcileReport> | undefined;
  private followUp: Promise<ReconcileReport> | undefined;
  /** The connection the last successful reconciliation ran on: orders go out only on it */
  private reconciledApi: IBApi | undefined;
  private starting: Promise<unknown> | undefined;
  private initialRequested = false;
  private closed = false;
  private lastExecTime = NaN;
  private nextReqId: number;
  private retryTimer: unknown;
  private missingTimer: unknown;
  private recoveredWaiters: ((outcomes: RecoveredOrderOutcome[]) => void)[] = [];

  constructor(private readonly options: IbExecutionClientOptions) {
    const problems: string[] = [];
    for (const [strategy, version] of Object.entries(options.versions)) {
      const p = orderRefProblem({ strategy, version, decisionId: 'x' });
      if (p) problems.push(`versions.${strategy}: ${p}`);
    }
    const range = options.reqIdRange ?? { from: 700_000, to: 799_999 };
    if (!(Number.isInteger(range.from) && range.from > 0 && range.to >= range.from)) problems.push(`reqIdRange must be positive integers with from <= to, got ${range.from}..${range.to}`);
    if (problems.length) throw new ConfigError('ib execution client', problems);
    this.session = options.session;
    this.scheduler = options.scheduler ?? realScheduler;
    this.now = options.now ?? (() => this.scheduler.now());
    this.log = (options.logger ?? silentLogger).child({ component: 'ib-execution' });
    this.nextReqId = range.from;
    const alert = this.alert.bind(this);
    this.tracker = new OrderTracker({
      emit: (r) => this.emit(r),
      now: this.now,
      scheduler: this.scheduler,
      commissionWaitMs: options.commissionWaitMs,
      missingFillsWaitMs: options.missingFillsWaitMs,
      alert,
      onMissingFills: (t) => this.onMissingFills(t),
      logger: this.log,
    });
    this.sender = new OrderSender({
      session: this.session,
      tracker: this.tracker,
      broker: this.broker,
      contracts: options.contracts,
      account: options.account,
      outsideRth: options.outsideRth,
      gate: () => this.gate(),
      beforeSend: options.beforeSend,
      alert,
      log: this.log,
    });
  }

  attach(sink: ExecutionReportSink): void {
    this.sink = sink;
  }

  /**
   * Listens to the session, waits until it is usable (`readyTimeoutMs`) and reconciles; resolves
   * with that reconciliation. Orders submitted meanwhile wait for it. Every later connection
   * reconciles again (also the first one, should this one time out).
   */
  start(): Promise<ReconcileReport> {
    if (this.starting) return this.reconcile('manual');
    this.unsubscribe.push(
      this.session.on('connection', (c) => this.onConnection(c)),
      this.session.on('transition', (t) => this.onTransition(t)),
    );
    this.initialRequested = true;
    const api = this.session.api;
    let run: Promise<ReconcileReport>;
    if (api) {
      this.attachApi(api);
      run = this.reconcile('start');
    } else {
      // the connection event (emitted before ready() resolves) has started the reconciliation
      run = this.session.ready(this.options.readyTimeoutMs ?? 30_000).then(() => this.reconciling ?? this.reconcile('start'));
    }
    this.starting = run.catch(noop);
    return run;
  }

  /**
   * Before start(), for a resumed run: tracks the engine's adopted orders unbound. The first
   * successful reconciliation looks each one up at IB by its orderRef and binds it (IB's state and
   * the fills the journal lacks follow as reports) or ends it, never sending it again; the promise
   * resolves with what became of each (and with [] if the client closes first).
   */
  recover(orders: readonly RecoveredOrderInput[]): Promise<RecoveredOrderOutcome[]> {
    if (this.starting !== undefined) return Promise.reject(new ConfigError('ib execution client', ['recover() must come before start()']));
    for (const r of orders) this.tracker.addRecovered(r.order, r.orderRef, r.knownExecutions);
    if (orders.length === 0) return Promise.resolve([]);
    return new Promise((resolve) => this.recoveredWaiters.push(resolve));
  }

  /** Stops listening; queued orders are dropped (no report), timers cancelled. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.recoveredWaiters.splice(0)) w([]);
    for (const u of this.unsubscribe.splice(0)) u();
    for (const detach of this.detach.values()) detach();
    this.detach.clear();
    this.collector?.abort(new IbExecutionError('IB_EXECUTION_CLOSED', 'execution client closed'));
    this.sender.close();
    this.tracker.close();
    this.scheduler.clearTimeout(this.retryTimer);
    this.scheduler.clearTimeout(this.missingTimer);
  }

  /** The IB identity of one of our orders (placed or adopted), by engine order id. */
  ibOrderIdOf(orderId: number): { clientOrderId: string; ibOrderId: number; clientId: number; permId: number; orderRef: string } | undefined {
    const t = this.tracker.get(orderId);
    return t && t.ibOrderId > 0 ? { clientOrderId: t.clientOrderId, ibOrderId: t.ibOrderId, clientId: t.clientId, permId: t.permId, orderRef: t.orderRef } : undefined;
  }

  // ---- ExecutionClient ----

  submit(order: Readonly<Order>, spec: InstrumentSpec): void {
    const version = this.options.versions[order.strategyId];
    const decisionId = (this.options.decisionIdOf ?? decisionIdOf)(order);
    let problem: string | undefined;
    if (this.tracker.get(order.id) !== undefined) problem = `duplicate order id ${order.id}`;
    else if (this.closed) problem = 'execution client closed';
    else if (version === undefined) problem = `no version configured for strategy '${order.strategyId}'`;
    else problem = orderRefProblem({ strategy: order.strategyId, version, decisionId }) ?? ibOrderProblem(order);
    if (problem !== undefined) {
      this.emit({ type: 'rejected', orderId: order.id, ts: this.now(), reason: problem });
      return;
    }
    const parts = { strategy: order.strategyId, version: version!, decisionId };
    const base = formatOrderRef({ ...parts, leg: 1 });
    const leg = (this.legs.get(base) ?? 0) + 1;
    this.legs.set(base, leg);
    const t = this.tracker.add(order, leg === 1 ? base : formatOrderRef({ ...parts, leg }));
    this.sender.enqueue(t, order, spec);
  }

  modify(order: Readonly<Order>, changes: OrderChanges): void {
    const t = this.tracker.get(order.id);
    if (!t) return this.emit({ type: 'modify_rejected', orderId: order.id, ts: this.now(), reason: 'order unknown to the IB execution client' });
    const problem = t.done ? 'order is not working at IB' : changesProblem(t.type, changes);
    if (problem !== undefined) return this.tracker.modifyRejected(t, problem);
    this.sender.modify(t, changes);
  }

  cancel(order: Readonly<Order>): void {
    const t = this.tracker.get(order.id);
    if (!t) return this.emit({ type: 'cancel_rejected', orderId: order.id, ts: this.now(), reason: 'order unknown to the IB execution client' });
    if (t.done) return this.tracker.cancelRejected(t, 'order is not working at IB');
    this.sender.cancel(t);
  }

  // ---- reconciliation ----

  /** Reconciles with IB now (or right after the one in progress); rejects when it cannot complete. */
  reconcile(cause: ReconcileCause = 'manual'): Promise<ReconcileReport> {
    if (this.closed) return Promise.reject(new IbExecutionError('IB_EXECUTION_CLOSED', 'execution client closed'));
    if (this.reconciling) {
      this.followUp ??= this.reconciling.catch(noop).then(() => {
        this.followUp = undefined;
        return this.reconcile(cause);
      });
      return this.followUp;
    }
    const run = this.runReconcile(cause);
    this.reconciling = run;
    run.then(
      () => {
        if (this.reconciling === run) this.reconciling = undefined;
      },
      () => {
        if (this.reconciling === run) this.reconciling = undefined;
      },
    );
    return run;
  }

  private async runReconcile(cause: ReconcileCause): Promise<ReconcileReport> {
    const api = this.session.api;
    this.tracker.pause();
    this.tracker.startRecording();
    const collector = new SnapshotCollector({
      session: this.session,
      scheduler: this.scheduler,
      timeoutMs: this.options.reconcileTimeoutMs ?? 10_000,
      reqId: this.allocateReqId(),
      filter: this.executionFilter(),
      seq: () => this.sender.sendSeq,
    });
    this.collector = collector;
    try {
      if (!api) throw new IbExecutionError('IB_RECONCILE_DISCONNECTED', 'reconciliation: IB session not connected');
      const snapshot = await collector.run();
      if (this.closed) throw new IbExecutionError('IB_EXECUTION_CLOSED', 'execution client closed');
      const applied = applySnapshot(this.reconcileContext(), snapshot);
      const report = buildReport(cause, this.now(), applied, this.tracker.stopRecording(), snapshot);
      if (this.session.api === api) this.reconciledApi = api;
      if (applied.recovered.length > 0) for (const w of this.recoveredWaiters.splice(0)) w(applied.recovered);
      this.alertReport(report);
      try {
        this.options.onReconcile?.(report);
      } catch (e) {
        this.log.error('reconcile handler failed', { error: e instanceof Error ? e.message : String(e) });
      }
      this.log.info('reconciled', {
        cause,
        recoveredFills: report.recoveredFills.length,
        updatedOrders: report.updatedOrders.length,
        externalOrders: report.externalOrders.length,
        externalPositions: report.externalPositions.length,
        mismatches: report.mismatches.length,
        ...report.counts,
      });
      return report;
    } catch (e) {
      this.tracker.stopRecording();
      const message = e instanceof Error ? e.message : String(e);
      if (!this.closed) this.alert('critical', 'reconcile-failed', `reconciliation (${cause}) failed: ${message}`);
      if (!this.closed && api && this.session.api === api) {
        this.scheduler.clearTimeout(this.retryTimer);
        this.retryTimer = this.scheduler.setTimeout(() => {
          if (!this.closed && this.session.api === api && this.reconciledApi !== api) this.reconcile(cause).catch(noop);
        }, this.options.reconcileRetryMs ?? 5000);
      }
      throw e;
    } finally {
      if (this.collector === collector) this.collector = undefined;
      this.tracker.resume();
    }
  }

  private reconcileContext(): ReconcileContext {
    return {
      tracker: this.tracker,
      broker: this.broker,
      isOurRef: (ref) => {
        const p = parseOrderRef(ref);
        return p !== undefined && this.options.versions[p.strategy] === p.version;
      },
      instrumentOf: (c) => this.sender.instrumentOf(c),
      expectedPositions: this.options.expectedPositions ?? (() => this.expectedPositions()),
      account: this.options.account,
      alert: (level, kind, message, extra) => this.alert(level, kind, message, extra),
    };
  }

  private expectedPositions(): ReadonlyMap<string, number> {
    const before = this.options.positionsBefore;
    if (before === undefined || before.size === 0) return this.tracker.netPositions();
    const out = new Map(before);
    for (const [k, q] of this.tracker.netPositions()) out.set(k, (out.get(k) ?? 0) + q);
    return out;
  }

  private executionFilter(): { acctCode?: string; time?: string } {
    const filter: { acctCode?: string; time?: string } = {};
    if (this.options.account) filter.acctCode = this.options.account;
    if (Number.isFinite(this.lastExecTime)) filter.time = formatFilterTime(this.lastExecTime - (this.options.execFilterMarginMs ?? 60_000));
    return filter;
  }

  private alertReport(r: ReconcileReport): void {
    for (const m of r.mismatches) {
      const level: AlertLevel = m.kind === 'order-still-open' ? 'critical' : 'warning';
      const kind: AlertKind = m.kind === 'position' ? 'external-position' : m.kind === 'order-still-open' ? 'order-state' : m.kind;
      const key = `${kind}|${m.orderId ?? ''}|${m.instrument ?? ''}|${m.detail}`;
      if (kind === 'external-position' && this.alerted.has(key)) continue;
      this.alerted.add(key);
      this.alert(level, kind, m.detail, { orderId: m.orderId, orderRef: m.orderRef });
    }
    for (const [list, kind] of [
      [r.externalOrders, 'external-order'],
      [r.unclaimedOrders, 'unclaimed-order'],
    ] as const) {
      for (const o of list) {
        const key = `${kind}|${o.permId}|${o.clientId}:${o.orderId}`;
        if (this.alerted.has(key)) continue;
        this.alerted.add(key);
        this.alert('warning', kind, `${kind === 'external-order' ? 'external' : 'unclaimed'} order at IB: ${o.side} ${o.quantity} ${o.instrument} ${o.orderType} (orderRef '${o.orderRef}', client ${o.clientId}, permId ${o.permId}, ${o.status})`, {
          orderRef: o.orderRef,
          details: { permId: o.permId, clientId: o.clientId, ibOrderId: o.orderId },
        });
      }
    }
  }

  // ---- IB messages ----

  private onConnection(c: IbConnection): void {
    if (this.closed) return;
    this.attachApi(c.api);
    if (this.initialRequested) this.reconcile(c.reconnect ? 'reconnect' : 'start').catch(noop);
  }

  private onTransition(t: SessionTransition): void {
    if (t.to === 'connected' || t.to === 'degraded') return;
    this.collector?.abort(new IbExecutionError('IB_RECONCILE_DISCONNECTED', `connection lost during reconciliation (${t.to}: ${t.reason})`));
    // their placeOrder was dropped with the connection's request queue
    for (const o of this.tracker.all()) {
      if (o.ibOrderId > 0 && !o.sent && !o.done) this.tracker.end(o, 'rejected', 'connection lost before the order was sent');
    }
  }

  private attachApi(api: IBApi): void {
    if (this.detach.has(api) || this.closed) return;
    // earlier connections are over (the session removed their listeners): forget them
    for (const [old, detach] of this.detach) {
      detach();
      this.detach.delete(old);
    }
    const detach = listenToApi(
      api,
      {
        openOrder: (v) => {
          this.collector?.openOrder(v);
          const t = this.tracker.find(v);
          if (t) this.tracker.onOpenOrder(t, v);
          else this.broker.noteOrder(v);
        },
        orderStatus: (v) => {
          this.collector?.orderStatus(v);
          const t = this.tracker.find(v);
          if (t) this.tracker.onStatus(t, v);
          else this.broker.noteStatus(v);
        },
        openOrderEnd: () => this.collector?.openOrderEnd(),
        execDetails: (v) => this.onExecution(v),
        execDetailsEnd: (reqId) => this.collector?.execDetailsEnd(reqId),
        commission: (execId, commission) => {
          this.collector?.commission(execId, commission);
          this.tracker.onCommission(execId, commission);
        },
        position: (v) => this.collector?.position(v),
        positionEnd: () => this.collector?.positionEnd(),
        error: (reqId, code, message) => {
          this.collector?.error(reqId, code, message);
          if (!(reqId >= 0)) return;
          const t = this.tracker.findForError(reqId, this.session.clientId);
          if (t) this.tracker.onError(t, code, message);
          else if (code === 399) this.log.warn('order warning', { reqId, code, message });
        },
      },
      { twsTimeZone: this.options.twsTimeZone ?? 'America/New_York', log: this.log },
    );
    this.detach.set(api, detach);
  }

  private onExecution(v: IbExecutionView): void {
    if (Number.isFinite(v.time) && !(v.time <= this.lastExecTime)) this.lastExecTime = v.time;
    this.collector?.execDetails(v);
    // executions a reconciliation asked for are applied by it (as recovered fills)
    if (v.reqId !== -1 && this.collector?.owns(v.reqId)) return;
    const t = this.tracker.find(v);
    if (t) this.tracker.onExecution(t, v);
    else this.broker.noteExecution(v);
  }

  private allocateReqId(): number {
    const range = this.options.reqIdRange ?? { from: 700_000, to: 799_999 };
    const id = this.nextReqId;
    this.nextReqId = id >= range.to ? range.from : id + 1;
    return id;
  }

  private onMissingFills(t: TrackedOrder): void {
    if (this.closed || this.missingTimer !== undefined) return;
    // the executions may still be on their way: look once they had time to arrive
    this.missingTimer = this.scheduler.setTimeout(() => {
      this.missingTimer = undefined;
      if (this.closed || !this.session.api) return;
      if (![...this.tracker.all()].some((o) => o.ibFilled > o.filled + 1e-9)) return;
      this.log.warn('IB counts fills we did not receive: reconciling', { orderId: t.orderId, ibFilled: t.ibFilled, known: t.filled });
      this.reconcile('missing-fills').catch(noop);
    }, this.options.commissionWaitMs ?? 2000);
  }

  /** Undefined when orders may be sent now, else why not. */
  private async gate(): Promise<string | undefined> {
    if (this.starting) await this.starting;
    for (let i = 0; i < 3 && this.reconciling; i++) await this.reconciling.catch(noop);
    if (this.closed) return 'execution client closed';
    const api = this.session.api;
    if (!api) return 'IB session not connected: order not sent';
    if (!this.initialRequested) return 'execution client not started';
    if (this.reconciledApi !== api) return 'no successful reconciliation with IB on the current connection: order not sent';
    return undefined;
  }

  // ---- out ----

  private emit(report: ExecutionReport): void {
    if (!this.sink) {
      this.log.error('report without a sink: attach() one before start()', { type: report.type, orderId: report.orderId });
      return;
    }
    try {
      this.sink(report);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.log.error('report sink failed', { type: report.type, orderId: report.orderId, error: message });
      this.alert('critical', 'sink-failed', `applying ${report.type} of order ${report.orderId} failed: ${message}`, { orderId: report.orderId });
    }
  }

  private alert(level: AlertLevel, kind: AlertKind, message: string, extra: { orderId?: number; orderRef?: string; details?: Record<string, unknown> } = {}): void {
    const alert: ExecutionAlert = { level, kind, message, at: this.now(), ...extra };
    if (level === 'info') this.log.info(message, { kind, orderId: extra.orderId });
    else if (level === 'warning') this.log.warn(message, { kind, orderId: extra.orderId });
    else this.log.error(message, { kind, orderId: extra.orderId });
    try {
      this.options.onAlert?.(alert);
    } catch (e) {
      this.log.error('alert handler failed', { error: e instanceof Error ? e.message : String(e) });
    }
  }
}
