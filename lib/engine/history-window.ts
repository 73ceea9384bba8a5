/**
 * The last `capacity` bars of one subscription in ring-buffered typed arrays: pushing a bar
 * allocates nothing. Index 0 is the newest bar (`close(0)`), `close(1)` the one before.
 */
export class HistoryWindow {
  private readonly tsBuf: Float64Array;
  private readonly openBuf: Float64Array;
  private readonly highBuf: Float64Array;
  private readonly lowBuf: Float64Array;
  private readonly closeBuf: Float64Array;
  private readonly volumeBuf: Float64Array;
  private head = -1;
  private count = 0;

  constructor(readonly capacity: number) {
    const n = Math.max(1, Math.floor(capacity));
    this.tsBuf = new Float64Array(n);
    this.openBuf = new Float64Array(n);
    this.highBuf = new Float64Array(n);
    this.lowBuf = new Float64Array(n);
    this.closeBuf = new Float64Array(n);
    this.volumeBuf = new Float64Array(n);
  }

  /** Bars held, up to capacity */
  get length(): number {
    return this.count;
  }

  push(ts: number, open: number, high: number, low: number, close: number, volume: number): void {
    const n = this.tsBuf.length;
    let h = this.head + 1;
    if (h === n) h = 0;
    this.head = h;
    this.tsBuf[h] = ts;
    this.openBuf[h] = open;
    this.highBuf[h] = high;
    this.lowBuf[h] = low;
    this.closeBuf[h] = close;
    this.volumeBuf[h] = volume;
    if (this.count < n) this.count++;
  }

  private slot(ago: number): number {
    if (ago < 0 || ago >= this.count) return -1;
    const n = this.tsBuf.length;
    const i = this.head - ago;
    return i < 0 ? i + n : i;
  }

  /** Bar start time `ago` bars back (NaN when not held) */
  ts(ago = 0): number {
    const i = this.slot(ago);
    return i < 0 ? NaN : this.tsBuf[i]!;
  }
  open(ago = 0): number {
    const i = this.slot(ago);
    return i < 0 ? NaN : this.openBuf[i]!;
  }
  high(ago = 0): number {
    const i = this.slot(ago);
    return i < 0 ? NaN : this.highBuf[i]!;
  }
  low(ago = 0): number {
    const i = this.slot(ago);
    return i < 0 ? NaN : this.lowBuf[i]!;
  }
  close(ago = 0): number {
    const i = this.slot(ago);
    return i < 0 ? NaN : this.closeBuf[i]!;
  }
  volume(ago = 0): number {
    const i = this.slot(ago);
    return i < 0 ? NaN : this.volumeBuf[i]!;
  }

  /** Oldest-first copy of one column (the last `n` bars, default all held) */
  column(name: 'ts' | 'open' | 'high' | 'low' | 'close' | 'volume', n = this.count): Float64Array {
    const buf = { ts: this.tsBuf, open: this.openBuf, high: this.highBuf, low: this.lowBuf, close: this.closeBuf, volume: this.volumeBuf }[name];
    const k = Math.min(n, this.count);
    const out = new Float64Array(k);
    for (let j = 0; j < k; j++) out[j] = buf[this.slot(k - 1 - j)]!;
    return out;
  }

  clear(): void {
    this.head = -1;
    this.count = 0;
  }
}
