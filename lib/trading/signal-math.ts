/**
 * The arithmetic of turning a signal into an order, pure so it is tested on its own.
 *
 * Reading of the sizing words (documented because other readings exist):
 * - A signal is a real number (a model's score, typically in [-1, 1]); only its sign and whether
 *   it clears `tradeThreshold` matter. |value| below the threshold, 0 and NaN mean "no view":
 *   nothing is done (an open position is left to its exits and to later signals).
 * - `unitSize` is what one signal trades: a signal in the position's direction (or from flat) adds
 *   one unit, until |position| reaches `maxPosition` (accumulating, the last unit clipped to the
 *   cap). A signal against the position first closes it (target 0: a reducing order, which passes
 *   halts and never needs more than the position's quantity); the next signal that way opens a unit.
 * - Without shorting (`allowShort: false`) a sell signal can only close a long.
 */
import type { OrderSide } from '../model/orders.js';
import type { SpreadStrategy, TradingParams } from './trading-params.js';

/** +1 buy, -1 sell, 0 no view (below the threshold, zero, not a number); inverted when asked */
export function signalDirection(value: number, p: Pick<TradingParams, 'tradeThreshold' | 'invertSignals'>): -1 | 0 | 1 {
  if (!Number.isFinite(value) || value === 0 || Math.abs(value) < p.tradeThreshold) return 0;
  const d = value > 0 ? 1 : -1;
  return p.invertSignals ? (-d as -1 | 1) : d;
}

/** The position a signal in `direction` asks for, given the current one (see the file comment) */
export function targetPosition(direction: -1 | 0 | 1, current: number, p: Pick<TradingParams, 'unitSize' | 'maxPosition'>, allowShort = true): number {
  if (direction === 0) return current;
  if (current !== 0 && Math.sign(current) !== direction) return 0;
  if (direction < 0 && !allowShort) return current;
  const cap = p.maxPosition;
  const next = current + direction * p.unitSize;
  return direction > 0 ? Math.min(next, Math.max(cap, current)) : Math.max(next, Math.min(-cap, current));
}

/** Decimal places of a tick size (0.01 -> 2, 0.25 -> 2, 0.00005 -> 5), to print prices without float noise */
export function tickDecimals(tick: number): number {
  if (!(tick > 0)) return 8;
  let d = 0;
  while (d < 10 && Math.abs(Math.round(tick * 10 ** d) - tick * 10 ** d) > 1e-9) d++;
  return d;
}

/** `price` on the tick grid: rounded down (`-1`), up (`1`) or to the nearest (`0`) */
export function toTick(price: number, tick: number, decimals: number, direction: -1 | 0 | 1): number {
  if (!(tick > 0)) return price;
  const n = price / tick;
  // a price already on the grid but for float noise stays where it is
  const near = Math.round(n);
  const steps = Math.abs(n - near) < 1e-7 ? near : direction < 0 ? Math.floor(n) : direction > 0 ? Math.ceil(n) : near;
  return Number((steps * tick).toFixed(decimals));
}

/**
 * The limit price of an order on `side` from the touch, or NaN when there is no usable quote (bid
 * or ask missing, not positive, or crossed): the caller then sends a market order.
 * - `best`: the far touch (buy at the ask, sell at the bid): marketable, fills at once.
 * - `mid`: the midpoint on the tick grid, rounded away from paying more (buy down, sell up): with
 *   a one-tick spread that is the near touch.
 * - `offset`: the near touch improved by `offsetTicks` ticks towards the far one (buy at bid + n
 *   ticks), never beyond the far touch.
 */
export function spreadPrice(side: OrderSide, bid: number, ask: number, spread: SpreadStrategy, offsetTicks: number, tick: number, decimals: number): number {
  if (!(bid > 0) || !(ask > 0) || bid > ask || !Number.isFinite(bid) || !Number.isFinite(ask)) return NaN;
  const buy = side === 'BUY';
  switch (spread) {
    case 'best':
      return buy ? ask : bid;
    case 'mid':
      return toTick((bid + ask) / 2, tick, decimals, buy ? -1 : 1);
    case 'offset':
      return buy ? Math.min(ask, toTick(bid + offsetTicks * tick, tick, decimals, 0)) : Math.max(bid, toTick(ask - offsetTicks * tick, tick, decimals, 0));
  }
}
