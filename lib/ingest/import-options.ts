import { DataError } from '../core/errors.js';
import { futureSpec } from '../data/futures.js';
import { stockSpec, symbolProblem, type InstrumentSpec, type SecType } from '../data/instrument.js';
import type { BarKind, Interval } from '../data/interval.js';
import type { ColumnMapping } from './csv/column-mapping.js';
import type { ImportFormat } from './detect-format.js';
import type { ProgressReporter } from './progress.js';

export interface ImportOptions {
  format?: ImportFormat;
  /** Generic CSV/Parquet and Yahoo: the instrument, when the file has no symbol column */
  symbol?: string;
  secType?: SecType;
  exchange?: string;
  currency?: string;
  contractMonth?: string;
  interval?: Interval;
  kind?: BarKind;
  mapping?: Partial<ColumnMapping>;
  timeZone?: string;
  stamp?: 'start' | 'end';
  epoch?: 's' | 'ms';
  /** Create STK instruments for symbols in a symbol column that the store does not know */
  register?: boolean;
  progress?: ProgressReporter;
}

/** Instrument spec from command-line flags (generic CSV/Parquet/Yahoo with --symbol). */
export function specFromOptions(options: ImportOptions, file: string): InstrumentSpec | undefined {
  if (!options.symbol) return undefined;
  const symbol = options.symbol.toUpperCase();
  const problem = symbolProblem(symbol);
  if (problem) throw new DataError('BAD_SYMBOL', { file, column: '--symbol' }, problem);
  const secType = options.secType ?? (options.contractMonth ? 'FUT' : 'STK');
  if (secType === 'FUT') {
    if (!options.contractMonth) throw new DataError('UNKNOWN_SYMBOL', { file, column: '--contract-month' }, `expected --contract-month YYYYMM for futures symbol ${symbol}`);
    try {
      return futureSpec(symbol, options.contractMonth);
    } catch (e) {
      throw new DataError('UNKNOWN_SYMBOL', { file, column: '--symbol' }, (e as Error).message);
    }
  }
  if (secType === 'CASH') {
    return { key: symbol, symbol, secType, exchange: options.exchange ?? 'IDEALPRO', currency: options.currency ?? 'USD', multiplier: 1, tickSize: 0.00005 };
  }
  return { ...stockSpec(symbol, options.exchange ?? 'SMART'), currency: options.currency ?? 'USD' };
}
