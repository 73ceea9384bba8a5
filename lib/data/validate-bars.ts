import { DataError } from '../core/errors.js';
import type { BarSeries } from './bar-series.js';

/**
 * Refuses bars that cannot be right: a bad number, OHLC outside its own range, negative
 * volume, a timestamp equal to (duplicate) or before (out of order) the previous one.
 * Zero or negative prices are allowed here (spreads and 2020 crude went negative) and
 * flagged by the audit instead.
 */
export function validateBars(s: BarSeries): void {
  const { ts, open, high, low, close, volume, line } = s;
  const where = (i: number, column?: string) => ({ file: s.file, line: line ? line[i] : undefined, column });
  let prev = -Infinity;
  for (let i = 0; i < s.length; i++) {
    const o = open[i]!;
    const h = high[i]!;
    const l = low[i]!;
    const c = close[i]!;
    const t = ts[i]!;
    if (!Number.isFinite(t)) throw new DataError('BAD_TIMESTAMP', where(i, 'time'), 'expected a timestamp');
    if (!(h >= l && h >= o && h >= c && l <= o && l <= c)) {
      if ([o, h, l, c].some((x) => !Number.isFinite(x))) {
        throw new DataError('BAD_NUMBER', where(i), `expected finite open/high/low/close, was ${o}/${h}/${l}/${c}`);
      }
      const column = h < l ? 'high' : h < o || h < c ? 'high' : 'low';
      throw new DataError(
        'OHLC_INCONSISTENT',
        where(i, column),
        `expected low <= open,close <= high, was open=${o} high=${h} low=${l} close=${c} (${s.instrumentKey} ${s.kind} bar at ${new Date(t).toISOString()})`,
      );
    }
    const v = volume[i]!;
    if (!(v >= 0)) throw new DataError('BAD_NUMBER', where(i, 'volume'), `expected a volume >= 0, was ${v}`);
    if (t <= prev) {
      const prevLine = line ? line[i - 1] : undefined;
      const code = t === prev ? 'DUPLICATE_BAR' : 'OUT_OF_ORDER';
      const what = t === prev ? 'duplicate bar: same timestamp as' : 'timestamps out of order: earlier than';
      throw new DataError(code, where(i, 'time'), `${what} line ${prevLine ?? i} (${new Date(t).toISOString()} ${s.instrumentKey} ${s.kind})`);
    }
    prev = t;
  }
}
