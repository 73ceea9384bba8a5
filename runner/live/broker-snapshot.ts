/**
 * One look at the broker's truth, through the session's message budget, one request at a time:
 * reqAllOpenOrders (openOrder / orderStatus until openOrderEnd), reqExecutions with a filter
 * (execDetails with our request id until execDetailsEnd, and the commissionReports that come
 * with them), reqPositions (position until positionEnd, then cancelPositions). Each step has a
 * timeout; a lost connection or an error on the executions request fails the whole snapshot.
 *
 * The client's IBApi listeners feed the collector (`openOrder`, `execDetails`, ...); messages that
 * arrive outside the step that asked for them are not part of the snapshot (the live path still
 * applies them).
 */
import type { ExecutionFilter, IBApi } from '@stoqey/ib';
import { WorkbenchError } from '../../lib/core/errors.js';
import type { IbSession, SessionScheduler } from '../../lib/ib/ib-session.js';
import { isFinalIbStatus } from './ib-order-mapping.js';
import type { IbExecutionView, IbOrderView, IbPositionView, IbStatusView } from './ib-views.js';

export type IbExecutionErrorCode = 'IB_RECONCILE_TIMEOUT' | 'IB_RECONCILE_DISCONNECTED' | 'IB_RECONCILE_FAILED' | 'IB_EXECUTION_CLOSED';

/** A reconciliation that could not complete. */
export class IbExecutionError extends WorkbenchError {
  readonly code: IbExecutionErrorCode;
  constructor(code: IbExecutionErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface BrokerSnapshot {
  /** Orders listed as open (final statuses left out), with their latest status */
  openOrders: { order: IbOrderView; status: IbStatusView | undefined }[];
  executions: IbExecutionView[];
  /** Commission per execId, from the reports that came with the executions */
  commissions: Map<string, number>;
  positions: IbPositionView[];
  /** The client's send sequence number when the open orders were asked for */
  openOrdersSeq: number;
}

export interface SnapshotOptions {
  session: Pick<IbSession, 'request'>;
  scheduler: SessionScheduler;
  /** Per step (default 10 s) */
  timeoutMs: number;
  /** The reqExecutions request id */
  reqId: number;
  filter: ExecutionFilter;
  /** The client's send sequence number now */
  seq: () => number;
}

type Step = 'idle' | 'orders' | 'executions' | 'positions' | 'done';

export class SnapshotCollector {
  private step: Step = 'idle';
  private readonly orders = new Map<string, IbOrderView>();
  private readonly statuses = new Map<string, IbStatusView>();
  private readonly executions = new Map<string, IbExecutionView>();
  private readonly commissions = new Map<string, number>();
  private readonly positions: IbPositionView[] = [];
  private openOrdersSeq = 0;
  private waiter: { resolve: () => void; reject: (e: Error) => void; timer: unknown } | undefined;
  private failure: Error | undefined;

  constructor(private readonly options: SnapshotOptions) {}

  async run(): Promise<BrokerSnapshot> {
    await this.send('orders', (api) => {
      this.openOrdersSeq = this.options.seq();
      api.reqAllOpenOrders();
    });
    await this.send('executions', (api) => api.reqExecutions(this.options.reqId, this.options.filter));
    await this.send('positions', (api) => api.reqPositions());
    this.step = 'done';
    this.options.session.request((api) => api.cancelPositions(), 'cancelPositions');
    const openOrders: BrokerSnapshot['openOrders'] = [];
    for (const [key, order] of this.orders) {
      const status = this.statuses.get(key);
      if (!isFinalIbStatus(status?.status ?? order.status) && !isFinalIbStatus(order.status)) openOrders.push({ order, status });
    }
    return { openOrders, executions: [...this.executions.values()], commissions: this.commissions, positions: this.positions, openOrdersSeq: this.openOrdersSeq };
  }

  /** Fails the snapshot (connection lost, client closing). */
  abort(error: Error): void {
    this.failure ??= error;
    this.settle(error);
  }

  // ---- fed by the client's IBApi listeners ----

  openOrder(v: IbOrderView): void {
    if (this.step === 'orders') this.orders.set(orderKey(v), v);
  }

  orderStatus(v: IbStatusView): void {
    if (this.step === 'orders') this.statuses.set(orderKey(v), v);
  }

  openOrderEnd(): void {
    if (this.step === 'orders') this.settle();
  }

  /** True while this snapshot collects the executions of request `reqId`. */
  owns(reqId: number): boolean {
    return this.step === 'executions' && reqId === this.options.reqId;
  }

  execDetails(v: IbExecutionView): void {
    if (this.step === 'executions' && v.reqId === this.options.reqId) this.executions.set(v.execId, v);
  }

  commission(execId: string, commission: number): void {
    if (this.step === 'executions') this.commissions.set(execId, commission);
  }

  execDetailsEnd(reqId: number): void {
    if (this.step === 'executions' && reqId === this.options.reqId) this.settle();
  }

  position(v: IbPositionView): void {
    if (this.step === 'positions') this.positions.push(v);
  }

  positionEnd(): void {
    if (this.step === 'positions') this.settle();
  }

  error(reqId: number, code: number, message: string): void {
    if (this.step === 'executions' && reqId === this.options.reqId) this.abort(new IbExecutionError('IB_RECONCILE_FAILED', `reqExecutions failed: IB error ${code}: ${message}`));
  }

  // ---- internals ----

  private send(step: Step, fn: (api: IBApi) => void): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.step = step;
    return new Promise<void>((resolve, reject) => {
      const timer = this.options.scheduler.setTimeout(() => {
        this.waiter = undefined;
        reject(new IbExecutionError('IB_RECONCILE_TIMEOUT', `reconciliation: no answer to the ${step} request within ${this.options.timeoutMs} ms`));
      }, this.options.timeoutMs);
      this.waiter = { resolve, reject, timer };
      const queued = this.options.session.request(fn, `reconcile ${step}`);
      if (!queued) this.abort(new IbExecutionError('IB_RECONCILE_DISCONNECTED', `reconciliation: ${step} request not sent (session not connected)`));
    });
  }

  private settle(error?: Error): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = undefined;
    this.options.scheduler.clearTimeout(w.timer);
    if (error) w.reject(error);
    else w.resolve();
  }
}

function orderKey(v: { permId: number; clientId: number; orderId: number }): string {
  return v.permId > 0 ? `p${v.permId}` : `c${v.clientId}:${v.orderId}`;
}
