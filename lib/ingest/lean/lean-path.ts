/**
 * Recognises LEAN data files by their path, as laid out in LEAN's `Data/` folder
 * (extracted from the zips): the path carries asset class, resolution, symbol, date,
 * data kind and, for futures, the contract month.
 */
export type LeanResolution = 'tick' | 'second' | 'minute' | 'hour' | 'daily';

export type LeanFile =
  | { type: 'equity-bars'; resolution: LeanResolution; symbol: string; date?: string; data: 'trade' | 'quote'; root: string }
  | { type: 'equity-ticks'; symbol: string; date: string; data: 'trade' | 'quote'; root: string }
  | { type: 'future-bars'; resolution: LeanResolution; market: string; symbol: string; date?: string; data: 'trade' | 'quote' | 'openinterest'; contractMonth: string; root: string }
  | { type: 'factor-file'; symbol: string; root: string }
  | { type: 'map-file'; symbol: string; root: string }
  | { type: 'not-imported'; why: string };

const P = (s: string) => s.replace(/\\/g, '/');

/** Parses a LEAN file path; undefined when the path is not LEAN-shaped. */
export function parseLeanPath(path: string): LeanFile | undefined {
  const p = P(path);
  let m = /^(.*)\/equity\/usa\/(daily|hour)\/([a-z0-9.]+)\.csv$/i.exec(p);
  if (m) return { type: 'equity-bars', resolution: m[2] as LeanResolution, symbol: m[3]!.toUpperCase(), data: 'trade', root: m[1]! };
  m = /^(.*)\/equity\/usa\/(minute|second)\/([a-z0-9.]+)\/(\d{8})_([a-z0-9.]+)_(minute|second)_(trade|quote)\.csv$/i.exec(p);
  if (m) {
    return { type: 'equity-bars', resolution: m[2] as LeanResolution, symbol: m[3]!.toUpperCase(), date: m[4]!, data: m[7]!.toLowerCase() as 'trade' | 'quote', root: m[1]! };
  }
  m = /^(.*)\/equity\/usa\/tick\/([a-z0-9.]+)\/(\d{8})_([a-z0-9.]+)_(trade|quote)_tick\.csv$/i.exec(p);
  if (m) return { type: 'equity-ticks', symbol: m[2]!.toUpperCase(), date: m[3]!, data: m[5]!.toLowerCase() as 'trade' | 'quote', root: m[1]! };
  m = /^(.*)\/equity\/usa\/factor_files\/([a-z0-9.]+)\.csv$/i.exec(p);
  if (m) return { type: 'factor-file', symbol: m[2]!.toUpperCase(), root: m[1]! };
  m = /^(.*)\/equity\/usa\/map_files\/([a-z0-9.]+)\.csv$/i.exec(p);
  if (m) return { type: 'map-file', symbol: m[2]!.toUpperCase(), root: m[1]! };
  m = /^(.*)\/future\/([a-z]+)\/(minute|second|tick)\/([a-z0-9]+)\/(\d{8})_([a-z0-9]+)_(minute|second|tick)_(trade|quote|openinterest)_(\d{6})\.csv$/i.exec(p);
  if (m) {
    return {
      type: 'future-bars',
      resolution: m[3] as LeanResolution,
      market: m[2]!.toLowerCase(),
      symbol: m[4]!.toUpperCase(),
      date: m[5]!,
      data: m[8]!.toLowerCase() as 'trade' | 'quote' | 'openinterest',
      contractMonth: m[9]!,
      root: m[1]!,
    };
  }
  m = /^(.*)\/future\/([a-z]+)\/(daily|hour)\/([a-z0-9]+)_(trade|quote|openinterest)_(\d{6})\.csv$/i.exec(p);
  if (m) {
    return {
      type: 'future-bars',
      resolution: m[3] as LeanResolution,
      market: m[2]!.toLowerCase(),
      symbol: m[4]!.toUpperCase(),
      data: m[5]!.toLowerCase() as 'trade' | 'quote' | 'openinterest',
      contractMonth: m[6]!,
      root: m[1]!,
    };
  }
  m = /\/future\/[a-z]+\/(map_files|factor_files)\/[a-z0-9]+\.csv$/i.exec(p);
  if (m) return { type: 'not-imported', why: 'continuous-contract roll mapping; contracts are imported month by month' };
  return undefined;
}

export function leanDateToIso(yyyymmdd: string): string {
  return `${yyyymmdd.slice(0, 4)}-${yyyymmdd.slice(4, 6)}-${yyyymmdd.slice(6, 8)}`;
}
