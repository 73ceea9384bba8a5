import type { BarColumns } from '../../lib/data/bar-series.js';

export interface ReferenceFill {
  index: number;
  side: 'BUY' | 'SELL';
  quantity: number;
  price: number;
}

/**
 * sma-cross recomputed the slow, obvious way for one instrument, independently of the engine:
 * means by direct summation, a cross when the sign of (fast - slow) changes (means equal within
 * 1e-10 relative keep the previous sign), a market order at the
 * bar close filled at the next bar's open, nothing filled for an order on the last bar.
 */
export function referenceSmaCross(b: BarColumns, fast: number, slow: number, size: number): { orders: number; fills: ReferenceFill[] } {
  const mean = (end: number, n: number): number => {
    let s = 0;
    for (let k = end - n + 1; k <= end; k++) s += b.close[k]!;
    return s / n;
  };
  const fills: ReferenceFill[] = [];
  let orders = 0;
  let position = 0;
  let prevAbove: boolean | undefined;
  let pending: ReferenceFill | undefined;
  for (let i = 0; i < b.length; i++) {
    if (pending !== undefined) {
      pending.index = i;
      pending.price = b.open[i]!;
      fills.push(pending);
      position += pending.side === 'BUY' ? pending.quantity : -pending.quantity;
      pending = undefined;
    }
    if (i < slow - 1) continue;
    const f = mean(i, fast);
    const l = mean(i, slow);
    if (Math.abs(f - l) <= 1e-10 * Math.abs(l)) continue; // equal means (flat prices) never cross
    const above = f > l;
    if (prevAbove !== undefined && above !== prevAbove) {
      if (above && position === 0) pending = { index: -1, side: 'BUY', quantity: size, price: NaN };
      else if (!above && position > 0) pending = { index: -1, side: 'SELL', quantity: position, price: NaN };
      if (pending !== undefined) orders++;
    }
    prevAbove = above;
  }
  return { orders, fills };
}
