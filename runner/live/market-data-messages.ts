/**
 * IbMarketData's IB messages (ib-market-data.ts): listeners on the current IBApi (moved to the new
 * one after a reconnect; a listener that throws is logged, never breaks the socket's dispatch),
 * routed by request id to their instrument's stream: 5-second bars into the minute pipeline, L1
 * ticks into the quote (and trades into minutes without realtime bars), depth into the book, and
 * errors to the stream or history request they belong to. Every routed message marks the
 * instrument fresh.
 */
import { EventName, type IBApi } from '@stoqey/ib';
import type { Logger } from '../../lib/core/logger.js';
import { classifyHistoryError } from '../../lib/ib/history-fetch.js';
import { REALTIME_BAR_MS } from '../../lib/live/bar-aggregator.js';
import { LAG_WINDOW, type Entry, type MarketDataContext, type Route, type StreamKind } from './instrument-stream.js';
import { guardedListeners } from './guarded-listeners.js';
import { isWarning } from './market-data-helpers.js';
import { onHistoricalData } from './market-data-history.js';
import { MarketDataError, type DepthLevel } from './market-data-types.js';
import { noteFirstInput, resetBarPipeline } from './minute-pipeline.js';
import type { StaleMonitor } from './stale-monitor.js';

export class MarketDataMessages {
  private api: IBApi | undefined;
  private detachApi: (() => void) | undefined;

  constructor(
    private readonly ctx: MarketDataContext,
    private readonly routes: Map<number, Route>,
    private readonly stale: StaleMonitor,
    private readonly log: Logger,
  ) {}

  /** Listens on `api` (no-op when already on it), leaving the previous one */
  attach(api: IBApi): void {
    if (this.api === api) return;
    this.detachApi?.();
    this.api = api;
    const listeners = guardedListeners(api, this.log, 'market data message failed');
    const on = listeners.on;
    on(EventName.realtimeBar, (reqId: number, time: number, open: number, high: number, low: number, close: number, volume: number) => this.onRealtimeBar(reqId, time, open, high, low, close, volume));
    on(EventName.tickPrice, (reqId: number, field: number, value: number) => this.onTick(reqId, field, value, true));
    on(EventName.tickSize, (reqId: number, field: number | undefined, value: number | undefined) => this.onTick(reqId, field ?? -1, value ?? NaN, false));
    on(EventName.tickString, (reqId: number) => this.onAny(reqId));
    on(EventName.tickGeneric, (reqId: number) => this.onAny(reqId));
    on(EventName.updateMktDepth, (reqId: number, position: number, operation: number, side: number, price: number, size: number) => this.onDepth(reqId, position, operation, side, price, size, undefined));
    on(EventName.updateMktDepthL2, (reqId: number, position: number, mm: string, operation: number, side: number, price: number, size: number) => this.onDepth(reqId, position, operation, side, price, size, mm));
    on(EventName.historicalData, (reqId: number, time: string, open: number, high: number, low: number, close: number, volume: number) => onHistoricalData(this.ctx, reqId, time, open, high, low, close, volume));
    on(EventName.error, (error: Error, code: number, reqId: number) => this.onError(reqId, code, error?.message ?? String(error)));
    this.detachApi = listeners.detach;
  }

  /** Stops listening (stop) */
  detach(): void {
    this.detachApi?.();
    this.detachApi = undefined;
    this.api = undefined;
  }

  /** The entry of a stream message, marked fresh; undefined for a request that is not ours (any more). */
  private routed(reqId: number, stream: StreamKind): Entry | undefined {
    const r = this.routes.get(reqId);
    if (!r || r.stream !== stream) return undefined;
    const e = r.entry;
    const st = e.streams[stream];
    if (st.state === 'requested') st.state = 'active';
    const now = this.ctx.now();
    e.lastUpdate = now;
    this.stale.touch(e.key, now);
    return e;
  }

  private onAny(reqId: number): void {
    const r = this.routes.get(reqId);
    if (r) this.routed(reqId, r.stream);
  }

  private onRealtimeBar(reqId: number, timeSec: number, open: number, high: number, low: number, close: number, volume: number): void {
    const e = this.routed(reqId, 'bars');
    if (!e || !e.minuteAgg) return;
    const start = timeSec * 1000;
    // a hole in the 5 s sequence (IB sends a bar every 5 s, quiet ones too): the stream lost bars,
    // so it starts over as after a resubscription (the minute it resumes in is recovered from history)
    if (start > e.lastBarStart + REALTIME_BAR_MS) {
      this.log.info('gap in realtime bars, resynchronising', { instrument: e.key, from: e.lastBarStart, to: start });
      resetBarPipeline(this.ctx, e);
    }
    if (start > e.lastBarStart || Number.isNaN(e.lastBarStart)) e.lastBarStart = start;
    e.lags[e.lagIndex] = Math.max(0, e.lastUpdate - (start + REALTIME_BAR_MS));
    e.lagIndex = (e.lagIndex + 1) % LAG_WINDOW;
    noteFirstInput(e, start);
    e.inputs++;
    e.minuteAgg.addRealtimeBar(timeSec, open, high, low, close, volume);
  }

  private onTick(reqId: number, field: number, value: number, price: boolean): void {
    const r = this.routes.get(reqId);
    if (!r) return;
    if (r.stream === 'depth') return void this.routed(reqId, 'depth');
    const e = this.routed(reqId, 'l1');
    if (!e) return;
    const q = e.quote;
    q.ts = e.lastUpdate;
    if (price) {
      if (!(value > 0)) return; // -1: no price
      if (field === 1 || field === 66) q.bid = value;
      else if (field === 2 || field === 67) q.ask = value;
      else if (field === 4 || field === 68) {
        q.last = value;
        e.pendingLast = value;
      }
      return;
    }
    if (!Number.isFinite(value)) return;
    if (field === 0 || field === 69) q.bidSize = value;
    else if (field === 3 || field === 70) q.askSize = value;
    else if (field === 8 || field === 74) q.volume = value;
    else if (field === 5 || field === 71) {
      q.lastSize = value;
      if (!this.ctx.realtimeBars && e.minuteAgg && Number.isFinite(e.pendingLast)) {
        noteFirstInput(e, e.lastUpdate);
        e.inputs++;
        e.minuteAgg.addTrade(e.pendingLast, value, e.lastUpdate);
        e.pendingLast = NaN;
      }
    }
  }

  private onDepth(reqId: number, position: number, operation: number, side: number, price: number, size: number, marketMaker: string | undefined): void {
    const e = this.routed(reqId, 'depth');
    if (!e) return;
    const book = (e.book ??= { bids: [], asks: [], ts: NaN });
    book.ts = e.lastUpdate;
    const levels = side === 1 ? book.bids : book.asks;
    const level: DepthLevel = marketMaker ? { price, size, marketMaker } : { price, size };
    if (operation === 0) levels.splice(Math.min(position, levels.length), 0, level);
    else if (operation === 1) levels[Math.min(position, levels.length)] = level;
    else if (operation === 2) levels.splice(position, 1);
  }

  private onError(reqId: number, code: number, message: string): void {
    if (reqId < 0) return;
    const h = this.ctx.histories.get(reqId);
    if (h) {
      const outcome = classifyHistoryError(code, message);
      if (outcome === 'ignore') return;
      // no data for a session is an answer: no bars
      h.settle(outcome.kind === 'empty' ? undefined : new MarketDataError(`${code} ${message}`, code));
      return;
    }
    const r = this.routes.get(reqId);
    if (!r || isWarning(code)) return;
    const e = r.entry;
    const st = e.streams[r.stream];
    this.routes.delete(reqId);
    st.reqId = undefined;
    st.state = 'failed';
    if (r.stream === 'bars') e.sync = undefined;
    this.ctx.report(e, r.stream, message, code);
  }
}
