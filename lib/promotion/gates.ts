import type { RunStatistics } from '../backtest/result-types.js';
import type { GateFailure } from './errors.js';
import { GATE_DEFINITIONS, type GateName, type ManifestGates } from './manifest.js';

/** One gate judged: what it compared, and whether the promotion may pass it */
export interface GateResult {
  gate: GateName;
  /** What was measured, for people: `out-of-sample Sharpe` */
  label: string;
  kind: 'min' | 'max';
  threshold: number;
  /** NaN when the statistic is undefined (e.g. a Sharpe without returns): such a gate fails */
  actual: number;
  passed: boolean;
  /** How far on the wrong side of the threshold (0 when passed, NaN when actual is NaN) */
  shortfall: number;
  /** One line: the comparison and, when failed, by how much */
  message: string;
}

export interface GateInputs {
  /** The full-range backtest at the manifest's params */
  backtest: RunStatistics;
  /** The walk-forward's stitched out-of-sample statistics */
  oos: RunStatistics;
}

/** Judges every gate the manifest sets, in GATE_DEFINITIONS order. */
export function evaluateGates(gates: ManifestGates, inputs: GateInputs): GateResult[] {
  const out: GateResult[] = [];
  for (const [name, def] of Object.entries(GATE_DEFINITIONS) as [GateName, (typeof GATE_DEFINITIONS)[GateName]][]) {
    const threshold = gates[name];
    if (threshold === undefined) continue;
    const actual = inputs[def.source][def.statistic];
    const passed = Number.isFinite(actual) && (def.kind === 'min' ? actual >= threshold : actual <= threshold);
    const shortfall = passed ? 0 : Number.isFinite(actual) ? Math.abs(actual - threshold) : NaN;
    const f = formatter(def.statistic);
    const bound = def.kind === 'min' ? 'minimum' : 'maximum';
    let message: string;
    if (!Number.isFinite(actual)) message = `${name}: ${def.label} is undefined (${String(actual)}: no returns or no trades to measure); the ${bound} is ${f(threshold)}`;
    else if (passed) message = `${name}: ${def.label} ${f(actual)} meets the ${bound} ${f(threshold)}`;
    else message = `${name}: ${def.label} ${f(actual)} is ${def.kind === 'min' ? 'below' : 'above'} the ${bound} ${f(threshold)} by ${f(shortfall, true)}`;
    out.push({ gate: name, label: def.label, kind: def.kind, threshold, actual, passed, shortfall, message });
  }
  return out;
}

export function gateFailures(results: readonly GateResult[]): GateFailure[] {
  return results.filter((r) => !r.passed).map((r) => ({ gate: r.gate, threshold: r.threshold, actual: r.actual, shortfall: r.shortfall, message: r.message }));
}

/** Fractions as percent (a difference in percentage points), counts as integers, ratios to 3 decimals */
function formatter(statistic: string): (v: number, difference?: boolean) => string {
  if (statistic === 'trades') return (v) => String(Math.round(v));
  if (statistic === 'maxDrawdown' || statistic === 'totalReturn') return (v, difference) => `${(v * 100).toFixed(2)}${difference ? ' percentage points' : ' %'}`;
  return (v) => v.toFixed(3);
}
