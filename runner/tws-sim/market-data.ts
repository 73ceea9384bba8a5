/**
 * The market-data feature: reqMktData (L1 ticks), reqMktDepth (a synthetic book) and
 * reqRealTimeBars (5 s bars) replayed from the store at the simulated clock, with IB's per-client
 * limits (tws-protocol.md §5): more than `maxLines` market-data lines (reqMktData and real-time bars
 * together) -> 101, more than `maxDepth` depth books -> 309; a contract the store does not know ->
 * 200, CONTFUT -> 200 (continuous futures stream nothing).
 *
 * Each subscription answers at once, then a per-connection timer pushes what changed every
 * `tickIntervalMs` of real time; the timer runs only while the connection has subscriptions and
 * stops on cancel, on disconnect and on `close()`. With `tickIntervalMs: 0` there is no timer:
 * the owner calls `pump()` (a lock-step replay pushes exactly when it moved the clock).
 * reqMktData first sends tickReqParams (81) and marketDataType (58, the connection's type); a
 * snapshot sends the current ticks, then tickSnapshotEnd (57), and frees its line.
 */
import type { SimContract } from './contract-match.js';
import { DepthBook, MAX_DEPTH_ROWS } from './market-depth.js';
import { MarketDataLine } from './md-ticks.js';
import {
  CONTFUT_MARKET_DATA,
  DUPLICATE_TICKER,
  invalid,
  MAX_DEPTH_CODE,
  MAX_TICKERS,
  maxDepthText,
  NO_TICKER_CODE,
  noTickerText,
  readCancel,
  readMktData,
  readMktDepth,
  readRealTimeBars,
  resolveContract,
  VALIDATION,
} from './md-request.js';
import { RealtimeBars, realtimeSource, REALTIME_BAR_MS, WHAT_TO_SHOW_RT, type RealtimeDelay } from './realtime-bars.js';
import { isReplayQuoteBook, StoreQuoteBook, type ReplayQuoteBook } from './replay-quotes.js';
import { IN, OUT, SimRequestError, type ClientConnection, type QuoteBook, type RequestHandler, type SimContext, type SimFeature } from './types.js';
import { HMDS_ERROR, noData } from './ib-errors.js';

export interface MarketDataOptions {
  /** The replayed market (shared with the order feature) */
  quotes: QuoteBook;
  /** Concurrent reqMktData + reqRealTimeBars lines per client (IB's default 100) */
  maxLines?: number;
  /** Concurrent depth books per client (3 with 100 lines) */
  maxDepth?: number;
  /** Real milliseconds between pushes; 0: no timer, pushes happen on `pump()` only */
  tickIntervalMs?: number;
  /** When real-time bars from coarser stored bars are sent (realtime-bars.ts); default 'source' */
  realtimeDelay?: RealtimeDelay;
  /** How far delayed market data (types 3/4) lags, in simulated ms (IB: 15 minutes) */
  delayedMs?: number;
  /** US stock VOLUME (and TRADES real-time bar volume) in lots of 100, as IB reports it (default true) */
  stockVolumeInLots?: boolean;
}

export { CONTFUT_MARKET_DATA };

/** The feature plus manual pushing (for `tickIntervalMs: 0`). */
export interface MarketDataFeature extends SimFeature {
  /** Pushes what became due at the sim clock's now to every connection; resolves once sent */
  pump(): Promise<void>;
  /** Real-time bar subscriptions installed (answering), over all connections */
  realtimeBarCount(): number;
  /** Market-data lines held (reqMktData + real-time bars, the lines `maxLines` limits), over all connections */
  lineCount(): number;
}

/** What the push timer drives. */
interface Subscription {
  readonly reqId: number;
  active: boolean;
  update(conn: ClientConnection, quotes: QuoteBook, now: number): void | Promise<void>;
}

/** One client's subscriptions; `null` marks a request whose contract is still being resolved. */
class Session {
  readonly lines = new Map<number, MarketDataLine | null>();
  readonly bars = new Map<number, RealtimeBars | null>();
  readonly depth = new Map<number, DepthBook | null>();
  timer: NodeJS.Timeout | undefined;
  busy = false;

  constructor(
    readonly conn: ClientConnection,
    readonly ctx: SimContext,
  ) {}

  get lineCount(): number {
    return this.lines.size + this.bars.size;
  }

  get empty(): boolean {
    return this.lines.size === 0 && this.bars.size === 0 && this.depth.size === 0;
  }

  stopAll(): void {
    for (const m of [this.lines, this.bars, this.depth]) {
      for (const s of m.values()) if (s) s.active = false;
      m.clear();
    }
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

export function marketDataFeature(options: MarketDataOptions): MarketDataFeature {
  const maxLines = options.maxLines ?? 100;
  const maxDepth = options.maxDepth ?? 3;
  const tickIntervalMs = options.tickIntervalMs ?? 250;
  const delayedMs = options.delayedMs ?? 15 * 60_000;
  const lots = options.stockVolumeInLots ?? true;
  const quotes = options.quotes;
  const sessions = new Map<ClientConnection, Session>();
  let barBook: ReplayQuoteBook | undefined = isReplayQuoteBook(quotes) ? quotes : undefined;

  const volumeDivisor = (c: SimContract) => (lots && c.secType === 'STK' ? 100 : 1);

  function session(conn: ClientConnection, ctx: SimContext): Session {
    let s = sessions.get(conn);
    if (!s) {
      const created = new Session(conn, ctx);
      sessions.set(conn, created);
      conn.onClose(() => {
        created.stopAll();
        sessions.delete(conn);
      });
      s = created;
    }
    return s;
  }

  /** Starts the push timer with the first subscription, stops it with the last. */
  function schedule(s: Session): void {
    if (s.empty || !s.conn.open) {
      if (s.timer) clearInterval(s.timer);
      s.timer = undefined;
      return;
    }
    if (s.timer || tickIntervalMs <= 0) return;
    s.timer = setInterval(() => void pump(s), tickIntervalMs);
    s.timer.unref();
  }

  async function pump(s: Session): Promise<void> {
    if (s.busy) return;
    s.busy = true;
    try {
      const now = s.ctx.clock.now();
      for (const line of s.lines.values()) if (line) await guarded(s, line, now);
      for (const book of s.depth.values()) if (book) await guarded(s, book, now);
      for (const bars of s.bars.values()) if (bars) await guarded(s, bars, now);
    } finally {
      s.busy = false;
    }
  }

  /** A failing subscription is answered with 322 and dropped; the others carry on. */
  async function guarded(s: Session, sub: Subscription, now: number): Promise<void> {
    const reqId = sub.reqId;
    try {
      await sub.update(s.conn, quotes, now);
    } catch (e) {
      for (const m of [s.lines, s.depth, s.bars]) {
        const sub = m.get(reqId);
        if (sub) sub.active = false;
        m.delete(reqId);
      }
      s.conn.error(reqId, 322, `Error processing request:-'bW' : cause - ${(e as Error).message}`);
      schedule(s);
    }
  }

  /** Reserves a slot synchronously (so concurrent requests count), resolves, then installs. */
  async function subscribe<T extends { active: boolean }>(
    s: Session,
    map: Map<number, T | null>,
    reqId: number,
    create: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    map.set(reqId, null);
    let sub: T | undefined;
    try {
      sub = await create();
    } catch (e) {
      if (map.get(reqId) === null) map.delete(reqId);
      throw e;
    }
    // cancelled (or disconnected) while resolving
    if (map.get(reqId) !== null || !s.conn.open) {
      if (sub) sub.active = false;
      return undefined;
    }
    if (sub) map.set(reqId, sub);
    else map.delete(reqId);
    schedule(s);
    return sub;
  }

  const reqMktData: RequestHandler = async (conn, fields, ctx) => {
    const req = readMktData(fields, conn.serverVersion);
    const s = session(conn, ctx);
    if (s.lines.has(req.reqId)) throw new SimRequestError(req.reqId, DUPLICATE_TICKER.code, DUPLICATE_TICKER.text);
    if (s.lineCount >= maxLines) throw new SimRequestError(req.reqId, MAX_TICKERS.code, MAX_TICKERS.text);
    const snapshot = req.snapshot || req.regulatorySnapshot;
    const type = conn.marketDataType ?? 1;
    await subscribe(s, s.lines, req.reqId, async () => {
      const contract = await resolveContract(ctx, req.reqId, req.contract);
      conn.send([IN.TICK_REQ_PARAMS, req.reqId, contract.instrument.tickSize, contract.exchange, 3]);
      conn.send([IN.MARKET_DATA_TYPE, 1, req.reqId, type]);
      const l = new MarketDataLine(req.reqId, contract.instrument.key, { marketDataType: type, delayMs: delayedMs, volumeDivisor: volumeDivisor(contract) });
      await l.update(conn, quotes, ctx.clock.now());
      if (!snapshot) return l;
      conn.send([IN.TICK_SNAPSHOT_END, 1, req.reqId]);
      return undefined;
    });
  };

  const cancelMktData: RequestHandler = (conn, fields) => {
    const reqId = readCancel(fields);
    // TWS answers a cancel of an unknown (or finished snapshot) ticker with 300
    if (!sessions.get(conn)?.lines.has(reqId)) conn.error(reqId, NO_TICKER_CODE, noTickerText(reqId));
    else cancel(conn, reqId, 'lines');
  };

  const reqMktDepth: RequestHandler = async (conn, fields, ctx) => {
    const req = readMktDepth(fields, conn.serverVersion);
    const s = session(conn, ctx);
    if (s.depth.has(req.reqId)) throw new SimRequestError(req.reqId, DUPLICATE_TICKER.code, DUPLICATE_TICKER.text);
    if (s.depth.size >= maxDepth) throw new SimRequestError(req.reqId, MAX_DEPTH_CODE, maxDepthText(maxDepth));
    if (req.numRows <= 0) throw new SimRequestError(req.reqId, VALIDATION, invalid(`numRows must be positive, was ${req.numRows}`));
    await subscribe(s, s.depth, req.reqId, async () => {
      const c = await resolveContract(ctx, req.reqId, req.contract);
      const rows = Math.min(req.numRows, MAX_DEPTH_ROWS);
      const book = new DepthBook(req.reqId, c.instrument.key, rows, { tickSize: c.instrument.tickSize, isSmartDepth: req.isSmartDepth, marketMaker: c.instrument.exchange });
      await book.update(conn, quotes, ctx.clock.now());
      return book;
    });
  };

  const cancelMktDepth: RequestHandler = (conn, fields) => cancel(conn, readCancel(fields), 'depth');

  const reqRealTimeBars: RequestHandler = async (conn, fields, ctx) => {
    const req = readRealTimeBars(fields, conn.serverVersion);
    const s = session(conn, ctx);
    if (s.bars.has(req.reqId)) throw new SimRequestError(req.reqId, DUPLICATE_TICKER.code, DUPLICATE_TICKER.text);
    if (s.lineCount >= maxLines) throw new SimRequestError(req.reqId, MAX_TICKERS.code, MAX_TICKERS.text);
    if (req.barSize !== REALTIME_BAR_MS / 1000) throw new SimRequestError(req.reqId, VALIDATION, invalid(`real-time bars are 5 seconds only, barSize was ${req.barSize}`));
    if (!(WHAT_TO_SHOW_RT as readonly string[]).includes(req.whatToShow)) {
      throw new SimRequestError(req.reqId, VALIDATION, invalid(`whatToShow must be one of ${WHAT_TO_SHOW_RT.join(', ')} for real-time bars, was '${req.whatToShow}'`));
    }
    // the first bar is the one due next after the request arrived, however long resolving takes
    const requestedAt = ctx.clock.now();
    await subscribe(s, s.bars, req.reqId, async () => {
      const c = await resolveContract(ctx, req.reqId, req.contract);
      barBook ??= new StoreQuoteBook(ctx.store);
      const series = await barBook.series(c.instrument.key);
      const source = series && realtimeSource(series, req.whatToShow);
      if (!source) throw new SimRequestError(req.reqId, HMDS_ERROR, noData(`${c.instrument.symbol}@${c.exchange} ${req.whatToShow}`));
      return new RealtimeBars(req.reqId, c.instrument, source, req.useRTH, volumeDivisor(c), requestedAt, options.realtimeDelay);
    });
  };

  const cancelRealTimeBars: RequestHandler = (conn, fields) => cancel(conn, readCancel(fields), 'bars');

  /** Stops one subscription; depth and real-time bar cancels of unknown ids are ignored. */
  function cancel(conn: ClientConnection, reqId: number, kind: 'lines' | 'depth' | 'bars'): void {
    const s = sessions.get(conn);
    if (!s) return;
    const map: Map<number, { active: boolean } | null> = s[kind];
    const sub = map.get(reqId);
    if (sub) sub.active = false;
    map.delete(reqId);
    schedule(s);
  }

  return {
    name: 'market-data',
    handlers: new Map<number, RequestHandler>([
      [OUT.REQ_MKT_DATA, reqMktData],
      [OUT.CANCEL_MKT_DATA, cancelMktData],
      [OUT.REQ_MKT_DEPTH, reqMktDepth],
      [OUT.CANCEL_MKT_DEPTH, cancelMktDepth],
      [OUT.REQ_REAL_TIME_BARS, reqRealTimeBars],
      [OUT.CANCEL_REAL_TIME_BARS, cancelRealTimeBars],
    ]),
    async pump() {
      for (const s of [...sessions.values()]) await pump(s);
    },
    lineCount() {
      let n = 0;
      for (const s of sessions.values()) n += s.lineCount;
      return n;
    },
    realtimeBarCount() {
      let n = 0;
      for (const s of sessions.values()) for (const b of s.bars.values()) if (b) n++;
      return n;
    },
    close() {
      for (const s of sessions.values()) s.stopAll();
      sessions.clear();
    },
  };
}
