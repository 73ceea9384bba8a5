/**
 * IbMarketData's stream requests: request ids from its range (never one a live stream or history
 * request holds), the routes from a request id to its instrument and stream, and the L1, 5-second
 * bar and depth requests and cancels on the session (ib-market-data.ts).
 */
import { REALTIME_BAR_MS } from '../../lib/live/bar-aggregator.js';
import type { Entry, MarketDataContext, Route, StreamKind } from './instrument-stream.js';
import { MarketDataError } from './market-data-types.js';
import { resetBarPipeline } from './minute-pipeline.js';

export class StreamRequests {
  /** Live stream requests by id (history requests are the context's `histories`) */
  readonly routes = new Map<number, Route>();
  private nextReqId: number;

  constructor(
    private readonly ctx: MarketDataContext,
    private readonly reqIdFrom: number,
    private readonly reqIdTo: number,
  ) {
    this.nextReqId = reqIdFrom;
  }

  allocateReqId(): number {
    const span = this.reqIdTo - this.reqIdFrom + 1;
    for (let i = 0; i < span; i++) {
      const id = this.nextReqId;
      this.nextReqId = id >= this.reqIdTo ? this.reqIdFrom : id + 1;
      if (!this.routes.has(id) && !this.ctx.histories.has(id)) return id;
    }
    throw new MarketDataError('no free request id');
  }

  /** Requests a wanted stream (again: a new request id; the old one's messages are no longer routed) */
  request(e: Entry, kind: StreamKind): void {
    const st = e.streams[kind];
    if (!st.wanted || this.ctx.stopped() || !e.contract) return;
    if (st.reqId !== undefined) this.routes.delete(st.reqId);
    if (kind === 'bars') resetBarPipeline(this.ctx, e);
    // a new book is built from the inserts that follow
    if (kind === 'depth') e.book = undefined;
    const reqId = this.allocateReqId();
    st.reqId = reqId;
    this.routes.set(reqId, { entry: e, stream: kind });
    const contract = e.contract;
    const c = this.ctx;
    const sent = c.session.request((api) => {
      if (st.reqId !== reqId) return;
      if (kind === 'l1') api.reqMktData(reqId, contract, '', false, false);
      else if (kind === 'bars') api.reqRealTimeBars(reqId, contract, REALTIME_BAR_MS / 1000, 'TRADES' as never, c.useRTH);
      else api.reqMktDepth(reqId, contract, c.o.depthRows ?? 5, false);
    }, `${kind} ${e.key}`);
    // not connected: the resubscription after the (re)connect asks again
    st.state = sent ? 'requested' : 'pending';
  }

  cancel(e: Entry, kind: StreamKind): void {
    const st = e.streams[kind];
    const reqId = st.reqId;
    st.reqId = undefined;
    const live = st.state === 'requested' || st.state === 'active';
    st.state = st.wanted && st.state === 'failed' ? 'failed' : 'off';
    if (kind === 'bars') e.sync = undefined;
    if (reqId === undefined) return;
    this.routes.delete(reqId);
    if (!live) return;
    this.ctx.session.request((api) => {
      if (kind === 'l1') api.cancelMktData(reqId);
      else if (kind === 'bars') api.cancelRealTimeBars(reqId);
      else api.cancelMktDepth(reqId, false);
    }, `cancel ${kind} ${e.key}`);
  }
}
