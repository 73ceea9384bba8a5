import { describe, expect, it } from 'vitest';
import { MemorySignalProvider } from '../signals/memory-provider.js';
import type { TradingRules } from '../trading/trading-params.js';
import { signalTrader } from '../../strategies/signal-trader/index.js';
import { runUniverseBacktest, type UniverseBacktestConfig } from './universe-backtest.js';
import { memoryData, MIN, OPEN, sig } from './universe-fixtures.js';
import type { RemovalFlatten } from './universe-types.js';

// one unit of 10, no stop or max hold: the position stays open until something closes it
const TRADING: TradingRules = { defaults: { unitSize: 10, maxPosition: 10 }, symbols: {} };
// AAA goes long at minute 10; the later long signals would buy again after any close
const SIGNALS = [sig('AAA', 10, 1), sig('AAA', 40, 1), sig('AAA', 60, 1), sig('AAA', 90, 1), sig('BBB', 5, 1)];
const REMOVE_AT = OPEN + 30 * MIN;

function run(policy: RemovalFlatten | undefined, override?: RemovalFlatten) {
  const c: UniverseBacktestConfig = {
    strategy: signalTrader,
    data: memoryData(['AAA', 'BBB'], 120),
    cash: 1_000_000,
    trading: TRADING,
    from: OPEN,
    signals: new MemorySignalProvider(SIGNALS),
    universe: { mode: 'static', symbols: ['AAA', 'BBB'], interval: '1m', history: 5, ...(policy !== undefined ? { removal: { flatten: policy } } : {}) },
    actions: [{ at: REMOVE_AT, remove: 'AAA', ...(override !== undefined ? { flatten: override } : {}) }],
  };
  return runUniverseBacktest(c);
}

/** AAA's position at the end, from the fills */
const aaaPosition = (r: Awaited<ReturnType<typeof run>>) => r.fills.filter((f) => f.instrument === 'AAA').reduce((q, f) => q + (f.side === 'BUY' ? f.quantity : -f.quantity), 0);

const aaaOrders = (r: Awaited<ReturnType<typeof run>>) => r.orders.filter((o) => o.instrument === 'AAA').map((o) => [(o.createdAt - OPEN) / MIN, o.side, o.quantity, o.type, o.tag, o.status]);

describe('graceful removal with an open position', () => {
  it("flatten 'market' (the default): entries stop, one market close, then retired once flat", async () => {
    const r = await run(undefined);
    expect(r.actions).toEqual([{ at: REMOVE_AT, action: 'remove', symbol: 'AAA', ok: true, state: 'retiring' }]);
    const orders = aaaOrders(r);
    // the entry at its signal, then only the removal's close at the removal time: no entry after it
    expect(orders.length).toBe(2);
    expect(orders[0]!.slice(1, 3)).toEqual(['BUY', 10]);
    expect(orders[0]![0]).toBeLessThan(30);
    expect(orders[1]).toEqual([30, 'SELL', 10, 'MARKET', 'universe:removal', 'FILLED']);
    expect(r.orders.filter((o) => o.instrument === 'AAA' && o.createdAt > REMOVE_AT)).toEqual([]);
    expect(aaaPosition(r)).toBe(0);
    expect(r.openPositions.filter((p) => p.instrument === 'AAA')).toEqual([]);
    const aaa = r.universeEvents.filter((e) => e.type === 'state' && e.symbol === 'AAA' && e.ts >= REMOVE_AT).map((e) => e.type === 'state' && [e.from, e.to]);
    expect(aaa).toEqual([
      ['active', 'retiring'],
      ['retiring', 'retired'],
    ]);
    expect(r.universe.entries.find((e) => e.symbol === 'AAA')?.state).toBe('retired');
    // the later AAA signals were not traded; BBB kept trading
    expect(r.universe.counters.skippedRetiring + r.universe.counters.ignored).toBeGreaterThan(0);
    expect(r.orders.some((o) => o.instrument === 'BBB')).toBe(true);
  });

  it("flatten 'none': the symbol keeps its position and stays retiring", async () => {
    const r = await run('none');
    expect(r.actions[0]!.state).toBe('retiring');
    expect(aaaOrders(r).map((o) => o[1])).toEqual(['BUY']);
    expect(aaaPosition(r)).toBe(10);
    expect(r.universe.entries.find((e) => e.symbol === 'AAA')?.state).toBe('retiring');
  });

  it('a per-request flatten overrides the configured policy', async () => {
    const r = await run('none', 'market');
    expect(aaaOrders(r).map((o) => [o[1], o[4]])).toEqual([
      ['BUY', 'signal'],
      ['SELL', 'universe:removal'],
    ]);
    expect(r.universe.entries.find((e) => e.symbol === 'AAA')?.state).toBe('retired');
    const kept = await run('market', 'none');
    expect(kept.universe.entries.find((e) => e.symbol === 'AAA')?.state).toBe('retiring');
  });
});
