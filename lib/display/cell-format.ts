/**
 * How table cells read: one format per column, chosen from its values (and its name for
 * timestamps) unless the caller names one. Numbers use the HTML reports' formatters, so a ratio
 * or a percentage reads the same in a notebook and in a report.
 */
import { formatInteger, formatMoney, formatNumber, formatPercent, formatRatio, formatUtc } from '../report/html-format.js';

export type ColumnFormat =
  | 'auto'
  /** thousands separators, no decimals */
  | 'integer'
  /** fixed decimals chosen from the column's magnitude */
  | 'number'
  /** 2 decimals with separators */
  | 'money'
  /** a fraction as a percentage, 2 decimals */
  | 'percent'
  /** 2 decimals */
  | 'ratio'
  /** epoch ms or Date as UTC `YYYY-MM-DD HH:MM` (date only at midnight) */
  | 'datetime'
  /** digits as they are (ids, years) */
  | 'plain'
  | 'text'
  | ((value: unknown) => string);

/** A formatted cell: its text and CSS classes (`num`, `na`, `pos`/`neg`). */
export interface Cell {
  text: string;
  className: string;
  /** The full text when `text` was shortened */
  title?: string;
}

// epoch ms between 1973 and 2286: a number this size in a time-named column is a timestamp
const MIN_EPOCH_MS = 1e11;
const MAX_EPOCH_MS = 1e13;
const TIME_NAME = /^(ts|time|timestamp|date|datetime|from|to|first|last|start|end)$|(_ts|_time|_at|_date)$|[a-z](Ts|Time|At|Date)$/;
const PLAIN_NAME = /(^|_)(id|year|seq)$|[a-z](Id|Seq)$|^(id|year|seq|pid|port)$/i;

const isNumberLike = (v: unknown): v is number | bigint => typeof v === 'number' || typeof v === 'bigint';
const missing = (v: unknown) => v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v));

/** The format 'auto' resolves to for a column with these (sampled) values. */
export function inferFormat(name: string, values: readonly unknown[]): Exclude<ColumnFormat, 'auto' | ((value: unknown) => string)> {
  const present = values.filter((v) => !missing(v));
  if (present.length === 0) return 'text';
  if (present.every((v) => v instanceof Date)) return 'datetime';
  if (!present.every(isNumberLike)) return 'text';
  const numbers = present.map(Number).filter(Number.isFinite);
  if (TIME_NAME.test(name) && numbers.length > 0 && numbers.every((v) => Number.isInteger(v) && v >= MIN_EPOCH_MS && v < MAX_EPOCH_MS)) return 'datetime';
  if (numbers.every(Number.isInteger)) return PLAIN_NAME.test(name) ? 'plain' : 'integer';
  return 'number';
}

/**
 * Decimals for a float column: enough for about 5 significant digits at the column's largest
 * magnitude, 2 at least for 100 and above (prices, money), at most 6.
 */
export function decimalsFor(values: readonly unknown[]): number {
  let maxAbs = 0;
  for (const v of values) {
    const x = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : NaN;
    if (Number.isFinite(x) && Math.abs(x) > maxAbs) maxAbs = Math.abs(x);
  }
  if (maxAbs >= 100) return 2;
  if (maxAbs >= 1) return 4;
  if (maxAbs >= 0.01) return 5;
  return 6;
}

/** Shortens text to `maxChars`, keeping the full text for a tooltip. */
function shorten(text: string, maxChars: number): Cell {
  if (text.length <= maxChars) return { text, className: '' };
  return { text: `${text.slice(0, Math.max(1, maxChars - 1))}…`, className: '', title: text };
}

function preview(value: unknown): string {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const items = Array.from(value as unknown as ArrayLike<number | bigint>);
    return `[${items.slice(0, 8).map(String).join(', ')}${items.length > 8 ? `, … ${items.length} values` : ''}]`;
  }
  if (value instanceof Map) return `Map(${value.size})`;
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Formats one value. `decimals` is the column's choice for 'number'; `tone` colours the sign
 * (P&L columns). Missing values (null, undefined, NaN) show as an em dash.
 */
export function formatCell(value: unknown, format: Exclude<ColumnFormat, 'auto'>, decimals: number, maxChars: number, tone = false): Cell {
  if (missing(value)) return { text: '—', className: 'na' };
  if (typeof format === 'function') return shorten(format(value), maxChars);
  if (format === 'datetime') {
    const ms = value instanceof Date ? value.getTime() : isNumberLike(value) ? Number(value) : NaN;
    if (Number.isFinite(ms)) return { text: formatUtc(ms), className: 'num' };
  }
  if (isNumberLike(value) && format !== 'text') {
    if (typeof value === 'bigint' && (format === 'integer' || format === 'plain')) {
      return { text: format === 'plain' ? value.toString() : value.toLocaleString('en-US'), className: 'num' };
    }
    const x = Number(value);
    const sign = tone && x > 0 ? ' pos' : tone && x < 0 ? ' neg' : '';
    const text = numberText(x, format, decimals);
    return { text, className: `num${sign}` };
  }
  if (typeof value === 'string') return shorten(value, maxChars);
  if (typeof value === 'boolean') return { text: String(value), className: '' };
  if (value instanceof Date) return { text: Number.isNaN(value.getTime()) ? '—' : value.toISOString(), className: 'num' };
  return shorten(preview(value), maxChars);
}

function numberText(x: number, format: ColumnFormat, decimals: number): string {
  switch (format) {
    case 'integer':
      return formatInteger(x);
    case 'plain':
      return Number.isFinite(x) ? String(x) : formatRatio(x);
    case 'money':
      return formatMoney(x);
    case 'percent':
      return formatPercent(x);
    case 'ratio':
      return formatRatio(x);
    default:
      // tiny non-zero values would all read 0.000000
      if (x !== 0 && Number.isFinite(x) && Math.abs(x) < 1e-6) return x.toExponential(2);
      return formatNumber(x, decimals, decimals);
  }
}
