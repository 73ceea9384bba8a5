/**
 * Observers (TensorTrade's Observer): write env e's observation into the VecEnv's flat buffer.
 *
 * Layout per env (`observationSize` floats):
 *   [ window x slots x features ][ mask: slots ][ weights: slots, if includePortfolio ]
 * The window block is a stacked tensor of the last `window` rows of the feature set, each row
 * holding the slots in order (so `[window, slots, features]`; flattened, row-major). Empty slots
 * are zeros with mask 0; the mask is what lets the universe change between episodes.
 *
 * Why this layout: a step must not copy much. The window of one env is 32 x 10 x 30 = 9,600
 * floats (38 KB); copying it per step costs about 1-2.5 us (memory bound), more than everything
 * else in a step. Two layouts:
 * - `stacked` (default): rows oldest first, what any policy (an MLP) expects. Rows go into a
 *   mirrored ring (each row written at slot k and k + window), so the chronological window is
 *   always one contiguous block of the ring: one memcpy per step, no gather.
 * - `ring`: the observation's window block IS the ring: episode row r sits in slot r mod window
 *   and a step writes only the newest row (slots x features floats, 30x less). `ringHead[e]` is
 *   the newest slot. For policies that take the head (or are order-invariant over the window).
 * Choosing [window, slots, features] over [slots, features, window] is what makes both work: a
 * new bar is one contiguous row.
 */
import type { EnvState } from './state.js';

export interface ObservationShape {
  window: number;
  slots: number;
  features: number;
  layout: 'stacked' | 'ring';
  /** Offsets (within one env's observation) of the mask and weight blocks; weights -1 when absent */
  maskOffset: number;
  weightOffset: number;
}

export interface Observer {
  readonly size: number;
  readonly shape: ObservationShape;
  /** Writes env e's whole observation at its current row (episode start) */
  reset(state: EnvState, e: number, out: Float32Array, offset: number): void;
  /** Writes env e's observation after a step */
  update(state: EnvState, e: number, out: Float32Array, offset: number): void;
}

export class WindowObserver implements Observer {
  readonly size: number;
  readonly shape: ObservationShape;
  /** Newest window slot per env (ring layout; window - 1 for stacked) */
  readonly ringHead: Int32Array;
  private readonly next: Int32Array;
  private readonly rowSize: number;
  private readonly block: number;
  /** stacked: per env a mirrored ring of 2 x window rows, and a view of each window position */
  private readonly scratch: Float32Array;
  private readonly windows: Float32Array[] = [];
  /** Views of whole dataset rows, made on first use (identity slots: a row is one memcpy) */
  private rowViews: (Float32Array | undefined)[] = [];

  constructor(
    numEnvs: number,
    readonly slots: number,
    readonly features: number,
    readonly window: number,
    readonly layout: 'stacked' | 'ring',
    readonly includePortfolio: boolean,
  ) {
    this.rowSize = slots * features;
    this.block = window * this.rowSize;
    this.size = this.block + slots + (includePortfolio ? slots : 0);
    this.shape = { window, slots, features, layout, maskOffset: this.block, weightOffset: includePortfolio ? this.block + slots : -1 };
    this.ringHead = new Int32Array(numEnvs).fill(window - 1);
    this.next = new Int32Array(numEnvs);
    const ringSize = 2 * this.block;
    this.scratch = new Float32Array(layout === 'stacked' ? numEnvs * ringSize : 0);
    if (layout === 'stacked') {
      for (let e = 0; e < numEnvs; e++) {
        for (let k = 0; k < window; k++) {
          const from = e * ringSize + k * this.rowSize;
          this.windows.push(this.scratch.subarray(from, from + this.block));
        }
      }
    }
  }

  reset(st: EnvState, e: number, out: Float32Array, offset: number): void {
    const W = this.window;
    const first = st.row[e]! - W + 1;
    if (this.layout === 'stacked') {
      const ring = e * 2 * this.block;
      this.scratch.fill(0, ring, ring + this.block);
      for (let k = 0; k < W; k++) this.writeRow(st, e, first + k, this.scratch, ring + k * this.rowSize);
      this.scratch.copyWithin(ring + this.block, ring, ring + this.block);
      this.next[e] = 0;
      out.set(this.windows[e * W]!, offset);
    } else {
      out.fill(0, offset, offset + this.block);
      for (let k = 0; k < W; k++) this.writeRow(st, e, first + k, out, offset + k * this.rowSize);
      this.next[e] = 0;
      this.ringHead[e] = W - 1;
    }
    const S = this.slots;
    for (let s = 0; s < S; s++) out[offset + this.block + s] = st.mask[e * S + s]!;
    this.writeWeights(st, e, out, offset);
  }

  update(st: EnvState, e: number, out: Float32Array, offset: number): void {
    const W = this.window;
    const k = this.next[e]!;
    if (this.layout === 'stacked') {
      const at = e * 2 * this.block + k * this.rowSize;
      this.writeRow(st, e, st.row[e]!, this.scratch, at);
      this.scratch.copyWithin(at + this.block, at, at + this.rowSize);
      const start = k + 1 === W ? 0 : k + 1;
      this.next[e] = start;
      out.set(this.windows[e * W + start]!, offset);
    } else {
      this.writeRow(st, e, st.row[e]!, out, offset + k * this.rowSize);
      this.ringHead[e] = k;
      this.next[e] = k + 1 === W ? 0 : k + 1;
    }
    this.writeWeights(st, e, out, offset);
  }

  /** Data row `row` of env e's slots into dst[at .. at + slots x features); empty slots untouched (zero) */
  private writeRow(st: EnvState, e: number, row: number, dst: Float32Array, at: number): void {
    const F = this.features;
    const U = st.universe;
    const src = st.data.features;
    if (st.identitySlots[e] === 1) {
      // the whole row is one block: memcpy through a view made once per row
      if (this.rowViews.length !== st.data.ts.length) this.rowViews = Array.from({ length: st.data.ts.length }, () => undefined);
      let view = this.rowViews[row];
      if (view === undefined) view = this.rowViews[row] = src.subarray(row * U * F, (row + 1) * U * F);
      dst.set(view, at);
      return;
    }
    const S = this.slots;
    for (let s = 0; s < S; s++) {
      const u = st.slotSymbol[e * S + s]!;
      if (u < 0) continue;
      const from = (row * U + u) * F;
      const to = at + s * F;
      for (let f = 0; f < F; f++) dst[to + f] = src[from + f]!;
    }
  }

  private writeWeights(st: EnvState, e: number, out: Float32Array, offset: number): void {
    if (!this.includePortfolio) return;
    const S = this.slots;
    const at = offset + this.block + S;
    for (let s = 0; s < S; s++) out[at + s] = st.weight[e * S + s]!;
  }
}

/**
 * Env e's window block as a [slots, features, window] tensor (oldest first), the symbol-major
 * order some policies (per-symbol convolutions over time) want; undoes the ring rotation when
 * `ringHead` is given (the VecEnv's `ringHead[e]` for the ring layout). Writes into `out` if given.
 */
export function symbolMajorWindow(obs: Float32Array, offset: number, shape: ObservationShape, ringHead?: number, out?: Float32Array): Float32Array {
  const { window: W, slots: S, features: F } = shape;
  const dst = out ?? new Float32Array(S * F * W);
  const first = shape.layout === 'ring' && ringHead !== undefined ? (ringHead + 1) % W : 0;
  for (let k = 0; k < W; k++) {
    const row = offset + ((first + k) % W) * S * F;
    for (let s = 0; s < S; s++) for (let f = 0; f < F; f++) dst[(s * F + f) * W + k] = obs[row + s * F + f]!;
  }
  return dst;
}
