/** An append-only Float64 column with amortized doubling (no per-sample allocation). */
export class GrowableColumn {
  private buf: Float64Array;
  length = 0;

  constructor(capacity = 256) {
    this.buf = new Float64Array(capacity);
  }

  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Float64Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }

  last(): number {
    return this.length === 0 ? NaN : this.buf[this.length - 1]!;
  }

  setLast(v: number): void {
    if (this.length > 0) this.buf[this.length - 1] = v;
  }

  /** A trimmed copy */
  toArray(): Float64Array {
    return this.buf.slice(0, this.length);
  }
}
