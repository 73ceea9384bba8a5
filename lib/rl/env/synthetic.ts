/**
 * Seeded synthetic markets with a known optimal policy, for tests, the PPO learning test and the
 * benchmark. Every symbol draws from its own stream (`fork`), so symbol i is the same whatever the
 * symbol count. Log return r[t] is the move from bar t-1 to t; feature 0 at bar t is the state a
 * policy should act on at t (it says something about r[t+1] and nothing later):
 *
 * - signal: latent AR(1) x[t] = phi x[t-1] + sqrt(1-phi^2) eta (unit variance), observed as feature 0;
 *   r[t+1] = drift + vol (rho x[t] + sqrt(1-rho^2) eps). Optimal myopic exposure: sign(x[t]);
 *   its expected log return per bar is drift + vol rho sqrt(2/pi) (before costs).
 * - trend: r = drift + vol eps for every symbol; feature 0 = drift / vol. Optimal: fully long
 *   when drift > 0 (short when < 0), whatever the features.
 * - mean-revert: log-price deviation d[t+1] = (1-kappa) d[t] + vol eps, r[t+1] = d[t+1] - d[t] + drift;
 *   feature 0 = d[t] / its stationary std. Optimal: exposure against the deviation, -sign(d[t]).
 * - random-walk: r = drift + vol eps; nothing is predictable (feature 0 is noise).
 *
 * Feature 1 (when there are two or more) is r[t] / vol; the rest are independent N(0, 1) noise.
 * Bars are the calendar's sessions from `start`, stamped 00:00 UTC of the session date like the
 * store's daily bars.
 */
import { createHash } from 'node:crypto';
import { getCalendar } from '../../calendar/index.js';
import { ConfigError } from '../../core/errors.js';
import { SeededRandom } from '../../core/seeded-random.js';
import { stockSpec } from '../../data/instrument.js';
import { canonicalJson, type SyntheticDataConfig } from './config.js';
import { buildDataset, type EnvDataset } from './dataset.js';

export interface SyntheticSeries {
  ts: Float64Array;
  symbols: string[];
  columns: string[];
  /** [symbol][feature] columns */
  features: Float64Array[][];
  close: Float64Array[];
}

/** Session dates (00:00 UTC) of `calendar` from `start`, `count` of them. */
export function sessionTimes(calendar: string, start: string, count: number): Float64Array {
  const cal = getCalendar(calendar);
  const out = new Float64Array(count);
  let n = 0;
  let from = start;
  while (n < count) {
    const year = Number(from.slice(0, 4));
    if (year > cal.lastYear) throw new ConfigError('data', [`data.bars: ${count} sessions from ${start} run past ${cal.name}'s last year ${cal.lastYear}; use fewer bars or an earlier start`]);
    const to = `${Math.min(year + 9, cal.lastYear)}-12-31`;
    for (const s of cal.sessions(from, to)) {
      if (n === count) break;
      out[n++] = Date.parse(`${s.date}T00:00:00Z`);
    }
    from = `${Number(to.slice(0, 4)) + 1}-01-01`;
  }
  return out;
}

export function syntheticSeries(spec: SyntheticDataConfig): SyntheticSeries {
  const T = spec.bars;
  const F = spec.features;
  const ts = sessionTimes(spec.calendar, spec.start, T);
  const root = new SeededRandom(spec.seed);
  const symbols: string[] = [];
  const features: Float64Array[][] = [];
  const close: Float64Array[] = [];
  const vol = spec.volatility;
  for (let i = 0; i < spec.symbols; i++) {
    const rng = root.fork(`symbol-${i}`);
    symbols.push(`SYN${String(i).padStart(3, '0')}`);
    const cols = Array.from({ length: F }, () => new Float64Array(T));
    const c = new Float64Array(T);
    const state = cols[0]!;
    let logPrice = Math.log(100);
    c[0] = 100;
    if (spec.process === 'signal') {
      const phi = spec.persistence;
      const rho = spec.signalStrength;
      const innov = Math.sqrt(1 - phi * phi);
      const idio = Math.sqrt(1 - rho * rho);
      let x = rng.normal();
      state[0] = x;
      for (let t = 1; t < T; t++) {
        const r = spec.drift + vol * (rho * x + idio * rng.normal());
        logPrice += r;
        c[t] = Math.exp(logPrice);
        x = phi * x + innov * rng.normal();
        state[t] = x;
        if (F > 1) cols[1]![t] = r / vol;
      }
    } else if (spec.process === 'mean-revert') {
      const keep = 1 - spec.reversion;
      const stationary = vol / Math.sqrt(Math.max(1 - keep * keep, 1e-12));
      let d = 0;
      for (let t = 1; t < T; t++) {
        const next = keep * d + vol * rng.normal();
        const r = next - d + spec.drift;
        d = next;
        logPrice += r;
        c[t] = Math.exp(logPrice);
        state[t] = d / stationary;
        if (F > 1) cols[1]![t] = r / vol;
      }
    } else {
      for (let t = 1; t < T; t++) {
        const r = spec.drift + vol * rng.normal();
        logPrice += r;
        c[t] = Math.exp(logPrice);
        state[t] = spec.process === 'trend' ? spec.drift / vol : rng.normal();
        if (F > 1) cols[1]![t] = r / vol;
      }
      state[0] = spec.process === 'trend' ? spec.drift / vol : rng.normal();
    }
    for (let f = 2; f < F; f++) {
      const col = cols[f]!;
      for (let t = 0; t < T; t++) col[t] = rng.normal();
    }
    features.push(cols);
    close.push(c);
  }
  const columns = Array.from({ length: F }, (_, f) => (f === 0 ? 'state' : f === 1 ? 'return_z' : `noise_${f - 1}`));
  return { ts, symbols, columns, features, close };
}

/** What identifies a synthetic market's features (the role a feature set's content hash plays for store data) */
export function syntheticFeatureHash(spec: SyntheticDataConfig): string {
  return createHash('sha256').update(canonicalJson({ synthetic: spec })).digest('hex');
}

/** The synthetic market as an env dataset (volatility from the generated closes, like real data). */
export function syntheticDataset(spec: SyntheticDataConfig, opts: { volWindow: number; periodsPerYear: number; clip: number }): EnvDataset {
  const s = syntheticSeries(spec);
  return buildDataset({
    ...s,
    specs: s.symbols.map((sym) => stockSpec(sym)),
    volWindow: opts.volWindow,
    periodsPerYear: opts.periodsPerYear,
    clip: opts.clip,
    featureSetHash: syntheticFeatureHash(spec),
  });
}
