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
 *   minute data one minute late).
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
import { EventName, type Contract, type IBApi } from '@stoqey/ib';
import { calendarForInstrument, type Session } from '../../lib/calendar/index.js';
import { ConfigError, WorkbenchError } from '../../lib/core/errors.js';
import { silentLogger, type Logger } from '../../lib/core/logger.js';
import { DAY_MS, isoDate, NEW_YORK } from '../../lib/core/time-zone.js';
import type { BarColumns } from '../../lib/data/bar-series.js';
import { futureKey, type InstrumentSpec, type SecType } from '../../lib/data/instrument.js';
import type { Interval } from '../../lib/data/interval.js';
import { PushDataClient } from '../../lib/engine/live-data-client.js';
import type { LiveFeed, LiveSubscription } from '../../lib/engine/live-feed.js';
import type { ResolvedBarSubscription } from '../../lib/engine/ports.js';
import { toIbContract, type ContractQuery, type ContractResolver, type ResolvedContract } from '../../lib/ib/contract-resolver.js';
import { classifyHistoryError, parseBarTime, volumeFromLots } from '../../lib/ib/history-fetch.js';
import { planHistory, type HistorySecType } from '../../lib/ib/history-plan.js';
import { realScheduler, type IbSession, type SessionScheduler } from '../../lib/ib/ib-session.js';
import { BarAggregator, DERIVED_INTERVALS, MINUTE_MS, REALTIME_BAR_MS, type DerivedInterval } from '../../lib/live/bar-aggregator.js';
import type { Bar } from '../../lib/model/market.js';
import type { DataSettings, UniverseSettings } from './config.js';
import { allocateLines, type LineAllocation } from './line-budget.js';

// ---------------------------------------------------------------------------------------------
// Staleness (pure)

/** What the stale monitor needs of an exchange calendar. */
export type StaleCalendar = { isOpen(ts: number): boolean; sessionAt(ts: number): Session | undefined };

export interface StaleMonitorOptions {
  staleMs: number;
  onStale?: (instrument: string, sinceMs: number) => void;
  onFresh?: (instrument: string) => void;
}

interface Watched {
  calendar: StaleCalendar | undefined;
  last: number;
  staleSince: number | undefined;
}

/**
 * Per-instrument freshness. `touch` on every update; `check(now)` reports instruments quiet for
 * `staleMs` of OPEN exchange time: the quiet time counts from the later of the last update and the
 * start of trading (session open, or the end of its break), so a market that just opened is not
 * stale because nothing came overnight, and a closed market is never stale. Without a calendar
 * the market is always open. A stale instrument stays stale (closed market included) until data
 * returns.
 */
export class StaleMonitor {
  private readonly watched = new Map<string, Watched>();

  constructor(private readonly options: StaleMonitorOptions) {
    if (!(options.staleMs > 0)) throw new RangeError(`staleMs must be positive, was ${options.staleMs}`);
  }

  /** Starts watching (quiet time counts from `now`); a no-op for a watched instrument */
  add(instrument: string, calendar: StaleCalendar | undefined, now: number): void {
    if (!this.watched.has(instrument)) this.watched.set(instrument, { calendar, last: now, staleSince: undefined });
  }

  remove(instrument: string): void {
    this.watched.delete(instrument);
  }

  has(instrument: string): boolean {
    return this.watched.has(instrument);
  }

  /** Data arrived: a stale instrument turns fresh (onFresh) */
  touch(instrument: string, now: number): void {
    const w = this.watched.get(instrument);
    if (!w) return;
    if (now > w.last) w.last = now;
    if (w.staleSince !== undefined) {
      w.staleSince = undefined;
      this.options.onFresh?.(instrument);
    }
  }

  /** Marks (and reports) the instruments that became stale by `now`; returns them */
  check(now: number): string[] {
    const out: string[] = [];
    for (const [instrument, w] of this.watched) {
      if (w.staleSince !== undefined) continue;
      const from = quietFrom(w, now);
      if (from === undefined || now - from < this.options.staleMs) continue;
      w.staleSince = w.last;
      out.push(instrument);
      this.options.onStale?.(instrument, w.last);
    }
    return out;
  }

  isStale(instrument: string): boolean {
    return this.watched.get(instrument)?.staleSince !== undefined;
  }

  /** Time of the last update (or of `add`) */
  lastUpdate(instrument: string): number | undefined {
    return this.watched.get(instrument)?.last;
  }

  /** Stale instruments, sorted */
  staleKeys(): string[] {
    return [...this.watched].filter(([, w]) => w.staleSince !== undefined).map(([k]) => k).sort();
  }
}

/** Start of the quiet time that counts, or undefined when the market is closed now. */
function quietFrom(w: Watched, now: number): number | undefined {
  const cal = w.calendar;
  if (!cal) return w.last;
  try {
    if (!cal.isOpen(now)) return undefined;
    const s = cal.sessionAt(now);
    const opened = s === undefined ? -Infinity : s.breakEnd !== undefined && now >= s.breakEnd ? s.breakEnd : s.open;
    return Math.max(w.last, opened);
  } catch {
    // outside the calendar's years: judge by the data alone
    return w.last;
  }
}

// ---------------------------------------------------------------------------------------------
// Public types

/** One universe instrument: its key (the engine's instrument key) and how IB finds it. */
export interface MarketDataInstrument {
  key: string;
  query: ContractQuery;
}

export type MarketDataSession = Pick<IbSession, 'request' | 'on' | 'registerResubscribe' | 'api' | 'ready'>;
export type MarketDataResolver = Pick<ContractResolver, 'resolveOne'>;

export interface L1Quote {
  bid: number;
  ask: number;
  last: number;
  bidSize: number;
  askSize: number;
  lastSize: number;
  /** Session volume as IB reports it (lots for US stocks) */
  volume: number;
  /** Engine time of the last tick (NaN before the first) */
  ts: number;
}

export interface DepthLevel {
  price: number;
  size: number;
  marketMaker?: string;
}

export interface DepthBookView {
  bids: DepthLevel[];
  asks: DepthLevel[];
  ts: number;
}

export type MarketDataStream = 'contract' | 'l1' | 'bars' | 'depth' | 'history' | 'backfill';

/** Something that went wrong for one instrument (never thrown). */
export interface MarketDataIssue {
  instrument: string;
  stream: MarketDataStream;
  /** IB's error code when IB answered with one */
  code?: number;
  message: string;
  at: number;
}

export type StreamState = 'off' | 'pending' | 'requested' | 'active' | 'failed';

export interface InstrumentStatus {
  instrument: string;
  state: 'waiting' | 'resolving' | 'subscribed' | 'failed';
  streams: { l1: StreamState; bars: StreamState; depth: StreamState };
  /** Engine time of the last update (NaN: none yet) */
  lastUpdate: number;
  stale: boolean;
  /** The last issue reported for it */
  issue?: MarketDataIssue;
  /** Minute bars delivered so far (live and backfill) */
  minutes: number;
}

export interface MarketDataStatus {
  /** Lines held or asked for right now (L1 + realtime bars) */
  linesUsed: number;
  /** Lines the plan reserved */
  linesPlanned: number;
  lineBudget: number;
  depthUsed: number;
  maxDepth: number;
  instruments: InstrumentStatus[];
  stale: string[];
  /** Universe instruments without data: waiting for lines, or failed (contract, 101, …) */
  notSubscribed: { instrument: string; reason: string }[];
  allocation: LineAllocation | undefined;
}

export interface IbMarketDataOptions {
  session: MarketDataSession;
  resolver: MarketDataResolver;
  /** The universe in configured order (see `universeInstruments`) */
  instruments: readonly MarketDataInstrument[];
  data: Pick<DataSettings, 'lineBudget' | 'staleSeconds' | 'depth' | 'realtimeBars'>;
  /** Instruments with open positions: their lines come first */
  positions?: Iterable<string>;
  /** Ask for L1 quotes (default true: the execution side prices from them) */
  l1?: boolean;
  /** Regular trading hours only, for realtime and historical bars (default false: as the stored extended-hours bars) */
  useRTH?: boolean;
  /** Depth rows per book (default 5) */
  depthRows?: number;
  /** Depth books at once (default 3, IB's limit) */
  maxDepth?: number;
  /** Lines other clients of the account hold (default 0) */
  reservedLines?: number;
  /** Sessions fetched for a warm start at most (default 10) */
  maxHistorySessions?: number;
  /** Per historical request (default 30 s of scheduler time) */
  historyTimeoutMs?: number;
  /** How long start() waits for the session (default 30 s) */
  readyTimeoutMs?: number;
  /** Flush and stale-check period (default 1000 ms of scheduler time) */
  tickMs?: number;
  /** Wait after a minute's end (plus the observed lag) before flush closes it (default 2000 ms) */
  graceMs?: number;
  /** Shares per reported volume unit (default 100 for STK, 1 otherwise: IB reports stock volume in lots) */
  volumeLot?: (spec: InstrumentSpec) => number;
  /** The exchange calendar staleness is judged by (default calendarForInstrument; undefined: always open) */
  calendar?: (spec: InstrumentSpec) => StaleCalendar | undefined;
  /** Request ids used (default 800_000..899_999) */
  reqIdRange?: { from: number; to: number };
  onStale?: (instrument: string, sinceMs: number) => void;
  onFresh?: (instrument: string) => void;
  onIssue?: (issue: MarketDataIssue) => void;
  /** Engine (TWS) time; default scheduler.now */
  now?: () => number;
  scheduler?: SessionScheduler;
  logger?: Logger;
}

export class MarketDataError extends WorkbenchError {
  readonly code = 'IB_MARKET_DATA';
  constructor(
    message: string,
    readonly ibCode?: number,
  ) {
    super(message);
  }
}

/** The universe of a runner config as market-data instruments (stocks: SYMBOL; futures: ROOT or ROOT-YYYYMM; cash: EUR.USD). */
export function universeInstruments(universe: Pick<UniverseSettings, 'symbols' | 'secType' | 'exchange' | 'currency'>): MarketDataInstrument[] {
  return universe.symbols.map((key) => {
    if (universe.secType === 'FUT') {
      const m = /^([A-Z0-9]+)-(\d{6}|\d{8})$/.exec(key);
      const query: ContractQuery = { symbol: m ? m[1]! : key, secType: 'FUT', exchange: universe.exchange, currency: universe.currency };
      if (m) query.lastTradeDateOrContractMonth = m[2]!;
      return { key, query };
    }
    if (universe.secType === 'CASH') {
      const [base, quote] = key.split('.');
      return { key, query: { symbol: base!, secType: 'CASH', exchange: universe.exchange === 'SMART' ? 'IDEALPRO' : universe.exchange, currency: quote ?? universe.currency } };
    }
    return { key, query: { symbol: key, secType: 'STK', exchange: universe.exchange, currency: universe.currency } };
  });
}

/** The engine's instrument spec of a resolved contract, keyed `key`. */
export function specFromContract(key: string, c: ResolvedContract): InstrumentSpec {
  const tickSize = c.minTick > 0 ? c.minTick : 0.01;
  const secType: SecType = c.secType === 'FUT' ? 'FUT' : c.secType === 'CASH' ? 'CASH' : 'STK';
  const base = { key, symbol: c.symbol || key, secType, currency: c.currency || 'USD', tickSize, localSymbol: c.localSymbol || undefined, conId: c.conId || undefined };
  if (secType === 'FUT') {
    const month = c.contractMonth || c.lastTradeDate.slice(0, 6);
    const expiry = c.lastTradeDate ? `${c.lastTradeDate.slice(0, 4)}-${c.lastTradeDate.slice(4, 6)}-${c.lastTradeDate.slice(6, 8)}` : undefined;
    return { ...base, key: key || futureKey(c.symbol, month), exchange: c.exchange, multiplier: c.multiplier, contractMonth: month, expiry };
  }
  if (secType === 'CASH') return { ...base, exchange: c.exchange, multiplier: 1 };
  return { ...base, exchange: c.primaryExch || c.exchange || 'SMART', multiplier: 1 };
}

// ---------------------------------------------------------------------------------------------
// Internals

const NO_BARS: BarColumns = { length: 0, ts: new Float64Array(0), open: new Float64Array(0), high: new Float64Array(0), low: new Float64Array(0), close: new Float64Array(0), volume: new Float64Array(0) };

/** Codes that are information, not a failure of the request. */
const WARNING_CODES = new Set([300, 399, 492, 2100, 10090, 10167]);
const isWarning = (code: number) => (code >= 2100 && code <= 2999) || WARNING_CODES.has(code);

/** A minute (or derived) bar as plain data (ts = start, epoch ms). */
export interface PlainBar {
  ts: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

type StreamKind = 'l1' | 'bars' | 'depth';

interface Stream {
  /** The instrument should have it (granted by the plan, or bars subscribed by the kernel) */
  wanted: boolean;
  state: StreamState;
  reqId: number | undefined;
}

/** After a (re)subscription of the bar stream: how its first minutes join the ones delivered. */
interface Sync {
  phase: 'first-input' | 'first-minute' | 'backfill';
  /** Close of the last minute delivered when the stream (re)started */
  from: number;
  /** Start of the minute the stream joined in the middle of (dropped) */
  partial: number | undefined;
  held: PlainBar[];
}

interface Entry {
  readonly key: string;
  readonly query: ContractQuery;
  state: InstrumentStatus['state'];
  spec: InstrumentSpec | undefined;
  contract: Contract | undefined;
  resolving: Promise<InstrumentSpec> | undefined;
  lot: number;
  /** The exchange's time zone (derived buckets are aligned from its midnight) */
  zone: string;
  readonly streams: Record<StreamKind, Stream>;
  quote: L1Quote;
  book: DepthBookView | undefined;
  lastUpdate: number;
  issue: MarketDataIssue | undefined;
  /** 5 s bars (or trade ticks) -> minutes */
  minuteAgg: BarAggregator | undefined;
  /** Delivered minutes -> derived bars */
  derivedAgg: BarAggregator | undefined;
  /** Derived bars of buckets starting before this are not delivered (incomplete) */
  derivedFrom: number;
  lastMinuteClose: number;
  minutes: number;
  sync: Sync | undefined;
  /** Start of the newest 5 s bar of the current stream (NaN: none yet) */
  lastBarStart: number;
  /** Recent delivery lags of 5 s bars (ms), a ring */
  lags: Float64Array;
  lagIndex: number;
  /** A LAST price waiting for its LAST_SIZE (bars from L1) */
  pendingLast: number;
  readonly handles: Map<Interval, LiveSubscription>;
}

interface Route {
  entry: Entry;
  stream: StreamKind;
}

interface HistoryRequest {
  entry: Entry;
  bars: PlainBar[];
  timer: unknown;
  settle: (error: MarketDataError | undefined) => void;
}

const LAG_WINDOW = 24;
const DERIVED: readonly DerivedInterval[] = DERIVED_INTERVALS;

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

  constructor(options: IbMarketDataOptions) {
    const problems: string[] = [];
    const keys = options.instruments.map((i) => i.key);
    keys.forEach((k, i) => {
      if (keys.indexOf(k) !== i) problems.push(`instruments: '${k}' is listed twice`);
    });
    if (!(options.data.staleSeconds > 0)) problems.push(`data.staleSeconds must be positive, was ${options.data.staleSeconds}`);
    for (const [name, v] of [
      ['depthRows', options.depthRows],
      ['maxHistorySessions', options.maxHistorySessions],
      ['historyTimeoutMs', options.historyTimeoutMs],
      ['tickMs', options.tickMs],
    ] as const) {
      if (v !== undefined && !(v > 0)) problems.push(`${name} must be positive, was ${v}`);
    }
    const range = options.reqIdRange ?? { from: 800_000, to: 899_999 };
    if (!(Number.isInteger(range.from) && range.from > 0 && range.to >= range.from)) problems.push(`reqIdRange must be positive integers with from <= to, got ${range.from}..${range.to}`);
    for (const d of options.data.depth) if (!keys.includes(d)) problems.push(`data.depth: '${d}' is not an instrument of the universe`);
    if (problems.length) throw new ConfigError('ib market data', problems);
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
    for (const inst of options.instruments) this.entries.set(inst.key, this.newEntry(inst));
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
        if (!this.realtimeBars) this.resetBarPipeline(e);
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
    const instruments: InstrumentStatus[] = [];
    const notSubscribed: MarketDataStatus['notSubscribed'] = [];
    let linesUsed = 0;
    let depthUsed = 0;
    const waiting = new Map((this.allocationValue?.notSubscribed ?? []).map((w) => [w.symbol, w.reason]));
    for (const e of this.entries.values()) {
      const live = (s: Stream) => s.state === 'requested' || s.state === 'active';
      if (live(e.streams.l1)) linesUsed++;
      if (this.realtimeBars && live(e.streams.bars)) linesUsed++;
      if (live(e.streams.depth)) depthUsed++;
      instruments.push({
        instrument: e.key,
        state: e.state,
        streams: { l1: e.streams.l1.state, bars: e.streams.bars.state, depth: e.streams.depth.state },
        lastUpdate: e.lastUpdate,
        stale: this.stale.isStale(e.key),
        issue: e.issue,
        minutes: e.minutes,
      });
      const w = waiting.get(e.key);
      const wanted = [e.streams.l1, e.streams.bars].filter((st) => st.wanted);
      if (w !== undefined) notSubscribed.push({ instrument: e.key, reason: w });
      else if (e.state === 'failed') notSubscribed.push({ instrument: e.key, reason: e.issue?.message ?? 'failed' });
      else if (wanted.length > 0 && wanted.every((st) => st.state === 'failed')) notSubscribed.push({ instrument: e.key, reason: e.issue?.message ?? 'streams failed' });
    }
    return {
      linesUsed,
      linesPlanned: this.allocationValue?.linesUsed ?? 0,
      lineBudget: this.o.data.lineBudget,
      depthUsed,
      maxDepth: this.allocationValue?.maxDepth ?? this.o.maxDepth ?? 3,
      instruments,
      stale: this.stale.staleKeys(),
      notSubscribed,
      allocation: this.allocationValue,
    };
  }

  /**
   * Closes minutes (and derived bars) whose last input is overdue at `now`: `graceMs` after their
   * end plus the stream's observed delivery lag. The timer calls it every `tickMs`.
   */
  flush(now = this.now()): void {
    for (const e of this.entries.values()) {
      // a stream without input yet: flushing would move its horizon past the first (lagging) bars
      if (!e.minuteAgg || e.sync?.phase === 'first-input') continue;
      const t = now - this.lagOf(e);
      e.minuteAgg.flush(t);
      // while a backfill is pending the derived buckets wait for its minutes
      if (e.sync === undefined) e.derivedAgg?.flush(t);
    }
  }

  /** Runs the staleness check at `now` (the timer calls it every `tickMs`); returns the instruments that just became stale */
  checkStale(now = this.now()): string[] {
    return this.stale.check(now);
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
    const minutes = await this.fetchWarmup(e, s.interval, count, now);
    this.prime(e, minutes);
    const bars = s.interval === '1m' ? minutes : aggregateMinutes(minutes, s.interval as DerivedInterval, now, this.zoneOf(e));
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
        e.zone = this.calendarTimeZone(e.spec) ?? NEW_YORK;
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
    if (kind === 'bars') this.resetBarPipeline(e);
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
      if (!this.realtimeBars) this.resetBarPipeline(e);
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
    on(EventName.historicalData, (reqId: number, time: string, open: number, high: number, low: number, close: number, volume: number) => this.onHistoricalData(reqId, time, open, high, low, close, volume));
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
      this.resetBarPipeline(e);
    }
    if (start > e.lastBarStart || Number.isNaN(e.lastBarStart)) e.lastBarStart = start;
    e.lags[e.lagIndex] = Math.max(0, e.lastUpdate - (start + REALTIME_BAR_MS));
    e.lagIndex = (e.lagIndex + 1) % LAG_WINDOW;
    this.noteFirstInput(e, start);
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
        this.noteFirstInput(e, e.lastUpdate);
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

  // ---- bars -----------------------------------------------------------------------------------

  /** A fresh minute aggregator for a (re)started stream; the minutes delivered so far stay. */
  private resetBarPipeline(e: Entry): void {
    e.minuteAgg = new BarAggregator({ instrument: e.key, graceMs: this.graceMs, onBar: (b) => this.onMinute(e, b) });
    e.derivedAgg ??= this.newDerivedAgg(e);
    e.sync = { phase: 'first-input', from: e.lastMinuteClose, partial: undefined, held: [] };
    e.lastBarStart = NaN;
    e.lags.fill(0);
  }

  private newDerivedAgg(e: Entry): BarAggregator {
    return new BarAggregator({
      instrument: e.key,
      derived: DERIVED,
      timeZone: this.zoneOf(e),
      graceMs: this.graceMs,
      onBar: (b) => {
        if (b.interval === '1m' || b.ts < e.derivedFrom) return;
        e.handles.get(b.interval)?.push(b.ts, b.open, b.high, b.low, b.close, b.volume);
      },
    });
  }

  private zoneOf(e: Entry): string {
    return e.zone;
  }

  private calendarTimeZone(spec: InstrumentSpec): string | undefined {
    try {
      return calendarForInstrument(spec.secType, spec.symbol).timeZone;
    } catch {
      return undefined;
    }
  }

  private noteFirstInput(e: Entry, ts: number): void {
    const s = e.sync;
    if (s?.phase !== 'first-input') return;
    const minute = ts - (((ts % MINUTE_MS) + MINUTE_MS) % MINUTE_MS);
    s.partial = ts === minute ? undefined : minute;
    s.phase = 'first-minute';
  }

  /** A minute completed by the stream (volume still in IB's units). */
  private onMinute(e: Entry, b: Readonly<Bar>): void {
    const m: PlainBar = { ts: b.ts, open: b.open, high: b.high, low: b.low, close: b.close, volume: this.realtimeBars ? volumeFromLots(b.volume, e.lot) : b.volume };
    const s = e.sync;
    if (s === undefined) return this.deliverMinute(e, m);
    if (s.phase === 'backfill') {
      s.held.push(m);
      return;
    }
    // the first minute of a (re)started stream: incomplete when the stream joined it late
    if (s.partial === undefined || m.ts > s.partial) s.held.push(m);
    s.phase = 'backfill';
    this.backfill(e, s);
  }

  /** Fetches the minutes between the last delivered one and the stream's first complete one. */
  private backfill(e: Entry, s: Sync): void {
    const end = this.now();
    const from = s.from > -Infinity ? s.from : s.partial;
    const firstHeld = s.held[0]?.ts ?? Infinity;
    if (from === undefined || from >= firstHeld) return this.release(e, s, []);
    const seconds = Math.min(86_400, Math.max(60, Math.ceil((end - from) / 1000) + 60));
    this.requestHistory(e, '', `${seconds} S`).then(
      (bars) => this.release(e, s, bars.filter((b) => b.ts + MINUTE_MS > from && b.ts + MINUTE_MS <= end && b.ts < firstHeld)),
      (err: unknown) => {
        // superseded (a resubscription meanwhile): the new backfill covers these minutes
        if (e.sync !== s) return;
        this.report(e, 'backfill', `minutes since ${new Date(from).toISOString()} not recovered: ${err instanceof Error ? err.message : String(err)}`, (err as MarketDataError).ibCode);
        // a gap: derived buckets containing it are incomplete, start them afresh
        e.derivedAgg = this.newDerivedAgg(e);
        e.derivedFrom = s.held[0]?.ts ?? Infinity;
        this.release(e, s, []);
      },
    );
  }

  private release(e: Entry, s: Sync, backfilled: PlainBar[]): void {
    if (e.sync !== s) return;
    e.sync = undefined;
    for (const b of backfilled) this.deliverMinute(e, b);
    for (const b of s.held) this.deliverMinute(e, b);
  }

  /** One complete minute, in time order: to the 1m subscription and into the derived bars. */
  private deliverMinute(e: Entry, m: PlainBar): void {
    if (!(m.ts + MINUTE_MS > e.lastMinuteClose)) return;
    if (e.lastMinuteClose === -Infinity && e.derivedFrom === -Infinity) e.derivedFrom = m.ts;
    if (e.derivedFrom === Infinity) e.derivedFrom = m.ts;
    e.lastMinuteClose = m.ts + MINUTE_MS;
    e.minutes++;
    e.handles.get('1m')?.push(m.ts, m.open, m.high, m.low, m.close, m.volume);
    // at its :55 slot, so the minute (and a bucket it ends) closes at once
    e.derivedAgg?.addRealtimeBar((m.ts + MINUTE_MS - REALTIME_BAR_MS) / 1000, m.open, m.high, m.low, m.close, m.volume);
  }

  /** Warm-start minutes: feed the pipeline so live minutes and derived bars continue from them. */
  private prime(e: Entry, minutes: readonly PlainBar[]): void {
    e.derivedAgg ??= this.newDerivedAgg(e);
    for (const m of minutes) {
      if (!(m.ts + MINUTE_MS > e.lastMinuteClose)) continue;
      if (e.sync !== undefined && e.sync.phase !== 'first-input') {
        // the stream already runs: its backfill covers these
        break;
      }
      this.deliverMinute(e, m);
      if (e.sync) e.sync.from = e.lastMinuteClose;
    }
  }

  private lagOf(e: Entry): number {
    let max = 0;
    for (let i = 0; i < LAG_WINDOW; i++) if (e.lags[i]! > max) max = e.lags[i]!;
    return max;
  }

  // ---- history --------------------------------------------------------------------------------

  /** 1-minute bars closed by `now`, newest sessions first until `count` bars of `interval` are there. */
  private async fetchWarmup(e: Entry, interval: Interval, count: number, now: number): Promise<PlainBar[]> {
    const maxSessions = this.o.maxHistorySessions ?? 10;
    const spec = e.spec!;
    let requests;
    try {
      requests = planHistory({
        symbol: e.key,
        secType: spec.secType as HistorySecType,
        calendarSymbol: spec.symbol,
        interval: '1m',
        fromDate: isoDate(now - (maxSessions * 2 + 10) * DAY_MS),
        toDate: isoDate(now + DAY_MS),
        whatToShow: 'TRADES',
        useRTH: this.useRTH,
        now,
      }).requests;
    } catch (err) {
      this.report(e, 'history', `no warm start: ${err instanceof Error ? err.message : String(err)}`);
      return [];
    }
    const byTs = new Map<number, PlainBar>();
    const sorted = () => [...byTs.values()].filter((b) => b.ts + MINUTE_MS <= now).sort((a, b) => a.ts - b.ts);
    let sessions = 0;
    for (let i = requests.length - 1; i >= 0 && sessions < maxSessions; i--, sessions++) {
      const r = requests[i]!;
      try {
        for (const b of await this.requestHistory(e, r.endDateTime, r.duration)) byTs.set(b.ts, b);
      } catch (err) {
        this.report(e, 'history', `warm start ${r.duration} to ${r.endDateTime}: ${err instanceof Error ? err.message : String(err)}`, (err as MarketDataError).ibCode);
        break;
      }
      const have = interval === '1m' ? byTs.size : aggregateMinutes(sorted(), interval as DerivedInterval, now, this.zoneOf(e)).length;
      if (have >= count) break;
    }
    return sorted();
  }

  /** One reqHistoricalData of 1-minute TRADES bars; resolves with its bars (none for "no data"). */
  private requestHistory(e: Entry, endDateTime: string, duration: string): Promise<PlainBar[]> {
    return new Promise<PlainBar[]>((resolve, reject) => {
      const contract = e.contract;
      if (!contract || this.stopped) return reject(new MarketDataError('not started'));
      const reqId = this.allocateReqId();
      const h: HistoryRequest = {
        entry: e,
        bars: [],
        timer: undefined,
        settle: (error) => {
          if (this.histories.get(reqId) !== h) return;
          this.histories.delete(reqId);
          this.scheduler.clearTimeout(h.timer);
          if (error) reject(error);
          else resolve(h.bars);
        },
      };
      this.histories.set(reqId, h);
      const timeoutMs = this.o.historyTimeoutMs ?? 30_000;
      h.timer = this.scheduler.setTimeout(() => {
        if (this.histories.get(reqId) !== h) return;
        this.session.request((api) => api.cancelHistoricalData(reqId), `cancel history ${e.key}`);
        h.settle(new MarketDataError(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      const sent = this.session.request((api) => {
        if (this.histories.get(reqId) !== h) return;
        api.reqHistoricalData(reqId, contract, endDateTime, duration, '1 min' as never, 'TRADES' as never, this.useRTH ? 1 : 0, 2, false);
      }, `history ${e.key} ${duration}`);
      if (!sent) h.settle(new MarketDataError('session not connected'));
    });
  }

  private onHistoricalData(reqId: number, time: string, open: number, high: number, low: number, close: number, volume: number): void {
    const h = this.histories.get(reqId);
    if (!h) return;
    if (typeof time === 'string' && time.startsWith('finished')) return h.settle(undefined);
    const ts = parseBarTime(String(time), this.zoneOf(h.entry));
    if (!Number.isFinite(ts)) return;
    h.bars.push({ ts, open, high, low, close, volume: volumeFromLots(volume, h.entry.lot) });
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
        this.flush(now);
        this.stale.check(now);
      } catch (err) {
        this.log.error('market data tick failed', { error: err instanceof Error ? err.message : String(err) });
      }
      this.scheduleTick();
    }, this.tickMs);
  }

  private newEntry(inst: MarketDataInstrument): Entry {
    const stream = (): Stream => ({ wanted: false, state: 'off', reqId: undefined });
    return {
      key: inst.key,
      query: inst.query,
      state: 'waiting',
      spec: undefined,
      contract: undefined,
      resolving: undefined,
      lot: 1,
      zone: NEW_YORK,
      streams: { l1: stream(), bars: stream(), depth: stream() },
      quote: { bid: NaN, ask: NaN, last: NaN, bidSize: NaN, askSize: NaN, lastSize: NaN, volume: NaN, ts: NaN },
      book: undefined,
      lastUpdate: NaN,
      issue: undefined,
      minuteAgg: undefined,
      derivedAgg: undefined,
      derivedFrom: -Infinity,
      lastMinuteClose: -Infinity,
      minutes: 0,
      sync: undefined,
      lastBarStart: NaN,
      lags: new Float64Array(LAG_WINDOW),
      lagIndex: 0,
      pendingLast: NaN,
      handles: new Map(),
    };
  }
}

/** Derived bars of `interval` from minute bars, exactly as the live pipeline makes them; only bars closed by `now`. */
export function aggregateMinutes(minutes: readonly PlainBar[], interval: DerivedInterval, now: number, timeZone = NEW_YORK): PlainBar[] {
  const out: PlainBar[] = [];
  const agg = new BarAggregator({
    instrument: '',
    derived: [interval],
    timeZone,
    onBar: (b) => {
      if (b.interval === interval && b.closeTime <= now) out.push({ ts: b.ts, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume });
    },
  });
  for (const m of minutes) agg.addRealtimeBar((m.ts + MINUTE_MS - REALTIME_BAR_MS) / 1000, m.open, m.high, m.low, m.close, m.volume);
  agg.flush(Infinity);
  return out;
}

function columns(bars: readonly PlainBar[]): BarColumns {
  const n = bars.length;
  const c: BarColumns = { length: n, ts: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n) };
  bars.forEach((b, i) => {
    c.ts[i] = b.ts;
    c.open[i] = b.open;
    c.high[i] = b.high;
    c.low[i] = b.low;
    c.close[i] = b.close;
    c.volume[i] = b.volume;
  });
  return c;
}
