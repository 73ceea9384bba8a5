/** Bar intervals, named as people write them; the set covers every IB historical bar size. */
export const INTERVALS = [
  '1s', '5s', '10s', '15s', '30s',
  '1m', '2m', '3m', '5m', '10m', '15m', '20m', '30m',
  '1h', '2h', '3h', '4h', '8h',
  '1d', '1w', '1M',
] as const;
export type Interval = (typeof INTERVALS)[number];

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, M: 2_592_000_000 };

export function isInterval(s: string): s is Interval {
  return (INTERVALS as readonly string[]).includes(s);
}

/** Parses `1m`, `5m`, `1h`, `1d`…; throws RangeError listing the valid names. */
export function parseInterval(s: string): Interval {
  if (isInterval(s)) return s;
  throw new RangeError(`expected an interval (${INTERVALS.join(', ')}), was '${s}'`);
}

/** Nominal length in ms (a month counts 30 days; only used for ordering and intraday math). */
export function intervalMs(interval: Interval): number {
  const n = Number(interval.slice(0, -1));
  return n * UNIT_MS[interval.slice(-1)]!;
}

export function isIntraday(interval: Interval): boolean {
  return intervalMs(interval) < UNIT_MS.d!;
}

/** Bar kinds: trades, or the bid/ask/mid side of quote bars. */
export const BAR_KINDS = ['trade', 'bid', 'ask', 'mid'] as const;
export type BarKind = (typeof BAR_KINDS)[number];

export function parseBarKind(s: string): BarKind {
  if ((BAR_KINDS as readonly string[]).includes(s)) return s as BarKind;
  throw new RangeError(`expected a bar kind (${BAR_KINDS.join(', ')}), was '${s}'`);
}
