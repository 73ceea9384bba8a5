import { bytesToString, parseNumber } from './fast-number.js';

/**
 * Walks a CSV held in memory line by line, splitting each line into fields without
 * allocating: field boundaries live in reused Int32Arrays. Handles CRLF, a missing final
 * newline, blank lines and double-quoted fields ("" escapes) that stay on one line.
 */
export class CsvCursor {
  /** 1-based number of the current line in the file */
  lineNumber = 0;
  fieldCount = 0;
  private pos = 0;
  private starts = new Int32Array(64);
  private ends = new Int32Array(64);
  private quoted = new Uint8Array(64);

  constructor(
    readonly buf: Uint8Array,
    readonly delimiter = 44,
  ) {
    // skip a UTF-8 byte-order mark
    if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) this.pos = 3;
  }

  /** Bytes consumed so far, for progress reporting. */
  get offset(): number {
    return this.pos;
  }

  /** Advances to the next non-blank line; false at end of input. */
  next(): boolean {
    const buf = this.buf;
    const n = buf.length;
    while (this.pos < n) {
      const lineStart = this.pos;
      let end = buf.indexOf(10, lineStart);
      if (end === -1) end = n;
      this.pos = end + 1;
      this.lineNumber++;
      let lineEnd = end;
      if (lineEnd > lineStart && buf[lineEnd - 1] === 13) lineEnd--;
      if (lineEnd === lineStart) continue;
      this.split(lineStart, lineEnd);
      return true;
    }
    return false;
  }

  private split(start: number, end: number): void {
    const buf = this.buf;
    const d = this.delimiter;
    let count = 0;
    let i = start;
    for (;;) {
      if (count === this.starts.length) this.growFields();
      if (buf[i] === 34 /* " */ && i < end) {
        // quoted field: find the closing quote, skipping "" pairs
        let j = i + 1;
        while (j < end) {
          if (buf[j] === 34) {
            if (buf[j + 1] === 34) j += 2;
            else break;
          } else j++;
        }
        this.starts[count] = i + 1;
        this.ends[count] = j;
        this.quoted[count] = 1;
        count++;
        i = j + 1;
        while (i < end && buf[i] !== d) i++;
      } else {
        let j = i;
        while (j < end && buf[j] !== d) j++;
        this.starts[count] = i;
        this.ends[count] = j;
        this.quoted[count] = 0;
        count++;
        i = j;
      }
      if (i >= end) break;
      i++; // skip delimiter
      if (i === end) {
        // trailing delimiter: one more empty field
        if (count === this.starts.length) this.growFields();
        this.starts[count] = end;
        this.ends[count] = end;
        this.quoted[count] = 0;
        count++;
        break;
      }
    }
    this.fieldCount = count;
  }

  private growFields(): void {
    const n = this.starts.length * 2;
    const s = new Int32Array(n);
    s.set(this.starts);
    this.starts = s;
    const e = new Int32Array(n);
    e.set(this.ends);
    this.ends = e;
    const q = new Uint8Array(n);
    q.set(this.quoted);
    this.quoted = q;
  }

  fieldStart(i: number): number {
    return this.starts[i]!;
  }

  fieldEnd(i: number): number {
    return this.ends[i]!;
  }

  fieldLength(i: number): number {
    return this.ends[i]! - this.starts[i]!;
  }

  /** Field `i` as a number; NaN if missing or not a number. */
  number(i: number): number {
    if (i >= this.fieldCount) return NaN;
    return parseNumber(this.buf, this.starts[i]!, this.ends[i]!);
  }

  /** Field `i` as a string ('' if missing). */
  text(i: number): string {
    if (i >= this.fieldCount) return '';
    const s = bytesToString(this.buf, this.starts[i]!, this.ends[i]!);
    return this.quoted[i] ? s.replace(/""/g, '"') : s;
  }

  /** Every field of the current line as strings (for headers and error messages). */
  texts(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.fieldCount; i++) out.push(this.text(i));
    return out;
  }
}
