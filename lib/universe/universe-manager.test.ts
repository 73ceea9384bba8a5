import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { harness, MIN } from './universe-harness.js';
import { UniverseManager } from './universe-manager.js';
import { UniverseError } from './universe-types.js';

describe('UniverseManager', () => {
  it('static: activates the configured symbols at start and ignores signals of others (reported once)', async () => {
    const h = harness({ mode: 'static', symbols: ['AAPL', 'MSFT'] });
    expect([h.state('AAPL'), h.state('MSFT')]).toEqual(['pending', 'pending']);
    h.m.start();
    await h.settle();
    expect([h.state('AAPL'), h.state('MSFT')]).toEqual(['active', 'active']);
    await h.signal('AAPL', 0.7);
    await h.signal('IBM', 0.9);
    await h.signal('IBM', 0.9);
    expect(h.delivered.map((s) => [s.symbol, s.instrument, s.value])).toEqual([['AAPL', 'AAPL.K', 0.7]]);
    expect(h.state('IBM')).toBeUndefined();
    expect(h.m.counters.ignored).toBe(2);
    expect(h.events.filter((e) => e.type === 'ignored')).toEqual([{ type: 'ignored', ts: 0, symbol: 'IBM', reason: 'not in the static universe' }]);
  });

  it('dynamic: a signal for an unknown ticker walks resolving → warming → active and is then delivered', async () => {
    const h = harness({ mode: 'dynamic' });
    h.m.start();
    h.m.onSignal({ ts: 0, symbol: 'AAPL', value: 0.5, availableAt: 0 });
    expect(h.state('AAPL')).toBe('resolving');
    // a second signal while activating replaces the first: only the newest is traded
    h.m.onSignal({ ts: 0, symbol: 'AAPL', value: -0.5, availableAt: 0 });
    expect(h.delivered).toEqual([]);
    await h.settle();
    expect(h.events.filter((e) => e.type === 'state').map((e) => (e.type === 'state' ? `${e.from}>${e.to}` : ''))).toEqual(['pending>resolving', 'resolving>warming', 'warming>active']);
    expect(h.delivered.map((s) => [s.instrument, s.value])).toEqual([['AAPL.K', -0.5]]);
    expect([...h.subscribed]).toEqual(['AAPL.K']);
    await h.signal('AAPL', 0.25);
    expect(h.delivered.map((s) => s.value)).toEqual([-0.5, 0.25]);
    expect(h.m.entry('AAPL')).toMatchObject({ origin: 'signal', pinned: false, activations: 1, delivered: 2, lastValue: 0.25 });
  });

  it('records invalid tickers (unknown symbol, no trading parameters, no data) and skips their signals without asking again', async () => {
    const h = harness({ mode: 'dynamic' }, { invalid: ['NOPE'], noTrader: ['NOSIZE'], noData: ['NODATA'], budget: 1 });
    h.m.start();
    await h.signal('NOPE', 1);
    await h.signal('NOSIZE', 1);
    await h.signal('NODATA', 1);
    expect(h.m.entry('NOPE')).toMatchObject({ state: 'invalid', reason: 'no security definition for NOPE', instrument: undefined });
    expect(h.m.entry('NOSIZE')).toMatchObject({ state: 'invalid', reason: 'no trader: trading: invalid configuration\n  - trading.defaults.unitSize: required to trade signals of NOSIZE.K' });
    expect(h.m.entry('NODATA')).toMatchObject({ state: 'invalid', reason: "no market data: no 1m bars for 'NODATA.K'" });
    // the line NODATA took while subscribing was given back
    expect(h.lines.used).toBe(0);
    await h.signal('NOPE', 1);
    expect(h.m.counters.skippedInvalid).toBe(1);
    expect(h.m.entry('NOPE')!.activations).toBe(1);
    expect(h.delivered).toEqual([]);
  });

  it('a transient resolution failure retires the symbol; the next signal tries again', async () => {
    const failing = ['AAPL'];
    const h = harness({ mode: 'dynamic' }, { failing });
    h.m.start();
    await h.signal('AAPL', 1);
    expect(h.m.entry('AAPL')).toMatchObject({ state: 'retired', reason: 'could not resolve now (the next signal tries again): not connected' });
    failing.length = 0;
    await h.signal('AAPL', 1);
    expect(h.m.entry('AAPL')).toMatchObject({ state: 'active', activations: 2 });
    expect(h.delivered).toHaveLength(1);
  });

  it('retires an idle symbol only when flat with no working orders, frees its line, and reactivates it on a new signal', async () => {
    const h = harness({ mode: 'dynamic', idleMs: 30 * MIN, recheckMs: 5 * MIN }, { budget: 2 });
    h.m.start();
    await h.signal('AAPL', 1);
    await h.advance(10 * MIN);
    await h.signal('AAPL', 1);
    // idle from 10m: due at 40m (the timer armed for 30m is pushed back)
    await h.advance(39 * MIN);
    expect(h.state('AAPL')).toBe('active');
    h.positions.set('AAPL.K', 100);
    await h.advance(60 * MIN);
    expect(h.state('AAPL')).toBe('active');
    h.positions.set('AAPL.K', 0);
    h.orders.set('AAPL.K', 1);
    await h.advance(70 * MIN);
    expect(h.state('AAPL')).toBe('active');
    h.orders.set('AAPL.K', 0);
    await h.advance(80 * MIN);
    // re-checked every 5 minutes after 40m: flat with no orders from 70m, retired at the 70m or 75m check
    expect(h.m.entry('AAPL')).toMatchObject({ state: 'retired', reason: 'idle: no signal for 30 min, flat, no working orders' });
    const retired = h.events.find((e) => e.type === 'state' && e.to === 'retired')!;
    expect(retired.ts).toBe(75 * MIN);
    expect(h.log).toEqual(['sub AAPL.K', 'unsub AAPL.K']);
    expect(h.lines.used).toBe(0);
    await h.signal('AAPL', -1);
    expect(h.m.entry('AAPL')).toMatchObject({ state: 'active', activations: 2 });
    expect(h.delivered.map((s) => s.value)).toEqual([1, 1, -1]);
  });

  it('retires right after the position that held it up goes flat (onFlat), not at the next recheck', async () => {
    const h = harness({ mode: 'dynamic', idleMs: 10 * MIN, recheckMs: 30 * MIN });
    h.m.start();
    await h.signal('AAPL', 1);
    h.positions.set('AAPL.K', 10);
    await h.advance(12 * MIN);
    expect(h.state('AAPL')).toBe('active');
    h.positions.set('AAPL.K', 0);
    h.m.onFlat('AAPL.K');
    await h.advance(12 * MIN);
    expect(h.m.entry('AAPL')).toMatchObject({ state: 'retired' });
    expect(h.events.find((e) => e.type === 'state' && e.to === 'retired')!.ts).toBe(12 * MIN);
    // a flat report for a symbol that is not overdue changes nothing
    await h.signal('MSFT', 1);
    h.m.onFlat('MSFT.K');
    await h.advance(13 * MIN);
    expect(h.state('MSFT')).toBe('active');
  });

  it('never retires configured or added symbols for idleness', async () => {
    const h = harness({ mode: 'mixed', symbols: ['SPY'], idleMs: MIN });
    h.m.start();
    await h.settle();
    await h.m.add('QQQ');
    await h.signal('SPY', 1);
    await h.advance(100 * MIN);
    expect([h.state('SPY'), h.state('QQQ')]).toEqual(['active', 'active']);
    expect(h.timers.size).toBe(0);
  });

  it('waits for lines when the budget is full, reports who waits in priority order, and hands a freed line to the strongest', async () => {
    // the waiting order alone: no preemption (see the preemption tests below)
    const h = harness({ mode: 'dynamic', idleMs: 10 * MIN, preempt: false }, { budget: 2 });
    h.m.start();
    await h.signal('A', 0.1);
    await h.signal('B', 0.2);
    await h.advance(MIN);
    await h.signal('C', 0.3);
    await h.signal('D', -0.9);
    await h.signal('E', 0.5);
    expect([h.state('A'), h.state('B'), h.state('C'), h.state('D'), h.state('E')]).toEqual(['active', 'active', 'waiting-for-line', 'waiting-for-line', 'waiting-for-line']);
    const s = h.m.status();
    expect(s.lines).toEqual({ budget: 2, used: 2 });
    expect(s.waiting.map((w) => [w.symbol, w.signal, w.reason])).toEqual([
      ['D', -0.9, 'line budget 2 used up (2 lines held)'],
      ['E', 0.5, 'line budget 2 used up (2 lines held)'],
      ['C', 0.3, 'line budget 2 used up (2 lines held)'],
    ]);
    // C grows stronger than E before a line frees
    await h.advance(5 * MIN);
    await h.signal('C', 0.8);
    // A and B go idle at 10m and free their lines: D (0.9) and C (0.8) get them, E keeps waiting
    await h.advance(10 * MIN);
    expect([h.state('A'), h.state('B'), h.state('C'), h.state('D'), h.state('E')]).toEqual(['retired', 'retired', 'active', 'active', 'waiting-for-line']);
    // the signals that waited are delivered when their symbol becomes active
    expect(h.delivered.map((x) => [x.symbol, x.value])).toEqual([
      ['A', 0.1],
      ['B', 0.2],
      ['D', -0.9],
      ['C', 0.8],
    ]);
    // D trades on; E waited without a new signal for the idle time (since 1m): it gives up its place
    await h.signal('D', -0.7);
    await h.advance(11 * MIN);
    expect(h.state('D')).toBe('active');
    expect(h.m.entry('E')).toMatchObject({ state: 'retired', reason: 'no signal for 10 min while waiting for a line' });
    expect(h.maxUsed()).toBe(2);
  });

  it('puts a waiting symbol with an open position before stronger signals', async () => {
    const h = harness({ mode: 'dynamic', idleMs: 10 * MIN }, { budget: 1 });
    h.m.start();
    await h.signal('A', 0.1);
    await h.advance(MIN);
    await h.signal('B', 0.9);
    await h.signal('C', 0.2);
    h.positions.set('C.K', -50);
    expect(h.m.status().waiting.map((w) => [w.symbol, w.hasPosition])).toEqual([
      ['C', true],
      ['B', false],
    ]);
    await h.advance(10 * MIN);
    expect([h.state('A'), h.state('C'), h.state('B')]).toEqual(['retired', 'active', 'waiting-for-line']);
  });

  it('never holds more lines than the budget under a random stream of signals, positions and retirements', async () => {
    // xorshift with a fixed seed: the same sequence every run
    let seed = 12345;
    const rnd = () => {
      seed ^= seed << 13;
      seed >>>= 0;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      seed >>>= 0;
      return seed / 0x1_0000_0000;
    };
    const h = harness({ mode: 'mixed', symbols: ['S0', 'S1'], idleMs: 3 * MIN, recheckMs: MIN }, { budget: 5 });
    h.m.start();
    await h.settle();
    let t = 0;
    for (let i = 0; i < 400; i++) {
      t += Math.floor(rnd() * 40_000);
      await h.advance(t);
      const sym = `T${Math.floor(rnd() * 20)}`;
      if (rnd() < 0.1) h.positions.set(`${sym}.K`, rnd() < 0.5 ? 0 : 10);
      await h.signal(sym, rnd() * 2 - 1);
      const s = h.m.status();
      expect(s.lines.used).toBeLessThanOrEqual(5);
      expect(s.states.active + s.states.warming).toBe(s.lines.used);
      if (s.states['waiting-for-line'] > 0) expect(s.lines.used).toBe(5);
    }
    expect(h.maxUsed()).toBe(5);
    expect(h.m.status().states.retired).toBeGreaterThan(0);
  });

  it('refuses a duplicate add, an invalid symbol and the removal of a non-member, changing nothing', async () => {
    const h = harness({ mode: 'mixed', symbols: ['SPY'] }, { invalid: ['NOPE'] });
    h.m.start();
    await h.settle();
    await h.signal('AAPL', 1);
    const before = h.m.status();
    const refused = async (f: () => unknown) => {
      try {
        await f();
      } catch (e) {
        expect(e).toBeInstanceOf(UniverseError);
        return `${(e as UniverseError).code}: ${(e as UniverseError).message}`;
      }
      throw new Error('not refused');
    };
    expect(await refused(() => h.m.add('SPY'))).toBe('UNIVERSE_DUPLICATE: SPY: already in the universe (active, static)');
    expect(await refused(() => h.m.add('AAPL'))).toBe('UNIVERSE_DUPLICATE: AAPL: already in the universe (active, from signals)');
    expect(await refused(() => h.m.add('aapl'))).toBe("UNIVERSE_INVALID_SYMBOL: aapl: expected 1-10 uppercase letters/digits with at least one letter (optionally a .B, -B or ' B' class suffix), was 'aapl'");
    expect(await refused(() => h.m.add('NOPE'))).toBe('UNIVERSE_INVALID_SYMBOL: NOPE: no security definition for NOPE');
    expect(await refused(() => h.m.remove('IBM'))).toBe('UNIVERSE_NOT_MEMBER: IBM: not in the universe');
    h.positions.set('AAPL.K', 10);
    expect(await refused(() => h.m.remove('AAPL', 'immediate'))).toBe('UNIVERSE_POSITION_OPEN: AAPL: holds a position of 10: close it first, or remove gracefully (leaves once flat)');
    const after = h.m.status();
    expect(after.entries).toEqual(before.entries);
    expect(after.lines).toEqual(before.lines);
    expect(h.m.entry('NOPE')).toBeUndefined();
  });

  it('removes gracefully: retiring until flat, its signals no longer traded, ignored after it left until added again', async () => {
    const h = harness({ mode: 'dynamic', recheckMs: MIN });
    h.m.start();
    await h.signal('AAPL', 1);
    h.positions.set('AAPL.K', 10);
    expect(h.m.remove('AAPL').state).toBe('retiring');
    await h.signal('AAPL', 1);
    expect(h.m.counters.skippedRetiring).toBe(1);
    await h.advance(MIN);
    expect(h.state('AAPL')).toBe('retiring');
    h.positions.set('AAPL.K', 0);
    await h.advance(2 * MIN);
    expect(h.m.entry('AAPL')).toMatchObject({ state: 'retired', reason: 'removed' });
    expect(() => h.m.remove('AAPL')).toThrow(/UNIVERSE_NOT_MEMBER|not in the universe \(retired: removed\)/);
    await h.signal('AAPL', 1);
    expect(h.state('AAPL')).toBe('retired');
    expect(h.m.counters.ignored).toBe(1);
    const v = await h.m.add('AAPL');
    expect(v).toMatchObject({ state: 'active', origin: 'added', pinned: true });
    expect(h.delivered).toHaveLength(1);
  });

  it("removal.flatten 'market' has the host close the position, again at each recheck until flat; 'none' and a per-request override do not", async () => {
    const h = harness({ mode: 'dynamic', recheckMs: MIN }, { flattenPort: true });
    h.m.start();
    await h.signal('AAPL', 1);
    await h.signal('MSFT', 1);
    h.positions.set('AAPL.K', 10);
    h.positions.set('MSFT.K', -5);
    expect(h.m.remove('AAPL')).toMatchObject({ state: 'retiring', reason: 'removed: closing the position at market, leaves once flat' });
    expect(h.m.remove('MSFT', 'graceful', { flatten: 'none' })).toMatchObject({ state: 'retiring', reason: 'removed: leaves once flat with no working orders' });
    expect(h.log.filter((l) => l.startsWith('flatten'))).toEqual(['flatten AAPL.K']);
    // the close did not fill by the recheck (rejected, say): asked again; MSFT is left alone
    await h.advance(MIN);
    expect(h.log.filter((l) => l.startsWith('flatten'))).toEqual(['flatten AAPL.K', 'flatten AAPL.K']);
    h.positions.set('AAPL.K', 0);
    h.m.onFlat('AAPL.K');
    await h.advance(MIN);
    expect([h.state('AAPL'), h.state('MSFT')]).toEqual(['retired', 'retiring']);
    // added back: its entries are resumed as it becomes active
    await h.m.add('AAPL');
    expect(h.log.slice(-2)).toEqual(['sub AAPL.K', 'resume AAPL.K']);
    // a flat symbol without orders leaves at once, nothing to close
    await h.signal('IBM', 1);
    expect(h.m.remove('IBM').state).toBe('retired');
    expect(h.log).not.toContain('flatten IBM.K');
    expect(() => new UniverseManager({ mode: 'dynamic', removal: { flatten: 'limit' as 'market' } }, {} as never)).toThrow(/universe.removal.flatten: expected one of market, none, got "limit"/);
  });

  it('a symbol removed while activating never streams: a late subscription is undone', async () => {
    const h = harness({ mode: 'dynamic' });
    h.m.start();
    h.m.onSignal({ ts: 0, symbol: 'AAPL', value: 1, availableAt: 0 });
    expect(h.m.remove('AAPL').state).toBe('retired');
    await h.settle();
    expect(h.state('AAPL')).toBe('retired');
    expect(h.subscribed.size).toBe(0);
    expect(h.delivered).toEqual([]);
  });

  it('drops a waiting signal that became older than maxSignalAgeMs before its symbol got a line', async () => {
    // no preemption: B waits for A's idle retirement
    const h = harness({ mode: 'dynamic', idleMs: 10 * MIN, maxSignalAgeMs: 2 * MIN, preempt: false }, { budget: 1 });
    h.m.start();
    await h.signal('A', 1);
    await h.advance(5 * MIN);
    await h.signal('B', 1);
    // A retires at 10m; B's signal is 5 minutes old by then
    await h.advance(11 * MIN);
    expect(h.state('B')).toBe('active');
    expect(h.delivered.map((s) => s.symbol)).toEqual(['A']);
    expect(h.m.counters.droppedStale).toBe(1);
  });

  it('restore: a symbol awaiting its repeated removal gets no signal (not even one held while it warms up) and keeps its entries stopped until added again', async () => {
    const h = harness({ mode: 'dynamic' }, { flattenPort: true });
    h.m.start();
    const added = h.m.add('EEE');
    h.m.awaitRemoval('EEE');
    // arrives while EEE resolves and warms up: skipped, not held for delivery at activation
    h.m.onSignal({ ts: 0, availableAt: 0, symbol: 'EEE', value: 1 });
    await added;
    await h.settle();
    expect(h.state('EEE')).toBe('active');
    await h.signal('EEE', 1);
    expect(h.delivered).toEqual([]);
    expect(h.m.counters.skippedRetiring).toBe(2);
    // active, but entries stay stopped: no resume before the removal
    expect(h.log).toEqual(['sub EEE.K']);
    h.positions.set('EEE.K', 10);
    expect(h.m.remove('EEE').state).toBe('retiring');
    expect(h.log).toEqual(['sub EEE.K', 'flatten EEE.K']);
    h.positions.set('EEE.K', 0);
    await h.advance(2 * MIN);
    expect(h.state('EEE')).toBe('retired');
    // added again by hand: its entries are resumed and its signals trade
    await h.m.add('EEE');
    await h.signal('EEE', 0.5);
    expect(h.log.slice(-2)).toEqual(['sub EEE.K', 'resume EEE.K']);
    expect(h.delivered.map((s) => s.value)).toEqual([0.5]);
  });

  it('checks its options by path', () => {
    expect(() => new UniverseManager({ mode: 'dynamic', symbols: ['SPY'] }, {} as never)).toThrow(/universe.symbols: a dynamic universe is signal-driven only/);
    try {
      new UniverseManager({ mode: 'sideways' as never, symbols: ['SPY', 'spy', 'SPY'], idleMs: 0 }, {} as never);
    } catch (e) {
      expect((e as ConfigError).problems).toEqual([
        'universe.mode: expected one of static, dynamic, mixed, got "sideways"',
        "universe.symbols[1]: expected 1-10 uppercase letters/digits with at least one letter (optionally a .B, -B or ' B' class suffix), was 'spy'",
        "universe.symbols[2]: 'SPY' is listed twice",
        'universe.idleMs: expected a positive number of milliseconds (Infinity: never), got 0',
      ]);
    }
  });
});
