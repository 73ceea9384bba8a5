/**
 * Number parsing straight from bytes, without making a string per field.
 * Digits accumulate as an integer and are scaled once: an exact integer divided by an
 * exact power of ten is correctly rounded, so results equal `Number(text)` bit for bit.
 * Anything unusual (exponents, more than 15 significant digits) falls back to `Number`.
 */

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];
const decoder = new TextDecoder();

/** Parses bytes [start, end) as a decimal number; NaN when they are not one (or empty). */
export function parseNumber(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  // trim spaces
  while (i < end && buf[i] === 32) i++;
  while (end > i && buf[end - 1] === 32) end--;
  if (i >= end) return NaN;
  let negative = false;
  const first = buf[i]!;
  if (first === 45 /* - */ || first === 43 /* + */) {
    negative = first === 45;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let scale = 0;
  let sawDot = false;
  let sawDigit = false;
  for (; i < end; i++) {
    const ch = buf[i]!;
    if (ch >= 48 && ch <= 57) {
      sawDigit = true;
      if (mantissa === 0 && ch === 48) {
        if (sawDot) scale++;
        continue;
      }
      mantissa = mantissa * 10 + (ch - 48);
      digits++;
      if (sawDot) scale++;
    } else if (ch === 46 /* . */ && !sawDot) {
      sawDot = true;
    } else {
      return slowParse(buf, start, end);
    }
  }
  if (!sawDigit) return NaN;
  if (digits > 15 || scale > 22) return slowParse(buf, start, end);
  const v = scale === 0 ? mantissa : mantissa / POW10[scale]!;
  return negative ? -v : v;
}

function slowParse(buf: Uint8Array, start: number, end: number): number {
  const s = decoder.decode(buf.subarray(start, end)).trim();
  // Number('') is 0 and Number('0x10') is 16: neither is a price
  if (s === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return NaN;
  return Number(s);
}

/** Parses an unsigned integer of exactly `len` digits at `at`; -1 if any byte is not a digit. */
export function parseDigits(buf: Uint8Array, at: number, len: number): number {
  let v = 0;
  for (let i = at; i < at + len; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

export function bytesToString(buf: Uint8Array, start: number, end: number): string {
  return decoder.decode(buf.subarray(start, end));
}
