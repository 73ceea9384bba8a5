import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { OrderRecord } from '../backtest/result-types.js';
import { defineStrategy } from '../engine/strategy.js';
import { DuckDbSignalProvider, insertSignals } from '../signals/duckdb-provider.js';
import { MemorySignalProvider } from '../signals/memory-provider.js';
import type { Signal } from '../signals/signal.js';
import { Store } from '../store/store.js';
import type { TradingRules } from '../trading/trading-params.js';
import { signalTrader } from '../../strategies/signal-trader/index.js';
import { runUniverseBacktest, type UniverseBacktestConfig } from './universe-backtest.js';
import { memoryData, minuteBars, MIN, OPEN, sig } from './universe-fixtures.js';
import type { UniverseEvent } from './universe-types.js';

const SYMBOLS = ['AAA', 'BBB', 'CCC', 'DDD'];
const RULES: TradingRules = { defaults: { unitSize: 10, maxPosition: 20, stopLossPct: 0.4, maxHoldMinutes: 45 }, symbols: { CCC: { unitSize: 5, maxPosition: 5 } } };

/**
 * Each symbol starts signalling at its own minute, then every `period` minutes with a sign pattern
 * from its index, published with a lag of 0-2 minutes (so signals of different symbols share
 * publication times and some are seen after their ts).
 */
function signalPlan(): Signal[] {
  const plan: [string, number, number][] = [
    ['AAA', 15, 7],
    ['BBB', 60, 11],
    ['CCC', 122, 5],
    ['DDD', 200, 13],
  ];
  const out: Signal[] = [];
  for (const [symbol, first, period] of plan) {
    for (let k = 0, m = first; m < 380; k++, m += period) out.push(sig(symbol, m, (k * 7 + symbol.charCodeAt(0)) % 3 === 0 ? -0.8 : 0.6, k % 3));
  }
  return out;
}

function config(over: Partial<UniverseBacktestConfig> & Pick<UniverseBacktestConfig, 'universe'>): UniverseBacktestConfig {
  return { strategy: signalTrader, data: memoryData(SYMBOLS), cash: 1_000_000, trading: RULES, from: OPEN, signals: new MemorySignalProvider(signalPlan()), ...over };
}

/**
 * What the rules decided: every order (time, instrument, side, size, type, tag, outcome), by time and
 * instrument. Orders of different instruments at the same time may come in another order when an
 * instrument was subscribed again (bars closing together go in subscription order): same decisions.
 */
const decisions = (orders: readonly OrderRecord[]) =>
  [...orders].sort((a, b) => a.createdAt - b.createdAt || (a.instrument < b.instrument ? -1 : a.instrument > b.instrument ? 1 : 0)).map((o) => [o.createdAt - OPEN, o.instrument, o.side, o.quantity, o.type, o.tag, o.status, o.avgFillPrice]);

/** Instrument -> [from, to) times it was active, from the universe's events */
function activeSpans(events: readonly UniverseEvent[]): Map<string, [number, number][]> {
  const spans = new Map<string, [number, number][]>();
  for (const e of events) {
    if (e.type !== 'state') continue;
    const list = spans.get(e.symbol) ?? [];
    spans.set(e.symbol, list);
    if (e.to === 'active') list.push([e.ts, Infinity]);
    else if (e.from === 'active' || e.from === 'retiring') list[list.length - 1]![1] = e.ts;
  }
  return spans;
}

describe('runUniverseBacktest', () => {
  it('a signal-driven universe decides exactly as a run that had every symbol from the start', async () => {
    const fixed = await runUniverseBacktest(config({ universe: { mode: 'static', symbols: SYMBOLS, interval: '1m', history: 20 } }));
    const dynamic = await runUniverseBacktest(config({ universe: { mode: 'dynamic', interval: '1m', history: 20 } }));
    const mixed = await runUniverseBacktest(config({ universe: { mode: 'mixed', symbols: ['BBB'], interval: '1m', history: 20 } }));
    // the rules traded every symbol, with signal entries and exits (stop-loss, max hold)
    expect(new Set(fixed.orders.map((o) => o.instrument))).toEqual(new Set(SYMBOLS));
    expect(fixed.orders.filter((o) => o.tag.startsWith('exit:')).length).toBeGreaterThan(0);
    expect(fixed.orders.length).toBeGreaterThan(40);
    expect(decisions(dynamic.orders)).toEqual(decisions(fixed.orders));
    expect(decisions(mixed.orders)).toEqual(decisions(fixed.orders));
    expect(dynamic.fills).toEqual(fixed.fills);
    expect(dynamic.finalValue).toBe(fixed.finalValue);
    // the dynamic run streamed each symbol only from its first signal: fewer bars
    expect(dynamic.signalsSeen).toBe(fixed.signalsSeen);
    expect(dynamic.bars).toBeLessThan(fixed.bars);
    const firstActive = dynamic.universeEvents.filter((e) => e.type === 'state' && e.to === 'active').map((e) => [e.symbol, (e.ts - OPEN) / MIN]);
    expect(firstActive).toEqual([
      ['AAA', 15],
      ['BBB', 60],
      ['CCC', 122],
      ['DDD', 200],
    ]);
  });

  it('adding a symbol at runtime trades it from then on exactly as a run that had it from the start; removing it stops it', async () => {
    // AAA: long at 20, flat at 40; long at 120, flat 150; long 200, flat 220; long 300, flat 330
    const aaa = [sig('AAA', 20, 1), sig('AAA', 40, -1), sig('AAA', 120, 1), sig('AAA', 150, -1), sig('AAA', 200, 1), sig('AAA', 220, -1), sig('AAA', 300, 1), sig('AAA', 330, -1)];
    const bbb = [sig('BBB', 30, 1), sig('BBB', 90, -1), sig('BBB', 95, -1), sig('BBB', 250, 1)];
    const signals = new MemorySignalProvider([...aaa, ...bbb]);
    const trading: TradingRules = { defaults: { unitSize: 10, maxPosition: 10 }, symbols: {} };
    const full = await runUniverseBacktest(config({ signals, trading, universe: { mode: 'static', symbols: ['AAA', 'BBB'], interval: '1m', history: 5 } }));
    const live = await runUniverseBacktest(
      config({
        signals,
        trading,
        universe: { mode: 'static', symbols: ['BBB'], interval: '1m', history: 5 },
        actions: [
          { at: OPEN + 100 * MIN, add: 'AAA' },
          { at: OPEN + 250 * MIN, remove: 'AAA' },
        ],
      }),
    );
    expect(live.actions).toEqual([
      { at: OPEN + 100 * MIN, action: 'add', symbol: 'AAA', ok: true, state: 'active' },
      { at: OPEN + 250 * MIN, action: 'remove', symbol: 'AAA', ok: true, state: 'retired' },
    ]);
    const inWindow = full.orders.filter((o) => o.instrument !== 'AAA' || (o.createdAt >= OPEN + 100 * MIN && o.createdAt < OPEN + 250 * MIN));
    expect(decisions(live.orders)).toEqual(decisions(inWindow));
    expect(live.orders.filter((o) => o.instrument === 'AAA').map((o) => [(o.createdAt - OPEN) / MIN, o.side])).toEqual([
      [120, 'BUY'],
      [150, 'SELL'],
      [200, 'BUY'],
      [220, 'SELL'],
    ]);
    expect(live.universe.counters.ignored).toBe(4);
  });

  it('sees signals only from their publication time; a symbol joins with its first visible signal and warms up on history up to then', async () => {
    type Seen = { now: number; symbol: string; ts: number; instruments: string[]; window: number; lastBarClose: number; lastClose: number };
    const seen: Seen[] = [];
    const barsAfter: Record<string, number[]> = {};
    const probe = defineStrategy({
      name: 'probe',
      version: '1.0.0',
      description: 'records what a strategy sees at each signal',
      params: z.object({}),
      create: (ctx) => ({
        onSignal(s) {
          const h = ctx.history(s.instrument);
          seen.push({ now: ctx.now(), symbol: s.symbol, ts: s.ts, instruments: ctx.instruments(), window: h.length, lastBarClose: h.ts(0) + MIN, lastClose: h.close(0) });
        },
        onBar(b) {
          (barsAfter[b.instrument] ??= []).push(b.closeTime);
        },
      }),
    });
    const signals = new MemorySignalProvider([
      sig('AAA', 10, 1),
      // about minute 20, published at 35: invisible before 35
      sig('BBB', 20, 1, 15),
      sig('AAA', 30, 1),
      // published after the run's end (minute 200): never seen
      sig('CCC', 150, 1, 60),
    ]);
    const r = await runUniverseBacktest({ strategy: probe, data: memoryData(SYMBOLS), cash: 1e6, from: OPEN, to: OPEN + 200 * MIN, signals, universe: { mode: 'dynamic', interval: '1m', history: 8 } });
    expect(seen.map((s) => [(s.now - OPEN) / MIN, s.symbol, (s.ts - OPEN) / MIN, s.instruments])).toEqual([
      [10, 'AAA', 10, ['AAA']],
      [30, 'AAA', 30, ['AAA']],
      [35, 'BBB', 20, ['AAA', 'BBB']],
    ]);
    const bbb = minuteBars('BBB');
    for (const s of seen) {
      // the warm-up window: 8 bars, the newest closed exactly at the signal time (never after it)
      expect(s.window).toBe(8);
      expect(s.lastBarClose).toBe(s.now);
    }
    // BBB's history at 35 ends with the bar 09:34-09:35 (index 34)
    expect(seen[2]!.lastClose).toBe(bbb.close[34]);
    // BBB streams bars closing after its activation only: the first at 36
    expect((barsAfter['BBB']![0]! - OPEN) / MIN).toBe(36);
    expect(r.signalsSeen).toBe(3);
    expect(r.universe.entries.map((e) => e.symbol)).toEqual(['AAA', 'BBB']);
  });

  it('retires idle symbols and brings them back on their next signal, still deciding as the static run', async () => {
    const fixed = await runUniverseBacktest(config({ universe: { mode: 'static', symbols: SYMBOLS, interval: '1m' } }));
    const idle = await runUniverseBacktest(config({ universe: { mode: 'dynamic', interval: '1m', idleMs: 6 * MIN } }));
    expect(decisions(idle.orders)).toEqual(decisions(fixed.orders));
    const retired = idle.universeEvents.filter((e) => e.type === 'state' && e.to === 'retired');
    expect(retired.length).toBeGreaterThan(5);
    // a retired symbol was flat with no working orders at that moment (never retired with a position)
    for (const e of retired) {
      const filled = idle.fills.filter((f) => f.instrument === e.symbol && f.ts <= e.ts);
      expect(filled.reduce((q, f) => q + (f.side === 'BUY' ? f.quantity : -f.quantity), 0)).toBe(0);
      expect(idle.orders.some((o) => o.instrument === e.symbol && o.createdAt <= e.ts && o.updatedAt > e.ts)).toBe(false);
    }
    expect(Math.max(...idle.universe.entries.map((e) => e.activations))).toBeGreaterThan(1);
  });

  it('never streams more instruments than the line budget; waiting ones trade only once they get a line', async () => {
    const r = await runUniverseBacktest(config({ universe: { mode: 'dynamic', interval: '1m', idleMs: 8 * MIN, lineBudget: 2 } }));
    expect(r.peakLines).toBe(2);
    const waited = r.universeEvents.filter((e) => e.type === 'state' && e.to === 'waiting-for-line');
    expect(waited.length).toBeGreaterThan(0);
    // every order of the rules was placed while its instrument was active
    const spans = activeSpans(r.universeEvents);
    for (const o of r.orders) expect(spans.get(o.instrument)!.some(([a, b]) => o.createdAt >= a && o.createdAt <= b)).toBe(true);
    // at no time were more than 2 instruments active
    const edges = r.universeEvents.filter((e): e is Extract<UniverseEvent, { type: 'state' }> => e.type === 'state');
    let active = 0;
    for (const e of edges) {
      if (e.to === 'warming') active++;
      if (e.from === 'active' || e.from === 'retiring' || (e.from === 'warming' && e.to !== 'active')) active--;
      expect(active).toBeLessThanOrEqual(2);
    }
  });

  it('preemption: a strong signal takes the line of a weak idle member and trades where it used to wait', async () => {
    // AAA's weak signal (below the threshold: no trade) takes the only line at minute 10 and idles
    const trading: TradingRules = { defaults: { unitSize: 10, maxPosition: 10, tradeThreshold: 0.3 }, symbols: {} };
    const bbb = [sig('BBB', 20, 0.9), sig('BBB', 50, -0.9)];
    const signals = new MemorySignalProvider([sig('AAA', 10, 0.1), ...bbb]);
    const universe = { mode: 'dynamic' as const, interval: '1m' as const, history: 5, idleMs: 120 * MIN, maxSignalAgeMs: 10 * MIN, lineBudget: 1 };
    const on = await runUniverseBacktest(config({ signals, trading, universe }));
    const off = await runUniverseBacktest(config({ signals, trading, universe: { ...universe, preempt: false } }));
    const alone = await runUniverseBacktest(config({ signals: new MemorySignalProvider(bbb), trading, universe: { mode: 'static', symbols: ['BBB'], interval: '1m', history: 5 } }));
    // without preemption BBB waited for AAA's idle retirement (minute 130): its signal was stale by then
    expect(off.orders).toEqual([]);
    expect(off.universe.counters).toMatchObject({ droppedStale: 1, evicted: 0 });
    expect(off.universeEvents.find((e) => e.type === 'state' && e.symbol === 'BBB' && e.to === 'warming')?.ts).toBe(OPEN + 130 * MIN);
    // with it, AAA (active 10 minutes, flat) gave its line at minute 20 and BBB traded as a run that had it from the start
    expect(on.universe.counters).toMatchObject({ evicted: 1, droppedStale: 0 });
    expect(on.universeEvents.find((e) => e.type === 'state' && e.symbol === 'AAA' && e.to === 'retired')).toMatchObject({ ts: OPEN + 20 * MIN, reason: 'evicted: line given to BBB (|signal| 0.9 > 0.1)' });
    expect(on.orders.map((o) => [(o.createdAt - OPEN) / MIN, o.instrument, o.side, o.status])).toEqual([
      [20, 'BBB', 'BUY', 'FILLED'],
      [50, 'BBB', 'SELL', 'FILLED'],
    ]);
    expect(decisions(on.orders)).toEqual(decisions(alone.orders));
    expect([on.peakLines, off.peakLines]).toEqual([1, 1]);
  });

  it('preemption for a symbol already waiting: its stronger signal evicts at that minute and it trades as a from-the-start run', async () => {
    // AAA's weak signal takes the only line at 10; BBB's first signal (12) is too weak to evict it
    // (0.11 is not > 0.1 × 1.25), so BBB waits; its strong one at 20 takes the line in the pass that
    // signal asks for (held work, done before the next event), and BBB trades at 20 exactly as a run
    // that had it from the start
    const trading: TradingRules = { defaults: { unitSize: 10, maxPosition: 10, tradeThreshold: 0.3 }, symbols: {} };
    const bbb = [sig('BBB', 12, 0.11), sig('BBB', 20, 0.9), sig('BBB', 50, -0.9)];
    const signals = new MemorySignalProvider([sig('AAA', 10, 0.1), ...bbb]);
    const universe = { mode: 'dynamic' as const, interval: '1m' as const, history: 5, idleMs: 120 * MIN, maxSignalAgeMs: 15 * MIN, lineBudget: 1 };
    const on = await runUniverseBacktest(config({ signals, trading, universe }));
    const alone = await runUniverseBacktest(config({ signals: new MemorySignalProvider(bbb), trading, universe: { mode: 'static', symbols: ['BBB'], interval: '1m', history: 5 } }));
    const bbbEvents = on.universeEvents.flatMap((e) => (e.type === 'state' && e.symbol === 'BBB' ? [[(e.ts - OPEN) / MIN, e.to]] : []));
    expect(bbbEvents).toEqual([
      [12, 'resolving'],
      [12, 'waiting-for-line'],
      [20, 'warming'],
      [20, 'active'],
      // idle 120 minutes after its last signal (50)
      [170, 'retired'],
    ]);
    expect(on.universeEvents.find((e) => e.type === 'state' && e.symbol === 'AAA' && e.to === 'retired')).toMatchObject({ ts: OPEN + 20 * MIN, reason: 'evicted: line given to BBB (|signal| 0.9 > 0.1)' });
    expect(on.orders.map((o) => [(o.createdAt - OPEN) / MIN, o.instrument, o.side, o.status])).toEqual([
      [20, 'BBB', 'BUY', 'FILLED'],
      [50, 'BBB', 'SELL', 'FILLED'],
    ]);
    expect(decisions(on.orders)).toEqual(decisions(alone.orders));
    expect(on.fills).toEqual(alone.fills);
  });

  it('preemption by timer: a member coming of age is evicted and the waiter activates and trades at that minute, not a bar later', async () => {
    // AAA (weak, active at 10) is too young to evict when BBB's strong signal arrives at 12; the
    // pass the young-member timer asks for at 15 (10 + minActiveMs 5) evicts it. The kernel fires a
    // timer due before the next event on its own and waits for the work it holds (the activation),
    // so BBB is active and trades at 15, as an event-driven eviction would
    const trading: TradingRules = { defaults: { unitSize: 10, maxPosition: 10, tradeThreshold: 0.3 }, symbols: {} };
    const signals = new MemorySignalProvider([sig('AAA', 10, 0.1), sig('BBB', 12, 0.9)]);
    const universe = { mode: 'dynamic' as const, interval: '1m' as const, history: 5, idleMs: 120 * MIN, maxSignalAgeMs: 15 * MIN, lineBudget: 1, preemptRecheckMs: 60 * MIN };
    const r = await runUniverseBacktest(config({ signals, trading, universe }));
    const events = r.universeEvents.flatMap((e) => (e.type === 'state' && (e.ts - OPEN) / MIN <= 16 ? [`${(e.ts - OPEN) / MIN} ${e.symbol} ${e.to}`] : []));
    expect(events).toEqual(['10 AAA resolving', '10 AAA warming', '10 AAA active', '12 BBB resolving', '12 BBB waiting-for-line', '15 AAA retired', '15 BBB warming', '15 BBB active']);
    expect(r.orders.map((o) => [(o.createdAt - OPEN) / MIN, o.instrument, o.side])).toEqual([[15, 'BBB', 'BUY']]);
  });

  it('skips an invalid ticker and refuses bad scripted actions with their codes, the run going on', async () => {
    const signals = new MemorySignalProvider([sig('AAA', 10, 1), sig('ZZZ', 12, 1), sig('ZZZ', 14, 1), sig('AAA', 30, -1)]);
    const r = await runUniverseBacktest(
      config({
        signals,
        trading: { defaults: { unitSize: 10, maxPosition: 10 }, symbols: {} },
        universe: { mode: 'dynamic', interval: '1m' },
        actions: [
          { at: OPEN + 20 * MIN, add: 'AAA' },
          { at: OPEN + 21 * MIN, add: 'QQQ' },
          { at: OPEN + 22 * MIN, remove: 'BBB' },
          { at: OPEN + 23 * MIN, add: 'BBB' },
        ],
      }),
    );
    expect(r.universe.entries.find((e) => e.symbol === 'ZZZ')).toMatchObject({ state: 'invalid', reason: "(memory): no data for instrument 'ZZZ'", activations: 1 });
    expect(r.universe.counters.skippedInvalid).toBe(1);
    expect(r.actions.map((a) => [(a.at - OPEN) / MIN, a.action, a.symbol, a.ok, a.code ?? '', a.state ?? ''])).toEqual([
      [20, 'add', 'AAA', false, 'UNIVERSE_DUPLICATE', 'active'],
      [21, 'add', 'QQQ', false, 'UNIVERSE_INVALID_SYMBOL', ''],
      [22, 'remove', 'BBB', false, 'UNIVERSE_NOT_MEMBER', ''],
      [23, 'add', 'BBB', true, '', 'active'],
    ]);
    expect(r.actions[1]!.error).toBe("QQQ: (memory): no data for instrument 'QQQ'");
    expect(r.orders.filter((o) => o.instrument === 'AAA').map((o) => o.side)).toEqual(['BUY', 'SELL']);
  });

  it('runs the same from the DuckDB signals table as from memory', async () => {
    const store = await Store.open(':memory:');
    try {
      await insertSignals(store, signalPlan());
      const fromTable = await runUniverseBacktest(config({ signals: new DuckDbSignalProvider(store), signalChunk: 7, universe: { mode: 'dynamic', interval: '1m' } }));
      const fromMemory = await runUniverseBacktest(config({ universe: { mode: 'dynamic', interval: '1m' } }));
      expect(fromTable.signalsSeen).toBe(signalPlan().length);
      expect(decisions(fromTable.orders)).toEqual(decisions(fromMemory.orders));
    } finally {
      store.close();
    }
  });
});
