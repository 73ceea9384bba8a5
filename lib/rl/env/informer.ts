/**
 * Informers (TensorTrade's Informer): what a single env's `step` reports besides the observation
 * and reward. Written into one object that is reused every step (copy what you keep).
 */
import type { EpisodeMetrics } from '../types.js';
import type { EnvState } from './state.js';

export interface StepInfo {
  /** Decisions taken this episode */
  step: number;
  /** Data row and bar time (epoch ms) of the current bar */
  row: number;
  ts: number;
  equity: number;
  cash: number;
  drawdown: number;
  grossExposure: number;
  netExposure: number;
  /** Traded notional of the last rebalance / equity before it */
  turnover: number;
  /** Commission paid at the last rebalance */
  fees: number;
  /** Symbols in this episode, in slot order */
  symbols: string[];
  /** Set on the step that ended an episode: its metrics */
  episode?: EpisodeMetrics;
}

export interface Informer {
  write(state: EnvState, e: number, info: StepInfo): void;
}

export function emptyInfo(): StepInfo {
  return { step: 0, row: 0, ts: 0, equity: 0, cash: 0, drawdown: 0, grossExposure: 0, netExposure: 0, turnover: 0, fees: 0, symbols: [] };
}

/** Portfolio and episode progress of env e. The symbol list is rebuilt only when it changes. */
export class PortfolioInformer implements Informer {
  write(st: EnvState, e: number, info: StepInfo): void {
    const row = st.row[e]!;
    info.step = st.step[e]!;
    info.row = row;
    info.ts = st.data.ts[row]!;
    info.equity = st.equity[e]!;
    info.cash = st.cash[e]!;
    info.drawdown = st.drawdown[e]!;
    info.grossExposure = st.grossExposure[e]!;
    info.netExposure = st.netExposure[e]!;
    info.turnover = st.turnover[e]!;
    info.fees = st.fees[e]!;
    info.episode = undefined;
    const S = st.slots;
    let same = info.symbols.length === st.symbolCount[e];
    for (let s = 0; same && s < info.symbols.length; s++) same = info.symbols[s] === st.data.symbols[st.slotSymbol[e * S + s]!];
    if (!same) {
      info.symbols = [];
      for (let s = 0; s < S; s++) {
        const u = st.slotSymbol[e * S + s]!;
        if (u >= 0) info.symbols.push(st.data.symbols[u]!);
      }
    }
  }
}
