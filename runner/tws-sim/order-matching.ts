/**
 * The simulated venue's fill rules, pure functions of a replayed quote (no state but the liquidity
 * ledger): which price an order trades at, when a stop elects, how much size a displayed quote
 * offers, and when an instrument can trade at all (its exchange calendar).
 *
 * - Market (and elected stop) orders take the touch: the ask for buys, the bid for sells; with no
 *   two-sided quote, the last trade.
 * - Limit (and elected stop-limit) orders fill only when marketable (ask <= limit for buys,
 *   bid >= limit for sells) at the touch, which is then the better of limit and touch.
 * - Stops elect when the last trade (else the touch) reaches the stop price: at or above it for
 *   buys, at or below for sells.
 * - A displayed quote offers its size once: orders filling against the same quote (same time and
 *   price) share it, and the remainder keeps working until the quote changes. An unknown or zero
 *   size does not limit the fill.
 */
import { instrumentCalendar, tradingDate, type HoursSubject } from './trading-hours.js';
import type { SimQuote } from './types.js';

export type Side = 'BUY' | 'SELL';
export type SimOrderType = 'MKT' | 'LMT' | 'STP' | 'STP LMT';
export type SimTif = 'DAY' | 'GTC' | 'IOC';

export const ORDER_TYPES: readonly SimOrderType[] = ['MKT', 'LMT', 'STP', 'STP LMT'];

export function finite(x: number | undefined): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** The price and size the order's side trades against: ask (buy) or bid (sell), else the last trade. */
export function touch(q: SimQuote, side: Side): { price: number; size: number } | undefined {
  const price = side === 'BUY' ? q.ask : q.bid;
  const size = side === 'BUY' ? q.askSize : q.bidSize;
  if (finite(price)) return { price, size: finite(size) && size > 0 ? size : Infinity };
  if (finite(q.last)) return { price: q.last, size: finite(q.lastSize) && q.lastSize > 0 ? q.lastSize : Infinity };
  return undefined;
}

/** A stop elects when the last trade (else the touch) reaches the stop price. */
export function stopElected(q: SimQuote, side: Side, stopPrice: number): boolean {
  const ref = finite(q.last) ? q.last : touch(q, side)?.price;
  if (ref === undefined) return false;
  return side === 'BUY' ? ref >= stopPrice : ref <= stopPrice;
}

/** The fill price now, or undefined when a limit order is not marketable. */
export function fillPrice(kind: 'market' | 'limit', side: Side, touchPrice: number, limit: number | undefined): number | undefined {
  if (kind === 'market') return touchPrice;
  if (limit === undefined) return undefined;
  if (side === 'BUY') return touchPrice <= limit ? Math.min(touchPrice, limit) : undefined;
  return touchPrice >= limit ? Math.max(touchPrice, limit) : undefined;
}

/** Size already taken from each displayed quote, per instrument and side. */
export class Liquidity {
  private readonly used = new Map<string, { ts: number; price: number; used: number }>();

  /** What is left of a quote of `size` at (`ts`, `price`) for `side` of `key`. */
  available(key: string, side: Side, ts: number, price: number, size: number): number {
    const u = this.used.get(`${key}|${side}`);
    if (!u || u.ts !== ts || u.price !== price) return size;
    return Math.max(0, size - u.used);
  }

  take(key: string, side: Side, ts: number, price: number, qty: number): void {
    const k = `${key}|${side}`;
    const u = this.used.get(k);
    if (u && u.ts === ts && u.price === price) u.used += qty;
    else this.used.set(k, { ts, price, used: qty });
  }
}

/**
 * Whether the instrument's market is open at `now`: regular hours for stocks (any time with
 * outsideRth), the Globex session minus its break for futures. Instruments without a known
 * calendar, or instants outside the calendar's years, always trade.
 */
export function canTrade(inst: HoursSubject, now: number, outsideRth: boolean): boolean {
  if (inst.secType === 'STK' && outsideRth) return true;
  const cal = instrumentCalendar(inst);
  if (!cal) return true;
  try {
    return cal.isOpen(now);
  } catch {
    return true;
  }
}

/** Extended hours end this long after the regular stock close (20:00 New York). */
const STOCK_EXTENDED_MS = 4 * 3_600_000;

/**
 * When a DAY order placed at `placedAt` expires: the close of the session it was placed in, or of
 * the next session when placed while closed (stocks with outsideRth: the 20:00 end of extended
 * hours). Undefined when the calendar is unknown or out of range (the order then never expires).
 */
export function dayOrderExpiry(inst: HoursSubject, placedAt: number, outsideRth: boolean): number | undefined {
  const cal = instrumentCalendar(inst);
  if (!cal) return undefined;
  try {
    if (inst.secType === 'STK' && outsideRth) {
      const today = cal.session(tradingDate(inst, placedAt));
      if (today && today.close + STOCK_EXTENDED_MS > placedAt) return today.close + STOCK_EXTENDED_MS;
      const next = cal.sessionAt(cal.nextOpen(placedAt));
      return next ? next.close + STOCK_EXTENDED_MS : undefined;
    }
    return (cal.sessionAt(placedAt) ?? cal.sessionAt(cal.nextOpen(placedAt)))?.close;
  } catch {
    return undefined;
  }
}
