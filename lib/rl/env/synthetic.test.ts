import { describe, expect, it } from 'vitest';
import { getCalendar } from '../../calendar/index.js';
import { parseEnvConfig } from './config.js';
import { sessionTimes, syntheticDataset, syntheticSeries } from './synthetic.js';

const spec = (over: object) => parseEnvConfig({ data: { kind: 'synthetic', ...over } }).data as Parameters<typeof syntheticSeries>[0];

function correlation(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** (state at t, log return t -> t+1) pairs of symbol 0 */
function stateAndNextReturn(s: ReturnType<typeof syntheticSeries>) {
  const c = s.close[0]!;
  const x = s.features[0]![0]!;
  return { x: x.subarray(0, c.length - 1), r: Float64Array.from({ length: c.length - 1 }, (_, t) => Math.log(c[t + 1]! / c[t]!)) };
}

describe('synthetic markets', () => {
  it('are deterministic for a seed; a symbol does not depend on how many there are', () => {
    const a = syntheticSeries(spec({ seed: 4, symbols: 2, bars: 300 }));
    const b = syntheticSeries(spec({ seed: 4, symbols: 5, bars: 300 }));
    const c = syntheticSeries(spec({ seed: 5, symbols: 2, bars: 300 }));
    expect([...b.close[1]!]).toEqual([...a.close[1]!]);
    expect([...b.features[1]![2]!]).toEqual([...a.features[1]![2]!]);
    expect([...c.close[1]!]).not.toEqual([...a.close[1]!]);
  });

  it('signal: feature 0 at t correlates with the next return by signalStrength', () => {
    // 20,000 bars: the sample correlation's standard error is about 0.007
    const { x, r } = stateAndNextReturn(syntheticSeries(spec({ process: 'signal', signalStrength: 0.3, bars: 20_000, drift: 0 })));
    expect(correlation(x, r)).toBeGreaterThan(0.27);
    expect(correlation(x, r)).toBeLessThan(0.33);
  });

  it('mean-revert: the next return runs against the deviation; random-walk: nothing to predict', () => {
    const mr = stateAndNextReturn(syntheticSeries(spec({ process: 'mean-revert', reversion: 0.1, bars: 20_000 })));
    expect(correlation(mr.x, mr.r)).toBeLessThan(-0.15);
    const rw = stateAndNextReturn(syntheticSeries(spec({ process: 'random-walk', bars: 20_000 })));
    expect(Math.abs(correlation(rw.x, rw.r))).toBeLessThan(0.03);
  });

  it('trend: every symbol drifts by `drift` per bar', () => {
    const s = syntheticSeries(spec({ process: 'trend', drift: 0.001, volatility: 0.01, symbols: 3, bars: 20_000 }));
    for (const c of s.close) {
      const perBar = Math.log(c[c.length - 1]! / c[0]!) / (c.length - 1);
      // standard error 0.01 / sqrt(20,000) = 7e-5
      expect(Math.abs(perBar - 0.001)).toBeLessThan(3e-4);
    }
    expect(s.features[0]![0]![10]).toBeCloseTo(0.1, 12);
  });

  it('bars are the calendar sessions (no weekends or holidays), stamped 00:00 UTC', () => {
    const ts = sessionTimes('XNYS', '2000-01-03', 300);
    const dates = [...ts].map((t) => new Date(t).toISOString().slice(0, 10));
    expect(dates).toEqual(getCalendar('XNYS').sessions('2000-01-03', dates[dates.length - 1]!).map((s) => s.date));
    expect(dates).not.toContain('2000-01-17'); // Martin Luther King Jr. Day
    expect(ts[0]! % 86_400_000).toBe(0);
  });

  it('as a dataset: every symbol usable once the volatility window is full', () => {
    const d = syntheticDataset(spec({ symbols: 2, bars: 100, features: 3 }), { volWindow: 10, periodsPerYear: 252, clip: 5 });
    expect(d.symbols).toEqual(['SYN000', 'SYN001']);
    expect(d.columns).toEqual(['state', 'return_z', 'noise_1']);
    // returns start at row 1, a 10-return window at row 10; invalid rows before it
    expect(d.invalidPrefix[100]).toBe(10);
    expect(Number.isNaN(d.vol[9 * 2]!)).toBe(true);
    expect(d.vol[10 * 2]!).toBeGreaterThan(0);
  });
});
