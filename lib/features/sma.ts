/**
 * Simple moving average, TA-Lib convention: the first value is at index period-1 (warm-up values
 * are NaN), then a running sum adds the newest and subtracts the oldest. The batch kernel and the
 * streaming form perform the same operations in the same order, so they agree bit for bit.
 */
export function sma(values: Float64Array, period: number): Float64Array {
  const out = new Float64Array(values.length).fill(NaN);
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i]!;
    if (i >= period) sum -= values[i - period]!;
    if (i >= period - 1) out[i] = sum / period;
  }
  return out;
}

/** Streaming SMA: `update(x)` returns the average of the last `period` values, NaN during warm-up. */
export class SmaStream {
  private readonly ring: Float64Array;
  private sum = 0;
  private count = 0;
  private head = 0;

  constructor(readonly period: number) {
    this.ring = new Float64Array(period);
  }

  /** Values seen so far, capped at the period */
  get ready(): boolean {
    return this.count >= this.period;
  }

  get value(): number {
    return this.count >= this.period ? this.sum / this.period : NaN;
  }

  update(x: number): number {
    this.sum += x;
    if (this.count >= this.period) this.sum -= this.ring[this.head]!;
    else this.count++;
    this.ring[this.head] = x;
    this.head = this.head + 1 === this.period ? 0 : this.head + 1;
    return this.value;
  }
}
