import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ATR, BollingerBands, EMA, MACD, RSI, SMA } from 'trading-signals';
import { computeFeatures, FeatureSetStream } from '../../lib/features/compute-features.js';
import { nanColumn, type FeatureInputs } from '../../lib/features/feature-definition.js';
import { leanDailyInputs } from '../../lib/features/feature-fixtures.js';
import { parseFeatureList, type FeatureSet } from '../../lib/features/feature-set.js';
import { ema } from '../../lib/features/kernels/moving-averages.js';
import { macd, rsi } from '../../lib/features/kernels/oscillators.js';
import { rollingMean, rollingStd } from '../../lib/features/kernels/rolling-stats.js';
import { atr, bbands } from '../../lib/features/kernels/volatility.js';
import { FEATURES } from '../../lib/features/registry.js';
import { sma } from '../../lib/features/sma.js';
import { syntheticBars } from './engine.bench.js';
import { medianMs, type BenchReport } from './harness.js';

/*
 * Feature throughput. Throughput is counted in output values (bars x output columns) per second.
 * Every figure is set against a baseline measured in this run; results are consumed (sampled
 * checksums inside the timed code, full checksums outside it), and our numbers are checked
 * against a naive implementation and trading-signals before any timing is reported.
 */

const DAILY_DIR = join('data', 'lean', 'equity', 'usa', 'daily');
const UNIVERSE = { symbols: 2_000, bars: 2_520 };
const KERNEL_VALUES = 10_000_000;
const COMPARE_VALUES = 1_000_000;
const KERNEL_TARGET = 50_000_000;

/** Agreement problems found while benchmarking; reported on stderr and as a non-zero exit code. */
const problems: string[] = [];
/** Anything the timed code produced, so no result can be dead code. */
let sink = 0;

// ------------------------------------------------------------------------------------------ helpers

/** Sum of every 61st finite value and the last one: consumes a column at ~2% of a pass. */
function sample(col: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < col.length; i += 61) {
    const x = col[i]!;
    if (x === x) s += x;
  }
  const last = col[col.length - 1]!;
  return last === last ? s + last : s;
}

/** Per-column sum and sum of |x| over finite values, for full checksums outside the timed code. */
class Checksums {
  readonly sum: Float64Array;
  readonly abs: Float64Array;
  constructor(readonly columns: readonly string[]) {
    this.sum = new Float64Array(columns.length);
    this.abs = new Float64Array(columns.length);
  }
  add(j: number, x: number): void {
    if (Number.isFinite(x)) {
      this.sum[j] = this.sum[j]! + x;
      this.abs[j] = this.abs[j]! + Math.abs(x);
    }
  }
  get total(): number {
    return this.sum.reduce((a, b) => a + b, 0);
  }
  /** Columns whose sums differ by more than rel x their sum of |x| */
  mismatches(other: Checksums, rel: number): string[] {
    const out: string[] = [];
    this.columns.forEach((c, j) => {
      const d = Math.abs(this.sum[j]! - other.sum[j]!);
      if (!(d <= rel * Math.max(this.abs[j]!, other.abs[j]!, 1))) out.push(`${c}: ${this.sum[j]} vs ${other.sum[j]}`);
    });
    return out;
  }
}

/**
 * Compares two series from index `from` on: NaN must match NaN, numbers must agree within
 * rel x max(|a|, |b|, scale). Records a problem on disagreement; returns the worst relative error.
 */
function agree(what: string, ours: ArrayLike<number>, theirs: ArrayLike<number>, opts: { from: number; rel: number; scale?: number }): number {
  const scale = opts.scale ?? 0;
  if (ours.length !== theirs.length) {
    problems.push(`${what}: lengths differ (${ours.length} vs ${theirs.length})`);
    return Infinity;
  }
  let worst = 0;
  let compared = 0;
  for (let i = opts.from; i < ours.length; i++) {
    const a = ours[i]!;
    const b = theirs[i]!;
    if (Number.isNaN(a) || Number.isNaN(b)) {
      if (Number.isNaN(a) && Number.isNaN(b)) continue;
      problems.push(`${what}: bar ${i} is ${a} in ours but ${b} in the reference`);
      return Infinity;
    }
    compared++;
    const err = Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), scale, Number.MIN_VALUE);
    if (err > worst) worst = err;
    if (!(err <= opts.rel)) {
      problems.push(`${what}: bar ${i} differs: ours ${a}, reference ${b} (relative error ${err.toExponential(2)} > ${opts.rel})`);
      return err;
    }
  }
  if (compared < ours.length / 2) problems.push(`${what}: only ${compared} of ${ours.length} bars compared`);
  return worst;
}

/** Seeded OHLC bars on a mean-reverting log random walk around 100 (stays in ~[50, 200] for any length). */
function meanRevertingBars(n: number, seed: number): FeatureInputs {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const out: FeatureInputs = { length: n, open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n) };
  let y = 0;
  let prev = 100;
  for (let i = 0; i < n; i++) {
    y += (rand() - 0.5) * 0.004 - 2e-5 * y;
    const c = 100 * Math.exp(y);
    out.open[i] = prev;
    out.close[i] = c;
    out.high[i] = Math.max(prev, c) * (1 + rand() * 0.001);
    out.low[i] = Math.min(prev, c) * (1 - rand() * 0.001);
    out.volume[i] = 1000 + Math.floor(rand() * 1000);
    prev = c;
  }
  return out;
}

const rate = (values: number, ms: number): number => (values / ms) * 1000;

/** Median of `runs` timings in ms, for code already warmed up by an untimed run (like medianMs, minus its warm-up). */
function warmMedianMs(fn: () => unknown, runs = 3): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

// ------------------------------------------------------------------------------ catalogue (1 and 2)

/** Every feature in the registry with its default parameters, as one set. */
function catalogue(): FeatureSet {
  return parseFeatureList([...FEATURES.keys()].join(','), 'catalogue');
}

function batchPass(set: FeatureSet, universe: readonly FeatureInputs[]): number {
  let s = 0;
  for (const inputs of universe) for (const col of computeFeatures(set, inputs).values) s += sample(col);
  return s;
}

function streamPass(set: FeatureSet, universe: readonly FeatureInputs[]): number {
  let s = 0;
  for (const x of universe) {
    const stream = new FeatureSetStream(set);
    const row = new Float64Array(stream.width);
    const w = stream.width;
    for (let i = 0; i < x.length; i++) {
      stream.update(x.open[i]!, x.high[i]!, x.low[i]!, x.close[i]!, x.volume[i]!, row);
      const v = row[i % w]!; // one value of each row, rotating through the columns
      if (v === v) s += v;
    }
  }
  return s;
}

function batchChecksums(set: FeatureSet, universe: readonly FeatureInputs[]): Checksums {
  const c = new Checksums(set.columns);
  for (const inputs of universe) computeFeatures(set, inputs).values.forEach((col, j) => col.forEach((x) => c.add(j, x)));
  return c;
}

function streamChecksums(set: FeatureSet, universe: readonly FeatureInputs[]): Checksums {
  const c = new Checksums(set.columns);
  for (const x of universe) {
    const stream = new FeatureSetStream(set);
    const row = new Float64Array(stream.width);
    for (let i = 0; i < x.length; i++) {
      stream.update(x.open[i]!, x.high[i]!, x.low[i]!, x.close[i]!, x.volume[i]!, row);
      row.forEach((v, j) => c.add(j, v));
    }
  }
  return c;
}

async function catalogueBenchmarks(set: FeatureSet): Promise<BenchReport> {
  const files = readdirSync(DAILY_DIR).filter((f) => f.endsWith('.csv')).sort();
  const real = files.map((f) => leanDailyInputs(f.slice(0, -4)));
  const bars = real.reduce((a, x) => a + x.length, 0);
  const width = set.columns.length;
  const values = bars * width;

  const cb = batchChecksums(set, real);
  const cs = streamChecksums(set, real);
  const diff = cb.mismatches(cs, 1e-9);
  if (diff.length) problems.push(`catalogue on real data: batch and stream checksums differ in ${diff.length} column(s): ${diff.slice(0, 5).join('; ')}`);
  process.stderr.write(`  catalogue: ${set.features.length} features, ${width} columns; real daily data: ${files.length} symbols, ${bars.toLocaleString('en-US')} bars\n`);
  process.stderr.write(`  checksum (sum of finite values): batch ${cb.total.toPrecision(15)}, stream ${cs.total.toPrecision(15)}\n`);

  const batchMs = await medianMs(() => (sink += batchPass(set, real)), 5);
  const streamMs = await medianMs(() => (sink += streamPass(set, real)), 5);
  const batch = rate(values, batchMs);
  const stream = rate(values, streamMs);

  // Large synthetic universe: generated once; the JIT is warm from the runs above, one extra
  // warm-up on a 100-symbol slice, then the median of 3 full passes (each ~5M bars, ~7 s).
  const universe = syntheticBars(UNIVERSE.symbols, UNIVERSE.bars, 23).map((s) => s.bars);
  const uValues = UNIVERSE.symbols * UNIVERSE.bars * width;
  sink += batchPass(set, universe.slice(0, 100));
  const times: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t = performance.now();
    sink += batchPass(set, universe);
    times.push(performance.now() - t);
  }
  const uMs = times.sort((a, b) => a - b)[1]!;
  const uRate = rate(uValues, uMs);
  const outMB = (uValues * 8) / 1e6;
  const inMB = (UNIVERSE.symbols * UNIVERSE.bars * 5 * 8) / 1e6;
  const label = `${UNIVERSE.symbols}x${UNIVERSE.bars}`;
  process.stderr.write(`  synthetic universe ${label}: ${(UNIVERSE.symbols * UNIVERSE.bars).toLocaleString('en-US')} bars, pass times ${times.map((t) => (t / 1000).toFixed(2)).join(', ')} s\n`);

  return {
    [`features.catalogue.real-daily.batch (${width} cols)`]: { value: batch, unit: 'values/s', baseline: { name: 'same, FeatureSetStream', value: stream }, ratio: batch / stream },
    [`features.catalogue.real-daily.stream (${width} cols)`]: { value: stream, unit: 'values/s', baseline: { name: 'same, batch', value: batch }, ratio: stream / batch },
    [`features.catalogue.synthetic-${label}.batch`]: { value: uRate, unit: 'values/s', baseline: { name: 'real-daily batch', value: batch }, ratio: uRate / batch },
    [`features.catalogue.synthetic-${label}.output`]: { value: outMB, unit: 'MB out (f64)', baseline: { name: 'OHLCV MB in', value: inMB }, ratio: outMB / inMB },
  };
}

// ------------------------------------------------------------------------------------ kernels (3)

async function kernelBenchmarks(): Promise<BenchReport> {
  const close = meanRevertingBars(KERNEL_VALUES, 5).close;
  const n = close.length;
  // Floor: the least any kernel does, allocate a NaN-filled column, read and write each value once
  const floorMs = await medianMs(() => {
    const out = nanColumn(n);
    for (let i = 0; i < n; i++) out[i] = close[i]! * 0.5;
    sink += sample(out);
  }, 5);
  const floor = rate(n, floorMs);
  const kernels: [string, (v: Float64Array) => Float64Array][] = [
    ['sma_20', (v) => sma(v, 20)],
    ['ema_20', (v) => ema(v, 20)],
    ['mean_20 (rolling)', (v) => rollingMean(v, 20)],
    ['std_20 (rolling)', (v) => rollingStd(v, 20)],
    ['rsi_14', (v) => rsi(v, 14)],
  ];
  const report: BenchReport = {};
  for (const [name, kernel] of kernels) {
    const ms = await medianMs(() => (sink += sample(kernel(close))), 5);
    const r = rate(n, ms);
    report[`features.kernel ${name} 1e7 batch`] = {
      value: r,
      unit: 'values/s',
      baseline: { name: 'alloc + 1-pass loop', value: floor },
      ratio: r / floor,
      target: '>= 50,000,000 values/s',
      met: r >= KERNEL_TARGET,
    };
  }
  return report;
}

// --------------------------------------------------------------------- naive implementations (4a)

/*
 * NAIVE: what a quick script does, on plain number[] arrays. Windowed indicators (SMA, rolling
 * std, Bollinger) re-slice and re-sum their whole window every bar. Recursive ones (EMA, RSI, ATR,
 * MACD) cannot be recomputed from scratch each bar without going O(n²), so they run the textbook
 * recursion over arrays built with map/slice/reduce and one result object per bar. Same
 * conventions as our kernels (TA-Lib seeding), so the numbers must agree.
 */
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function naiveSma(close: number[], n: number): number[] {
  return close.map((_, i) => (i < n - 1 ? NaN : mean(close.slice(i - n + 1, i + 1))));
}

function naiveStd(close: number[], n: number): number[] {
  return close.map((_, i) => {
    if (i < n - 1) return NaN;
    const w = close.slice(i - n + 1, i + 1);
    const m = mean(w);
    return Math.sqrt(mean(w.map((x) => (x - m) ** 2)));
  });
}

/** Textbook EMA seeded at start+n-1 with the mean of the first n values from `start`. */
function naiveEmaFrom(values: number[], n: number, start: number): number[] {
  const k = 2 / (n + 1);
  const out: number[] = values.map(() => NaN);
  let prev = mean(values.slice(start, start + n));
  out[start + n - 1] = prev;
  for (let i = start + n; i < values.length; i++) {
    prev = prev + k * (values[i]! - prev);
    out[i] = prev;
  }
  return out;
}

function naiveRsi(close: number[], n: number): number[] {
  const changes = close.map((c, i) => (i === 0 ? 0 : c - close[i - 1]!));
  const gains = changes.map((d) => (d > 0 ? d : 0));
  const losses = changes.map((d) => (d < 0 ? -d : 0));
  const out: number[] = close.map(() => NaN);
  let avgGain = mean(gains.slice(1, n + 1));
  let avgLoss = mean(losses.slice(1, n + 1));
  const value = () => (avgLoss === 0 ? (avgGain === 0 ? 0 : 100) : 100 - 100 / (1 + avgGain / avgLoss));
  out[n] = value();
  for (let i = n + 1; i < close.length; i++) {
    avgGain = (avgGain * (n - 1) + gains[i]!) / n;
    avgLoss = (avgLoss * (n - 1) + losses[i]!) / n;
    out[i] = value();
  }
  return out;
}

interface Candle {
  high: number;
  low: number;
  close: number;
}

function naiveAtr(bars: Candle[], n: number): number[] {
  const tr = bars.map((b, i) => (i === 0 ? NaN : Math.max(b.high - b.low, Math.abs(b.high - bars[i - 1]!.close), Math.abs(b.low - bars[i - 1]!.close))));
  const out: number[] = bars.map(() => NaN);
  let avg = mean(tr.slice(1, n + 1));
  out[n] = avg;
  for (let i = n + 1; i < bars.length; i++) {
    avg = (avg * (n - 1) + tr[i]!) / n;
    out[i] = avg;
  }
  return out;
}

/** TA-Lib alignment: both EMAs start at bar slow-1 (the fast one seeded on the `fast` closes ending there). */
function naiveMacd(close: number[], fast: number, slow: number, signal: number): { macd: number; signal: number; histogram: number }[] {
  const f = naiveEmaFrom(close, fast, slow - fast);
  const s = naiveEmaFrom(close, slow, 0);
  const line = close.map((_, i) => f[i]! - s[i]!);
  const sig = naiveEmaFrom(line, signal, slow - 1);
  const first = slow - 1 + signal - 1;
  return line.map((m, i) => (i < first ? { macd: NaN, signal: NaN, histogram: NaN } : { macd: m, signal: sig[i]!, histogram: m - sig[i]! }));
}

function naiveBbands(close: number[], n: number, k: number): { upper: number; middle: number; lower: number }[] {
  return close.map((_, i) => {
    if (i < n - 1) return { upper: NaN, middle: NaN, lower: NaN };
    const w = close.slice(i - n + 1, i + 1);
    const middle = mean(w);
    const sd = Math.sqrt(mean(w.map((x) => (x - middle) ** 2)));
    return { upper: middle + k * sd, middle, lower: middle - k * sd };
  });
}

// ------------------------------------------------------------------------------ side by side (4)

interface Contender {
  /** Output columns, in a common order across implementations */
  run: () => ArrayLike<number>[];
}

interface Indicator {
  name: string;
  /** Columns the three implementations share (values/s counts only these) */
  columns: number;
  ours: Contender;
  naive?: Contender;
  ts?: Contender;
  /** From which bar the comparisons start: the first defined bar, or later where seeds differ */
  fromNaive: number;
  fromTs: number;
  rel: number;
  scale?: number;
}

const nums = <T>(rows: (T | null)[], f: (r: T) => number): Float64Array => Float64Array.from(rows, (r) => (r === null ? NaN : f(r)));

function streamTs(values: Float64Array, make: () => { add(x: number): number | null }): Float64Array {
  const ind = make();
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = ind.add(values[i]!) ?? NaN;
  return out;
}

async function sideBySideBenchmarks(): Promise<BenchReport> {
  const x = meanRevertingBars(COMPARE_VALUES, 9);
  const { high, low, close } = x;
  const n = close.length;
  // Inputs in each library's own shape, built outside the timed code
  const closeArr = Array.from(close);
  const candles: Candle[] = Array.from(close, (c, i) => ({ high: high[i]!, low: low[i]!, close: c }));
  // trading-signals seeds its EMAs with the first value (TA-Lib: the SMA of the first `period`)
  // and its ATR one bar earlier: skip bars until (1-k)^bars < 1e-13 for those, as the tests do
  const emaSkip = (p: number) => 3 * Math.ceil(Math.log(1e-13) / Math.log(1 - 2 / (p + 1)));
  const wilderSkip = (p: number) => Math.ceil(Math.log(1e-13) / Math.log(1 - 1 / p)) + p;

  const indicators: Indicator[] = [
    {
      name: 'sma_20', columns: 1, fromNaive: 19, fromTs: 19, rel: 1e-9,
      ours: { run: () => [sma(close, 20)] },
      naive: { run: () => [naiveSma(closeArr, 20)] },
      ts: { run: () => [streamTs(close, () => new SMA(20))] },
    },
    {
      name: 'ema_20', columns: 1, fromNaive: 19, fromTs: emaSkip(20), rel: 1e-9,
      ours: { run: () => [ema(close, 20)] },
      naive: { run: () => [naiveEmaFrom(closeArr, 20, 0)] },
      ts: { run: () => [streamTs(close, () => new EMA(20))] },
    },
    {
      name: 'std_20 (rolling)', columns: 1, fromNaive: 19, fromTs: 0, rel: 1e-9,
      ours: { run: () => [rollingStd(close, 20)] },
      naive: { run: () => [naiveStd(closeArr, 20)] },
    },
    {
      name: 'rsi_14', columns: 1, fromNaive: 14, fromTs: 14, rel: 1e-9, scale: 1,
      ours: { run: () => [rsi(close, 14)] },
      naive: { run: () => [naiveRsi(closeArr, 14)] },
      ts: { run: () => [streamTs(close, () => new RSI(14))] },
    },
    {
      name: 'atr_14', columns: 1, fromNaive: 14, fromTs: wilderSkip(14), rel: 1e-9,
      ours: { run: () => [atr(high, low, close, 14)] },
      naive: { run: () => [naiveAtr(candles, 14)] },
      ts: {
        run: () => {
          const ind = new ATR(14);
          const out = new Float64Array(n);
          for (let i = 0; i < n; i++) out[i] = ind.add(candles[i]!) ?? NaN;
          return [out];
        },
      },
    },
    {
      name: 'macd_12_26_9', columns: 3, fromNaive: 33, fromTs: emaSkip(26), rel: 1e-9, scale: 1,
      ours: { run: () => { const m = macd(close, 12, 26, 9); return [m.line, m.signal, m.hist]; } },
      naive: { run: () => { const r = naiveMacd(closeArr, 12, 26, 9); return [nums(r, (v) => v.macd), nums(r, (v) => v.signal), nums(r, (v) => v.histogram)]; } },
      ts: {
        run: () => {
          const ind = new MACD(new EMA(12), new EMA(26), new EMA(9));
          const rows = Array.from(close, (c) => ind.add(c));
          return [nums(rows, (v) => v.macd), nums(rows, (v) => v.signal), nums(rows, (v) => v.histogram)];
        },
      },
    },
    {
      name: 'bbands_20_2', columns: 3, fromNaive: 19, fromTs: 19, rel: 1e-9,
      ours: { run: () => { const b = bbands(close, 20, 2); return [b.upper, b.middle, b.lower]; } },
      naive: { run: () => { const r = naiveBbands(closeArr, 20, 2); return [nums(r, (v) => v.upper), nums(r, (v) => v.middle), nums(r, (v) => v.lower)]; } },
      ts: {
        run: () => {
          const ind = new BollingerBands(20, 2);
          const rows = Array.from(close, (c) => ind.add(c));
          return [nums(rows, (v) => v.upper), nums(rows, (v) => v.middle), nums(rows, (v) => v.lower)];
        },
      },
    },
  ];

  const report: BenchReport = {};
  const consume = (cols: ArrayLike<number>[]) => cols.reduce((s, c) => s + sample(c), 0);
  for (const ind of indicators) {
    // Agreement first (a fast wrong number is not a result); these runs are also the warm-ups
    const ours = ind.ours.run();
    const notes: string[] = [];
    for (const [who, c, from] of [['naive', ind.naive, ind.fromNaive], ['trading-signals', ind.ts, ind.fromTs]] as const) {
      if (!c) continue;
      const theirs = c.run();
      const worst = Math.max(...ours.map((col, j) => agree(`${ind.name} vs ${who}, column ${j}`, col, theirs[j]!, { from, rel: ind.rel, scale: ind.scale })));
      notes.push(`vs ${who}: ${worst <= ind.rel ? 'agree' : 'DISAGREE'}, max rel. diff ${worst.toExponential(1)} from bar ${from}`);
    }
    process.stderr.write(`  ${ind.name.padEnd(17)} ${notes.join('; ')}\n`);

    const values = n * ind.columns;
    const oursRate = rate(values, warmMedianMs(() => (sink += consume(ind.ours.run()))));
    const label = `features.compare ${ind.name} 1e6`;
    if (ind.naive) {
      const naive = ind.naive;
      const naiveRate = rate(values, warmMedianMs(() => (sink += consume(naive.run()))));
      report[`${label}: ours vs naive`] = { value: oursRate, unit: 'values/s', baseline: { name: 'naive (plain arrays)', value: naiveRate }, ratio: oursRate / naiveRate };
    }
    if (ind.ts) {
      const ts = ind.ts;
      const tsRate = rate(values, warmMedianMs(() => (sink += consume(ts.run()))));
      report[`${label}: ours vs trading-signals`] = { value: oursRate, unit: 'values/s', baseline: { name: 'trading-signals 8.3', value: tsRate }, ratio: oursRate / tsRate };
    }
  }
  return report;
}

// --------------------------------------------------------------------------------------- entry

/**
 * Feature throughput: (1) the whole catalogue over the bundled daily data, batch and streaming;
 * (2) the catalogue over a large synthetic universe; (3) simple rolling kernels on 1e7 values
 * against a 50M values/s target; (4) ours next to a naive implementation and trading-signals.
 */
export async function featureBenchmarks(): Promise<BenchReport> {
  problems.length = 0;
  const started = performance.now();
  const report: BenchReport = {};
  Object.assign(report, await catalogueBenchmarks(catalogue()));
  Object.assign(report, await kernelBenchmarks());
  Object.assign(report, await sideBySideBenchmarks());
  if (!Number.isFinite(sink)) problems.push(`results checksum is not finite (${sink})`);
  process.stderr.write(`  features bench took ${((performance.now() - started) / 1000).toFixed(1)} s (results checksum ${sink.toPrecision(12)})\n`);
  if (problems.length) {
    process.stderr.write(`\nERROR: feature results disagree with their references (${problems.length}):\n${problems.map((p) => `  - ${p}`).join('\n')}\n\n`);
    process.exitCode = 1;
  }
  return report;
}
