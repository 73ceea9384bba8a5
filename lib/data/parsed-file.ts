import type { BarSeries } from './bar-series.js';
import type { InstrumentSpec } from './instrument.js';
import type { TickSeries } from './tick-series.js';

/** Price and split factors from a factor file: adjusted = raw x priceFactor x splitFactor. */
export interface CorporateActionRow {
  instrumentKey: string;
  /** The factor applies to bars dated on or before this date (until the previous row's date) */
  date: string;
  priceFactor: number;
  splitFactor: number;
  referencePrice: number;
}

/** Dates between which a ticker means this instrument (from a map file). */
export interface InstrumentValidity {
  instrumentKey: string;
  validFrom: string;
  validTo: string;
}

/** Everything an importer got out of one file, validated, ready for one store transaction. */
export interface ParsedFile {
  file: string;
  format: string;
  source: string;
  rowsRead: number;
  instruments: InstrumentSpec[];
  bars: BarSeries[];
  ticks: TickSeries[];
  corporateActions: CorporateActionRow[];
  validity: InstrumentValidity[];
  /** Things worth telling the user (rows skipped and why); never silent */
  notes: string[];
}

export function emptyParsedFile(file: string, format: string, source: string): ParsedFile {
  return { file, format, source, rowsRead: 0, instruments: [], bars: [], ticks: [], corporateActions: [], validity: [], notes: [] };
}
