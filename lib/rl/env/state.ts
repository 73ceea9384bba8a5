/**
 * The state of N environments as struct-of-arrays (row e = env e, or e * slots + s per slot), which
 * every scheme (action, reward, stopper, observer, informer) reads and the core writes. Allocated
 * once per VecEnv; a step touches these arrays only.
 *
 * The book (cash, positions per slot) follows the engine Portfolio's arithmetic for stocks
 * (lib/engine/portfolio.ts: cash -= commission, then -= quantity x price x multiplier; position value
 * = quantity x price x multiplier), held here for all envs in flat arrays; vec-env.test.ts replays
 * every fill through an engine Portfolio and checks cash and equity are identical.
 *
 * Slots: an episode's symbols sit in the first slots in universe order; `slotSymbol` maps a slot
 * to its universe index (-1 for an empty slot, masked out).
 */
import type { EnvDataset } from './dataset.js';

export class EnvState {
  readonly numEnvs: number;
  /** Observation slots per env */
  readonly slots: number;
  /** Universe size (symbols in the dataset) */
  readonly universe: number;
  readonly featureCount: number;
  readonly window: number;

  // --- per env
  /** Data row of the episode's first decision */
  readonly start: Int32Array;
  /** Decisions this episode may take */
  readonly limit: Int32Array;
  /** 1 when the episode ends at the data's end (terminal) rather than by a step limit (truncated) */
  readonly endsAtDataEnd: Uint8Array;
  /** Decisions taken so far this episode */
  readonly step: Int32Array;
  /** Current data row: the last bar the agent has seen and trades at the close of */
  readonly row: Int32Array;
  readonly startEquity: Float64Array;
  readonly cash: Float64Array;
  readonly equity: Float64Array;
  /** Equity at the previous row, before the last rebalance */
  readonly prevEquity: Float64Array;
  readonly peak: Float64Array;
  /** (peak - equity) / peak at the current row */
  readonly drawdown: Float64Array;
  readonly prevDrawdown: Float64Array;
  /** Largest drawdown of the episode so far, and its value one step earlier */
  readonly maxDrawdown: Float64Array;
  readonly prevMaxDrawdown: Float64Array;
  /** Traded notional of the last rebalance / equity before it */
  readonly turnover: Float64Array;
  readonly tradedNotional: Float64Array;
  /** The last step's reward (the reward scheme writes it) */
  readonly reward: Float64Array;
  readonly fees: Float64Array;
  readonly grossExposure: Float64Array;
  readonly netExposure: Float64Array;
  /** Symbols in this episode */
  readonly symbolCount: Int32Array;
  /** 1 when slot s holds universe symbol s for every s (one contiguous feature block per row) */
  readonly identitySlots: Uint8Array;

  // --- per env x slot
  readonly slotSymbol: Int32Array;
  readonly mask: Uint8Array;
  /** Shares (contracts, units) held per slot */
  readonly position: Float64Array;
  /** Position value / equity at the current row's close */
  readonly weight: Float64Array;
  /** Target weights the action scheme writes for the next rebalance */
  readonly target: Float64Array;
  /** Weight held from the last rebalance to the current row, as of the rebalance close */
  readonly held: Float64Array;


  constructor(
    readonly data: EnvDataset,
    numEnvs: number,
    slots: number,
    window: number,
  ) {
    this.numEnvs = numEnvs;
    this.slots = slots;
    this.universe = data.symbols.length;
    this.featureCount = data.columns.length;
    this.window = window;
    const n = numEnvs;
    this.start = new Int32Array(n);
    this.limit = new Int32Array(n);
    this.endsAtDataEnd = new Uint8Array(n);
    this.step = new Int32Array(n);
    this.row = new Int32Array(n);
    this.startEquity = new Float64Array(n);
    this.cash = new Float64Array(n);
    this.equity = new Float64Array(n);
    this.prevEquity = new Float64Array(n);
    this.peak = new Float64Array(n);
    this.drawdown = new Float64Array(n);
    this.prevDrawdown = new Float64Array(n);
    this.maxDrawdown = new Float64Array(n);
    this.prevMaxDrawdown = new Float64Array(n);
    this.turnover = new Float64Array(n);
    this.tradedNotional = new Float64Array(n);
    this.reward = new Float64Array(n);
    this.fees = new Float64Array(n);
    this.grossExposure = new Float64Array(n);
    this.netExposure = new Float64Array(n);
    this.symbolCount = new Int32Array(n);
    this.identitySlots = new Uint8Array(n);
    const ns = n * slots;
    this.slotSymbol = new Int32Array(ns).fill(-1);
    this.mask = new Uint8Array(ns);
    this.position = new Float64Array(ns);
    this.weight = new Float64Array(ns);
    this.target = new Float64Array(ns);
    this.held = new Float64Array(ns);
  }
}
