import type { BarKind, Interval } from './interval.js';

/**
 * One instrument's bars of one interval and kind as parallel typed arrays.
 * `ts` is the bar START in epoch ms (UTC). `line` keeps the source line of each bar
 * so that validation can name it; it is absent for bars that did not come from a file.
 */
export interface BarColumns {
  length: number;
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  line?: Int32Array;
}

export interface BarSeries extends BarColumns {
  instrumentKey: string;
  interval: Interval;
  kind: BarKind;
  /** File the bars came from, for error messages */
  file: string;
}

/** Growable column buffer for parsers: amortized doubling, no per-row allocation. */
export class BarBuffer implements BarColumns {
  length = 0;
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  line: Int32Array;

  constructor(capacity = 1024) {
    const n = Math.max(16, capacity);
    this.ts = new Float64Array(n);
    this.open = new Float64Array(n);
    this.high = new Float64Array(n);
    this.low = new Float64Array(n);
    this.close = new Float64Array(n);
    this.volume = new Float64Array(n);
    this.line = new Int32Array(n);
  }

  push(ts: number, o: number, h: number, l: number, c: number, v: number, line: number): void {
    if (this.length === this.ts.length) this.grow();
    const i = this.length++;
    this.ts[i] = ts;
    this.open[i] = o;
    this.high[i] = h;
    this.low[i] = l;
    this.close[i] = c;
    this.volume[i] = v;
    this.line[i] = line;
  }

  /** Trims to length; the buffer must not be pushed to afterwards. */
  finish(): BarColumns {
    const n = this.length;
    return {
      length: n,
      ts: this.ts.subarray(0, n),
      open: this.open.subarray(0, n),
      high: this.high.subarray(0, n),
      low: this.low.subarray(0, n),
      close: this.close.subarray(0, n),
      volume: this.volume.subarray(0, n),
      line: this.line.subarray(0, n),
    };
  }

  private grow(): void {
    const n = this.ts.length * 2;
    const f = (a: Float64Array): Float64Array => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.ts = f(this.ts);
    this.open = f(this.open);
    this.high = f(this.high);
    this.low = f(this.low);
    this.close = f(this.close);
    this.volume = f(this.volume);
    const l = new Int32Array(n);
    l.set(this.line);
    this.line = l;
  }
}
