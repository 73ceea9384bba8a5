import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLeanBars } from '../ingest/lean/lean-bars.js';
import type { FeatureInputs } from './feature-definition.js';

/** Test helper: real daily bars of a bundled LEAN symbol (raw prices), with timestamps. */
export function leanDailyInputs(symbol: string, root = 'data'): FeatureInputs & { ts: Float64Array } {
  const file = join(root, 'lean', 'equity', 'usa', 'daily', `${symbol.toLowerCase()}.csv`);
  const parsed = parseLeanBars(readFileSync(file), { file, instrumentKey: symbol.toUpperCase(), resolution: 'daily', data: 'trade', assetClass: 'equity' });
  const s = parsed.series[0]!;
  return { length: s.length, ts: s.ts.slice(0, s.length), open: s.open.slice(0, s.length), high: s.high.slice(0, s.length), low: s.low.slice(0, s.length), close: s.close.slice(0, s.length), volume: s.volume.slice(0, s.length) };
}

/** The first `n` bars of `inputs` (copies), for no-lookahead tests. */
export function prefixInputs(inputs: FeatureInputs, n: number): FeatureInputs {
  return { length: n, open: inputs.open.slice(0, n), high: inputs.high.slice(0, n), low: inputs.low.slice(0, n), close: inputs.close.slice(0, n), volume: inputs.volume.slice(0, n) };
}
