import { parseDigits } from './fast-number.js';

/**
 * Timestamp parsing from bytes. Results are epoch ms of the wall-clock fields read as UTC
 * (the caller converts from the file's time zone), or of the true instant when the text
 * carries `Z` or an offset (then `hasZone` is set). NaN when the text is not a timestamp.
 */
export interface ParsedTime {
  ms: number;
  hasZone: boolean;
}

const out: ParsedTime = { ms: NaN, hasZone: false };

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
// consecutive rows almost always share a date: remember the last one
let lastY = -1;
let lastMo = -1;
let lastD = -1;
let lastMs = NaN;

function ymd(y: number, mo: number, d: number): number {
  if (y === lastY && mo === lastMo && d === lastD) return lastMs;
  if (y < 0 || mo < 1 || mo > 12 || d < 1) return NaN;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  // reject 2023-02-30 and friends
  if (d > DAYS_IN_MONTH[mo - 1]! + (mo === 2 && leap ? 1 : 0)) return NaN;
  lastY = y;
  lastMo = mo;
  lastD = d;
  lastMs = Date.UTC(y, mo - 1, d);
  return lastMs;
}

/** Date as YYYY-MM-DD, YYYYMMDD or M/D/YYYY. */
export function parseDateBytes(buf: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n === 10 && buf[s + 4] === 45 && buf[s + 7] === 45) return ymd(parseDigits(buf, s, 4), parseDigits(buf, s + 5, 2), parseDigits(buf, s + 8, 2));
  if (n === 8 && buf.subarray(s, e).indexOf(47) < 0) return ymd(parseDigits(buf, s, 4), parseDigits(buf, s + 4, 2), parseDigits(buf, s + 6, 2));
  // M/D/YYYY
  const a = buf.indexOf(47, s);
  const b = a < 0 ? -1 : buf.indexOf(47, a + 1);
  if (a > s && b > a && b < e) return ymd(parseDigits(buf, b + 1, e - b - 1), parseDigits(buf, s, a - s), parseDigits(buf, a + 1, b - a - 1));
  return NaN;
}

/** Time of day HH:MM[:SS[.fff]] in ms; NaN if malformed. */
export function parseTimeOfDayBytes(buf: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n < 5 || buf[s + 2] !== 58) return NaN;
  const hh = parseDigits(buf, s, 2);
  const mm = parseDigits(buf, s + 3, 2);
  let ss = 0;
  let frac = 0;
  if (n >= 8) {
    if (buf[s + 5] !== 58) return NaN;
    ss = parseDigits(buf, s + 6, 2);
    if (n > 8) {
      if (buf[s + 8] !== 46 || n === 9) return NaN;
      const digits = Math.min(3, n - 9);
      frac = parseDigits(buf, s + 9, digits) * 10 ** (3 - digits);
      if (parseDigits(buf, s + 9, n - 9) < 0) return NaN;
    }
  } else if (n !== 5) return NaN;
  if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59 || frac < 0) return NaN;
  return ((hh * 60 + mm) * 60 + ss) * 1000 + frac;
}

/** ISO-like timestamp: date, optional [ T]time, optional Z or ±HH:MM. Reuses one result object. */
export function parseTimestampBytes(buf: Uint8Array, s: number, e: number): ParsedTime {
  out.ms = NaN;
  out.hasZone = false;
  let end = e;
  let offsetMs = 0;
  if (end > s && buf[end - 1] === 90 /* Z */) {
    out.hasZone = true;
    end--;
  } else if (end - s > 16 && (buf[end - 6] === 43 || buf[end - 6] === 45) && buf[end - 3] === 58) {
    const sign = buf[end - 6] === 45 ? -1 : 1;
    offsetMs = sign * (parseDigits(buf, end - 5, 2) * 60 + parseDigits(buf, end - 2, 2)) * 60_000;
    out.hasZone = true;
    end -= 6;
  }
  const dateEnd = end - s >= 10 && buf[s + 4] === 45 ? s + 10 : Math.min(end, s + 8);
  const day = parseDateBytes(buf, s, dateEnd);
  if (Number.isNaN(day)) return out;
  if (dateEnd === end) {
    out.ms = day - offsetMs;
    return out;
  }
  const sep = buf[dateEnd];
  if (sep !== 32 && sep !== 84 /* T */) return out;
  const tod = parseTimeOfDayBytes(buf, dateEnd + 1, end);
  out.ms = day + tod - offsetMs;
  return out;
}
