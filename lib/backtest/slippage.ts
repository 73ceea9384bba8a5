/**
 * Slippage: the cost of taking liquidity, always adverse (buys pay more, sells receive less).
 * Two forms: a fixed number of basis points of the price, or half the bid-ask spread when the
 * reference price is a mid and the latest quote is known. Prices are not rounded to the tick.
 */
import type { OrderSide } from '../model/orders.js';

/** `price` moved against the taker by `bps` basis points (1 bp = 0.01%). */
export function slippedPrice(price: number, side: OrderSide, bps: number): number {
  if (bps === 0) return price;
  const f = bps / 10_000;
  return side === 'BUY' ? price * (1 + f) : price * (1 - f);
}

/** True for a usable quote: both sides finite and not crossed. */
export function isValidQuote(bid: number, ask: number): boolean {
  return Number.isFinite(bid) && Number.isFinite(ask) && ask >= bid;
}

/** Half of the bid-ask spread, or NaN when the quote is unknown or crossed. */
export function halfSpread(bid: number, ask: number): number {
  return isValidQuote(bid, ask) ? (ask - bid) / 2 : NaN;
}

/**
 * A taker's price when `price` is a mid: half the latest spread added for buys and subtracted for
 * sells; `fallbackBps` of slippage instead when the quote is unknown or crossed.
 */
export function halfSpreadPrice(price: number, side: OrderSide, bid: number, ask: number, fallbackBps: number): number {
  const h = halfSpread(bid, ask);
  if (Number.isNaN(h)) return slippedPrice(price, side, fallbackBps);
  return side === 'BUY' ? price + h : price - h;
}

/** The side of the book a taker trades against: the ask for buys, the bid for sells. */
export function quoteSidePrice(side: OrderSide, bid: number, ask: number): number {
  return side === 'BUY' ? ask : bid;
}
