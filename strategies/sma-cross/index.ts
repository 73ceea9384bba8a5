import { z } from 'zod';
import { defineStrategy } from '../../lib/engine/strategy.js';
import { SmaStream } from '../../lib/features/sma.js';

/** Parameters; every field has a safe default and a documented range. */
export const smaCrossParams = z
  .object({
    /** Fast SMA length in bars */
    fast: z.number().int().min(1).default(10),
    /** Slow SMA length in bars; must exceed fast */
    slow: z.number().int().min(2).default(30),
    /** Shares (or contracts) bought on a golden cross */
    size: z.number().positive().default(100),
  })
  .refine((p) => p.slow > p.fast, { message: 'slow must be greater than fast', path: ['slow'] });

/** Relative gap below which fast and slow count as equal (far above float rounding, far below any real cross) */
export const TOLERANCE = 1e-10;

export type SmaCrossParams = z.output<typeof smaCrossParams>;

/**
 * Fast/slow SMA crossover, long or flat, fixed size, on every subscribed instrument's trade bars.
 * Buys `size` when the fast SMA crosses above the slow one while flat; sells the whole position
 * when it crosses below. Warm-up: SMAs are seeded from the history window at start, so the first
 * signal can come on the first bar when enough history was loaded.
 */
export const smaCross = defineStrategy({
  name: 'sma-cross',
  version: '1.0.0',
  description: 'Fast/slow SMA crossover, long/flat, fixed size',
  params: smaCrossParams,
  warmup: (p) => p.slow,
  create(ctx) {
    const { fast, slow, size } = ctx.params;
    // per-instrument state by the engine's dense instrument index: no map lookup per bar
    const state: ({ fast: SmaStream; slow: SmaStream; above: boolean | undefined } | undefined)[] = [];
    const track = (index: number) => {
      let s = state[index];
      if (s === undefined) {
        s = { fast: new SmaStream(fast), slow: new SmaStream(slow), above: undefined };
        state[index] = s;
      }
      return s;
    };
    return {
      onStart() {
        // seed from warm-up history so live and backtest start with ready indicators
        for (const instrument of ctx.instruments()) {
          const window = ctx.history(instrument);
          const closes = window.column('close');
          const s = track(ctx.instrumentIndex(instrument));
          for (let i = 0; i < closes.length; i++) {
            s.fast.update(closes[i]!);
            s.slow.update(closes[i]!);
          }
          if (s.slow.ready && Math.abs(s.fast.value - s.slow.value) > TOLERANCE * Math.abs(s.slow.value)) s.above = s.fast.value > s.slow.value;
        }
      },
      onBar(bar) {
        if (bar.kind !== 'trade') return;
        const s = track(bar.instrumentIndex);
        const f = s.fast.update(bar.close);
        const l = s.slow.update(bar.close);
        if (!s.slow.ready) return;
        // averages equal within rounding (flat prices) are not a cross: running sums carry noise
        if (Math.abs(f - l) <= TOLERANCE * Math.abs(l)) return;
        const above = f > l;
        const crossed = s.above !== undefined && above !== s.above;
        s.above = above;
        if (!crossed) return;
        const position = ctx.portfolio.position(bar.instrument);
        // one decision per cross; skip while an order of ours is still working
        if (ctx.openOrders(bar.instrument).length > 0) return;
        if (above && position === 0) ctx.submit(ctx.orders.market(bar.instrument, 'BUY', size));
        else if (!above && position > 0) ctx.submit(ctx.orders.market(bar.instrument, 'SELL', position));
      },
    };
  },
});

export default smaCross;
