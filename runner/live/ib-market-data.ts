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
 *
 * Collaborators: stream requests and request ids (market-data-requests.ts), IB messages
 * (market-data-messages.ts), minute flushing (market-data-flush.ts).
 */
import type { IBApi } from '@stoqey/ib';
import { calendarForInstrument } from '../../lib/calendar/index.js';
import { silentLogger, type Logger } from '../../lib/core/logger.js';
import { NEW_YORK } from '../../lib/core/time-zone.js';
import type { BarColumns } from '../../lib/data/bar-series.js';
import type { InstrumentSpec } from '../../lib/data/instrument.js';
import { PushDataClient } from '../../lib/engine/live-data-client.js';
import type { LiveFeed, LiveSubscription } from '../../lib/engine/live-feed.js';
import type { ResolvedBarSubscription } from '../../lib/engine/ports.js';
import { toIbContract } from '../../lib/ib/contract-resolver.js';
import { realScheduler, type SessionScheduler } from '../../lib/ib/ib-session.js';
import type { DerivedInterval } from '../../lib/live/bar-aggregator.js';
import { allocateLines, type LineAllocation } from './line-budget.js';
import { buildStatus, DERIVED, newEntry, zoneOf, type Entry, type HistoryRequest, type MarketDataContext } from './instrument-stream.js';
import { flushEntry, flushQuiet } from './market-data-flush.js';
import { aggregateMinutes, columns, NO_BARS, specFromContract } from './market-data-helpers.js';
import { fetchWarmup } from './market-data-history.js';
import { MarketDataMessages } from './market-data-messages.js';
import { StreamRequests } from './market-data-requests.js';
import { MarketDataError, validateOptions, type DepthBookView, type MarketDataInstrument, type IbMarketDataOptions, type L1Quote, type MarketDataIssue, type MarketDataSession, type MarketDataStatus, type MarketDataStream } from './market-data-types.js';
import { calendarTimeZone, prime, resetBarPipeline } from './minute-pipeline.js';
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
  private readonly histories = new Map<number, HistoryRequest>();
  private readonly stale: StaleMonitor;
  private readonly l1: boolean;
  private readonly realtimeBars: boolean;
  private readonly useRTH: boolean;
  private readonly graceMs: number;
  private readonly tickMs: number;
  private allocationValue: LineAllocation | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private timer: unknown;
  private started = false;
  private stopped = false;
  private readonly ctx: MarketDataContext;
  private readonly requests: StreamRequests;
  private readonly messages: MarketDataMessages;

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
      allocateReqId: () => this.requests.allocateReqId(),
      report: (...args) => this.report(...args),
    };
    this.requests = new StreamRequests(this.ctx, range.from, range.to);
    this.messages = new MarketDataMessages(this.ctx, this.requests.routes, this.stale, this.log);
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
    if (api) this.messages.attach(api);
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
        this.requests.request(e, 'l1');
        this.requests.request(e, 'depth');
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
      for (const kind of ['bars', 'l1', 'depth'] as const) this.requests.cancel(e, kind);
    }
    for (const [, h] of this.histories) h.settle(new MarketDataError('market data stopped'));
    for (const u of this.unsubscribe.splice(0)) u();
    this.messages.detach();
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
    for (const e of this.entries.values()) flushEntry(e, now);
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
    this.requests.request(e, 'l1');
  }

  /** Cancels every stream of an instrument and forgets it: its lines are free (the cancels are queued before any later request) */
  removeInstrument(key: string): void {
    const e = this.entries.get(key);
    if (e === undefined) return;
    for (const kind of ['bars', 'l1', 'depth'] as const) {
      e.streams[kind].wanted = false;
      this.requests.cancel(e, kind);
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
      this.requests.request(e, 'bars');
    }
  }

  private onUnsubscribe(h: LiveSubscription): void {
    const e = this.entries.get(h.subscription.instrument);
    if (!e || e.handles.get(h.subscription.interval) !== h) return;
    e.handles.delete(h.subscription.interval);
    if (e.handles.size === 0 && this.realtimeBars) {
      e.streams.bars.wanted = false;
      this.requests.cancel(e, 'bars');
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

  /** After a reconnect or 1101: every wanted stream again, with new request ids on the new connection. */
  private resubscribeAll(): void {
    if (this.stopped) return;
    let streams = 0;
    for (const e of this.entries.values()) {
      if (e.state !== 'subscribed') continue;
      for (const kind of ['l1', 'depth', 'bars'] as const) {
        if (!e.streams[kind].wanted) continue;
        this.requests.request(e, kind);
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
    this.messages.attach(api);
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

  private scheduleTick(): void {
    if (this.stopped) return;
    this.timer = this.scheduler.setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      const now = this.now();
      try {
        flushQuiet(this.ctx, this.entries);
        this.stale.check(now);
      } catch (err) {
        this.log.error('market data tick failed', { error: err instanceof Error ? err.message : String(err) });
      }
      this.scheduleTick();
    }, this.tickMs);
  }
}
