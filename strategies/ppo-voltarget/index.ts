import { z } from 'zod';
import { defineStrategy, type StrategyDefinition } from '../../lib/engine/strategy.js';
import type { PolicyModel } from '../../lib/rl/policy/policy-model.js';
import { PolicyTrader } from '../../lib/rl/policy/policy-trader.js';
import { MODEL } from './model/policy.js';

/** Parameters: optional overrides of the trained env's risk rules (defaults: as trained) */
export const ppoVoltargetParams = z
  .object({
    /** Cap on gross leverage (sum of |weights|); default the env config's action.maxLeverage */
    maxLeverage: z.number().positive().max(10).optional(),
    /** Trades below this fraction of equity are skipped; default the env config's portfolio.rebalanceBand */
    rebalanceBand: z.number().min(0).max(1).optional(),
  })
  .strict();

export type PpoVoltargetParams = z.output<typeof ppoVoltargetParams>;

const DECIDE = 'ppo-decide';

/**
 * A strategy from a trained PPO policy (lib/rl/ppo): the subscribed instruments fill the policy's
 * slots in subscription order (extra instruments are not traded). On every bar close the
 * instrument's features update; once every bar of that close time is in (a timer at the close
 * time fires after them), the policy decides target weights for all slots (volatility-targeted,
 * capped as in training) and market orders move each position to its target in whole shares,
 * unless the change is below the rebalance band or an order for the instrument is still working.
 * Trains and runs on trade bars of the env's interval, adjusted prices (backtest with --adjusted).
 */
export function ppoStrategy(model: PolicyModel, name = 'ppo-voltarget', version = '1.0.0'): StrategyDefinition<typeof ppoVoltargetParams> {
  let warmup: number | undefined;
  return defineStrategy({
    name,
    version,
    description: 'PPO policy: volatility-targeted exposures from a trained actor-critic (lib/rl)',
    params: ppoVoltargetParams,
    warmup: () => (warmup ??= new PolicyTrader(model).warmupBars),
    create(ctx) {
      const trader = new PolicyTrader(model, ctx.params);
      // subscriptions are active from onStart on: the slots are assigned there
      let instruments: string[] = [];
      const slotOf = new Map<string, number>();
      const weights = new Float64Array(trader.slots);
      const targets = new Float64Array(trader.slots);
      let decisionTs = -Infinity;
      return {
        onStart() {
          instruments = ctx.instruments().slice(0, trader.slots);
          instruments.forEach((instrument, s) => slotOf.set(instrument, s));
          if (ctx.instruments().length > trader.slots) {
            ctx.log.warn(`the policy has ${trader.slots} slots: trading only ${instruments.join(', ')}`, { slots: trader.slots, instruments: ctx.instruments().length });
          }
          // seed the features from the warm-up history so the first decision has a full window
          instruments.forEach((instrument, s) => {
            const h = ctx.history(instrument);
            const [ts, o, hi, lo, c, v] = (['ts', 'open', 'high', 'low', 'close', 'volume'] as const).map((k) => h.column(k));
            for (let i = 0; i < ts!.length; i++) trader.update(s, ts![i]!, o![i]!, hi![i]!, lo![i]!, c![i]!, v![i]!);
          });
        },
        onBar(bar) {
          if (bar.kind !== 'trade') return;
          const s = slotOf.get(bar.instrument);
          if (s === undefined) return;
          trader.update(s, bar.ts, bar.open, bar.high, bar.low, bar.close, bar.volume);
          decisionTs = bar.ts;
          // fires once every bar closing at this time has been delivered
          ctx.setTimer(DECIDE, ctx.now());
        },
        onTimer(timer) {
          if (timer !== DECIDE) return;
          const equity = ctx.portfolio.equity();
          for (let s = 0; s < instruments.length; s++) {
            const instrument = instruments[s]!;
            weights[s] = equity > 0 ? (ctx.portfolio.position(instrument) * ctx.portfolio.lastPrice(instrument)) / equity : 0;
            if (!Number.isFinite(weights[s]!)) weights[s] = 0;
          }
          trader.decide(decisionTs, weights, targets);
          for (let s = 0; s < instruments.length; s++) {
            const instrument = instruments[s]!;
            if (ctx.openOrders(instrument).length > 0) continue;
            const position = ctx.portfolio.position(instrument);
            const dq = trader.orderQuantity(targets[s]!, position, ctx.portfolio.lastPrice(instrument), equity);
            if (dq !== 0) ctx.submit(ctx.orders.market(instrument, dq > 0 ? 'BUY' : 'SELL', Math.abs(dq), { tag: 'rebalance' }));
          }
        },
      };
    },
  });
}

export const ppoVoltarget = ppoStrategy(MODEL);

export default ppoVoltarget;
