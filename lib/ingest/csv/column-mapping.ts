import { ConfigError } from '../../core/errors.js';

/** Which CSV header names hold which bar fields. `time` alone, or `date` (+ optional `time`). */
export interface ColumnMapping {
  time?: string;
  date?: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume?: string;
  symbol?: string;
}

const FIELDS = ['time', 'date', 'open', 'high', 'low', 'close', 'volume', 'symbol'] as const;

/** Header names recognised without a mapping (lower-cased) */
const ALIASES: Record<(typeof FIELDS)[number], string[]> = {
  time: ['timestamp', 'timestamp_utc', 'datetime', 'ts', 'ts_event', 'time'],
  date: ['date', 'day'],
  open: ['open', 'o'],
  high: ['high', 'h'],
  low: ['low', 'l'],
  close: ['close', 'c', 'last'],
  volume: ['volume', 'vol', 'v'],
  symbol: ['symbol', 'ticker'],
};

/** Parses `time=timestamp_utc,open=Open,…` (the `--map` flag). */
export function parseMappingFlag(flag: string): Partial<ColumnMapping> {
  const out: Partial<ColumnMapping> = {};
  const problems: string[] = [];
  for (const part of flag.split(',').filter(Boolean)) {
    const [field, column] = part.split('=').map((s) => s.trim());
    if (!field || !column || !(FIELDS as readonly string[]).includes(field)) {
      problems.push(`--map entry '${part}': expected field=column with field one of ${FIELDS.join(', ')}`);
      continue;
    }
    out[field as keyof ColumnMapping] = column;
  }
  if (problems.length) throw new ConfigError('--map', problems);
  return out;
}

/** Fills in the mapping from the header by alias, explicit entries winning. Returns column indexes. */
export function resolveMapping(header: string[], explicit: Partial<ColumnMapping>, file: string): Record<string, number> {
  const lower = header.map((h) => h.trim().toLowerCase());
  const idx: Record<string, number> = {};
  const problems: string[] = [];
  for (const field of FIELDS) {
    const wanted = explicit[field];
    if (wanted !== undefined) {
      const i = lower.indexOf(wanted.toLowerCase());
      if (i < 0) problems.push(`column '${wanted}' for ${field} is not in the header (${header.join(',')})`);
      else idx[field] = i;
      continue;
    }
    const i = lower.findIndex((h) => ALIASES[field].includes(h));
    if (i >= 0) idx[field] = i;
  }
  // a 'time' column that is really a time of day pairs with 'date'
  if (idx.time === undefined && idx.date === undefined) problems.push(`no timestamp column: expected one of ${[...ALIASES.time, ...ALIASES.date].join(', ')} or --map time=<column>`);
  for (const f of ['open', 'high', 'low', 'close'] as const) {
    if (idx[f] === undefined) problems.push(`no ${f} column: expected one of ${ALIASES[f].join(', ')} or --map ${f}=<column>`);
  }
  if (problems.length) throw new ConfigError(`${file}: header`, problems);
  return idx;
}
