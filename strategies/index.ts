import type { StrategyDefinition } from '../lib/engine/strategy.js';
import { buyAndHold } from './buy-and-hold/index.js';
import { ppoVoltarget } from './ppo-voltarget/index.js';
import { signalTrader } from './signal-trader/index.js';
import { smaCross } from './sma-cross/index.js';

/** Every strategy module in the working tree, by name (the CLI and the runner look them up here). */
export const STRATEGIES: Readonly<Record<string, StrategyDefinition>> = {
  [smaCross.name]: smaCross as unknown as StrategyDefinition,
  [buyAndHold.name]: buyAndHold as unknown as StrategyDefinition,
  [signalTrader.name]: signalTrader as unknown as StrategyDefinition,
  [ppoVoltarget.name]: ppoVoltarget as unknown as StrategyDefinition,
};

export function strategyNames(): string[] {
  return Object.keys(STRATEGIES).sort();
}
