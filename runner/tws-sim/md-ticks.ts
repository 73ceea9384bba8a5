/**
 * One reqMktData line: the L1 ticks of the replayed quote, sent when they change (tws-protocol.md
 * §2, "Notes on specific messages"). BID/ASK/LAST go as tickPrice with their size (the client
 * synthesizes BID_SIZE/ASK_SIZE/LAST_SIZE from it); a size that changes alone goes as tickSize;
 * VOLUME as tickSize; HIGH/LOW/CLOSE/OPEN as tickPrice when the quote book knows the session;
 * LAST_TIMESTAMP as tickString (epoch seconds). Delayed market data (type 3/4) uses the delayed
 * tick ids (66...) and the quote of `delayMs` earlier.
 */
import { isReplayQuoteBook, type SessionStats } from './replay-quotes.js';
import { IN, type ClientConnection, type QuoteBook, type SimQuote } from './types.js';

/** Tick ids of one market data type, indexed by slot. */
interface TickIds {
  bid: number;
  ask: number;
  last: number;
  bidSize: number;
  askSize: number;
  lastSize: number;
  high: number;
  low: number;
  volume: number;
  close: number;
  open: number;
  lastTimestamp: number;
}

const LIVE: TickIds = { bid: 1, ask: 2, last: 4, bidSize: 0, askSize: 3, lastSize: 5, high: 6, low: 7, volume: 8, close: 9, open: 14, lastTimestamp: 45 };
const DELAYED: TickIds = { bid: 66, ask: 67, last: 68, bidSize: 69, askSize: 70, lastSize: 71, high: 72, low: 73, volume: 74, close: 75, open: 76, lastTimestamp: 88 };

/** tickPrice attribute mask bit 0: canAutoExecute (set on bid and ask, as TWS does). */
const CAN_AUTO_EXECUTE = 1;
const TICK_VERSION = 6;

/** Slots of the last-sent values. */
const enum S {
  Bid,
  BidSize,
  Ask,
  AskSize,
  Last,
  LastSize,
  Volume,
  High,
  Low,
  Close,
  Open,
  LastTs,
  Count,
}

export interface LineOptions {
  /** Market data type served: 1 live, 2 frozen, 3 delayed, 4 delayed-frozen */
  marketDataType: number;
  /** How far delayed data lags (types 3 and 4) */
  delayMs: number;
  /** VOLUME is divided by this (100 for US stocks: IB reports their volume in lots) */
  volumeDivisor: number;
}

export class MarketDataLine {
  active = true;
  private readonly sent = new Float64Array(S.Count).fill(NaN);
  private readonly ids: TickIds;
  private readonly delayMs: number;

  constructor(
    readonly reqId: number,
    readonly instrumentKey: string,
    private readonly options: LineOptions,
  ) {
    const delayed = options.marketDataType === 3 || options.marketDataType === 4;
    this.ids = delayed ? DELAYED : LIVE;
    this.delayMs = delayed ? options.delayMs : 0;
  }

  /** Reads the quote at `now` and sends what changed since the last call. */
  async update(conn: ClientConnection, quotes: QuoteBook, now: number): Promise<void> {
    const at = now - this.delayMs;
    const quote = await quotes.quote(this.instrumentKey, at);
    const stats = isReplayQuoteBook(quotes) ? await quotes.session(this.instrumentKey, at) : undefined;
    // cancelled (or the socket closed) while the quote was read
    if (!this.active || !conn.open) return;
    this.emit(conn, quote, stats);
  }

  private emit(conn: ClientConnection, q: SimQuote | undefined, s: SessionStats | undefined): void {
    const ids = this.ids;
    if (q) {
      this.quoteSide(conn, ids.bid, S.Bid, q.bid, ids.bidSize, q.bidSize, CAN_AUTO_EXECUTE);
      this.quoteSide(conn, ids.ask, S.Ask, q.ask, ids.askSize, q.askSize, CAN_AUTO_EXECUTE);
      this.quoteSide(conn, ids.last, S.Last, q.last, ids.lastSize, q.lastSize, 0);
      this.size(conn, ids.volume, S.Volume, q.volume / this.options.volumeDivisor);
    }
    if (s) {
      this.price(conn, ids.high, S.High, s.high);
      this.price(conn, ids.low, S.Low, s.low);
      this.price(conn, ids.close, S.Close, s.prevClose);
      this.price(conn, ids.open, S.Open, s.open);
      const sec = Math.floor(s.lastTradeTs / 1000);
      if (Number.isFinite(sec) && sec !== this.sent[S.LastTs]) {
        this.sent[S.LastTs] = sec;
        conn.send([IN.TICK_STRING, TICK_VERSION, this.reqId, ids.lastTimestamp, String(sec)]);
      }
    }
  }

  /** tickPrice with size when the price moved, tickSize when only the size did. */
  private quoteSide(conn: ClientConnection, priceId: number, slot: S, price: number, sizeId: number, size: number, mask: number): void {
    if (!Number.isFinite(price)) return;
    const sz = Number.isFinite(size) ? size : 0;
    if (price !== this.sent[slot]) {
      this.sent[slot] = price;
      this.sent[slot + 1] = sz;
      conn.send([IN.TICK_PRICE, TICK_VERSION, this.reqId, priceId, price, sz, mask]);
      // @stoqey/ib 1.6.10 tests `if (sizeTickType)`, so it never synthesizes BID_SIZE (id 0) from
      // tickPrice; TWS also sends the size on its own, so this duplicate is what a client sees anyway
      if (sizeId === 0) conn.send([IN.TICK_SIZE, TICK_VERSION, this.reqId, sizeId, sz]);
    } else if (sz !== this.sent[slot + 1]) {
      this.sent[slot + 1] = sz;
      conn.send([IN.TICK_SIZE, TICK_VERSION, this.reqId, sizeId, sz]);
    }
  }

  /** HIGH/LOW/CLOSE/OPEN: tickPrice with size 0, no size tick follows. */
  private price(conn: ClientConnection, id: number, slot: S, price: number): void {
    if (!Number.isFinite(price) || price === this.sent[slot]) return;
    this.sent[slot] = price;
    conn.send([IN.TICK_PRICE, TICK_VERSION, this.reqId, id, price, 0, 0]);
  }

  private size(conn: ClientConnection, id: number, slot: S, size: number): void {
    if (!Number.isFinite(size) || size === this.sent[slot]) return;
    this.sent[slot] = size;
    conn.send([IN.TICK_SIZE, TICK_VERSION, this.reqId, id, size]);
  }
}
