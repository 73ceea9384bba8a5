/**
 * Exit rules of open positions: take-profit, stop-loss (static or trailing) and max hold time, in
 * typed arrays by the engine's instrument index, so checking a mark allocates nothing.
 *
 * A position is tracked from the fill that opened it (from flat, or through zero) to the fill
 * that closes it. Its entry price is the portfolio's average price (adding to a position moves
 * it, as the cost basis moves); its age counts from the opening fill. Targets are in percent of
 * the entry price:
 * - long: take-profit at price >= entry x (1 + tp%), static stop at price <= entry x (1 - sl%),
 *   trailing stop at price <= peak x (1 - sl%) where peak is the highest mark since entry (the
 *   entry price at first): the stop only ever moves up.
 * - short: mirrored (take-profit below, stops above, the trough ratchets down).
 * Protective exits are checked first (stop, then take-profit, then age). Marks are bar closes
 * (or any price the caller passes); a bar's close is known at its close, so nothing looks ahead.
 */
import type { ExitParams } from './trading-params.js';

export const EXIT = { none: 0, takeProfit: 1, stopLoss: 2, trailingStop: 3, maxHold: 4 } as const;
export type ExitReason = (typeof EXIT)[keyof typeof EXIT];
export const EXIT_NAMES: Readonly<Record<ExitReason, string>> = { 0: 'none', 1: 'take-profit', 2: 'stop-loss', 3: 'trailing-stop', 4: 'max-hold' };

const MIN = 60_000;

export class PositionExits {
  /** +1 long, -1 short, 0 not tracked */
  private side = new Int8Array(16);
  private entryPrice = new Float64Array(16);
  private entryTs = new Float64Array(16);
  /** Best mark since entry: the peak of a long, the trough of a short */
  private extreme = new Float64Array(16);

  /** Makes room for instrument indices below `n` (on registration, never per mark) */
  ensure(n: number): void {
    if (n <= this.side.length) return;
    let size = this.side.length;
    while (size < n) size *= 2;
    const grow = <T extends Int8Array | Float64Array>(a: T, make: (n: number) => T): T => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.side = grow(this.side, (k) => new Int8Array(k));
    this.entryPrice = grow(this.entryPrice, (k) => new Float64Array(k));
    this.entryTs = grow(this.entryTs, (k) => new Float64Array(k));
    this.extreme = grow(this.extreme, (k) => new Float64Array(k));
  }

  isOpen(i: number): boolean {
    return i < this.side.length && this.side[i] !== 0;
  }

  sideOf(i: number): number {
    return i < this.side.length ? this.side[i]! : 0;
  }

  entryPriceOf(i: number): number {
    return this.isOpen(i) ? this.entryPrice[i]! : NaN;
  }

  entryTimeOf(i: number): number {
    return this.isOpen(i) ? this.entryTs[i]! : NaN;
  }

  /** The trailing peak (long) or trough (short) since entry */
  extremeOf(i: number): number {
    return this.isOpen(i) ? this.extreme[i]! : NaN;
  }

  /** A position was opened (from flat or through zero) at `price` (its average price) at `ts` */
  open(i: number, side: 1 | -1, price: number, ts: number): void {
    this.ensure(i + 1);
    this.side[i] = side;
    this.entryPrice[i] = price;
    this.entryTs[i] = ts;
    this.extreme[i] = price;
  }

  /** The position grew: the entry (cost basis) moves; its age and trailing extreme stay */
  reprice(i: number, averagePrice: number): void {
    if (this.isOpen(i)) this.entryPrice[i] = averagePrice;
  }

  close(i: number): void {
    if (i < this.side.length) this.side[i] = 0;
  }

  /** The stop-loss price now (static or trailing), NaN without a stop or position */
  stopPrice(i: number, p: ExitParams): number {
    const s = this.sideOf(i);
    if (s === 0 || p.stopLossPct === undefined) return NaN;
    const base = p.stop === 'trailing' ? this.extreme[i]! : this.entryPrice[i]!;
    return base * (1 - (s * p.stopLossPct) / 100);
  }

  /** The take-profit price, NaN without one */
  takeProfitPrice(i: number, p: ExitParams): number {
    const s = this.sideOf(i);
    if (s === 0 || p.takeProfitPct === undefined) return NaN;
    return this.entryPrice[i]! * (1 + (s * p.takeProfitPct) / 100);
  }

  /** When the position reaches its max hold time (Infinity without one) */
  holdDeadline(i: number, p: ExitParams): number {
    return this.isOpen(i) && p.maxHoldMinutes !== undefined ? this.entryTs[i]! + p.maxHoldMinutes * MIN : Infinity;
  }

  /**
   * Ratchets the trailing extreme with the mark `price` at `now`, then returns the exit it
   * triggers (EXIT.none when none, or when `price` is not a number).
   */
  check(i: number, price: number, now: number, p: ExitParams): ExitReason {
    const s = this.sideOf(i);
    if (s === 0) return EXIT.none;
    if (Number.isFinite(price) && price > 0) {
      if (s > 0 ? price > this.extreme[i]! : price < this.extreme[i]!) this.extreme[i] = price;
      const stop = this.stopPrice(i, p);
      if (s > 0 ? price <= stop : price >= stop) return p.stop === 'trailing' ? EXIT.trailingStop : EXIT.stopLoss;
      const tp = this.takeProfitPrice(i, p);
      if (s > 0 ? price >= tp : price <= tp) return EXIT.takeProfit;
    }
    return now >= this.holdDeadline(i, p) ? EXIT.maxHold : EXIT.none;
  }
}
