/**
 * A synthetic order book for reqMktDepth: `numRows` levels per side around the replayed quote,
 * one tick apart (bids at bid - k*tick, asks at ask + k*tick), every level carrying the quote's
 * size of its side (a flat book: the store has no depth). The first update inserts every level
 * (operation 0); later ones update (operation 1) only the levels whose price or size changed.
 * Side 0 is ask, 1 is bid (tws-protocol.md §2). marketDepthL2 (13) answers a SMART depth request,
 * with the instrument's exchange as market maker; marketDepth (12) answers the others.
 */
import { roundTo, stepDecimals } from './md-request.js';
import { IN, type ClientConnection, type QuoteBook, type SimQuote } from './types.js';

const ASK_SIDE = 0;
const BID_SIDE = 1;
const INSERT = 0;
const UPDATE = 1;
/** Server version from which marketDepthL2 carries isSmartDepth. */
const SMART_DEPTH = 146;

/** IB serves at most this many rows per side (larger requests are clipped). */
export const MAX_DEPTH_ROWS = 50;

export interface DepthOptions {
  tickSize: number;
  isSmartDepth: boolean;
  marketMaker: string;
}

export class DepthBook {
  active = true;
  private inserted = false;
  /** [bids..., asks...] last sent */
  private readonly prices: Float64Array;
  private readonly sizes: Float64Array;
  private readonly decimals: number;

  constructor(
    readonly reqId: number,
    readonly instrumentKey: string,
    readonly rows: number,
    private readonly options: DepthOptions,
  ) {
    this.prices = new Float64Array(rows * 2).fill(NaN);
    this.sizes = new Float64Array(rows * 2).fill(NaN);
    // synthesized quotes sit half a tick off the grid
    this.decimals = stepDecimals(options.tickSize / 2);
  }

  async update(conn: ClientConnection, quotes: QuoteBook, now: number): Promise<void> {
    const q = await quotes.quote(this.instrumentKey, now);
    if (!this.active || !conn.open || !q) return;
    this.emit(conn, q);
  }

  private emit(conn: ClientConnection, q: SimQuote): void {
    // no book until both sides are known
    if (!Number.isFinite(q.bid) || !Number.isFinite(q.ask)) return;
    const op = this.inserted ? UPDATE : INSERT;
    const tick = this.options.tickSize;
    for (let k = 0; k < this.rows; k++) {
      this.level(conn, op, BID_SIDE, k, roundTo(q.bid - k * tick, this.decimals), sizeOf(q.bidSize));
      this.level(conn, op, ASK_SIDE, k, roundTo(q.ask + k * tick, this.decimals), sizeOf(q.askSize));
    }
    this.inserted = true;
  }

  private level(conn: ClientConnection, op: number, side: number, position: number, price: number, size: number): void {
    const slot = side === BID_SIDE ? position : this.rows + position;
    if (op === UPDATE && this.prices[slot] === price && this.sizes[slot] === size) return;
    this.prices[slot] = price;
    this.sizes[slot] = size;
    if (this.options.isSmartDepth) {
      const f = [IN.MARKET_DEPTH_L2, 1, this.reqId, position, this.options.marketMaker, op, side, price, size];
      if (conn.serverVersion >= SMART_DEPTH) f.push(1);
      conn.send(f);
    } else {
      conn.send([IN.MARKET_DEPTH, 1, this.reqId, position, op, side, price, size]);
    }
  }
}

/** Unknown sizes show as 0. */
function sizeOf(size: number): number {
  return Number.isFinite(size) && size > 0 ? size : 0;
}
