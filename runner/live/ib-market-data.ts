/**
 * The runner's market data from IB (issue 6 "Market data"), over an `IbSession`:
 *
 * - Lines. `start()` plans the universe under the line budget (line-budget.ts: open positions
 *   first, then configured order; never more lines than the budget) and reports who waits.
 * - Contracts. Every subscribed instrument is resolved once (ContractResolver); a failure (200 and
 *   friends) is reported for that instrument only.
 * - L1 / L2. reqMktData for every subscribed instrument (when `l1`), kept as the latest
 *   bid/ask/last (`quote(key)`, for the execution side and its spread logic); reqMktDepth for the
 *   configured depth instruments (`depth(key)`).
 * - Bars. `dataClient(feed)` is the kernel's `PushDataClient`:
 *   - history (warm start): 1-minute TRADES bars, one session per request, newest first, until the
 *     kernel's `count` bars of the subscription's interval are there (or `maxHistorySessions`);
 *     derived intervals are aggregated from those minutes exactly as live bars are;
 *   - live: reqRealTimeBars (5 s TRADES, `useRTH`) -> a BarAggregator per instrument -> completed
 *     minute bars -> the 1m subscription handle, and -> a second aggregator deriving 2/3/5/10/15/30
 *     minute bars -> their handles. So strategies see the bars the backtest sees for the same data.
 *     The stream starts with the kernel's first subscription of the instrument and stops with its
 *     last one. With `realtimeBars: false` the minutes are built from L1 last-trade ticks instead
 *     (no extra line; an approximation: IB samples L1).
 * - Continuity. A 5-second stream that starts (first subscription, every resubscription, or
 *   after a hole in its 5 s sequence: IB sends a bar every 5 s, quiet ones included) in the middle
 *   of a minute would make that minute wrong: its first emitted minute is dropped when it began
 *   before the stream did, and the minutes between the last one delivered (the warm-start history
 *   at first) and the stream's first complete minute are fetched as 1-minute history (the
 *   "backfill") and delivered first; stream minutes wait meanwhile. So bars stay complete and in
 *   order across reconnects and outages. A failed backfill leaves a gap (reported); derived
 *   buckets touched by it are not delivered.
 * - Closing minutes. `flush(now)` (a timer, `tickMs`) closes minutes whose last 5-second bar is
 *   late, `graceMs` after the minute's end plus the stream's observed delivery lag (the largest
 *   of the last ~2 minutes of bars: IB sends a bar right after its 5 s; the simulator replaying
 *   minute data one minute late). The timer flushes only a stream that delivered nothing for a
 *   whole tick (`flushQuiet`): one still delivering completes its minutes itself.
 * - Reconnects. The session's resubscribe callback (reconnect, 1101) requests every stream again
 *   with NEW request ids on the new IBApi; listeners follow the session's `connection` event.
 * - Staleness. An instrument without any update (bar, tick, depth) for `staleSeconds` while its
 *   exchange is open (lib/calendar) is reported through `onStale(instrument, sinceMs)`, then
 *   `onFresh(instrument)` when data returns; the runner halts and resumes only that instrument.
 * - Errors. An IB error for one of its requests (101 no more lines, 309 no more depth, 200 no such
 *   contract, 162 HMDS, 354 not subscribed, …) marks that stream failed and is reported through
 *   `onIssue`; it never throws. Failed streams are asked again on the next resubscription.
 * - `status()`: lines used, per-instrument streams, last update and staleness, the stale set, the
 *   instruments not subscribed and why.
 *
 * Request ids come from `reqIdRange` (default 800_000..899_999: clear of the resolver's
 * 600_000.., the execution client's 700_000.. and order ids from 1_000_000). Time (`now`) is the
 * engine's clock (TWS time); timers come from `scheduler`.
 */
import { EventName, type IBApi } from '@stoqey/ib';
import { calendarForInstrument } from '../../lib/calendar/index.js';
import { silentLogger, type Logger } from '../../lib/core/logger.js';
import { NEW_YORK } from '../../lib/core/time-zone.js';
import type { BarColumns } from '../../lib/data/bar-series.js';
import type { InstrumentSpec } from '../../lib/data/instrument.js';
import { PushDataClient } from '../../lib/engine/live-data-client.js';
import type { LiveFeed, LiveSubscription } from '../../lib/engine/live-feed.js';
import type { ResolvedBarSubscription } from '../../lib/engine/ports.js';
import { toIbContract } from '../../lib/ib/contract-resolver.js';
import { classifyHistoryError } from '../../lib/ib/history-fetch.js';
import { realScheduler, type SessionScheduler } from '../../lib/ib/ib-session.js';
import { REALTIME_BAR_MS, type DerivedInterval } from '../../lib/live/bar-aggregator.js';
import { allocateLines, type LineAllocation } from './line-budget.js';
import { buildStatus, DERIVED, LAG_WINDOW, newEntry, zoneOf, type Entry, type HistoryRequest, type MarketDataContext, type Route, type StreamKind } from './instrument-stream.js';
import { aggregateMinutes, columns, isWarning, NO_BARS, specFromContract } from './market-data-helpers.js';
import { fetchWarmup, onHistoricalData } from './market-data-history.js';
import { MarketDataError, validateOptions, type DepthBookView, type MarketDataInstrument, type DepthLevel, type IbMarketDataOptions, type L1Quote, type MarketDataIssue, type MarketDataSession, type MarketDataStatus, type MarketDataStream } from './market-data-types.js';
import { calendarTimeZone, lagOf, noteFirstInput, prime, resetBarPipeline } from './minute-pipeline.js';
import { StaleMonitor, type StaleCalendar } from './stale-monitor.js';

export { StaleMonitor, type StaleCalendar, type StaleMonitorOptions } from './stale-monitor.js';
export * from './market-data-types.js';
export { aggregateMinutes, specFromContract, universeInstruments, type PlainBar } from './market-data-helpers.js';

export class IbMarketData {
  private readonly o: IbMarketDataOptions;
  private readonly session: MarketDataSession;
  private readonly scheduler: SessionScheduler;
  private readonly now: () => number;
  private readonly log: Logger;
  private readonly entries = new Map<string, Entry>();
  private readonly routes = new Map<number, Route>();
  private readonly histories = new Map<number, HistoryRequest>();
  private readonly stale: StaleMonitor;
  private readonly l1: boolean;
  private readonly realtimeBars: boolean;
  private readonly useRTH: boolean;
  private readonly graceMs: number;
  private readonly tickMs: number;
  private readonly reqIdFrom: number;
  private readonly reqIdTo: number;
  private nextReqId: number;
  private allocationValue: LineAllocation | undefined;
  private api: IBApi | undefined;
  private detachApi: (() => void) | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private timer: unknown;
  private started = false;
  private stopped = false;
  private readonly ctx: MarketDataContext;

  constructor(options: IbMarketDataOptions) {
    const range = validateOptions(options);
    this.o = options;
    this.session = options.session;
    this.scheduler = options.scheduler ?? realScheduler;
    this.now = options.now ?? (() => this.scheduler.now());
    this.log = (options.logger ?? silentLogger).child({ component: 'ib-market-data' });
    this.l1 = options.l1 ?? true;
    this.realtimeBars = options.data.realtimeBars;
    this.useRTH = options.useRTH ?? false;
    this.graceMs = options.graceMs ?? 2_000;
    this.tickMs = options.tickMs ?? 1_000;
    this.reqIdFrom = range.from;
    this.reqIdTo = range.to;
    this.nextReqId = range.from;
    this.stale = new StaleMonitor({
      staleMs: options.data.staleSeconds * 1000,
      onStale: (i, since) => {
        this.log.warn('market data stale', { instrument: i, since });
        options.onStale?.(i, since);
      },
      onFresh: (i) => {
        this.log.info('market data fresh again', { instrument: i });
        options.onFresh?.(i);
      },
    });
    this.ctx = {
      o: options,
      session: this.session,
      scheduler: this.scheduler,
      histories: this.histories,
      graceMs: this.graceMs,
      realtimeBars: this.realtimeBars,
      useRTH: this.useRTH,
      now: () => this.now(),
      stopped: () => this.stopped,
      allocateReqId: () => this.allocateReqId(),
      report: (...args) => this.report(...args),
    };
    for (const inst of options.instruments) this.entries.set(inst.key, newEntry(inst));
  }

  /** The line plan (after start) */
  get allocation(): LineAllocation | undefined {
    return this.allocationValue;
  }

  /**
   * Plans the lines, waits for the session, resolves the subscribed instruments and requests their
   * L1 and depth streams (bars follow the kernel's subscriptions). Resolves with the status; what
   * could not be subscribed is in `status().notSubscribed`, never thrown.
   */
  async start(): Promise<MarketDataStatus> {
    if (this.started) throw new MarketDataError('IbMarketData.start() called twice');
    this.started = true;
    const alloc = allocateLines({
      symbols: this.o.instruments.map((i) => i.key),
      lineBudget: this.o.data.lineBudget,
      reservedLines: this.o.reservedLines,
      l1: this.l1,
      realtimeBars: this.realtimeBars,
      positions: this.o.positions,
      depth: this.o.data.depth,
      maxDepth: this.o.maxDepth,
    });
    this.allocationValue = alloc;
    for (const w of alloc.notSubscribed) this.log.warn('instrument waits for market-data lines', { instrument: w.symbol, reason: w.reason, position: w.hasPosition });
    for (const d of alloc.depthRefused) this.log.warn('market depth refused', { instrument: d.symbol, reason: d.reason });
    this.unsubscribe.push(this.session.on('connection', (c) => this.onConnection(c.api)));
    this.unsubscribe.push(this.session.registerResubscribe('ib-market-data', () => this.resubscribeAll()));
    await this.session.ready(this.o.readyTimeoutMs ?? 30_000);
    if (this.stopped) return this.status();
    const api = this.session.api;
    if (api) this.attach(api);
    const now = this.now();
    await Promise.all(
      alloc.subscribed.map(async (grant) => {
        const e = this.entries.get(grant.symbol)!;
        e.state = 'resolving';
        e.streams.l1.wanted = grant.l1;
        e.streams.depth.wanted = grant.depth;
        try {
          await this.resolveEntry(e);
        } catch {
          return; // reported by resolveEntry
        }
        if (this.stopped) return;
        e.state = 'subscribed';
        this.stale.add(e.key, this.calendarOf(e.spec!), now);
        if (!this.realtimeBars) resetBarPipeline(this.ctx, e);
        this.requestStream(e, 'l1');
        this.requestStream(e, 'depth');
      }),
    );
    this.scheduleTick();
    this.log.info('market data started', { subscribed: alloc.subscribed.length, waiting: alloc.notSubscribed.length, lines: alloc.linesUsed });
    return this.status();
  }

  /** Cancels every stream and timer; pending history requests end with what they have. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) this.scheduler.clearTimeout(this.timer);
    this.timer = undefined;
    for (const e of this.entries.values()) {
      for (const kind of ['bars', 'l1', 'depth'] as const) this.cancelStream(e, kind);
    }
    for (const [, h] of this.histories) h.settle(new MarketDataError('market data stopped'));
    for (const u of this.unsubscribe.splice(0)) u();
    this.detachApi?.();
    this.detachApi = undefined;
    this.api = undefined;
  }

  /** The kernel's data client: warm-start history and live bars of the universe */
  dataClient(feed: LiveFeed, name = 'ib'): PushDataClient {
    return new PushDataClient({
      feed,
      name,
      resolve: (instrument) => this.resolve(instrument),
      history: (s, count, now) => this.history(s, count, now),
      onSubscribe: (h) => this.onSubscribe(h),
      onUnsubscribe: (h) => this.onUnsubscribe(h),
    });
  }

  /** The instrument spec of a universe instrument (resolved once) */
  async resolve(instrument: string): Promise<InstrumentSpec> {
    const e = this.entries.get(instrument);
    if (!e) throw new MarketDataError(`'${instrument}' is not in the market-data universe (${[...this.entries.keys()].join(', ')})`);
    return this.resolveEntry(e);
  }

  /** Latest L1 of an instrument (undefined: none yet) */
  quote(instrument: string): Readonly<L1Quote> | undefined {
    const q = this.entries.get(instrument)?.quote;
    return q && Number.isFinite(q.ts) ? q : undefined;
  }

  /** Latest depth book of an instrument (undefined: no depth) */
  depth(instrument: string): Readonly<DepthBookView> | undefined {
    return this.entries.get(instrument)?.book;
  }

  isStale(instrument: string): boolean {
    return this.stale.isStale(instrument);
  }

  status(): MarketDataStatus {
    return buildStatus({ o: this.o, entries: this.entries, allocation: this.allocationValue, realtimeBars: this.realtimeBars, stale: this.stale });
  }

  /**
   * Closes minutes (and derived bars) whose last input is overdue at `now`: `graceMs` after their
   * end plus the stream's observed delivery lag. The timer calls it every `tickMs`.
   */
  flush(now = this.now()): void {
    for (const e of this.entries.values()) this.flushEntry(e, now);
  }

  private flushEntry(e: Entry, now: number): void {
    // a stream without input yet: flushing would move its horizon past the first (lagging) bars
    if (!e.minuteAgg || e.sync?.phase === 'first-input') return;
    const t = now - lagOf(e);
    e.minuteAgg.flush(t);
    // while a backfill is pending the derived buckets wait for its minutes
    if (e.sync === undefined) e.derivedAgg?.flush(t);
  }

  /**
   * The timer's flush: only streams that took no input for a whole tick, checked again on the next
   * turn (after the socket input pending now is read: a stalled loop runs the simulator's timer and
   * this one back to back). A stream still delivering completes its minutes itself (their :55 slot,
   * or any input of a later minute). Judged by the clock alone, a bursty stream loses minutes: the
   * accelerated replay's simulator sends every 250 real ms, i.e. speed / 20 bars per burst (150 at
   * 3000x), more than the lag window holds, while the clock runs on between bursts; a flush there
   * closed the open minute and the next ones before their bars came (cut short, or dropped as late).
   */
  private flushQuiet(): void {
    const quiet: [Entry, number][] = [];
    for (const e of this.entries.values()) {
      if (e.inputs === e.inputsAtTick) quiet.push([e, e.inputs]);
      e.inputsAtTick = e.inputs;
    }
    if (quiet.length === 0) return;
    this.scheduler.setTimeout(() => {
      if (this.stopped) return;
      const now = this.now();
      for (const [e, inputs] of quiet) if (e.inputs === inputs && this.entries.get(e.key) === e) this.flushEntry(e, now);
    }, 0);
  }

  /** Runs the staleness check at `now` (the timer calls it every `tickMs`); returns the instruments that just became stale */
  checkStale(now = this.now()): string[] {
    return this.stale.check(now);
  }

  // ---- dynamic universe (runner/live/universe-runner.ts) ---------------------------------------

  /**
   * Adds an instrument to the market-data universe and resolves its contract; no stream yet (streams
   * take lines: `startInstrument` once the universe granted them). Rejects as `resolve` does (an
   * unknown symbol: ContractNotFoundError) and then forgets the instrument.
   */
  async addInstrument(inst: MarketDataInstrument): Promise<InstrumentSpec> {
    let e = this.entries.get(inst.key);
    if (e === undefined) {
      e = newEntry(inst);
      e.state = 'resolving';
      this.entries.set(inst.key, e);
    }
    const entry = e;
    try {
      return await this.resolveEntry(entry);
    } catch (err) {
      if (this.entries.get(inst.key) === entry && entry.state !== 'subscribed') this.entries.delete(inst.key);
      throw err;
    }
  }

  /** Starts the L1 stream of an added instrument whose lines were granted; its bars follow the kernel's subscription */
  startInstrument(key: string): void {
    const e = this.entries.get(key);
    if (e?.spec === undefined) throw new MarketDataError(`'${key}' was not added (addInstrument) or not resolved`);
    if (e.state === 'subscribed') return;
    e.state = 'subscribed';
    e.streams.l1.wanted = this.l1;
    this.stale.add(e.key, this.calendarOf(e.spec), this.now());
    if (!this.realtimeBars) resetBarPipeline(this.ctx, e);
    this.requestStream(e, 'l1');
  }

  /** Cancels every stream of an instrument and forgets it: its lines are free (the cancels are queued before any later request) */
  removeInstrument(key: string): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    for (const kind of ['bars', 'l1', 'depth'] as const) {
      e.streams[kind].wanted = false;
      this.cancelStream(e, kind);
    }
    e.handles.clear();
    this.stale.remove(key);
    this.entries.delete(key);
  }

  // ---- kernel side ----------------------------------------------------------------------------

  /**
   * Warm start: the last `count` bars of the subscription closed by `now`, from 1-minute history.
   * The minutes also seed the live pipeline, so the first live derived bar is complete and the
   * backfill after the stream starts joins them. Failures are reported; what was fetched is returned.
   */
  async history(s: ResolvedBarSubscription, count: number, now: number): Promise<BarColumns> {
    const e = this.entries.get(s.instrument);
    if (!e) return NO_BARS;
    if (s.kind !== 'trade' || !(s.interval === '1m' || (DERIVED as readonly string[]).includes(s.interval))) {
      this.report(e, 'history', `${s.interval} ${s.kind} bars are not made live (1m and ${DERIVED.join('/')} trade bars are)`);
      return NO_BARS;
    }
    try {
      await this.resolveEntry(e);
    } catch {
      return NO_BARS;
    }
    const minutes = await fetchWarmup(this.ctx, e, s.interval, count, now);
    prime(this.ctx, e, minutes);
    const bars = s.interval === '1m' ? minutes : aggregateMinutes(minutes, s.interval as DerivedInterval, now, zoneOf(e));
    return columns(bars.slice(Math.max(0, bars.length - count)));
  }

  private onSubscribe(h: LiveSubscription): void {
    const s = h.subscription;
    const e = this.entries.get(s.instrument);
    if (!e) {
      this.log.warn('subscription of an instrument outside the universe', { instrument: s.instrument });
      return;
    }
    if (s.kind !== 'trade') {
      this.report(e, 'bars', `${s.kind} bars are not made live; only trade bars`);
      return;
    }
    e.handles.set(s.interval, h);
    if (e.state !== 'subscribed') {
      this.report(e, 'bars', e.state === 'waiting' ? 'no bars: the instrument waits for market-data lines' : 'no bars: the instrument could not be subscribed');
      return;
    }
    if (!this.realtimeBars) return;
    if (!e.streams.bars.wanted) {
      e.streams.bars.wanted = true;
      this.requestStream(e, 'bars');
    }
  }

  private onUnsubscribe(h: LiveSubscription): void {
    const e = this.entries.get(h.subscription.instrument);
    if (!e || e.handles.get(h.subscription.interval) !== h) return;
    e.handles.delete(h.subscription.interval);
    if (e.handles.size === 0 && this.realtimeBars) {
      e.streams.bars.wanted = false;
      this.cancelStream(e, 'bars');
    }
  }

  // ---- contracts ------------------------------------------------------------------------------

  private resolveEntry(e: Entry): Promise<InstrumentSpec> {
    if (e.spec) return Promise.resolve(e.spec);
    e.resolving ??= this.o.resolver.resolveOne(e.query).then(
      (c) => {
        e.contract = toIbContract(c);
        e.spec = specFromContract(e.key, c);
        e.lot = this.o.volumeLot?.(e.spec) ?? (e.spec.secType === 'STK' ? 100 : 1);
        e.zone = calendarTimeZone(e.spec) ?? NEW_YORK;
        return e.spec;
      },
      (err: unknown) => {
        e.resolving = undefined;
        const code = (err as { ibCode?: number }).ibCode ?? ((err as { code?: string }).code === 'IB_CONTRACT_NOT_FOUND' ? 200 : undefined);
        if (e.state === 'resolving') e.state = 'failed';
        this.report(e, 'contract', err instanceof Error ? err.message : String(err), code);
        throw err;
      },
    );
    return e.resolving;
  }

  private calendarOf(spec: InstrumentSpec): StaleCalendar | undefined {
    if (this.o.calendar) return this.o.calendar(spec);
    try {
      return calendarForInstrument(spec.secType, spec.symbol);
    } catch {
      return undefined;
    }
  }

  // ---- streams --------------------------------------------------------------------------------

  private requestStream(e: Entry, kind: StreamKind): void {
    const st = e.streams[kind];
    if (!st.wanted || this.stopped || !e.contract) return;
    if (st.reqId !== undefined) this.routes.delete(st.reqId);
    if (kind === 'bars') resetBarPipeline(this.ctx, e);
    // a new book is built from the inserts that follow
    if (kind === 'depth') e.book = undefined;
    const reqId = this.allocateReqId();
    st.reqId = reqId;
    this.routes.set(reqId, { entry: e, stream: kind });
    const contract = e.contract;
    const sent = this.session.request((api) => {
      if (st.reqId !== reqId) return;
      if (kind === 'l1') api.reqMktData(reqId, contract, '', false, false);
      else if (kind === 'bars') api.reqRealTimeBars(reqId, contract, REALTIME_BAR_MS / 1000, 'TRADES' as never, this.useRTH);
      else api.reqMktDepth(reqId, contract, this.o.depthRows ?? 5, false);
    }, `${kind} ${e.key}`);
    // not connected: the resubscription after the (re)connect asks again
    st.state = sent ? 'requested' : 'pending';
  }

  private cancelStream(e: Entry, kind: StreamKind): void {
    const st = e.streams[kind];
    const reqId = st.reqId;
    st.reqId = undefined;
    const live = st.state === 'requested' || st.state === 'active';
    st.state = st.wanted && st.state === 'failed' ? 'failed' : 'off';
    if (kind === 'bars') e.sync = undefined;
    if (reqId === undefined) return;
    this.routes.delete(reqId);
    if (!live) return;
    this.session.request((api) => {
      if (kind === 'l1') api.cancelMktData(reqId);
      else if (kind === 'bars') api.cancelRealTimeBars(reqId);
      else api.cancelMktDepth(reqId, false);
    }, `cancel ${kind} ${e.key}`);
  }

  /** After a reconnect or 1101: every wanted stream again, with new request ids on the new connection. */
  private resubscribeAll(): void {
    if (this.stopped) return;
    let streams = 0;
    for (const e of this.entries.values()) {
      if (e.state !== 'subscribed') continue;
      for (const kind of ['l1', 'depth', 'bars'] as const) {
        if (!e.streams[kind].wanted) continue;
        this.requestStream(e, kind);
        streams++;
      }
      if (!this.realtimeBars) resetBarPipeline(this.ctx, e);
    }
    this.log.info('market data resubscribed', { streams });
  }

  // ---- connection and messages ----------------------------------------------------------------

  private onConnection(api: IBApi): void {
    // requests sent on the old connection are gone with it
    for (const [, h] of [...this.histories]) h.settle(new MarketDataError('connection lost during the request'));
    this.attach(api);
  }

  private attach(api: IBApi): void {
    if (this.api === api) return;
    this.detachApi?.();
    this.api = api;
    const raw = api as unknown as { on(e: string, l: (...a: never[]) => void): void; off(e: string, l: (...a: never[]) => void): void };
    const added: [string, (...a: never[]) => void][] = [];
    const on = <A extends unknown[]>(event: EventName, fn: (...args: A) => void) => {
      const guarded = (...args: A) => {
        try {
          fn(...args);
        } catch (e) {
          this.log.error('market data message failed', { event, error: e instanceof Error ? e.message : String(e) });
        }
      };
      raw.on(event, guarded as never);
      added.push([event, guarded as never]);
    };
    on(EventName.realtimeBar, (reqId: number, time: number, open: number, high: number, low: number, close: number, volume: number) => this.onRealtimeBar(reqId, time, open, high, low, close, volume));
    on(EventName.tickPrice, (reqId: number, field: number, value: number) => this.onTick(reqId, field, value, true));
    on(EventName.tickSize, (reqId: number, field: number | undefined, value: number | undefined) => this.onTick(reqId, field ?? -1, value ?? NaN, false));
    on(EventName.tickString, (reqId: number) => this.onAny(reqId));
    on(EventName.tickGeneric, (reqId: number) => this.onAny(reqId));
    on(EventName.updateMktDepth, (reqId: number, position: number, operation: number, side: number, price: number, size: number) => this.onDepth(reqId, position, operation, side, price, size, undefined));
    on(EventName.updateMktDepthL2, (reqId: number, position: number, mm: string, operation: number, side: number, price: number, size: number) => this.onDepth(reqId, position, operation, side, price, size, mm));
    on(EventName.historicalData, (reqId: number, time: string, open: number, high: number, low: number, close: number, volume: number) => onHistoricalData(this.ctx, reqId, time, open, high, low, close, volume));
    on(EventName.error, (error: Error, code: number, reqId: number) => this.onError(reqId, code, error?.message ?? String(error)));
    this.detachApi = () => {
      for (const [event, fn] of added) raw.off(event, fn);
    };
  }

  /** The entry of a stream message, marked fresh; undefined for a request that is not ours (any more). */
  private routed(reqId: number, stream: StreamKind): Entry | undefined {
    const r = this.routes.get(reqId);
    if (!r || r.stream !== stream) return undefined;
    const e = r.entry;
    const st = e.streams[stream];
    if (st.state === 'requested') st.state = 'active';
    const now = this.now();
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
      if (!this.realtimeBars && e.minuteAgg && Number.isFinite(e.pendingLast)) {
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
    const h = this.histories.get(reqId);
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
    this.report(e, r.stream, message, code);
  }

  private report(e: Entry, stream: MarketDataStream, message: string, code?: number): void {
    const issue: MarketDataIssue = { instrument: e.key, stream, message, at: this.now(), ...(code !== undefined ? { code } : {}) };
    e.issue = issue;
    this.log.warn('market data issue', { ...issue });
    try {
      this.o.onIssue?.(issue);
    } catch (err) {
      this.log.error('onIssue failed', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  // ---- helpers --------------------------------------------------------------------------------

  private allocateReqId(): number {
    const span = this.reqIdTo - this.reqIdFrom + 1;
    for (let i = 0; i < span; i++) {
      const id = this.nextReqId;
      this.nextReqId = id >= this.reqIdTo ? this.reqIdFrom : id + 1;
      if (!this.routes.has(id) && !this.histories.has(id)) return id;
    }
    throw new MarketDataError('no free request id');
  }

  private scheduleTick(): void {
    if (this.stopped) return;
    this.timer = this.scheduler.setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      const now = this.now();
      try {
        this.flushQuiet();
        this.stale.check(now);
      } catch (err) {
        this.log.error('market data tick failed', { error: err instanceof Error ? err.message : String(err) });
      }
      this.scheduleTick();
    }, this.tickMs);
  }
}
