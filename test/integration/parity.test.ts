/**
 * Backtest-vs-live parity on real data: sma-cross over the bundled LEAN minute bars of SPY, IBM,
 * AIG and BAC, 2013-10-07 .. 2013-10-11 (five sessions with pre- and post-market bars), once as a
 * backtest and once as the runner replayed in lock step against the TWS simulator with the
 * backtest's fill model. The diff must be empty: same warm-up, same bars, same decisions, same
 * fills (price, quantity, commission, time), same positions and equity at every bar close. Then a
 * deliberate divergence in one leg (slippage, params) must be reported at the first event it
 * changes, with context from both legs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFiles } from '../../lib/ingest/import-files.js';
import type { StrategyDefinition } from '../../lib/engine/strategy.js';
import { parityReportJson, parityReportText } from '../../lib/parity/report.js';
import { loadBars } from '../../lib/store/bar-query.js';
import { Store } from '../../lib/store/store.js';
import { runParity, type ParityOptions } from '../../runner/parity/run-parity.js';
import { smaCross } from '../../strategies/sma-cross/index.js';

const SYMBOLS = ['SPY', 'IBM', 'AIG', 'BAC'];
const FROM = Date.UTC(2013, 9, 7);
const TO = Date.UTC(2013, 9, 12) - 1;
const dir = mkdtempSync(join(tmpdir(), 'monger-parity-test-'));
const db = join(dir, 'bars.duckdb');
let storedBars = 0;

beforeAll(async () => {
  const store = await Store.open(db);
  try {
    await importFiles(store, SYMBOLS.map((s) => `data/lean/equity/usa/minute/${s.toLowerCase()}`));
    // bars are events at their close: those closing in (FROM, TO]
    for (const s of await loadBars(store, { symbols: SYMBOLS, interval: '1m', from: FROM, to: TO })) storedBars += s.ts.filter((t) => t + 60_000 <= TO).length;
  } finally {
    store.close();
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = (over: Partial<ParityOptions> = {}): ParityOptions => ({
  strategy: smaCross as unknown as StrategyDefinition,
  spec: 'sma-cross',
  symbols: SYMBOLS,
  from: FROM,
  to: TO,
  db,
  commission: 'ib-fixed',
  stopwatch: () => performance.now(),
  ...over,
});

describe('monger parity: backtest vs runner replayed against the TWS simulator', () => {
  it('is an empty diff for sma-cross on five days of real minute bars of four stocks', async () => {
    const started = performance.now();
    const r = await runParity(base());
    const elapsed = performance.now() - started;
    const { diff } = r;
    if (!diff.equal) console.error(parityReportText(r));
    expect(r.runner.stalls).toEqual([]);
    expect(diff.firstDivergence).toBeUndefined();
    expect(diff.equal).toBe(true);
    // everything stored in the window reached the runner's strategy, bar for bar
    expect(diff.counts.runner.bar).toBe(storedBars);
    expect(storedBars).toBeGreaterThan(10_000);
    // 30-bar warm-up (slow SMA) per symbol, from the simulator's history = the store's
    expect(diff.counts.runner.warmup).toBe(30 * SYMBOLS.length);
    // real trading happened and was compared: decisions, fills, and states at every bar close
    expect(diff.counts.backtest.fill).toBeGreaterThan(100);
    expect(diff.counts.runner).toEqual(diff.counts.backtest);
    const summary = r.runner.summary as { fills: number; positions: Record<string, number>; stopReason: string };
    expect(summary.fills).toBe(diff.counts.runner.fill);
    expect(summary.stopReason).toBe('end of replay');
    // the session guard flattened every day before the close: flat at the end
    expect(summary.positions).toEqual({});
    console.info(`parity: ${diff.matched} events equal, ${diff.counts.runner.fill} fills, backtest ${Math.round(r.elapsedMs.backtest)} ms, runner ${Math.round(r.elapsedMs.runner)} ms, test ${Math.round(elapsed)} ms`);
  }, 300_000);

  it('reports slippage in the runner leg at the first fill it changes, with context from both legs', async () => {
    const r = await runParity(base({ symbols: ['SPY'], from: Date.UTC(2013, 9, 8), to: Date.UTC(2013, 9, 9) - 1, legs: { runner: { slippageBps: 5 } } }));
    const f = r.diff.firstDivergence!;
    expect(r.diff.equal).toBe(false);
    expect(f.backtest!.kind).toBe('fill');
    expect(f.runner!.kind).toBe('fill');
    // same order, same time and size; only what slippage touches differs (a BUY pays 5 bps more)
    expect(f.runner!.data.ref).toBe(f.backtest!.data.ref);
    expect(f.runner!.ts).toBe(f.backtest!.ts);
    expect(f.differences.map((d) => d.field)).toContain('price');
    expect(f.differences.map((d) => d.field)).not.toContain('quantity');
    const side = f.backtest!.data.side;
    const bt = f.backtest!.data.price as number;
    expect(f.runner!.data.price).toBeCloseTo(side === 'BUY' ? bt * 1.0005 : bt * 0.9995, 9);
    // everything before it was equal: warm-up, bars, the decision of this very order
    expect(f.index).toBe(r.diff.matched);
    expect(f.context.backtest.some((c) => c.event.kind === 'decision' && c.event.data.ref === f.backtest!.data.ref)).toBe(true);
    expect(f.context.runner.at(-1)!.index).toBeGreaterThan(f.index);
    const text = parityReportText(r);
    expect(text).toContain(`DIVERGENCE at event #${f.index}`);
    expect(text).toMatch(/differs: price: backtest [\d.]+, runner [\d.]+/);
    expect(parityReportJson(r)).toMatchObject({ equal: false, matched: f.index });
  }, 120_000);

  it('reports different params in one leg at the first decision they change', async () => {
    const r = await runParity(base({ symbols: ['SPY'], from: Date.UTC(2013, 9, 8), to: Date.UTC(2013, 9, 9) - 1, legs: { runner: { params: { fast: 5 } } } }));
    const f = r.diff.firstDivergence!;
    expect(r.diff.equal).toBe(false);
    // the same bars reach both; the first thing that differs is what the strategy decided
    expect(r.diff.unmatched.bar).toEqual({ backtest: 0, runner: 0 });
    expect(r.diff.unmatched.warmup).toEqual({ backtest: 0, runner: 0 });
    expect([f.backtest?.kind, f.runner?.kind]).toContain('decision');
  }, 120_000);
});
