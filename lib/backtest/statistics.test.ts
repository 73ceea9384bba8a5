import { describe, expect, it } from 'vitest';
import { InvariantError } from '../core/errors.js';
import type { DailySeries, RunStatistics, TradeRecord } from './result-types.js';
import { computeStatistics, normalCdf } from './statistics.js';

const DAY = 86_400_000;
const day = (iso: string): number => Date.parse(`${iso}T00:00:00Z`);

function series(dates: readonly string[], equity: readonly number[], gross: readonly number[] = equity.map(() => 0)): DailySeries {
  return {
    ts: Float64Array.from(dates.map(day)),
    equity: Float64Array.from(equity),
    grossExposure: Float64Array.from(gross),
    netExposure: Float64Array.from(gross),
  };
}

/** Consecutive calendar dates from 2024-01-01, for tests where spacing does not matter. */
function dates(n: number): string[] {
  return Array.from({ length: n }, (_, i) => new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(0, 10));
}

function trade(netPnl: number): TradeRecord {
  return { instrument: 'X', direction: 'LONG', quantity: 1, entryTs: 0, exitTs: DAY, entryPrice: 1, exitPrice: 1, grossPnl: netPnl, commission: 0, netPnl, returnPct: netPnl };
}

function expectAllFinite(s: RunStatistics): void {
  for (const [key, value] of Object.entries(s)) expect(Number.isFinite(value), key).toBe(true);
}

/*
 * Golden example. Start 100, equity alternates +10% / -10%:
 *   110, 99, 108.9, 98.01, 107.811  =>  r = [.1, -.1, .1, -.1, .1]
 * Dates Thu 01-04, Fri 01-05, Mon 01-08, Tue 01-09, Wed 01-10 (a weekend inside).
 *   mean = .02; deviations .08 (x3), -.12 (x2); sum d^2 = 3*.0064 + 2*.0144 = .048
 *   sample var = .048/4 = .012  =>  vol = sqrt(.012 * 252) = sqrt(3.024) = 1.7389652
 *   sharpe = .02/sqrt(.012) * sqrt(252) = sqrt(.0004 * 252 / .012) = sqrt(8.4) = 2.8982753
 *   downside: min(r,0)^2 = .01 twice => DD^2 = .02/5 = .004
 *   sortino = sqrt(.0004 * 252 / .004) = sqrt(25.2) = 5.0199602
 *   total = 1.07811 - 1 = .07811; years = 5/252; CAGR = 1.07811^50.4 - 1 = 43.2811557
 *   maxDD: peak 110 (Thu 01-04), trough 98.01 => 11.99/110 = .109;
 *   never recovers => Thu 01-04 .. Wed 01-10 = 6 calendar days (weekend included)
 *   calmar = 43.2811557 / .109 = 397.0748233
 * Trades net [100, -50, 30, 0, -10]: winRate 2/5; pf 130/60; avgWin 65; avgLoss -30; expectancy 70/5
 * Turnover: notional 1000, mean equity 523.721/5 = 104.7442 => 1000 / 104.7442 / (5/252) = 481.1722272
 * Gross [0, 50, 100, 0, 200]: exposure 3/5; leverage mean (50/99 + 100/108.9 + 200/107.811)/5 = .6556845
 */
const goldenDates = ['2024-01-04', '2024-01-05', '2024-01-08', '2024-01-09', '2024-01-10'];
const goldenEquity = [110, 99, 108.9, 98.01, 107.811];
const golden = {
  startingEquity: 100,
  daily: series(goldenDates, goldenEquity, [0, 50, 100, 0, 200]),
  trades: [100, -50, 30, 0, -10].map(trade),
  feesPaid: 12.5,
  tradedNotional: 1000,
};

describe('computeStatistics on a hand-computed 5-day path', () => {
  const s = computeStatistics(golden);

  it('reports returns, risk and ratios', () => {
    expect(s.startingEquity).toBe(100);
    expect(s.finalEquity).toBe(107.811);
    expect(s.days).toBe(5);
    expect(s.totalReturn).toBeCloseTo(0.07811, 12);
    expect(s.annualReturn).toBeCloseTo(1.07811 ** (252 / 5) - 1, 9);
    expect(s.annualReturn).toBeCloseTo(43.2811557, 6);
    expect(s.annualVolatility).toBeCloseTo(Math.sqrt(3.024), 12);
    expect(s.sharpe).toBeCloseTo(Math.sqrt(8.4), 12);
    expect(s.sortino).toBeCloseTo(Math.sqrt(25.2), 12);
    expect(s.maxDrawdown).toBeCloseTo(0.109, 12);
    expect(s.maxDrawdownDurationDays).toBe(6);
    expect(s.calmar).toBeCloseTo(43.2811557 / 0.109, 4);
  });

  it('reports trade, turnover and exposure statistics', () => {
    expect(s.trades).toBe(5);
    expect(s.winRate).toBeCloseTo(0.4, 15);
    expect(s.profitFactor).toBeCloseTo(130 / 60, 15);
    expect(s.averageWin).toBe(65);
    expect(s.averageLoss).toBe(-30);
    expect(s.expectancy).toBe(14);
    expect(s.turnover).toBeCloseTo(1000 / 104.7442 / (5 / 252), 9);
    expect(s.exposure).toBe(0.6);
    expect(s.averageGrossExposure).toBeCloseTo((50 / 99 + 100 / 108.9 + 200 / 107.811) / 5, 12);
    expect(s.feesPaid).toBe(12.5);
  });

  it('subtracts the daily risk-free rate', () => {
    // riskFreeRate 2.52 => rf = .01/day; excess mean .01, same std
    //   sharpe = sqrt(.0001 * 252 / .012) = sqrt(2.1)
    //   downside: -.11 twice => DD^2 = 2 * .0121 / 5 = .00484; sortino = sqrt(.0001 * 252 / .00484)
    const r = computeStatistics({ ...golden, riskFreeRate: 2.52 });
    expect(r.sharpe).toBeCloseTo(Math.sqrt(2.1), 12);
    expect(r.sortino).toBeCloseTo(Math.sqrt(0.0252 / 0.00484), 12);
    expect(r.annualVolatility).toBeCloseTo(s.annualVolatility, 12);
  });

  it('annualizes with periodsPerYear', () => {
    // 5 periods per year => years = 1 => CAGR = total return; sharpe = sqrt(1/30) * sqrt(5)
    const r = computeStatistics({ ...golden, periodsPerYear: 5 });
    expect(r.annualReturn).toBeCloseTo(0.07811, 12);
    expect(r.sharpe).toBeCloseTo(Math.sqrt(5 / 30), 12);
    expect(r.turnover).toBeCloseTo(1000 / 104.7442, 9);
  });
});

describe('probabilistic Sharpe', () => {
  it('matches an independent computation from raw moments', () => {
    // Same returns, moments via raw moments E[x^k] instead of central sums:
    //   m2 = E2 - E1^2, m3 = E3 - 3 E1 E2 + 2 E1^3, m4 = E4 - 4 E1 E3 + 6 E1^2 E2 - 3 E1^4
    // giving skew = -1/sqrt(6), kurt = 7/6, SR = sqrt(1/30), z = 0.3520290245
    // scipy: norm.cdf(0.35202902452204) = 0.637591752235633
    const r = [0.1, -0.1, 0.1, -0.1, 0.1];
    const E = (k: number): number => r.reduce((a, x) => a + x ** k, 0) / r.length;
    const [e1, e2, e3, e4] = [E(1), E(2), E(3), E(4)];
    const m2 = e2 - e1 ** 2;
    const skew = (e3 - 3 * e1 * e2 + 2 * e1 ** 3) / m2 ** 1.5;
    const kurt = (e4 - 4 * e1 * e3 + 6 * e1 ** 2 * e2 - 3 * e1 ** 4) / m2 ** 2;
    expect(skew).toBeCloseTo(-1 / Math.sqrt(6), 12);
    expect(kurt).toBeCloseTo(7 / 6, 12);
    const sr = e1 / Math.sqrt((m2 * 5) / 4);
    const z = (sr * 2) / Math.sqrt(1 - skew * sr + ((kurt - 1) / 4) * sr * sr);
    expect(z).toBeCloseTo(0.35202902452204, 12);
    expect(computeStatistics(golden).probabilisticSharpe).toBeCloseTo(0.637591752235633, 12);
  });

  it('is 0.5 at SR = 0 and increases with the mean return', () => {
    // +10% / -10% of the previous day's equity: returns average to 0 (up to rounding)
    const flat = [110, 99, 108.9, 98.01];
    expect(computeStatistics({ ...golden, daily: series(dates(4), flat) }).probabilisticSharpe).toBeCloseTo(0.5, 12);
    let last = 0;
    for (const drift of [-0.02, -0.01, 0, 0.01, 0.02, 0.04]) {
      let eq = 100;
      const path = [0.1, -0.1, 0.1, -0.1, 0.1, -0.1].map((r) => (eq *= 1 + r + drift));
      const psr = computeStatistics({ ...golden, daily: series(dates(6), path) }).probabilisticSharpe;
      expect(psr).toBeGreaterThan(last);
      last = psr;
    }
  });

  it('is 0.5 with fewer than 3 returns', () => {
    expect(computeStatistics({ ...golden, daily: series(dates(2), [110, 99]) }).probabilisticSharpe).toBe(0.5);
  });
});

describe('normalCdf', () => {
  it('matches scipy.stats.norm.cdf', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(1)).toBeCloseTo(0.8413447460685429, 15);
    expect(normalCdf(-1.96)).toBeCloseTo(0.024997895148220435, 15);
    expect(normalCdf(3)).toBeCloseTo(0.9986501019683699, 15);
    expect(normalCdf(-5)).toBeCloseTo(2.866515718791933e-7, 15);
    expect(normalCdf(-12)).toBe(0);
    expect(normalCdf(12)).toBe(1);
    for (const x of [0.3, 1.7, 4.2, 7.5]) expect(normalCdf(x) + normalCdf(-x)).toBeCloseTo(1, 14);
  });
});

describe('drawdown duration', () => {
  it('takes the longest peak-to-recovery span in calendar days', () => {
    // start peak 100 dated 12-31; 95 on 01-01, back to 100 on 01-02 => 2 days
    // peak 120 on 01-03, under water until 120 again on 01-10 => 7 days
    // peak 130 on 01-11, 125 at the end (01-12) => 1 day
    // maxDD = max(5/100, 10/120, 5/130) = 1/12
    const d = ['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04', '2024-01-08', '2024-01-10', '2024-01-11', '2024-01-12'];
    const s = computeStatistics({ ...golden, daily: series(d, [95, 100, 120, 110, 115, 120, 130, 125]) });
    expect(s.maxDrawdownDurationDays).toBe(7);
    expect(s.maxDrawdown).toBeCloseTo(1 / 12, 15);
  });

  it('counts an unrecovered drawdown to the last sample, from the day before the first', () => {
    // never gets back to the starting 100: 12-31 .. 01-20 = 20 days
    const s = computeStatistics({ ...golden, daily: series(['2024-01-01', '2024-01-20'], [90, 99]) });
    expect(s.maxDrawdownDurationDays).toBe(20);
    expect(s.maxDrawdown).toBeCloseTo(0.1, 15);
  });
});

describe('degenerate inputs give finite numbers', () => {
  const base = { startingEquity: 100, trades: [], feesPaid: 0, tradedNotional: 0 };

  it('empty daily series', () => {
    const s = computeStatistics({ ...base, daily: series([], []) });
    expectAllFinite(s);
    expect(s).toMatchObject({ finalEquity: 100, days: 0, totalReturn: 0, annualReturn: 0, sharpe: 0, sortino: 0, probabilisticSharpe: 0.5, maxDrawdown: 0, turnover: 0, exposure: 0 });
  });

  it('one day', () => {
    const s = computeStatistics({ ...base, daily: series(dates(1), [105]), tradedNotional: 50 });
    expectAllFinite(s);
    expect(s.annualReturn).toBeCloseTo(1.05 ** 252 - 1, 3);
    expect(s).toMatchObject({ annualVolatility: 0, sharpe: 0, sortino: 0, probabilisticSharpe: 0.5, maxDrawdownDurationDays: 0 });
  });

  it('flat equity and constant growth (zero std up to rounding)', () => {
    const flat = computeStatistics({ ...base, daily: series(dates(10), Array<number>(10).fill(100)) });
    expectAllFinite(flat);
    expect(flat).toMatchObject({ totalReturn: 0, annualVolatility: 0, sharpe: 0, sortino: 0, probabilisticSharpe: 0.5, maxDrawdown: 0, calmar: 0 });
    const growth = Array.from({ length: 10 }, (_, i) => 100 * 1.01 ** (i + 1));
    const g = computeStatistics({ ...base, daily: series(dates(10), growth) });
    expect(g).toMatchObject({ sharpe: 0, sortino: 0, probabilisticSharpe: 0.5, maxDrawdown: 0 });
    expect(g.annualVolatility).toBeLessThan(1e-12);
  });

  it('wiped-out, negative, zero-start and non-finite equity', () => {
    const wiped = computeStatistics({ ...base, daily: series(dates(4), [50, 0, -10, 5], [100, 100, 100, 0]) });
    expectAllFinite(wiped);
    expect(wiped.maxDrawdown).toBeCloseTo(1.1, 15);
    // leverage only where equity > 0: (100/50 + 0/5) / 2
    expect(wiped.averageGrossExposure).toBe(1);
    const lost = computeStatistics({ ...base, daily: series(dates(2), [50, -10]) });
    expect(lost.annualReturn).toBe(-1);
    expectAllFinite(computeStatistics({ ...base, startingEquity: 0, daily: series(dates(3), [0, 10, 5]) }));
    expectAllFinite(computeStatistics({ ...base, daily: series(dates(4), [101, Number.NaN, Infinity, 99]), feesPaid: Number.NaN }));
  });

  it('profit factor without losers or winners', () => {
    const winners = computeStatistics({ ...base, daily: series([], []), trades: [5, 10].map(trade) });
    expect(winners).toMatchObject({ winRate: 1, profitFactor: 0, averageWin: 7.5, averageLoss: 0, expectancy: 7.5 });
    const losers = computeStatistics({ ...base, daily: series([], []), trades: [-5, 0].map(trade) });
    expect(losers).toMatchObject({ winRate: 0, profitFactor: 0, averageWin: 0, averageLoss: -5, expectancy: -2.5 });
  });

  it('rejects malformed input as a programmer error', () => {
    const bad = { ...series(dates(2), [1, 2]), ts: new Float64Array(1) };
    expect(() => computeStatistics({ ...base, daily: bad })).toThrow(InvariantError);
    expect(() => computeStatistics({ ...base, daily: series([], []), periodsPerYear: 0 })).toThrow(InvariantError);
  });
});
