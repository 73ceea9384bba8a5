/**
 * The IBApi events the execution client needs, converted to plain views (ib-views.ts). One call
 * per IBApi (a new one per connection); the returned function removes the listeners. A handler
 * that throws is logged, never propagated into stoqey's event dispatch.
 */
import { EventName, type Contract, type Execution, type IBApi, type Order as IbOrder, type OrderState } from '@stoqey/ib';
import type { Logger } from '../../lib/core/logger.js';
import { guardedListeners } from './guarded-listeners.js';
import { executionView, orderView, positionView, statusView, type IbExecutionView, type IbOrderView, type IbPositionView, type IbStatusView } from './ib-views.js';

export interface ApiHandlers {
  openOrder(v: IbOrderView): void;
  orderStatus(v: IbStatusView): void;
  openOrderEnd(): void;
  execDetails(v: IbExecutionView): void;
  execDetailsEnd(reqId: number): void;
  commission(execId: string, commission: number): void;
  position(v: IbPositionView): void;
  positionEnd(): void;
  error(reqId: number, code: number, message: string): void;
}

export function listenToApi(api: IBApi, h: ApiHandlers, options: { twsTimeZone: string; log: Logger }): () => void {
  const listeners = guardedListeners(api, options.log, 'IB message handling failed');
  const on = listeners.on;
  on(EventName.openOrder, (orderId: number, contract: Contract, order: IbOrder, state: OrderState) => h.openOrder(orderView(orderId, contract, order, state)));
  on(EventName.orderStatus, (...args: Parameters<typeof statusView>) => h.orderStatus(statusView(...args)));
  on(EventName.openOrderEnd, () => h.openOrderEnd());
  on(EventName.execDetails, (reqId: number, contract: Contract, execution: Execution) => h.execDetails(executionView(reqId, contract, execution, options.twsTimeZone)));
  on(EventName.execDetailsEnd, (reqId: number) => h.execDetailsEnd(reqId));
  on(EventName.commissionReport, (report: { execId?: string; commission?: number }) => {
    const c = report.commission;
    h.commission(report.execId ?? '', typeof c === 'number' && Number.isFinite(c) && c < Number.MAX_VALUE ? c : 0);
  });
  on(EventName.position, (account: string, contract: Contract, pos: number, avgCost?: number) => h.position(positionView(account, contract, pos, avgCost)));
  on(EventName.positionEnd, () => h.positionEnd());
  on(EventName.error, (error: Error, code: number, reqId: number) => h.error(reqId, code, error?.message ?? String(error)));
  return listeners.detach;
}
