/**
 * Pure fill rules: whether and at what price an order fills on one bar, given only its OHLC.
 *
 * We never know the path inside a bar, so the rules are conservative:
 * - A price that gaps through an order at the open fills at the open: better than the limit for
 *   limits (price improvement), worse than the stop for stops.
 * - Otherwise a limit fills at its price when the bar reaches it ('touch') or trades beyond it
 *   ('through', for a queue position that needs the price to trade past us); a stop fills at its
 *   price when the bar reaches it.
 * - A stop-limit whose trigger price is outside its limit does not fill on the triggering bar:
 *   what happened after the trigger is unknown, so it rests as a limit from the next bar.
 * - A trailing stop is checked against the stop it had when the bar opened, and only then
 *   ratcheted with the bar's favourable extreme: we never assume the extreme came before the
 *   adverse move.
 *
 * Ticks use the same rules on a one-price bar (`pointBar`): a trade print's price, or for quotes
 * the ask for buys and the bid for sells. So a buy limit fills on a quote when ask <= limit, at the ask.
 * Functions return NaN for "no fill".
 */
import type { OrderSide } from '../model/orders.js';

/** The prices a bar offers; `Bar` satisfies it. */
export interface Ohlc {
  open: number;
  high: number;
  low: number;
  close: number;
}

/** 'touch': a limit fills when the price reaches it; 'through': only when the price trades past it. */
export type LimitFillMode = 'touch' | 'through';

/** Sets every price of `out` to `price` (a tick as a bar) and returns it; reuse `out` to avoid allocating. */
export function pointBar(price: number, out: Ohlc = { open: 0, high: 0, low: 0, close: 0 }): Ohlc {
  out.open = price;
  out.high = price;
  out.low = price;
  out.close = price;
  return out;
}

/** A market order fills at the open: the first price after it was placed. */
export function marketFillPrice(bar: Readonly<Ohlc>): number {
  return bar.open;
}

/** Price a limit order fills at on `bar`: the open when it gaps through the limit, else the limit if reached. */
export function limitFillPrice(side: OrderSide, limit: number, bar: Readonly<Ohlc>, mode: LimitFillMode): number {
  const touch = mode === 'touch';
  if (side === 'BUY') {
    if (touch ? bar.open <= limit : bar.open < limit) return bar.open;
    if (touch ? bar.low <= limit : bar.low < limit) return limit;
  } else {
    if (touch ? bar.open >= limit : bar.open > limit) return bar.open;
    if (touch ? bar.high >= limit : bar.high > limit) return limit;
  }
  return NaN;
}

/** Price a stop triggers (and a stop order fills) at on `bar`: the open when it gaps through the stop, else the stop. */
export function stopTriggerPrice(side: OrderSide, stop: number, bar: Readonly<Ohlc>): number {
  if (side === 'BUY') {
    if (bar.open >= stop) return bar.open;
    if (bar.high >= stop) return stop;
  } else {
    if (bar.open <= stop) return bar.open;
    if (bar.low <= stop) return stop;
  }
  return NaN;
}

/** True when `price` satisfies a limit: at or below it for buys, at or above it for sells. */
export function isWithinLimit(side: OrderSide, price: number, limit: number): boolean {
  return side === 'BUY' ? price <= limit : price >= limit;
}

/** Outcome of a stop-limit on one bar. */
export interface StopLimitResult {
  /** Where the stop triggered; NaN when it did not */
  triggerPrice: number;
  /** Fill price (the trigger price); NaN when not triggered or the trigger is outside the limit */
  fillPrice: number;
}

/**
 * A stop-limit that has not triggered yet: triggers like a stop; fills at the trigger price when that
 * is within the limit, otherwise it has become a limit order to evaluate from the next bar.
 */
export function stopLimitOnBar(side: OrderSide, stop: number, limit: number, bar: Readonly<Ohlc>): StopLimitResult {
  const trigger = stopTriggerPrice(side, stop, bar);
  if (Number.isNaN(trigger)) return { triggerPrice: NaN, fillPrice: NaN };
  return { triggerPrice: trigger, fillPrice: isWithinLimit(side, trigger, limit) ? trigger : NaN };
}

/**
 * Trailing stop level `amount` (price units, used when > 0) or `percent` (fraction) away from
 * `reference`: below it for sells (protecting a long), above it for buys.
 */
export function trailingStopFrom(side: OrderSide, reference: number, amount: number, percent: number): number {
  if (amount > 0) return side === 'SELL' ? reference - amount : reference + amount;
  return side === 'SELL' ? reference * (1 - percent) : reference * (1 + percent);
}

/** Outcome of a trailing stop on one bar. */
export interface TrailingStopResult {
  /** Fill price when the stop was hit; NaN otherwise */
  fillPrice: number;
  /** The stop after the bar: unchanged when hit, else ratcheted with the bar's favourable extreme */
  stopPrice: number;
}

/**
 * A trailing stop on one bar: first checked against `stop` (gap: fill at the open), and only when
 * not hit ratcheted to the bar's high (sells) or low (buys) minus/plus the distance; the stop never
 * moves against the position.
 */
export function trailingStopOnBar(
  side: OrderSide,
  stop: number,
  amount: number,
  percent: number,
  bar: Readonly<Ohlc>,
): TrailingStopResult {
  const fill = stopTriggerPrice(side, stop, bar);
  if (!Number.isNaN(fill)) return { fillPrice: fill, stopPrice: stop };
  const candidate = trailingStopFrom(side, side === 'SELL' ? bar.high : bar.low, amount, percent);
  const better = side === 'SELL' ? candidate > stop : candidate < stop;
  return { fillPrice: NaN, stopPrice: better ? candidate : stop };
}
