/**
 * Stoppers (TensorTrade's Stopper): decide after each step whether env e's episode ends early
 * (`terminal`: no value to bootstrap). Step limits and the data's end are the core's business.
 */
import type { EnvState } from './state.js';

export interface Stopper {
  readonly name: string;
  stop(state: EnvState, e: number): boolean;
}

export interface DrawdownStopperOptions {
  /** Drawdown from the episode's peak equity that ends it (>= 1: never) */
  maxDrawdown: number;
  /** Equity, as a fraction of the starting equity, at or below which it ends (0: never) */
  equityFloor: number;
  /** Decisions at the start of an episode during which neither threshold is checked */
  warmupSteps: number;
}

/**
 * Ends an episode when the drawdown reaches `maxDrawdown` or equity falls to `equityFloor` x the
 * starting equity, once `warmupSteps` decisions have been taken. A wiped-out account (equity <= 0)
 * ends it at any step, warm-up or not: there is nothing left to trade.
 */
export class DrawdownStopper implements Stopper {
  readonly name = 'drawdown';
  constructor(readonly options: DrawdownStopperOptions) {}
  stop(st: EnvState, e: number): boolean {
    const equity = st.equity[e]!;
    if (!(equity > 0)) return true;
    const o = this.options;
    if (st.step[e]! < o.warmupSteps) return false;
    if (o.maxDrawdown < 1 && st.drawdown[e]! >= o.maxDrawdown) return true;
    return o.equityFloor > 0 && equity <= o.equityFloor * st.startEquity[e]!;
  }
}
