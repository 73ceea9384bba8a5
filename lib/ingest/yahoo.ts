import { DataError } from '../core/errors.js';
import { isoDate } from '../core/time-zone.js';
import type { CorporateActionRow } from '../data/parsed-file.js';
import { parseGenericCsv, type GenericCsvResult } from './csv/generic-csv.js';

const YAHOO_HEADER = ['Date', 'Open', 'High', 'Low', 'Close', 'Adj Close', 'Volume'];

export function isYahooHeader(firstLine: string): boolean {
  return firstLine.replace(/\r$/, '') === YAHOO_HEADER.join(',');
}

/**
 * Yahoo daily CSV (`Date,Open,High,Low,Close,Adj Close,Volume`): raw OHLCV bars, and the
 * adjustment Yahoo applied as one factor per day (Adj Close / Close), so the store's
 * adjusted view reproduces Yahoo's adjusted close.
 */
export function parseYahooCsv(buf: Uint8Array, file: string, symbol: string): GenericCsvResult & { factors: CorporateActionRow[] } {
  const parsed = parseGenericCsv(buf, { file, interval: '1d', symbol }, ['Adj Close']);
  const s = parsed.series[0];
  const adj = parsed.extra.get('Adj Close');
  if (!s || !adj) throw new DataError('BAD_HEADER', { file, line: 1 }, `expected the Yahoo header ${YAHOO_HEADER.join(',')}`);
  const factors: CorporateActionRow[] = [];
  for (let i = 0; i < s.length; i++) {
    const a = adj[i]!;
    if (!(a > 0) || !(s.close[i]! > 0)) {
      throw new DataError('BAD_NUMBER', { file, line: s.line?.[i], column: 'Adj Close' }, `expected positive Close and Adj Close, was ${s.close[i]} and ${a}`);
    }
    factors.push({ instrumentKey: symbol, date: isoDate(s.ts[i]!), priceFactor: a / s.close[i]!, splitFactor: 1, referencePrice: s.close[i]! });
  }
  return { ...parsed, factors };
}
