/**
 * Episodes: where each one starts and which symbols it trades (the sampler), and what it achieved
 * (the recorder, whose statistics are the engine's `computeStatistics` over the episode's equity).
 */
import { computeStatistics } from '../../backtest/statistics.js';
import { ConfigError } from '../../core/errors.js';
import type { SeededRandom } from '../../core/seeded-random.js';
import type { EpisodeMetrics } from '../types.js';
import { validRange, type EnvDataset } from './dataset.js';
import type { EnvState } from './state.js';

export interface SamplerOptions {
  window: number;
  length: number | 'to-end';
  start: 'random' | 'first';
  slots: number;
  /** Symbols per episode at most (a random subset when more have data) */
  sample: number;
  minSymbols: number;
}

const MAX_TRIES = 1000;

/**
 * Picks an episode: a start row (seeded, uniform over the rows where a full window of history and
 * the whole episode fit in the data), then the symbols with usable data over the whole span
 * (window history to the last mark), a seeded subset of `sample` of them when more qualify, in
 * universe order. Starts with fewer than `minSymbols` usable symbols are redrawn.
 */
export class EpisodeSampler {
  private readonly candidates: Int32Array;
  private readonly lo: number;
  private readonly hi: number;
  private firstStart = -1;

  constructor(
    readonly data: EnvDataset,
    readonly options: SamplerOptions,
  ) {
    const T = data.ts.length;
    this.candidates = new Int32Array(data.symbols.length);
    this.lo = options.window - 1;
    this.hi = options.length === 'to-end' ? T - 2 : T - 1 - options.length;
    if (this.hi < this.lo) {
      throw new ConfigError('episode', [`episode: ${T} data rows cannot hold a window of ${options.window} plus ${options.length === 'to-end' ? 'one step' : `${options.length} steps`}`]);
    }
  }

  /** Writes env e's next episode (start, limit, slots, mask) into the state */
  sample(st: EnvState, e: number, rng: SeededRandom): void {
    const o = this.options;
    let start: number;
    let count: number;
    if (o.start === 'first') {
      if (this.firstStart < 0) this.firstStart = this.findFirst();
      start = this.firstStart;
      count = this.usable(start);
    } else {
      let tries = 0;
      do {
        if (++tries > MAX_TRIES) {
          throw new ConfigError('universe.minSymbols', [`universe.minSymbols: no episode start with ${o.minSymbols} symbols having data over ${o.length} steps and a window of ${o.window} found in ${MAX_TRIES} draws`]);
        }
        start = this.lo + rng.int(this.hi - this.lo + 1);
        count = this.usable(start);
      } while (count < o.minSymbols);
    }
    const c = this.candidates;
    const k = Math.min(count, o.sample, o.slots);
    if (k < count) {
      // partial Fisher-Yates: the first k become a uniform random subset, then back in universe order
      for (let i = 0; i < k; i++) {
        const j = i + rng.int(count - i);
        const tmp = c[i]!;
        c[i] = c[j]!;
        c[j] = tmp;
      }
      for (let i = 1; i < k; i++) {
        const v = c[i]!;
        let j = i - 1;
        while (j >= 0 && c[j]! > v) {
          c[j + 1] = c[j]!;
          j--;
        }
        c[j + 1] = v;
      }
    }
    const T = this.data.ts.length;
    const S = st.slots;
    let identity = k === S && S === st.universe;
    for (let s = 0; s < S; s++) {
      const u = s < k ? c[s]! : -1;
      st.slotSymbol[e * S + s] = u;
      st.mask[e * S + s] = u >= 0 ? 1 : 0;
      if (u !== s) identity = false;
    }
    st.identitySlots[e] = identity ? 1 : 0;
    st.symbolCount[e] = k;
    st.start[e] = start;
    st.limit[e] = o.length === 'to-end' ? T - 1 - start : o.length;
    st.endsAtDataEnd[e] = o.length === 'to-end' ? 1 : 0;
  }

  /** Symbols usable from the window's first row to the episode's last mark, into `candidates` */
  private usable(start: number): number {
    const T = this.data.ts.length;
    const from = start - this.options.window + 1;
    const to = this.options.length === 'to-end' ? T - 1 : start + this.options.length;
    let n = 0;
    for (let u = 0; u < this.data.symbols.length; u++) if (validRange(this.data, u, from, to)) this.candidates[n++] = u;
    return n;
  }

  private findFirst(): number {
    for (let s = this.lo; s <= this.hi; s++) if (this.usable(s) >= this.options.minSymbols) return s;
    throw new ConfigError('universe.minSymbols', [`universe.minSymbols: no episode start has ${this.options.minSymbols} symbols with data over the episode`]);
  }
}

/**
 * Per env, the episode's equity path and exposures (preallocated for the longest episode) plus
 * running counts; `finish` turns them into EpisodeMetrics with the engine's statistics:
 * sharpe, sortino and max drawdown as in backtests (per-step returns, `periodsPerYear`),
 * turnover = traded notional per year / mean equity, exposure utilization = mean gross leverage /
 * maxLeverage, win ratio = steps with a positive return / steps with a non-zero return.
 */
export class EpisodeRecorder {
  private readonly equity: Float64Array;
  private readonly gross: Float64Array;
  private readonly net: Float64Array;
  private readonly ts: Float64Array;
  private readonly rewardSum: Float64Array;
  private readonly traded: Float64Array;
  private readonly fees: Float64Array;
  private readonly wins: Int32Array;
  private readonly nonZero: Int32Array;
  /** Episodes finished per env */
  readonly episodes: Int32Array;

  constructor(
    numEnvs: number,
    readonly maxSteps: number,
    readonly periodsPerYear: number,
    readonly maxLeverage: number,
  ) {
    const n = numEnvs * maxSteps;
    this.equity = new Float64Array(n);
    this.gross = new Float64Array(n);
    this.net = new Float64Array(n);
    this.ts = new Float64Array(n);
    this.rewardSum = new Float64Array(numEnvs);
    this.traded = new Float64Array(numEnvs);
    this.fees = new Float64Array(numEnvs);
    this.wins = new Int32Array(numEnvs);
    this.nonZero = new Int32Array(numEnvs);
    this.episodes = new Int32Array(numEnvs);
  }

  reset(e: number): void {
    this.rewardSum[e] = 0;
    this.traded[e] = 0;
    this.fees[e] = 0;
    this.wins[e] = 0;
    this.nonZero[e] = 0;
  }

  /** After step k (1-based, st.step) of env e */
  record(st: EnvState, e: number): void {
    const reward = st.reward[e]!;
    const i = e * this.maxSteps + st.step[e]! - 1;
    const eq = st.equity[e]!;
    this.equity[i] = eq;
    this.gross[i] = st.grossExposure[e]!;
    this.net[i] = st.netExposure[e]!;
    this.ts[i] = st.data.ts[st.row[e]!]!;
    this.rewardSum[e] = this.rewardSum[e]! + reward;
    this.traded[e] = this.traded[e]! + st.tradedNotional[e]!;
    this.fees[e] = this.fees[e]! + st.fees[e]!;
    const prev = st.prevEquity[e]!;
    if (eq !== prev) {
      this.nonZero[e] = this.nonZero[e]! + 1;
      if (eq > prev) this.wins[e] = this.wins[e]! + 1;
    }
  }

  finish(st: EnvState, e: number, seed: number, ended: EpisodeMetrics['ended']): EpisodeMetrics {
    const n = st.step[e]!;
    const from = e * this.maxSteps;
    const stats = computeStatistics({
      startingEquity: st.startEquity[e]!,
      daily: {
        ts: this.ts.subarray(from, from + n),
        equity: this.equity.subarray(from, from + n),
        grossExposure: this.gross.subarray(from, from + n),
        netExposure: this.net.subarray(from, from + n),
      },
      trades: [],
      feesPaid: this.fees[e]!,
      tradedNotional: this.traded[e]!,
      periodsPerYear: this.periodsPerYear,
    });
    const S = st.slots;
    const symbols: string[] = [];
    for (let s = 0; s < S; s++) {
      const u = st.slotSymbol[e * S + s]!;
      if (u >= 0) symbols.push(st.data.symbols[u]!);
    }
    const nz = this.nonZero[e]!;
    const episode = this.episodes[e]!;
    this.episodes[e] = episode + 1;
    return {
      envIndex: e,
      seed,
      steps: n,
      rewardSum: this.rewardSum[e]!,
      sharpe: stats.sharpe,
      sortino: stats.sortino,
      maxDrawdown: stats.maxDrawdown,
      turnover: stats.turnover,
      exposureUtilization: stats.averageGrossExposure / this.maxLeverage,
      winRatio: nz > 0 ? this.wins[e]! / nz : 0,
      finalEquity: stats.finalEquity,
      episode,
      startTs: st.data.ts[st.start[e]!]!,
      endTs: st.data.ts[st.row[e]!]!,
      symbols,
      totalReturn: stats.totalReturn,
      feesPaid: stats.feesPaid,
      ended,
    };
  }
}
