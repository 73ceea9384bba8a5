import { z } from 'zod';
import { defineStrategy } from '../../lib/engine/strategy.js';

export const buyAndHoldParams = z.object({
  /** Fraction of starting cash invested, split equally across the instruments */
  allocation: z.number().gt(0).max(1).default(1),
  /** Fixed quantity per instrument instead of an allocation (whole shares/contracts) */
  size: z.number().positive().optional(),
});

/**
 * Buys each subscribed instrument once, on its first bar, and holds to the end: whole shares worth
 * allocation x starting cash / number of instruments at that bar's close (or `size` when given).
 */
export const buyAndHold = defineStrategy({
  name: 'buy-and-hold',
  version: '1.0.0',
  description: 'Equal-weight buy on the first bar, hold to the end',
  params: buyAndHoldParams,
  create(ctx) {
    const bought = new Set<string>();
    return {
      onBar(bar) {
        if (bar.kind !== 'trade' || bought.has(bar.instrument)) return;
        bought.add(bar.instrument);
        const n = Math.max(1, ctx.instruments().length);
        const quantity = ctx.params.size ?? Math.floor((ctx.params.allocation * ctx.portfolio.startingCash) / n / bar.close);
        if (quantity > 0) ctx.submit(ctx.orders.market(bar.instrument, 'BUY', quantity, { tag: 'entry' }));
      },
    };
  },
});

export default buyAndHold;
