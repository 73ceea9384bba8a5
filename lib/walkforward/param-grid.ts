import { ConfigError } from '../core/errors.js';
import { SeededRandom } from '../core/seeded-random.js';

export type ParamPoint = Record<string, number | string | boolean>;

/** One axis of a grid: a parameter name and its candidate values, in order. */
export interface GridAxis {
  name: string;
  values: (number | string | boolean)[];
}

/**
 * Parses `fast=5..20:5,slow=20..60:10,mode=a|b,size=100`: `lo..hi:step` is an inclusive numeric
 * range, `a|b|c` a list, a single value a constant. Numbers stay numbers; `true`/`false` booleans.
 *
 * @throws ConfigError naming every malformed entry
 */
export function parseGrid(text: string): GridAxis[] {
  const axes: GridAxis[] = [];
  const problems: string[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const name = eq > 0 ? entry.slice(0, eq).trim() : '';
    const spec = eq > 0 ? entry.slice(eq + 1).trim() : '';
    if (name === '' || spec === '') {
      problems.push(`'${entry}': expected name=lo..hi:step, name=a|b|c or name=value`);
      continue;
    }
    if (axes.some((a) => a.name === name)) problems.push(`'${name}' appears twice`);
    const range = /^(-?[\d.]+(?:e-?\d+)?)\.\.(-?[\d.]+(?:e-?\d+)?)(?::([\d.]+(?:e-?\d+)?))?$/.exec(spec);
    if (range) {
      const lo = Number(range[1]);
      const hi = Number(range[2]);
      const step = range[3] === undefined ? 1 : Number(range[3]);
      if (![lo, hi, step].every(Number.isFinite) || step <= 0 || hi < lo) {
        problems.push(`'${entry}': expected lo <= hi and a positive step`);
        continue;
      }
      const count = Math.floor((hi - lo) / step + 1e-9) + 1;
      if (count > 100_000) {
        problems.push(`'${entry}': ${count} values is too many for one axis`);
        continue;
      }
      // lo + i * step (not repeated addition) so 0.1 steps do not drift; rounded to 12 digits
      axes.push({ name, values: Array.from({ length: count }, (_, i) => Number((lo + i * step).toPrecision(12))) });
    } else {
      axes.push({ name, values: spec.split('|').map((v) => scalar(v.trim())) });
    }
  }
  if (problems.length) throw new ConfigError('--grid', problems);
  if (axes.length === 0) throw new ConfigError('--grid', ['expected at least one parameter, e.g. fast=5..20:5,slow=20..60:10']);
  return axes;
}

function scalar(v: string): number | string | boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  const n = Number(v);
  return v !== '' && Number.isFinite(n) ? n : v;
}

/** Number of points of the full grid */
export function gridSize(axes: readonly GridAxis[]): number {
  return axes.reduce((n, a) => n * a.values.length, 1);
}

/** The grid point with linear index `i` (the last axis varies fastest). */
export function gridPoint(axes: readonly GridAxis[], i: number): ParamPoint {
  const p: ParamPoint = {};
  for (let a = axes.length - 1; a >= 0; a--) {
    const axis = axes[a]!;
    p[axis.name] = axis.values[i % axis.values.length]!;
    i = Math.floor(i / axis.values.length);
  }
  // keep the axes' order for readable output
  return Object.fromEntries(axes.map((a) => [a.name, p[a.name]!]));
}

export type SearchSpec = { method: 'grid' } | { method: 'random'; samples: number; seed: number };

/**
 * The points to evaluate: the whole grid in order, or `samples` distinct grid points drawn with a
 * seeded generator (partial Fisher-Yates over indices), sorted back into grid order so the
 * result does not depend on draw order.
 */
export function searchPoints(axes: readonly GridAxis[], search: SearchSpec): ParamPoint[] {
  const size = gridSize(axes);
  if (search.method === 'grid') return Array.from({ length: size }, (_, i) => gridPoint(axes, i));
  if (!Number.isInteger(search.samples) || search.samples < 1) throw new ConfigError('search', [`samples: expected a positive integer, was ${search.samples}`]);
  const k = Math.min(search.samples, size);
  const rng = new SeededRandom(search.seed);
  const picked = new Map<number, number>();
  const at = (i: number) => picked.get(i) ?? i;
  const chosen: number[] = [];
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(size - i);
    const vi = at(i);
    const vj = at(j);
    picked.set(j, vi);
    picked.set(i, vj);
    chosen.push(vj);
  }
  return chosen.sort((a, b) => a - b).map((i) => gridPoint(axes, i));
}
