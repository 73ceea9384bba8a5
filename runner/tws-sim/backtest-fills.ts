/**
 * The simulated broker's 'backtest' fill model: orders fill on the stored trade bars by exactly the
 * rules (and the very functions, lib/backtest/fill-rules.ts and slippage.ts) of the backtest's
 * SimulatedVenue in its default 'next-open' mode, so a runner replayed against the simulator gets
 * the backtest's fills: same bar, same price, same commission.
 *
 * - Eligible bars: a bar may fill an order only if it STARTED at or after the order was placed (or
 *   last modified; a bracket child: after the bar that filled its parent), and only once it has
 *   CLOSED at the sim clock: the fill is decided on the whole bar and stamped with the bar's close,
 *   as the backtest stamps it. Each bar gives an order one chance (`notBefore` moves to its end).
 * - Prices: market orders (and elected stops) at the bar's open plus `slippageBps` against the
 *   taker; limits when the bar touches them (a gap through the limit fills at the open); stops elect
 *   on a bar reaching them and fill at the stop (the open when it gapped), slipped; a stop-limit
 *   elected outside its limit rests as a limit from the next bar. Limits never slip.
 * - Within one bar: market orders first, then stop types, then limits, each in placement order.
 * - No size limit (the backtest's default has no participation cap), no quotes involved.
 * The quote model (order-matching.ts) stays the default for ordinary replays: it fills at the
 * replayed touch the moment an order arrives, as a live venue would.
 */
import * as rules from '../../lib/backtest/fill-rules.js';
import { slippedPrice } from '../../lib/backtest/slippage.js';
import type { Side, SimOrderType } from './order-matching.js';

export const FILL_MODELS = ['quote', 'backtest'] as const;
export type FillModel = (typeof FILL_MODELS)[number];

/** What the model reads and updates of an order. */
export interface BarMatchedOrder {
  readonly action: Side;
  readonly orderType: SimOrderType;
  readonly lmtPrice: number | undefined;
  readonly auxPrice: number | undefined;
  /** A stop that has triggered: works as a market order (STP) or a limit (STP LMT) */
  elected: boolean;
}

/** One fill decided on one bar. */
export interface BarFill {
  price: number;
  /** A limit filled at its own price (IB lastLiquidity 1); everything else takes liquidity */
  maker: boolean;
}

/** The backtest's matching priority inside one bar: market 0, stop types 1, limit 2. */
export function barRank(type: SimOrderType): number {
  return type === 'MKT' ? 0 : type === 'LMT' ? 2 : 1;
}

/**
 * One fill chance for `o` on `bar` (SimulatedVenue.evaluate with trade bars): the fill, or
 * undefined. Sets `o.elected` when a stop triggers on this bar (the caller reports the change).
 */
export function fillOnBar(o: BarMatchedOrder, bar: Readonly<rules.Ohlc>, slippageBps: number): BarFill | undefined {
  let price = NaN;
  let isLimit = false;
  if (o.orderType === 'MKT' || (o.orderType === 'STP' && o.elected)) {
    price = rules.marketFillPrice(bar);
  } else if (o.orderType === 'LMT' || (o.orderType === 'STP LMT' && o.elected)) {
    price = rules.limitFillPrice(o.action, o.lmtPrice!, bar, 'touch');
    isLimit = true;
  } else if (o.orderType === 'STP') {
    price = rules.stopTriggerPrice(o.action, o.auxPrice!, bar);
    o.elected = !Number.isNaN(price);
  } else {
    const r = rules.stopLimitOnBar(o.action, o.auxPrice!, o.lmtPrice!, bar);
    if (!Number.isNaN(r.triggerPrice)) o.elected = true;
    price = r.fillPrice;
    isLimit = true;
  }
  if (Number.isNaN(price)) return undefined;
  if (isLimit) return { price, maker: price === o.lmtPrice };
  return { price: slippedPrice(price, o.action, slippageBps), maker: false };
}
