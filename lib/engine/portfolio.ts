import type { InstrumentRegistry } from './instrument-registry.js';

/** What strategies may ask the portfolio; they never mutate it. */
export interface PortfolioView {
  readonly startingCash: number;
  cash(): number;
  /** Cash plus stock market value plus futures open P&L, at the latest marks */
  equity(): number;
  /** Signed quantity held (0 when flat or unknown) */
  position(instrument: string): number;
  averagePrice(instrument: string): number;
  /** Latest mark of the instrument (NaN before its first price) */
  lastPrice(instrument: string): number;
  realizedPnl(instrument?: string): number;
  unrealizedPnl(instrument?: string): number;
  /** Sum of |position value| */
  grossExposure(): number;
  /** Sum of signed position value */
  netExposure(): number;
  commissions(): number;
  isFlat(instrument?: string): boolean;
}

/**
 * Cash, positions and P&L by average cost, in typed arrays indexed by instrument.
 * Stocks move cash by the traded notional; futures only settle realized P&L into cash (their
 * notional is not paid), so equity = cash + Σ stock value + Σ futures open P&L.
 * Marking is one store per price event; equity and exposure are summed on demand.
 */
export class Portfolio implements PortfolioView {
  private cashBalance: number;
  private fees = 0;
  private qty: Float64Array = new Float64Array(16);
  private avg: Float64Array = new Float64Array(16);
  private realized: Float64Array = new Float64Array(16);
  private last: Float64Array = new Float64Array(16).fill(NaN);
  private mult: Float64Array = new Float64Array(16).fill(1);
  private future: Uint8Array = new Uint8Array(16);
  private size = 0;

  constructor(
    readonly startingCash: number,
    private readonly instruments: InstrumentRegistry,
  ) {
    this.cashBalance = startingCash;
  }

  /** Makes room for instruments registered since the last call */
  sync(): void {
    const n = this.instruments.size;
    if (n > this.qty.length) this.grow(Math.max(n, this.qty.length * 2));
    for (let i = this.size; i < n; i++) {
      const spec = this.instruments.spec(i);
      this.mult[i] = spec.multiplier;
      this.future[i] = spec.secType === 'FUT' ? 1 : 0;
    }
    this.size = n;
  }

  private grow(n: number): void {
    const f = (a: Float64Array, fill = 0): Float64Array => {
      const b = new Float64Array(n).fill(fill);
      b.set(a);
      return b;
    };
    this.qty = f(this.qty);
    this.avg = f(this.avg);
    this.realized = f(this.realized);
    this.last = f(this.last, NaN);
    this.mult = f(this.mult, 1);
    const fu = new Uint8Array(n);
    fu.set(this.future);
    this.future = fu;
  }

  /** Hot path: record the latest price of an instrument */
  mark(index: number, price: number): void {
    this.last[index] = price;
  }

  /** Applies one fill: signed quantity (> 0 bought), price, commission */
  applyFill(index: number, signedQuantity: number, price: number, commission: number): void {
    const m = this.mult[index]!;
    const q = this.qty[index]!;
    this.fees += commission;
    this.cashBalance -= commission;
    if (this.future[index] === 0) this.cashBalance -= signedQuantity * price * m;
    if (q === 0 || Math.sign(q) === Math.sign(signedQuantity)) {
      const total = Math.abs(q) + Math.abs(signedQuantity);
      this.avg[index] = (this.avg[index]! * Math.abs(q) + price * Math.abs(signedQuantity)) / total;
      this.qty[index] = q + signedQuantity;
    } else {
      const closing = Math.min(Math.abs(signedQuantity), Math.abs(q));
      const pnl = (price - this.avg[index]!) * closing * Math.sign(q) * m;
      this.realized[index] = this.realized[index]! + pnl;
      if (this.future[index] === 1) this.cashBalance += pnl;
      const next = q + signedQuantity;
      this.qty[index] = next;
      if (next === 0) this.avg[index] = 0;
      else if (Math.sign(next) !== Math.sign(q)) this.avg[index] = price; // flipped: the rest opened at this price
    }
    if (Number.isNaN(this.last[index]!)) this.last[index] = price;
  }

  /**
   * Sets a position as it stands at the broker (a resumed live run), not as a trade: no cash moves,
   * realized P&L is untouched. The mark starts at the average cost until the first price.
   */
  restorePosition(index: number, quantity: number, avgPrice: number): void {
    this.qty[index] = quantity;
    this.avg[index] = quantity === 0 ? 0 : avgPrice;
    if (Number.isNaN(this.last[index]!) && quantity !== 0) this.last[index] = avgPrice;
  }

  /** Sets the cash balance as it stands at the broker (a resumed live run) */
  restoreCash(cash: number): void {
    this.cashBalance = cash;
  }

  cash(): number {
    return this.cashBalance;
  }

  commissions(): number {
    return this.fees;
  }

  /** Value of the position at the latest mark: stock market value, or futures open P&L */
  positionValue(index: number): number {
    const q = this.qty[index]!;
    if (q === 0) return 0;
    const p = this.last[index]!;
    return this.future[index] === 1 ? q * (p - this.avg[index]!) * this.mult[index]! : q * p * this.mult[index]!;
  }

  /** Signed notional (quantity x price x multiplier) at the latest mark */
  notional(index: number): number {
    const q = this.qty[index]!;
    return q === 0 ? 0 : q * this.last[index]! * this.mult[index]!;
  }

  equity(): number {
    let e = this.cashBalance;
    for (let i = 0; i < this.size; i++) if (this.qty[i] !== 0) e += this.positionValue(i);
    return e;
  }

  grossExposure(): number {
    let g = 0;
    for (let i = 0; i < this.size; i++) if (this.qty[i] !== 0) g += Math.abs(this.notional(i));
    return g;
  }

  netExposure(): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) if (this.qty[i] !== 0) n += this.notional(i);
    return n;
  }

  quantityAt(index: number): number {
    return index < this.size ? this.qty[index]! : 0;
  }

  position(instrument: string): number {
    const i = this.instruments.indexOf(instrument);
    return i === undefined ? 0 : this.quantityAt(i);
  }

  averagePrice(instrument: string): number {
    const i = this.instruments.indexOf(instrument);
    return i === undefined || this.qty[i] === 0 ? NaN : this.avg[i]!;
  }

  lastPrice(instrument: string): number {
    const i = this.instruments.indexOf(instrument);
    return i === undefined || i >= this.size ? NaN : this.last[i]!;
  }

  realizedPnl(instrument?: string): number {
    if (instrument !== undefined) {
      const i = this.instruments.indexOf(instrument);
      return i === undefined || i >= this.size ? 0 : this.realized[i]!;
    }
    let r = 0;
    for (let i = 0; i < this.size; i++) r += this.realized[i]!;
    return r;
  }

  unrealizedPnl(instrument?: string): number {
    const one = (i: number): number => {
      const q = this.qty[i]!;
      return q === 0 ? 0 : q * (this.last[i]! - this.avg[i]!) * this.mult[i]!;
    };
    if (instrument !== undefined) {
      const i = this.instruments.indexOf(instrument);
      return i === undefined || i >= this.size ? 0 : one(i);
    }
    let u = 0;
    for (let i = 0; i < this.size; i++) u += one(i);
    return u;
  }

  isFlat(instrument?: string): boolean {
    if (instrument !== undefined) return this.position(instrument) === 0;
    for (let i = 0; i < this.size; i++) if (this.qty[i] !== 0) return false;
    return true;
  }
}
