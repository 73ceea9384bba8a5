import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import type { RoutedSignal, Signal } from '../signals/signal.js';
import { LinePool } from './line-pool.js';
import { UniverseManager } from './universe-manager.js';
import { UniverseError, type ResolveOutcome, type UniverseEvent, type UniverseOptions } from './universe-types.js';

const MIN = 60_000;

/** Fake ports: a hand-moved clock, timers fired by `advance`, held work awaited by `settle` */
function harness(options: UniverseOptions, o: { budget?: number; invalid?: string[]; failing?: string[]; noData?: string[]; noTrader?: string[]; flattenPort?: boolean } = {}) {
  let now = 0;
  const timers = new Map<string, number>();
  const held: Promise<unknown>[] = [];
  const positions = new Map<string, number>();
  const orders = new Map<string, number>();
  const delivered: RoutedSignal[] = [];
  const subscribed = new Set<string>();
  const log: string[] = [];
  const events: UniverseEvent[] = [];
  const lines = new LinePool(o.budget ?? Infinity);
  let maxUsed = 0;
  // instruments whose data was asked for and not yet given back (the runner starts IB's lines as it subscribes)
  const streaming = new Set<string>();
  let maxStreaming = 0;
  const ports = {
    resolve: async (symbol: string): Promise<ResolveOutcome> => {
      if (o.invalid?.includes(symbol)) return { status: 'invalid', reason: `no security definition for ${symbol}` };
      if (o.failing?.includes(symbol)) return { status: 'failed', reason: 'not connected' };
      return { status: 'ok', instrument: `${symbol}.K` };
    },
    lines: {
      get budget() {
        return lines.budget;
      },
      get used() {
        return lines.used;
      },
      tryAcquire: (s: string) => {
        const ok = lines.tryAcquire(s);
        maxUsed = Math.max(maxUsed, lines.used);
        return ok;
      },
      release: (s: string) => lines.release(s),
    },
    createTrader: (instrument: string) => {
      if (o.noTrader?.some((s) => `${s}.K` === instrument)) throw new ConfigError('trading', [`trading.defaults.unitSize: required to trade signals of ${instrument}`]);
      return {};
    },
    subscribe: async (instrument: string) => {
      streaming.add(instrument);
      maxStreaming = Math.max(maxStreaming, streaming.size);
      await Promise.resolve();
      if (o.noData?.some((s) => `${s}.K` === instrument)) {
        streaming.delete(instrument);
        throw new Error(`no 1m bars for '${instrument}'`);
      }
      subscribed.add(instrument);
      log.push(`sub ${instrument}`);
    },
    unsubscribe: (instrument: string) => {
      streaming.delete(instrument);
      subscribed.delete(instrument);
      log.push(`unsub ${instrument}`);
    },
    position: (instrument: string) => positions.get(instrument) ?? 0,
    workingOrders: (instrument: string) => orders.get(instrument) ?? 0,
    deliver: (s: RoutedSignal) => void delivered.push(s),
    now: () => now,
    setTimer: (name: string, at: number) => void timers.set(name, at),
    cancelTimer: (name: string) => void timers.delete(name),
    hold: (work: Promise<unknown>) => void held.push(work),
    // the host's flatten: logged; the test moves the position as the venue would
    ...(o.flattenPort === true ? { flatten: (instrument: string) => void log.push(`flatten ${instrument}`), resumeEntries: (instrument: string) => void log.push(`resume ${instrument}`) } : {}),
  };
  const m = new UniverseManager(options, ports);
  m.on((e) => events.push(e));
  const settle = async () => {
    while (held.length > 0) await held.shift();
  };
  /** Moves time to t, firing due timers in time order */
  const advance = async (t: number) => {
    for (;;) {
      const due = [...timers].filter(([, at]) => at <= t).sort((a, b) => a[1] - b[1])[0];
      if (due === undefined) break;
      timers.delete(due[0]);
      now = due[1];
      m.onTimer(due[0]);
      await settle();
    }
    now = t;
  };
  const signal = async (symbol: string, value: number) => {
    const s: Signal = { ts: now, symbol, value, availableAt: now };
    m.onSignal(s);
    await settle();
  };
  const state = (symbol: string) => m.entry(symbol)?.state;
  return { m, signal, advance, settle, state, delivered, subscribed, positions, orders, events, timers, log, lines, maxUsed: () => maxUsed, maxStreaming: () => maxStreaming, setNow: (t: number) => (now = t), now: () => now };
}

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
    const h = harness({ mode: 'dynamic', idleMs: 10 * MIN, maxSignalAgeMs: 2 * MIN }, { budget: 1 });
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

describe('UniverseManager: preemption', () => {
  type H = ReturnType<typeof harness>;
  /** A signal at the current time, then the preemption pass it asks for (a timer at now) */
  const send = async (h: H, symbol: string, value: number) => {
    await h.signal(symbol, value);
    await h.advance(h.now());
  };
  const states = (h: H, symbols: string[]) => symbols.map((s) => h.state(s));

  it('evicts the weakest flat, idle signal-driven member for a stronger waiter and gives its line to that waiter; a later signal brings it back', async () => {
    const h = harness({ mode: 'dynamic', idleMs: 60 * MIN }, { budget: 2 });
    h.m.start();
    await h.signal('A', 0.2);
    await h.signal('B', -0.1);
    await h.advance(6 * MIN);
    await send(h, 'C', 0.9);
    expect(states(h, ['A', 'B', 'C'])).toEqual(['active', 'retired', 'active']);
    expect(h.m.entry('B')!.reason).toBe('evicted: line given to C (|signal| 0.9 > 0.1)');
    expect(h.m.counters.evicted).toBe(1);
    // B is unsubscribed (and its line released) before C subscribes; C's waiting signal is delivered
    expect(h.log).toEqual(['sub A.K', 'sub B.K', 'unsub B.K', 'sub C.K']);
    expect(h.delivered.map((s) => [s.symbol, s.value])).toEqual([
      ['A', 0.2],
      ['B', -0.1],
      ['C', 0.9],
    ]);
    const ev = h.events.flatMap((e) => (e.type === 'state' && e.ts === 6 * MIN ? [`${e.symbol} ${e.from}>${e.to}`] : []));
    expect(ev).toEqual(['C pending>resolving', 'C resolving>waiting-for-line', 'B active>retired', 'C waiting-for-line>warming', 'C warming>active']);
    // B's next signal brings it back; too weak to evict A (0.15 is not > 0.2 × 1.25): it waits
    await h.advance(7 * MIN);
    await send(h, 'B', 0.15);
    expect(h.state('B')).toBe('waiting-for-line');
    // a stronger one: A (active 8 minutes, flat) gives way
    await h.advance(8 * MIN);
    await send(h, 'B', -0.3);
    expect(h.m.entry('A')).toMatchObject({ state: 'retired', reason: 'evicted: line given to B (|signal| 0.3 > 0.2)' });
    expect(h.m.entry('B')).toMatchObject({ state: 'active', activations: 2 });
    expect(h.delivered.at(-1)).toMatchObject({ symbol: 'B', value: -0.3 });
    expect(h.maxUsed()).toBe(2);
  });

  it('serves waiters in waiting order (an operator-added one needs no signal), each taking the weakest eligible member (ties: longest since its last signal); the line never goes to the head of the queue instead', async () => {
    const h = harness({ mode: 'dynamic', idleMs: 60 * MIN }, { budget: 3 });
    h.m.start();
    await h.signal('M1', 0.2);
    await h.signal('M2', 0.2);
    await h.signal('M3', 0.5);
    await h.advance(2 * MIN);
    // M1 signalled again: of the two equally weak, M2 has been silent longer
    await h.signal('M1', 0.2);
    await h.advance(3 * MIN);
    // P, added by hand, heads the queue (pinned): it needs no signal (nor margin) to evict
    await h.m.add('P');
    await h.signal('W1', 0.3);
    await h.signal('W2', -0.9);
    // the members are too young until 5m: then one pass serves the waiters in order
    expect(states(h, ['W1', 'W2', 'P'])).toEqual(['waiting-for-line', 'waiting-for-line', 'waiting-for-line']);
    await h.advance(5 * MIN);
    // P takes M2 (of the two weakest, silent longer), W2 takes M1; W1's 0.3 is not > M3's 0.5 × 1.25
    expect(states(h, ['M1', 'M2', 'M3', 'W1', 'W2', 'P'])).toEqual(['retired', 'retired', 'active', 'waiting-for-line', 'active', 'active']);
    expect(h.m.entry('M2')!.reason).toBe('evicted: line given to P (configured or added by the operator)');
    expect(h.m.entry('M1')!.reason).toBe('evicted: line given to W2 (|signal| 0.9 > 0.2)');
    expect(h.m.status().waiting.map((w) => w.symbol)).toEqual(['W1']);
    expect(h.m.counters.evicted).toBe(2);
  });

  it('never evicts configured, added, positioned, working-order, retiring or young members; a young one is taken once it comes of age, a positioned one once flat', async () => {
    const h = harness({ mode: 'mixed', symbols: ['CFG'], idleMs: 60 * MIN, recheckMs: MIN }, { budget: 6 });
    h.m.start();
    await h.settle();
    await h.m.add('ADD');
    for (const s of ['POS', 'ORD', 'RET']) await h.signal(s, 0.1);
    h.positions.set('POS.K', 10);
    h.orders.set('ORD.K', 1);
    h.positions.set('RET.K', -10);
    expect(h.m.remove('RET', 'graceful', { flatten: 'none' }).state).toBe('retiring');
    await h.advance(10 * MIN);
    await h.signal('YNG', 0.1);
    await h.advance(12 * MIN);
    await send(h, 'X', 0.9);
    // every line is held by a member that may not be evicted now: X waits; YNG comes of age at 15m
    expect(h.state('X')).toBe('waiting-for-line');
    expect(h.m.counters.evicted).toBe(0);
    expect(h.timers.get('preempt')).toBe(15 * MIN);
    await h.advance(15 * MIN);
    expect(h.m.entry('YNG')).toMatchObject({ state: 'retired', reason: 'evicted: line given to X (|signal| 0.9 > 0.1)' });
    expect(h.state('X')).toBe('active');
    await h.advance(16 * MIN);
    await send(h, 'Y', 0.9);
    expect(h.state('Y')).toBe('waiting-for-line');
    // POS goes flat (the host reports it): Y takes its line
    h.positions.set('POS.K', 0);
    h.m.onFlat('POS.K');
    await h.advance(h.now());
    expect(h.m.entry('POS')).toMatchObject({ state: 'retired', reason: 'evicted: line given to Y (|signal| 0.9 > 0.1)' });
    expect(states(h, ['CFG', 'ADD', 'ORD', 'RET', 'X', 'Y'])).toEqual(['active', 'active', 'active', 'retiring', 'active', 'active']);
    expect(h.m.counters.evicted).toBe(2);
    expect(h.maxUsed()).toBe(6);
  });

  it('respects the margin (strictly stronger by preemptMargin) and never evicts for a signal too old to deliver', async () => {
    const h = harness({ mode: 'dynamic', idleMs: 60 * MIN, maxSignalAgeMs: 3 * MIN }, { budget: 1 });
    h.m.start();
    await h.signal('A', 0.4);
    await h.advance(10 * MIN);
    await send(h, 'B', 0.5); // not > 0.4 × 1.25
    expect(h.state('B')).toBe('waiting-for-line');
    await h.advance(11 * MIN);
    await send(h, 'B', -0.51);
    expect(h.m.entry('A')).toMatchObject({ state: 'retired', reason: 'evicted: line given to B (|signal| 0.51 > 0.4)' });
    expect(h.state('B')).toBe('active');
    // margin 0, no minimum age: any stronger signal, never an equal one
    const z = harness({ mode: 'dynamic', minActiveMs: 0, preemptMargin: 0 }, { budget: 1 });
    z.m.start();
    await z.signal('A', 0.4);
    await send(z, 'B', 0.4);
    expect(states(z, ['A', 'B'])).toEqual(['active', 'waiting-for-line']);
    await send(z, 'B', 0.41);
    expect(states(z, ['A', 'B'])).toEqual(['retired', 'active']);
    // B's signal is 4 minutes old when A comes of age at 5m: it would be dropped, so A stays
    const s = harness({ mode: 'dynamic', idleMs: 60 * MIN, maxSignalAgeMs: 3 * MIN }, { budget: 1 });
    s.m.start();
    await s.signal('A', 0.1);
    await s.advance(MIN);
    await send(s, 'B', 0.9);
    expect(s.timers.get('preempt')).toBe(5 * MIN);
    await s.advance(5 * MIN);
    expect(states(s, ['A', 'B'])).toEqual(['active', 'waiting-for-line']);
    expect(s.m.counters.evicted).toBe(0);
  });

  it('a waiter with an open position outranks stronger waiters and evicts without the margin', async () => {
    const h = harness({ mode: 'dynamic', idleMs: 60 * MIN }, { budget: 1 });
    h.m.start();
    await h.signal('A', 0.9);
    await h.advance(10 * MIN);
    await h.signal('S', 0.95); // not stronger than A by the margin
    h.positions.set('P.K', 20);
    await h.signal('P', 0.05);
    await h.advance(h.now());
    expect(h.m.entry('A')).toMatchObject({ state: 'retired', reason: 'evicted: line given to P (it holds a position)' });
    expect(states(h, ['P', 'S'])).toEqual(['active', 'waiting-for-line']);
  });

  it('preempt: false: waiters only get lines that free up', async () => {
    const h = harness({ mode: 'dynamic', idleMs: 20 * MIN, preempt: false }, { budget: 1 });
    h.m.start();
    await h.signal('A', 0.1);
    await h.advance(10 * MIN);
    await send(h, 'B', 0.9);
    expect(h.state('B')).toBe('waiting-for-line');
    expect(h.timers.has('preempt')).toBe(false);
    await h.advance(20 * MIN);
    expect(h.m.entry('A')).toMatchObject({ state: 'retired', reason: 'idle: no signal for 20 min, flat, no working orders' });
    expect(h.state('B')).toBe('active');
    expect(h.m.counters.evicted).toBe(0);
  });

  /**
   * A seeded random day: 20 signal-driven symbols and 2 configured ones on 5 lines, random signals,
   * positions and working orders. Checked on every state event: lines and streams within the
   * budget; an evictee flat, without orders, active >= minActiveMs, weaker by the margin (or the
   * waiter holds a position); the next state change after an eviction is the waiter taking the line.
   */
  async function randomDay(preempt: boolean) {
    const BUDGET = 5;
    let seed = 20240304;
    const rnd = () => {
      seed ^= seed << 13;
      seed >>>= 0;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      seed >>>= 0;
      return seed / 0x1_0000_0000;
    };
    const h = harness({ mode: 'mixed', symbols: ['S0', 'S1'], idleMs: 20 * MIN, recheckMs: MIN, minActiveMs: 2 * MIN, preempt }, { budget: BUDGET });
    const problems: string[] = [];
    const activeSince = new Map<string, number>();
    let handOver: string | undefined;
    h.m.on((e) => {
      if (e.type !== 'state') return;
      const s = h.m.status();
      const holders = s.states.warming + s.states.active + s.states.retiring;
      if (h.lines.used > BUDGET || h.subscribed.size > BUDGET || holders > BUDGET) problems.push(`${e.ts}: ${h.lines.used} lines, ${h.subscribed.size} streams, ${holders} holders`);
      if (handOver !== undefined && !(e.symbol === handOver && e.to === 'warming')) problems.push(`${e.ts}: ${e.symbol} ${e.to} before ${handOver} took the line`);
      handOver = undefined;
      if (e.to === 'active') activeSince.set(e.symbol, e.ts);
      if (e.to !== 'retired' || !e.reason?.startsWith('evicted')) return;
      const waiter = /line given to (\S+)/.exec(e.reason)![1]!;
      const strength = (sym: string) => Math.abs(h.m.entry(sym)!.lastValue);
      const waiterPosition = (h.positions.get(`${waiter}.K`) ?? 0) !== 0;
      if (h.positions.get(e.instrument!) || h.orders.get(e.instrument!)) problems.push(`${e.ts}: ${e.symbol} evicted with a position or orders`);
      if (e.ts - activeSince.get(e.symbol)! < 2 * MIN) problems.push(`${e.ts}: ${e.symbol} evicted young`);
      if (!waiterPosition && !(strength(waiter) > strength(e.symbol) * 1.25)) problems.push(`${e.ts}: ${e.symbol} evicted for a weaker ${waiter}`);
      handOver = waiter;
    });
    h.m.start();
    await h.settle();
    let t = 0;
    for (let i = 0; i < 600; i++) {
      t += Math.floor(rnd() * 30_000);
      await h.advance(t);
      const sym = `T${Math.floor(rnd() * 20)}`;
      // positions and orders come and go (a position closes three times as often as one opens)
      const r = rnd();
      if (r < 0.04) h.positions.set(`${sym}.K`, 10);
      else if (r < 0.16) {
        h.positions.set(`${sym}.K`, 0);
        h.m.onFlat(`${sym}.K`);
      } else if (r < 0.2) h.orders.set(`${sym}.K`, rnd() < 0.25 ? 1 : 0);
      await send(h, sym, Math.round((rnd() * 2 - 1) * 1000) / 1000);
      const s = h.m.status();
      if (s.states['waiting-for-line'] > 0 && s.lines.used !== BUDGET) problems.push(`${t}: someone waits with ${s.lines.used} of ${BUDGET} lines used`);
    }
    return { problems, events: h.events, counters: h.m.counters, maxUsed: h.maxUsed(), maxStreaming: h.maxStreaming() };
  }

  it('never exceeds the budget across a seeded random day, checked on every state event, and decides the same every time', async () => {
    const a = await randomDay(true);
    expect(a.problems).toEqual([]);
    expect(a.maxUsed).toBe(5);
    expect(a.maxStreaming).toBe(5);
    expect(a.counters.evicted).toBeGreaterThan(10);
    const b = await randomDay(true);
    expect(b.events).toEqual(a.events);
    const off = await randomDay(false);
    expect(off.problems).toEqual([]);
    expect(off.counters.evicted).toBe(0);
    // the same signals: with preemption more of them reached a trader
    expect(a.counters.delivered).toBeGreaterThan(off.counters.delivered);
  });

  it('checks its options by path', () => {
    try {
      new UniverseManager({ mode: 'dynamic', preempt: 'yes' as never, minActiveMs: -1, preemptMargin: NaN }, {} as never);
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).problems).toEqual([
        'universe.preempt: expected true or false, got "yes"',
        'universe.minActiveMs: expected a number of milliseconds >= 0, got -1',
        'universe.preemptMargin: expected a number >= 0 (0.25: 25% stronger), got NaN',
      ]);
    }
  });
});
