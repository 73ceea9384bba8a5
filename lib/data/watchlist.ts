import { createHash } from 'node:crypto';
import { DataError } from '../core/errors.js';
import { CsvCursor } from './csv/csv-cursor.js';
import { symbolProblem } from './instrument.js';

/** A named, versioned list of symbols; `version` is a hash of the normalized content. */
export interface Watchlist {
  name: string;
  version: string;
  symbols: string[];
  /** Symbols listed more than once, with every line they appear on */
  duplicates: { symbol: string; lines: number[] }[];
  source: string;
}

/** Content hash of a symbol set: order and case do not change the version. */
export function watchlistVersion(symbols: readonly string[]): string {
  const normalized = [...new Set(symbols.map((s) => s.trim().toUpperCase()))].sort();
  return createHash('sha256').update(normalized.join('\n')).digest('hex').slice(0, 16);
}

/**
 * Parses a watchlist CSV: one symbol per line in the first column, an optional header
 * (`symbol`/`ticker`), `#` comments. Symbols are trimmed and uppercased; duplicates are
 * dropped but reported; an invalid symbol fails with its line (all of them listed).
 */
export function parseWatchlist(buf: Uint8Array, file: string, name = 'default'): Watchlist {
  const cur = new CsvCursor(buf);
  const seen = new Map<string, number[]>();
  const problems: string[] = [];
  let first = true;
  while (cur.next()) {
    const raw = cur.text(0).trim();
    if (raw === '' || raw.startsWith('#')) continue;
    if (first && /^(symbol|ticker)s?$/i.test(raw)) {
      first = false;
      continue;
    }
    first = false;
    const symbol = raw.toUpperCase();
    const problem = symbolProblem(symbol);
    if (problem) {
      problems.push(`line ${cur.lineNumber}: ${problem}`);
      continue;
    }
    const lines = seen.get(symbol);
    if (lines) lines.push(cur.lineNumber);
    else seen.set(symbol, [cur.lineNumber]);
  }
  if (problems.length) {
    throw new DataError('BAD_SYMBOL', { file }, `invalid symbol${problems.length > 1 ? 's' : ''}:\n  ${problems.join('\n  ')}`);
  }
  if (seen.size === 0) throw new DataError('EMPTY_INPUT', { file }, 'expected at least one symbol');
  const symbols = [...seen.keys()];
  const duplicates = [...seen].filter(([, l]) => l.length > 1).map(([symbol, lines]) => ({ symbol, lines }));
  return { name, version: watchlistVersion(symbols), symbols, duplicates, source: file };
}
