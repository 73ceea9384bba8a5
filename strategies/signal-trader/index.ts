import { z } from 'zod';
import { defineStrategy } from '../../lib/engine/strategy.js';

export const signalTraderParams = z.object({});

/**
 * Trades a model's signals: every signal of an active instrument (lib/signals, routed by the
 * universe: lib/universe) goes to `ctx.signal`, so the trading rules decide (threshold, inversion,
 * one unit per signal up to the max position, spread pricing, exits). It adds no logic of its own:
 * the model is the strategy, and the same module trades it in a backtest (signals at their
 * publication times) and live (as they are polled). Needs trading rules.
 */
export const signalTrader = defineStrategy({
  name: 'signal-trader',
  version: '1.0.0',
  description: 'Routes model signals to the trading rules (ctx.signal) on a signal-driven universe',
  params: signalTraderParams,
  create(ctx) {
    return {
      onSignal(signal) {
        ctx.signal(signal.instrument, signal.value);
      },
    };
  },
});

export default signalTrader;
