import type { DailySeries } from '../backtest/result-types.js';

export interface DailyPart {
  ts: Float64Array;
  equity: Float64Array;
  gross: Float64Array;
  net: Float64Array;
}

/**
 * Stitches consecutive out-of-sample runs into one curve by compounding each run's daily returns:
 * every test run starts with the same cash, so its day-d return is equity[d] / equity[d-1] (day 0
 * against the starting cash). Exposures keep their fraction of equity. The result starts from
 * `cash` and is what one account would have earned re-investing across folds.
 */
export function stitchDaily(cash: number, parts: readonly DailyPart[]): DailySeries {
  const n = parts.reduce((s, p) => s + p.ts.length, 0);
  const out: DailySeries = { ts: new Float64Array(n), equity: new Float64Array(n), grossExposure: new Float64Array(n), netExposure: new Float64Array(n) };
  let level = cash;
  let j = 0;
  for (const p of parts) {
    let prev = cash;
    for (let d = 0; d < p.ts.length; d++) {
      const e = p.equity[d]!;
      level *= prev > 0 ? e / prev : 1;
      const scale = e > 0 ? level / e : 0;
      out.ts[j] = p.ts[d]!;
      out.equity[j] = level;
      out.grossExposure[j] = p.gross[d]! * scale;
      out.netExposure[j] = p.net[d]! * scale;
      prev = e;
      j++;
    }
  }
  return out;
}
