/**
 * Returns and differences over n bars: simple and log returns, TA-Lib ROC and MOM, and the
 * opening gap. Each output depends on exactly two inputs, so a NaN input masks only the outputs
 * that read it. Streams keep a ring of the last `period` values; batch and stream apply the same
 * expression to the same two numbers, so they agree bit for bit.
 */
import { nanColumn, type FeatureDefinition } from '../feature-definition.js';
import { checkPeriod, seriesFeature, type ScalarStream } from './moving-averages.js';

type Pair = (x: number, base: number) => number;

/** One simple return x/base - 1; NaN when the base is 0 (the return is undefined, not ±Infinity). */
export function simpleReturn(x: number, base: number): number {
  return base === 0 ? NaN : x / base - 1;
}
const simple: Pair = simpleReturn;
/** ln(x/base); NaN when the base is 0. */
const log: Pair = (x, base) => (base === 0 ? NaN : Math.log(x / base));
/** TA-Lib ROC: (x/base - 1)*100, and TA-Lib's 0 when the base is 0. */
const roc100: Pair = (x, base) => (base === 0 ? 0 : (x / base - 1) * 100);
/** TA-Lib MOM: x - base. */
const diff: Pair = (x, base) => x - base;

function lagged(values: Float64Array, period: number, f: Pair): Float64Array {
  checkPeriod(period);
  const out = nanColumn(values.length);
  for (let i = period; i < values.length; i++) out[i] = f(values[i]!, values[i - period]!);
  return out;
}

/** Simple return over n bars: x[i]/x[i-n] - 1 (NaN if x[i-n] is 0). Lookback: period. */
export function simpleReturns(values: Float64Array, period = 1): Float64Array {
  return lagged(values, period, simple);
}

/** Log return over n bars: ln(x[i]/x[i-n]) (NaN if x[i-n] is 0). Lookback: period. */
export function logReturns(values: Float64Array, period = 1): Float64Array {
  return lagged(values, period, log);
}

/** TA-Lib ROC: (x[i]/x[i-n] - 1)*100, 0 when x[i-n] is 0 (TA-Lib's choice). Lookback: period. */
export function roc(values: Float64Array, period = 10): Float64Array {
  return lagged(values, period, roc100);
}

/** TA-Lib MOM: x[i] - x[i-n]. Lookback: period. */
export function mom(values: Float64Array, period = 10): Float64Array {
  return lagged(values, period, diff);
}

/** Opening gap in percent: (open[i]/close[i-1] - 1)*100 (NaN if the previous close is 0). Lookback: 1. */
export function gap(open: Float64Array, close: Float64Array): Float64Array {
  const out = nanColumn(open.length);
  for (let i = 1; i < open.length; i++) out[i] = gapPct(open[i]!, close[i - 1]!);
  return out;
}

function gapPct(open: number, prevClose: number): number {
  return prevClose === 0 ? NaN : (open / prevClose - 1) * 100;
}

/** Shared ring of the last `period` values: update(x) returns f(x, x[i-period]) once it exists. */
class LaggedStream implements ScalarStream {
  private readonly ring: Float64Array;
  private head = 0;
  private count = 0;

  constructor(readonly period: number, private readonly f: Pair) {
    checkPeriod(period);
    this.ring = new Float64Array(period);
  }

  update(x: number): number {
    const base = this.ring[this.head]!;
    this.ring[this.head] = x;
    this.head = this.head + 1 === this.period ? 0 : this.head + 1;
    if (this.count < this.period) {
      this.count++;
      return NaN;
    }
    return this.f(x, base);
  }
}

/** Streaming simple return over `period` bars. */
export class ReturnStream extends LaggedStream {
  constructor(period = 1) {
    super(period, simple);
  }
}

/** Streaming log return over `period` bars. */
export class LogReturnStream extends LaggedStream {
  constructor(period = 1) {
    super(period, log);
  }
}

/** Streaming TA-Lib ROC. */
export class RocStream extends LaggedStream {
  constructor(period = 10) {
    super(period, roc100);
  }
}

/** Streaming TA-Lib MOM. */
export class MomStream extends LaggedStream {
  constructor(period = 10) {
    super(period, diff);
  }
}

/** Streaming opening gap: remembers the previous close. */
export class GapStream {
  private prevClose = NaN;

  update(open: number, close: number): number {
    const out = gapPct(open, this.prevClose);
    this.prevClose = close;
    return out;
  }
}

export const RETURN_FEATURES: FeatureDefinition[] = [
  seriesFeature({
    name: 'ret', description: 'Simple return of close over period bars', input: 'close', defaultPeriod: 1,
    lookback: (n) => n, kernel: simpleReturns, makeStream: (n) => new ReturnStream(n),
  }),
  seriesFeature({
    name: 'logret', description: 'Log return of close over period bars', input: 'close', defaultPeriod: 1,
    lookback: (n) => n, kernel: logReturns, makeStream: (n) => new LogReturnStream(n),
  }),
  seriesFeature({
    name: 'roc', description: 'Rate of change of close in percent (TA-Lib ROC)', input: 'close', defaultPeriod: 10,
    lookback: (n) => n, kernel: roc, makeStream: (n) => new RocStream(n),
  }),
  seriesFeature({
    name: 'mom', description: 'Momentum: close minus close period bars ago (TA-Lib MOM)', input: 'close', defaultPeriod: 10,
    lookback: (n) => n, kernel: mom, makeStream: (n) => new MomStream(n),
  }),
  {
    name: 'gap',
    description: 'Opening gap in percent: open over the previous close, minus 1, times 100',
    params: [],
    outputs: () => [''],
    lookback: () => 1,
    batch: (inputs) => [gap(inputs.open, inputs.close)],
    stream: () => {
      const s = new GapStream();
      return { update: (open, _high, _low, close, _volume, out, offset) => void (out[offset] = s.update(open, close)) };
    },
  },
];
