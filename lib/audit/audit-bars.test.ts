import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCalendar } from '../calendar/index.js';
import type { BarColumns } from '../data/bar-series.js';
import { parseLeanBars } from '../ingest/lean/lean-bars.js';
import { importFiles } from '../ingest/import-files.js';
import { loadBars } from '../store/bar-query.js';
import { Store } from '../store/store.js';
import { auditBars } from './audit-bars.js';

const nyse = getCalendar('XNYS');
const LEAN = path.resolve('data/lean/equity/usa');

/** Bars from timestamps and closes; open = close, high/low 0.1% around, volume 1. */
function bars(ts: number[], close: number[]): BarColumns {
  return {
    length: ts.length,
    ts: Float64Array.from(ts),
    open: Float64Array.from(close),
    high: Float64Array.from(close, (c) => c * 1.001),
    low: Float64Array.from(close, (c) => c * 0.999),
    close: Float64Array.from(close),
    volume: new Float64Array(ts.length).fill(1),
  };
}

/** 30 session dates from 2024-01-02 as daily bars, closes wiggling 0.1% around 100 (returns stay tiny). */
function quietDaily(): { ts: number[]; close: number[] } {
  const ts = nyse.sessions('2024-01-02', '2024-03-01').slice(0, 30).map((s) => Date.parse(`${s.date}T00:00:00Z`));
  return { ts, close: ts.map((_, i) => (i % 2 ? 100.1 : 100)) };
}

describe('auditBars on real daily data', () => {
  it('reports coverage exactly 1 over 5,849 XNYS sessions for SPY daily 1998-01-02..2021-03-31', () => {
    // shared README: the daily panel has "SPY AAPL IBM AIG BAC aligned, 5,849 days each"
    const file = `${LEAN}/daily/spy.csv`;
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
    const [spy] = parseLeanBars(readFileSync(file), { file, instrumentKey: 'SPY', resolution: 'daily', data: 'trade', assetClass: 'equity' }).series;
    const r = auditBars(spy!, { interval: '1d', calendar: nyse });
    expect(lines.length).toBe(5849);
    expect([r.fromDate, r.toDate]).toEqual(['1998-01-02', '2021-03-31']);
    expect(r.sessions).toBe(5849);
    expect(r.expectedBars).toBe(5849);
    expect(r.coverage).toBe(1);
    expect([r.gaps, r.missingBars, r.duplicates, r.nonMonotonic, r.ohlcViolations, r.nonpositivePrices, r.outsideSessionBars]).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });
});

describe('auditBars on synthetic series', () => {
  it('finds one gap of 3 bars when 3 minutes are removed mid-session', () => {
    const session = nyse.session('2024-01-03')!;
    const starts = nyse.expectedBarStarts(session, 60_000);
    const kept = starts.filter((_, i) => i < 200 || i >= 203);
    const r = auditBars(
      bars(
        kept,
        kept.map((_, i) => 100 + (i % 2) / 10),
      ),
      { interval: '1m', calendar: nyse },
    );
    expect(starts.length).toBe(390);
    expect(r.sessions).toBe(1);
    expect(r.expectedBars).toBe(390);
    expect(r.gaps).toBe(1);
    expect(r.missingBars).toBe(3);
    expect(r.inSessionBars).toBe(387);
    expect(r.details.largestGaps[0]).toEqual({ session: '2024-01-03', from: new Date(starts[200]!).toISOString(), to: new Date(starts[203]!).toISOString(), missing: 3 });
  });

  it('counts a clean series as free of every defect', () => {
    const { ts, close } = quietDaily();
    const r = auditBars(bars(ts, close), { interval: '1d', calendar: nyse });
    expect([r.duplicates, r.nonMonotonic, r.ohlcViolations, r.nonpositivePrices, r.jumps, r.gaps, r.coverage]).toEqual([0, 0, 0, 0, 0, 0, 1]);
  });

  it('counts a duplicate timestamp exactly once', () => {
    const { ts, close } = quietDaily();
    ts.splice(10, 0, ts[10]!);
    close.splice(10, 0, close[10]!);
    const r = auditBars(bars(ts, close), { interval: '1d', calendar: nyse });
    expect([r.duplicates, r.nonMonotonic, r.ohlcViolations, r.nonpositivePrices, r.jumps]).toEqual([1, 0, 0, 0, 0]);
  });

  it('counts a non-monotonic timestamp exactly once', () => {
    const { ts, close } = quietDaily();
    [ts[10], ts[11]] = [ts[11]!, ts[10]!];
    const r = auditBars(bars(ts, close), { interval: '1d', calendar: nyse });
    expect([r.duplicates, r.nonMonotonic, r.ohlcViolations, r.nonpositivePrices, r.jumps]).toEqual([0, 1, 0, 0, 0]);
    expect(r.details.nonMonotonicTimes).toEqual([new Date(ts[11]!).toISOString()]);
  });

  it('counts an OHLC violation (high below low) exactly once', () => {
    const { ts, close } = quietDaily();
    const b = bars(ts, close);
    [b.high[7], b.low[7]] = [b.low[7]!, b.high[7]!];
    const r = auditBars(b, { interval: '1d', calendar: nyse });
    expect([r.duplicates, r.nonMonotonic, r.ohlcViolations, r.nonpositivePrices, r.jumps]).toEqual([0, 0, 1, 0, 0]);
  });

  it('counts a zero price exactly once', () => {
    const { ts, close } = quietDaily();
    close[12] = 0;
    const r = auditBars(bars(ts, close), { interval: '1d', calendar: nyse });
    expect([r.duplicates, r.nonMonotonic, r.ohlcViolations, r.nonpositivePrices, r.jumps]).toEqual([0, 0, 0, 1, 0]);
  });

  it('counts a 50% level jump exactly once', () => {
    const { ts, close } = quietDaily();
    const shifted = close.map((c, i) => (i >= 15 ? c * 1.5 : c));
    const r = auditBars(bars(ts, shifted), { interval: '1d', calendar: nyse });
    expect([r.duplicates, r.nonMonotonic, r.ohlcViolations, r.nonpositivePrices, r.jumps]).toEqual([0, 0, 0, 0, 1]);
    expect(r.details.jumpTimes[0]?.ts).toBe(new Date(ts[15]!).toISOString());
    expect(r.details.jumpTimes[0]?.logReturn).toBeCloseTo(Math.log((100.1 * 1.5) / 100), 5);
  });

  it('reports coverage against an explicit date range with empty sessions', () => {
    const { ts, close } = quietDaily();
    // 2024-01-02..2024-02-13 holds 30 sessions (quietDaily); asking through 2024-02-16 adds 3 more
    const r = auditBars(bars(ts, close), { interval: '1d', calendar: nyse, fromDate: '2024-01-02', toDate: '2024-02-16' });
    const extra = nyse.sessions('2024-01-02', '2024-02-16').length - 30;
    expect(r.sessions).toBe(30 + extra);
    expect(r.emptySessions).toBe(extra);
    expect(r.missingBars).toBe(extra);
    expect(extra).toBeGreaterThan(0);
    expect(r.coverage).toBeCloseTo(30 / (30 + extra), 12);
  });
});

describe('auditBars on AAPL daily around the 2014-06-09 7:1 split', () => {
  let dir: string;
  let store: Store;
  const window = { symbols: ['AAPL'], interval: '1d' as const, from: '2013-06-01', to: '2015-06-01' };
  const SPLIT = '2014-06-09T00:00:00.000Z';

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'monger-'));
    store = await Store.open(path.join(dir, 'a.duckdb'));
    await importFiles(store, [`${LEAN}/daily/aapl.csv`, `${LEAN}/factor_files/aapl.csv`]);
  });

  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('flags the raw split day as a jump of about ln(1/7)', async () => {
    const [raw] = await loadBars(store, window);
    const r = auditBars(raw!, { interval: '1d', calendar: nyse });
    const jump = r.details.jumpTimes.find((j) => j.ts === SPLIT);
    expect(r.jumps).toBe(1);
    expect(jump).toBeDefined();
    expect(Math.abs(jump!.logReturn - Math.log(1 / 7))).toBeLessThan(0.05);
  });

  it('does not flag the split day on adjusted bars', async () => {
    const [adj] = await loadBars(store, { ...window, adjusted: true });
    const r = auditBars(adj!, { interval: '1d', calendar: nyse });
    expect(r.details.jumpTimes.map((j) => j.ts)).not.toContain(SPLIT);
    // in this two-year window the split is the only raw jump (checked by running the audit)
    expect(r.jumps).toBe(0);
    expect(r.coverage).toBe(1);
  });
});
