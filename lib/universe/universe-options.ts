/** The universe manager's options, checked by path (re-exported by universe-manager.ts) */
import { ConfigError } from '../core/errors.js';
import { symbolProblem } from '../data/instrument.js';
import { REMOVAL_FLATTEN, UNIVERSE_MODES, type UniverseOptions } from './universe-types.js';

/** Every problem of the options, by path; throws a ConfigError */
export function checkUniverseOptions(o: UniverseOptions): void {
  const problems: string[] = [];
  if (!(UNIVERSE_MODES as readonly string[]).includes(o.mode)) problems.push(`universe.mode: expected one of ${UNIVERSE_MODES.join(', ')}, got ${JSON.stringify(o.mode)}`);
  const symbols = o.symbols ?? [];
  if (o.mode === 'dynamic' && symbols.length > 0) problems.push('universe.symbols: a dynamic universe is signal-driven only; use mode mixed for configured symbols plus signal-driven ones');
  symbols.forEach((s, i) => {
    const bad = symbolProblem(s);
    if (bad !== undefined) problems.push(`universe.symbols[${i}]: ${bad}`);
    else if (symbols.indexOf(s) !== i) problems.push(`universe.symbols[${i}]: '${s}' is listed twice`);
  });
  const flatten = o.removal?.flatten;
  if (flatten !== undefined && !(REMOVAL_FLATTEN as readonly string[]).includes(flatten)) problems.push(`universe.removal.flatten: expected one of ${REMOVAL_FLATTEN.join(', ')}, got ${JSON.stringify(flatten)}`);
  for (const k of ['idleMs', 'recheckMs', 'maxSignalAgeMs', 'strengthMaxAgeMs'] as const) {
    const v = o[k];
    if (v !== undefined && !(v > 0)) problems.push(`universe.${k}: expected a positive number of milliseconds (Infinity: never), got ${v}`);
  }
  if (o.preempt !== undefined && typeof o.preempt !== 'boolean') problems.push(`universe.preempt: expected true or false, got ${JSON.stringify(o.preempt)}`);
  if (o.minActiveMs !== undefined && !(Number.isFinite(o.minActiveMs) && o.minActiveMs >= 0)) problems.push(`universe.minActiveMs: expected a number of milliseconds >= 0, got ${o.minActiveMs}`);
  if (o.preemptMargin !== undefined && !(Number.isFinite(o.preemptMargin) && o.preemptMargin >= 0)) problems.push(`universe.preemptMargin: expected a number >= 0 (0.25: 25% stronger), got ${o.preemptMargin}`);
  const budget = o.maxEvictionsPer10Min;
  if (budget !== undefined && !(budget === Infinity || (Number.isInteger(budget) && budget >= 1))) problems.push(`universe.maxEvictionsPer10Min: expected an integer >= 1 (Infinity: no budget), got ${budget}`);
  const recheck = o.preemptRecheckMs;
  if (recheck !== undefined && !(Number.isFinite(recheck) && recheck > 0)) problems.push(`universe.preemptRecheckMs: expected a positive number of milliseconds, got ${recheck}`);
  if (problems.length > 0) throw new ConfigError('universe', problems);
}
