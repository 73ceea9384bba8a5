/**
 * KernelUniverse `restore` on a backtest kernel whose portfolio was seeded with Kernel.restore (what
 * a resumed runner, or a new run adopting the broker's positions, has before the strategy starts):
 * positions outside the configured symbols come back as signal-driven members (data, exits, retired
 * once flat and idle), operator-added members come back pinned, a symbol that was being removed
 * comes back and is removed again. Without `restore` the same position gets no data and no exit.
 */
import { describe, expect, it } from 'vitest';
import { noCommission } from '../backtest/commission.js';
import { SimulatedVenue } from '../backtest/sim-venue.js';
import { SimulatedClock } from '../engine/clock.js';
import { Kernel } from '../engine/kernel.js';
import { MemorySignalProvider } from '../signals/memory-provider.js';
import type { Signal } from '../signals/signal.js';
import { ProviderSignalSource } from '../signals/signal-source.js';
import type { TradingRules } from '../trading/trading-params.js';
import { signalTrader } from '../../strategies/signal-trader/index.js';
import { KernelUniverse, dataClientResolver, type UniverseRestore, type UniverseRestoreResult } from './kernel-universe.js';
import { memoryData, MIN, OPEN, sig } from './universe-fixtures.js';
import type { UniverseEvent, UniverseMode } from './universe-types.js';

const SYMBOLS = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE'];
const END = OPEN + 60 * MIN;

interface Setup {
  mode: UniverseMode;
  symbols?: string[];
  positions: Record<string, { quantity: number; avgPrice: number }>;
  restore?: UniverseRestore;
  signals?: Signal[];
  trading: TradingRules;
  idleMs: number;
  /** Removal hooks that log their calls, then do what the kernel's would (halt, market close) */
  logHooks?: boolean;
}

async function run(s: Setup) {
  const data = memoryData(SYMBOLS, 90);
  const kernel = new Kernel({ environment: 'backtest', clock: new SimulatedClock(OPEN), dataClient: data, executionClient: new SimulatedVenue({ fill: 'next-open', commission: noCommission() }), startingCash: 1e6, trading: { rules: s.trading } });
  // what a resumed run's engine holds before run(): the journal's (or the broker's) positions
  const restored = await kernel.restore({ positions: s.positions });
  expect(restored.unresolved).toEqual([]);
  let restoreAsked = 0;
  const hookLog: string[] = [];
  const reported: UniverseRestoreResult[] = [];
  const universe: KernelUniverse = new KernelUniverse(kernel, {
    mode: s.mode,
    ...(s.symbols !== undefined ? { symbols: s.symbols } : {}),
    idleMs: s.idleMs,
    strategyId: signalTrader.name,
    interval: '1m',
    history: 3,
    resolve: dataClientResolver(data),
    onRestoreResult: (x) => reported.push(x),
    ...(s.logHooks === true
      ? {
          removal: {
            hooks: {
              stopEntries: (i: string) => {
                hookLog.push(`stop ${i} ${universe.manager.entry(i)?.state ?? 'none'}`);
                const index = kernel.instruments.indexOf(i);
                if (index !== undefined) kernel.risk.haltInstrument(index, 'removal');
              },
              resumeEntries: (i: string) => {
                hookLog.push(`resume ${i}`);
                const index = kernel.instruments.indexOf(i);
                if (index !== undefined) kernel.risk.resumeInstrument(index);
              },
              close: (i: string) => void hookLog.push(`close ${i} ${universe.manager.entry(i)?.state ?? 'none'}`),
            },
          },
        }
      : {}),
    // asked once, at the start, with the positions already in the portfolio
    ...(s.restore !== undefined
      ? {
          restore: () => {
            restoreAsked++;
            expect(kernel.portfolio.position(Object.keys(s.positions)[0]!)).not.toBe(0);
            return s.restore!;
          },
        }
      : {}),
  });
  const events: UniverseEvent[] = [];
  universe.manager.on((e) => events.push(e));
  const bars = new Map<string, number>();
  kernel.bus.subscribe('data.bar', (b) => bars.set(b.instrument, (bars.get(b.instrument) ?? 0) + 1));
  kernel.addSource(new ProviderSignalSource({ provider: new MemorySignalProvider(s.signals ?? []), after: OPEN, until: END, onSignal: universe.onSignal }));
  kernel.addStrategy(signalTrader, { params: {}, subscriptions: [] });
  await kernel.run(END);
  const orders = [...kernel.orders.all()].map((o) => ({ at: (o.createdAt - OPEN) / MIN, instrument: o.instrument, side: o.side, quantity: o.quantity, type: o.type, tag: o.tag, status: o.status }));
  const states = (sym: string) => events.filter((e) => e.type === 'state' && e.symbol === sym).map((e) => (e.type === 'state' ? `${e.from}>${e.to}@${(e.ts - OPEN) / MIN}` : ''));
  return { kernel, universe, events, bars, orders, states, hookLog, reported, restoreAsked: () => restoreAsked };
}

// far above the memory data's prices (50..150): a 5% stop under it triggers on the first bar seen
const HELD = { quantity: 10, avgPrice: 1000 };
const STOP_RULES: TradingRules = { defaults: { unitSize: 10, maxPosition: 10, stopLossPct: 5 }, symbols: {} };

describe('KernelUniverse restore', () => {
  it('a position outside the configured symbols comes back as a signal-driven member: bars, its stop exit, retired once flat and idle', async () => {
    const r = await run({ mode: 'dynamic', positions: { CCC: HELD }, restore: { signal: ['CCC'] }, signals: [sig('BBB', 5, 1)], trading: STOP_RULES, idleMs: 10 * MIN });
    expect(r.restoreAsked()).toBe(1);
    expect(r.universe.restoreResults).toEqual([{ symbol: 'CCC', as: 'signal', ok: true }]);
    // activated at the start (before any signal), then retired once the exit had closed it and it was idle
    expect(r.states('CCC')).toEqual(['pending>resolving@0', 'resolving>warming@0', 'warming>active@0', 'active>retired@10']);
    const ccc = r.universe.manager.entry('CCC')!;
    expect(ccc).toMatchObject({ origin: 'signal', pinned: false, activations: 1, delivered: 0 });
    // its bars reached the kernel, so the stop exit saw them: one market sell of the whole position
    expect(r.bars.get('CCC')).toBeGreaterThan(0);
    expect(r.orders.filter((o) => o.instrument === 'CCC')).toEqual([{ at: 1, instrument: 'CCC', side: 'SELL', quantity: 10, type: 'MARKET', tag: 'exit:stop-loss', status: 'FILLED' }]);
    expect(r.kernel.portfolio.position('CCC')).toBe(0);
    // signals keep working beside it
    expect(r.orders.filter((o) => o.instrument === 'BBB').map((o) => o.side)).toEqual(['BUY']);
  });

  it('without restore the same position gets no data and no exit (what a restarted runner had)', async () => {
    const r = await run({ mode: 'dynamic', positions: { CCC: HELD }, signals: [sig('BBB', 5, 1)], trading: STOP_RULES, idleMs: 10 * MIN });
    expect(r.states('CCC')).toEqual([]);
    expect(r.bars.get('CCC')).toBeUndefined();
    expect(r.orders.filter((o) => o.instrument === 'CCC')).toEqual([]);
    expect(r.kernel.portfolio.position('CCC')).toBe(10);
  });

  it('a member with a position is never retired while it holds it', async () => {
    // no exits: the position stays; 40 idle minutes pass and the member stays active
    const r = await run({ mode: 'mixed', symbols: ['AAA'], positions: { CCC: { quantity: -10, avgPrice: 100 } }, restore: { signal: ['CCC'] }, trading: { defaults: { unitSize: 10, maxPosition: 10 }, symbols: {} }, idleMs: 5 * MIN });
    expect(r.states('CCC')).toEqual(['pending>resolving@0', 'resolving>warming@0', 'warming>active@0']);
    expect(r.universe.manager.entry('CCC')).toMatchObject({ state: 'active', origin: 'signal', pinned: false });
    expect(r.bars.get('CCC')).toBe(60);
    expect(r.kernel.portfolio.position('CCC')).toBe(-10);
  });

  it('added members come back pinned, a symbol being removed is activated and removed again, configured symbols are left to the start', async () => {
    const r = await run({
      mode: 'mixed',
      symbols: ['AAA'],
      positions: { EEE: { quantity: 10, avgPrice: 100 }, AAA: { quantity: 10, avgPrice: 100 } },
      restore: { added: ['DDD'], removing: [{ symbol: 'EEE', flatten: 'market' }], signal: ['AAA'] },
      // EEE's later buy signal must not trade (it is being removed), DDD's does (a member again)
      signals: [sig('EEE', 20, 1), sig('DDD', 30, 1)],
      trading: { defaults: { unitSize: 10, maxPosition: 10 }, symbols: {} },
      idleMs: 5 * MIN,
    });
    expect(r.universe.restoreResults).toEqual(
      expect.arrayContaining([
        { symbol: 'DDD', as: 'added', ok: true },
        { symbol: 'EEE', as: 'removing', ok: true },
      ]),
    );
    expect(r.universe.restoreResults).toHaveLength(2);
    // DDD: pinned, active through 60 idle minutes (5 min idle time), and it trades its signal
    expect(r.universe.manager.entry('DDD')).toMatchObject({ state: 'active', origin: 'added', pinned: true, delivered: 1 });
    expect(r.orders.filter((o) => o.instrument === 'DDD').map((o) => [o.at, o.side, o.status])).toEqual([[30, 'BUY', 'FILLED']]);
    // EEE: active, retiring (one market close, entries stopped), retired once flat
    expect(r.states('EEE')).toEqual(['pending>resolving@0', 'resolving>warming@0', 'warming>active@0', 'active>retiring@0', 'retiring>retired@1']);
    expect(r.orders.filter((o) => o.instrument === 'EEE')).toEqual([{ at: 0, instrument: 'EEE', side: 'SELL', quantity: 10, type: 'MARKET', tag: 'universe:removal', status: 'FILLED' }]);
    expect(r.kernel.portfolio.position('EEE')).toBe(0);
    // AAA is configured: activated by the universe's start as a static member, not restored
    expect(r.universe.manager.entry('AAA')).toMatchObject({ state: 'active', origin: 'static', activations: 1 });
    expect(r.kernel.portfolio.position('AAA')).toBe(10);
  });

  it("a removal that was waiting for the position with flatten 'none' waits again; a static universe takes positions pinned", async () => {
    const r = await run({
      mode: 'static',
      symbols: ['AAA'],
      positions: { EEE: { quantity: 10, avgPrice: 100 }, CCC: { quantity: 5, avgPrice: 100 } },
      restore: { removing: [{ symbol: 'EEE', flatten: 'none' }], signal: ['CCC'] },
      trading: { defaults: { unitSize: 10, maxPosition: 10 }, symbols: {} },
      idleMs: 5 * MIN,
    });
    expect(r.states('EEE').slice(-1)).toEqual(['active>retiring@0']);
    expect(r.orders.filter((o) => o.instrument === 'EEE')).toEqual([]);
    expect(r.universe.manager.entry('CCC')).toMatchObject({ state: 'active', origin: 'added', pinned: true });
    expect(r.bars.get('CCC')).toBe(60);
  });

  it('a symbol being removed: entries stopped at once (before it is active), no signal delivered before the removal; the halt stays after it leaves', async () => {
    const r = await run({
      mode: 'dynamic',
      positions: { EEE: { quantity: 10, avgPrice: 100 } },
      restore: { removing: [{ symbol: 'EEE', flatten: 'none' }] },
      // must not trade (it is being removed; a signal held while it warms up: universe-manager.test.ts)
      signals: [sig('EEE', 1, 1), sig('EEE', 2, 1)],
      trading: { defaults: { unitSize: 10, maxPosition: 20 }, symbols: {} },
      idleMs: 5 * MIN,
      logHooks: true,
    });
    // stopped while it was still resolving: the supervisor's removal halt did not survive the restart
    expect(r.hookLog).toEqual(['stop EEE resolving']);
    expect(r.states('EEE')).toEqual(['pending>resolving@0', 'resolving>warming@0', 'warming>active@0', 'active>retiring@0']);
    expect(r.orders.filter((o) => o.instrument === 'EEE')).toEqual([]);
    expect(r.universe.manager.counters).toMatchObject({ skippedRetiring: 2, delivered: 0 });
    expect(r.reported).toEqual([{ symbol: 'EEE', as: 'removing', ok: true }]);
    expect(r.kernel.risk.instrumentHalt(r.kernel.instruments.indexOf('EEE')!)).toBe('removal');
  });

  it('restored members are requested before the configured symbols, position holders first; a held symbol that does not come back is reported (and a removal that failed lifts its stop)', async () => {
    const r = await run({
      mode: 'mixed',
      symbols: ['AAA'],
      positions: { CCC: { quantity: 5, avgPrice: 100 } },
      // ZZZ and QQQ are not in the data: invalid
      restore: { signal: ['CCC', 'ZZZ'], removing: [{ symbol: 'QQQ' }], added: ['DDD'] },
      trading: { defaults: { unitSize: 10, maxPosition: 10 }, symbols: {} },
      idleMs: 5 * MIN,
      logHooks: true,
    });
    const resolving = r.events.filter((e) => e.type === 'state' && e.to === 'resolving').map((e) => e.symbol);
    expect(resolving).toEqual(['CCC', 'ZZZ', 'QQQ', 'DDD', 'AAA']);
    expect(r.reported).toEqual(
      expect.arrayContaining([
        { symbol: 'CCC', as: 'signal', ok: true },
        { symbol: 'DDD', as: 'added', ok: true },
        { symbol: 'ZZZ', as: 'signal', ok: false, error: expect.stringMatching(/^invalid: /) },
        { symbol: 'QQQ', as: 'removing', ok: false, error: expect.stringMatching(/^invalid: /) },
      ]),
    );
    expect(r.reported).toHaveLength(4);
    expect(r.universe.restoreResults).toEqual(r.reported);
    expect(r.hookLog).toEqual(['stop QQQ resolving', 'resume QQQ']);
  });
});
