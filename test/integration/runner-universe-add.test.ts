/**
 * Issue 10 done-when, runner half: a symbol added (and later removed) through the control API of a
 * replaying runner decides, from the moment it was added, exactly as in a run that had it from the
 * start. Both runs are the runner against the TWS simulator over TCP on the real SPY and IBM minute
 * bars of 2013-10-08, moved in lock step (runner/parity/lock-step.ts: decisions are deterministic
 * whatever the load), with the simulator's backtest fill model:
 *
 * - run A: the universe holds SPY and IBM from the start;
 * - run B: the universe holds SPY; IBM is added with `POST /symbols` (what `monger symbol add` sends)
 *   after the step of minute T_add, and removed with `DELETE /symbols/IBM?immediate=1` after T_remove.
 *   The driver waits for the activation (resolve, line, warm-up history up to T_add, streams open)
 *   before time moves on, as a backtest's kernel.hold does.
 *
 * The strategy is a crossover computed from the history window on every bar (no state of its own):
 * with the warm-up loaded up to T_add it has what A's copy has. sma-cross would not do: it seeds its
 * SMAs from history only in onStart, so a symbol added mid-run warms up over `slow` live bars first.
 * T_add and T_remove are minutes where A is flat in IBM with nothing working (an added symbol starts
 * flat; an immediate removal is refused with a position), chosen from A's own record.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineStrategy, type StrategyDefinition } from '../../lib/engine/strategy.js';
import { diffParity } from '../../lib/parity/diff.js';
import type { ParityEvent } from '../../lib/parity/events.js';
import type { ControlClient } from '../../runner/live/control-client.js';
import type { RunSummary } from '../../runner/live/live-runner.js';
import type { UniverseRunner } from '../../runner/live/universe-runner.js';
import type { MarketDataFeature } from '../../runner/tws-sim/market-data.js';
import { importCloses, lockStepDriver, runLockStep } from './lock-step-runner.js';

const MIN = 60_000;
const SYMBOLS = ['SPY', 'IBM'];
const ADDED = 'IBM';
/** 09:00 .. 17:00 New York: the session, the supervisor's close guard and the post-market bars */
const FROM = Date.UTC(2013, 9, 8, 13, 0);
const TO = Date.UTC(2013, 9, 8, 21, 0);
const FAST = 5;
const SLOW = 15;

const dir = mkdtempSync(join(tmpdir(), 'monger-universe-add-'));
const db = join(dir, 'bars.duckdb');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Fast/slow SMA cross of the last SLOW+1 closes of the history window, long/flat, 100 shares */
const windowCross = defineStrategy({
  name: 'window-cross',
  version: '1.0.0',
  description: 'SMA cross computed from the history window on every bar (stateless)',
  params: z.object({}),
  warmup: () => SLOW + 1,
  create: (ctx) => ({
    onBar(bar) {
      const closes = ctx.history(bar.instrument).column('close');
      const n = closes.length;
      if (n < SLOW + 1) return;
      const sma = (len: number, end: number) => {
        let s = 0;
        for (let i = end - len; i < end; i++) s += closes[i]!;
        return s / len;
      };
      const above = sma(FAST, n) > sma(SLOW, n);
      const before = sma(FAST, n - 1) > sma(SLOW, n - 1);
      if (above === before || ctx.openOrders(bar.instrument).length > 0) return;
      const position = ctx.portfolio.position(bar.instrument);
      if (above && position === 0) ctx.submit(ctx.orders.market(bar.instrument, 'BUY', 100));
      else if (!above && position > 0) ctx.submit(ctx.orders.market(bar.instrument, 'SELL', position));
    },
  }),
}) as unknown as StrategyDefinition;

/** Close times of the stored minute bars in (FROM, TO], per symbol */
let closes = new Map<string, number[]>();

beforeAll(async () => {
  // the whole bundled week: warm-up history of a symbol reaches back before the day's first bar
  closes = await importCloses(db, SYMBOLS.map((s) => `data/lean/equity/usa/minute/${s.toLowerCase()}`), SYMBOLS, FROM, TO);
});

interface Membership {
  initial: readonly string[];
  add?: { at: number; symbol: string };
  remove?: { at: number; symbol: string };
}

interface RunResult {
  events: ParityEvent[];
  stalls: string[];
  summary: RunSummary;
  answers: { action: string; status: number; body: unknown }[];
}

/** One lock-step replay of the runner with `m`'s universe and operator actions */
async function replay(m: Membership, name: string): Promise<RunResult> {
  // bars the kernel must have received by t: a symbol's closes while it is a member
  const spanOf = (sym: string): [number, number] => [m.add?.symbol === sym ? m.add.at : -Infinity, m.remove?.symbol === sym ? m.remove.at : Infinity];
  const expectedBars = (t: number) => {
    let n = 0;
    for (const sym of SYMBOLS) {
      const [a, b] = spanOf(sym);
      if (!m.initial.includes(sym) && m.add?.symbol !== sym) continue;
      for (const c of closes.get(sym)!) if (c > a && c <= b && c <= t) n++;
    }
    return n;
  };
  let universe: UniverseRunner | undefined;
  let md: MarketDataFeature | undefined;
  let api: ControlClient | undefined;
  const answers: RunResult['answers'] = [];
  const driver = lockStepDriver({
    from: FROM,
    to: TO,
    expectedBars,
    streams: m.initial.length,
    // an activation (or removal) is complete when every member is active and the simulator streams
    // bars for exactly the active ones
    busy: () => {
      if (universe === undefined || md === undefined) return 'universe not composed yet';
      const entries = universe.status().entries;
      const busy = entries.find((e) => e.state !== 'active' && e.state !== 'retired');
      if (busy !== undefined) return `${busy.symbol} ${busy.state}`;
      const active = entries.filter((e) => e.state === 'active').length;
      return md.realtimeBarCount() !== active ? `${md.realtimeBarCount()} real-time bar streams for ${active} active symbols` : undefined;
    },
    afterStep: async (t): Promise<void> => {
      if (m.add?.at === t) {
        const r = await api!.add(m.add.symbol);
        answers.push({ action: `add ${m.add.symbol}`, status: r.status, body: r.body });
      }
      if (m.remove?.at === t) {
        const r = await api!.remove(m.remove.symbol, true);
        answers.push({ action: `remove ${m.remove.symbol}`, status: r.status, body: r.body });
      }
    },
  });
  const run = await runLockStep({
    name,
    driver,
    strategy: windowCross,
    symbols: m.initial,
    db,
    journal: join(dir, `journal-${name}.duckdb`),
    from: FROM,
    to: TO,
    startingCash: 1_000_000,
    onUniverse: (u) => (universe = u),
    onControl: (client) => (api = client),
    onSimulator: (f) => (md = f.marketData),
  });
  return { events: driver.recorder!.events(), stalls: driver.stalls, summary: run.summary, answers };
}

const TRADES: ReadonlySet<string> = new Set(['decision', 'order', 'fill']);

/** A symbol's trading events in (a, b], without the order ordinal `ref` (numbered across symbols) */
function trading(events: readonly ParityEvent[], sym: string, a: number, b: number): ParityEvent[] {
  return events.filter((e) => e.instrument === sym && TRADES.has(e.kind) && e.ts > a && e.ts <= b).map(({ data: { ref: _ref, ...data }, ...e }) => ({ ...e, data }));
}

/** A symbol's bars (and, with `warmup`, warm-up bars) in (a, b] */
function bars(events: readonly ParityEvent[], sym: string, a: number, b: number): ParityEvent[] {
  return events.filter((e) => e.instrument === sym && e.kind === 'bar' && e.ts > a && e.ts <= b);
}

/** IBM position after everything up to t, and whether an order decided by t is still unfilled */
function flatAt(events: readonly ParityEvent[], t: number): boolean {
  let position = 0;
  const open = new Set<unknown>();
  for (const e of events) {
    if (e.instrument !== ADDED || e.ts > t) continue;
    if (e.kind === 'decision') open.add(e.data.ref);
    if (e.kind === 'fill') {
      position += (e.data.side === 'BUY' ? 1 : -1) * (e.data.quantity as number);
      open.delete(e.data.ref);
    }
    if (e.kind === 'order' && (e.data.status === 'CANCELLED' || e.data.status === 'REJECTED')) open.delete(e.data.ref);
  }
  return position === 0 && open.size === 0;
}

describe('runner: a symbol added and removed through the control API during a lock-step replay', () => {
  it('decides from its add as the run that had it from the start, and not at all after its removal', async () => {
    const started = performance.now();
    const a = await replay({ initial: SYMBOLS }, 'a');
    expect(a.stalls).toEqual([]);
    const aIbm = (x: number, y: number) => trading(a.events, ADDED, x, y).filter((e) => e.kind === 'decision').length;
    // T_add: from 11:00 NY, the first minute A is flat in IBM with IBM decisions within the next
    // hour; T_remove: from 13:30 NY, likewise, with A deciding on IBM after it
    const pick = (from: number) => {
      for (let t = from; t < TO - 60 * MIN; t += MIN) if (flatAt(a.events, t) && aIbm(t, t + 60 * MIN) > 0) return t;
      throw new Error(`no flat IBM minute with later decisions after ${new Date(from).toISOString()}`);
    };
    const tAdd = pick(Date.UTC(2013, 9, 8, 15, 0));
    const tRemove = pick(Math.max(Date.UTC(2013, 9, 8, 17, 30), tAdd + 60 * MIN));

    const b = await replay({ initial: ['SPY'], add: { at: tAdd, symbol: ADDED }, remove: { at: tRemove, symbol: ADDED } }, 'b');
    const elapsed = performance.now() - started;
    expect(b.stalls).toEqual([]);
    expect(b.answers.map((x) => [x.action, x.status, (x.body as { symbol?: { state?: string } }).symbol?.state])).toEqual([
      [`add ${ADDED}`, 200, 'active'],
      [`remove ${ADDED}`, 200, 'retired'],
    ]);

    // B's warm-up of IBM at its add: the SLOW+1 bars that closed by T_add, exactly the bars A saw
    const warm = b.events.filter((e) => e.kind === 'warmup' && e.instrument === ADDED);
    expect(warm).toHaveLength(SLOW + 1);
    const aBars = bars(a.events, ADDED, -Infinity, tAdd).slice(-(SLOW + 1));
    expect(warm.map((e) => [e.ts + MIN, e.data.open, e.data.high, e.data.low, e.data.close, e.data.volume])).toEqual(aBars.map((e) => [e.ts, e.data.open, e.data.high, e.data.low, e.data.close, e.data.volume]));

    // from the add to the removal: the same bars, decisions, outcomes and fills as A
    expect(bars(b.events, ADDED, tAdd, tRemove)).toEqual(bars(a.events, ADDED, tAdd, tRemove));
    const aSpan = trading(a.events, ADDED, tAdd, tRemove);
    const bSpan = trading(b.events, ADDED, tAdd, tRemove);
    const diff = diffParity(aSpan, bSpan);
    expect(diff.firstDivergence).toBeUndefined();
    expect(diff.equal).toBe(true);
    expect(aSpan.filter((e) => e.kind === 'fill').length).toBeGreaterThan(0);
    // nothing of IBM in B before the add (it was not a member) or after the removal, while A goes on
    expect(b.events.filter((e) => e.instrument === ADDED && e.kind !== 'warmup' && (e.ts <= tAdd || e.ts > tRemove))).toEqual([]);
    expect(aIbm(tRemove, TO)).toBeGreaterThan(0);
    // SPY, a member throughout, is untouched by the add and the removal
    const spy = diffParity(trading(a.events, 'SPY', -Infinity, TO), trading(b.events, 'SPY', -Infinity, TO));
    expect(spy.firstDivergence).toBeUndefined();
    expect(bars(b.events, 'SPY', -Infinity, TO)).toEqual(bars(a.events, 'SPY', -Infinity, TO));

    expect(a.summary.stopReason).toBe('end of replay');
    expect(b.summary.stopReason).toBe('end of replay');
    expect(b.summary.universe!.created).toBe(2);
    expect(b.summary.universe!.retired).toBe(1);
    console.info(
      `universe add: IBM added ${new Date(tAdd).toISOString()}, removed ${new Date(tRemove).toISOString()}; ${diff.matched} IBM trading events equal (${aSpan.filter((e) => e.kind === 'decision').length} decisions), A decided ${aIbm(tRemove, TO)} more after the removal; test ${Math.round(elapsed)} ms`,
    );
  }, 600_000);
});
