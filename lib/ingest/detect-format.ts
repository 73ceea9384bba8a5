import { parseLeanPath, type LeanFile } from './lean/lean-path.js';
import { isYahooHeader } from './yahoo.js';

export const FORMATS = ['auto', 'lean', 'yahoo', 'csv', 'parquet'] as const;
export type ImportFormat = (typeof FORMATS)[number];

export type DetectedFormat = { format: 'lean'; lean: LeanFile } | { format: 'yahoo' } | { format: 'csv' } | { format: 'parquet' } | { format: 'unknown'; why: string };

/** Decides how to read a file: by LEAN path layout, Parquet extension, or the CSV header. */
export function detectFormat(path: string, head: Uint8Array, requested: ImportFormat): DetectedFormat {
  const lean = parseLeanPath(path);
  const newline = head.indexOf(10);
  const firstLine = new TextDecoder().decode(newline < 0 ? head : head.subarray(0, newline));
  if (requested === 'lean' || (requested === 'auto' && lean)) {
    return lean ? { format: 'lean', lean } : { format: 'unknown', why: 'expected a LEAN path like …/equity/usa/minute/spy/20131007_spy_minute_trade.csv' };
  }
  if (requested === 'parquet' || (requested === 'auto' && /\.parquet$/i.test(path))) return { format: 'parquet' };
  if (requested === 'yahoo' || (requested === 'auto' && isYahooHeader(firstLine))) return { format: 'yahoo' };
  if (requested === 'csv' || requested === 'auto') return { format: 'csv' };
  return { format: 'unknown', why: `unsupported format '${requested}'` };
}
