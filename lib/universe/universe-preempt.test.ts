import { describe, expect, it } from 'vitest';
import type { ConfigError } from '../core/errors.js';
import { EvictionBudget, planEvictions, type PreemptMember, type PreemptWaiter } from './preemption.js';
import { harness, MIN } from './universe-harness.js';
import { UniverseManager } from './universe-manager.js';

/** xorshift32 with a fixed seed: the same sequence every run */
function rng(seed: number): () => number {
  return () => {
    seed ^= seed << 13;
    seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    return seed / 0x1_0000_0000;
  };
}

/**
 * The first implementation of planEvictions (commit c402145), O(waiters × members): every waiter
 * walks the sorted members, skipping taken and young ones. The reference the fast one must match.
 */
function referencePlan(waiters: readonly PreemptWaiter[], members: readonly PreemptMember[], now: number, p: { minActiveMs: number; margin: number }) {
  const order = [...members].sort((a, b) => a.strength - b.strength || a.lastSignalAt - b.lastSignalAt || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  const taken = new Set<PreemptMember>();
  const unserved: PreemptWaiter[] = [];
  const pairs: string[] = [];
  for (const w of waiters) {
    let chosen: PreemptMember | undefined;
    for (const m of order) {
      if (!w.hasPosition && !w.pinned && !(w.strength > m.strength * (1 + p.margin))) break;
      if (taken.has(m) || now - m.activeSince < p.minActiveMs) continue;
      chosen = m;
      break;
    }
    if (chosen === undefined) unserved.push(w);
    else {
      taken.add(chosen);
      pairs.push(`${w.symbol}>${chosen.symbol}`);
    }
  }
  let recheckAt = Infinity;
  if (unserved.length > 0) {
    const any = unserved.some((w) => w.hasPosition || w.pinned);
    const strongest = Math.max(...unserved.map((w) => w.strength));
    for (const m of order) {
      if (taken.has(m) || now - m.activeSince >= p.minActiveMs) continue;
      if (any || strongest > m.strength * (1 + p.margin)) recheckAt = Math.min(recheckAt, m.activeSince + p.minActiveMs);
    }
  }
  return { pairs, recheckAt };
}

describe('UniverseManager: preemption', () => {
  type H = ReturnType<typeof harness>;
  /** A signal at the current time (the pass it asks for is held work, settled with it), then the timers due now */
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
    // every line is held by a member that may not be evicted now: X waits, checked again every minute
    // (its signal is fresh); YNG comes of age at 15m
    expect(h.state('X')).toBe('waiting-for-line');
    expect(h.m.counters.evicted).toBe(0);
    expect(h.timers.get('preempt')).toBe(13 * MIN);
    await h.advance(14 * MIN);
    expect(h.state('X')).toBe('waiting-for-line');
    expect(h.timers.get('preempt')).toBe(15 * MIN);
    await h.advance(15 * MIN);
    expect(h.m.entry('YNG')).toMatchObject({ state: 'retired', reason: 'evicted: line given to X (|signal| 0.9 > 0.1)' });
    expect(h.events.find((e) => e.type === 'state' && e.symbol === 'YNG' && e.to === 'retired')!.ts).toBe(15 * MIN);
    expect(h.state('X')).toBe('active');
    await h.advance(16 * MIN);
    await send(h, 'Y', 0.9);
    expect(h.state('Y')).toBe('waiting-for-line');
    // POS goes flat (the host reports it): Y takes its line
    h.positions.set('POS.K', 0);
    h.m.onFlat('POS.K');
    // the pass it asks for is held work after the fill, at the same time
    await h.settle();
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
    // A signals again (its strength is its last signal's either way: strengthMaxAgeMs is idleMs)
    await h.signal('A', 0.4);
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
    // checked again every minute while B's signal is fresh (A is young until 5m)
    expect(s.timers.get('preempt')).toBe(2 * MIN);
    await s.advance(5 * MIN);
    expect(states(s, ['A', 'B'])).toEqual(['active', 'waiting-for-line']);
    expect(s.m.counters.evicted).toBe(0);
    // nobody waiting could evict now: no more checks until a signal asks
    expect(s.timers.has('preempt')).toBe(false);
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

  it('a batch of signals for waiting symbols costs one pass: each member and each waiter asked for its position once', async () => {
    const h = harness({ mode: 'dynamic', idleMs: 60 * MIN }, { budget: 10 });
    h.m.start();
    for (let i = 0; i < 10; i++) await h.signal(`M${i}`, 0.1);
    for (let i = 0; i < 50; i++) await h.signal(`W${i}`, 0.05);
    expect(h.m.status().states['waiting-for-line']).toBe(50);
    const before = h.calls.position;
    // the members are young (minActiveMs 5 min): the pass evicts nothing, so it is all that asks
    for (let i = 0; i < 50; i++) h.m.onSignal({ ts: 0, symbol: `W${i}`, value: 0.9, availableAt: 0 });
    await h.settle();
    // the first implementation ran a pass per signal: 50 × (10 + 2 × 50) = 5,500 position calls
    expect(h.calls.position - before).toBe(10 + 50);
    expect(h.m.counters.evicted).toBe(0);
    // the members come of age at 5m: ten waiters take their lines in one pass
    await h.advance(5 * MIN);
    expect(h.m.counters.evicted).toBe(10);
    expect(h.maxUsed()).toBe(10);
  });

  it('matches the first (quadratic) implementation on seeded random waiters and members', () => {
    const rnd = rng(99);
    const p = { minActiveMs: 5 * MIN, margin: 0.25 };
    let evictions = 0;
    let rechecks = 0;
    for (let round = 0; round < 300; round++) {
      const now = 60 * MIN;
      const members: PreemptMember[] = Array.from({ length: Math.floor(rnd() * 12) }, (_, i) => ({
        symbol: `M${i}`,
        // a coarse grid: ties in strength and in lastSignalAt happen
        strength: Math.floor(rnd() * 5) / 4,
        activeSince: now - Math.floor(rnd() * 10) * MIN,
        lastSignalAt: now - Math.floor(rnd() * 4) * MIN,
      }));
      const waiters: PreemptWaiter[] = Array.from({ length: Math.floor(rnd() * 12) }, (_, i) => ({ symbol: `W${i}`, strength: Math.floor(rnd() * 9) / 8, hasPosition: rnd() < 0.1, pinned: rnd() < 0.1 }));
      // the waiting order: position, pinned, |signal| (the manager sorts them so)
      waiters.sort((a, b) => Number(b.hasPosition) - Number(a.hasPosition) || Number(b.pinned) - Number(a.pinned) || b.strength - a.strength);
      const fast = planEvictions(waiters, members, now, p);
      const ref = referencePlan(waiters, members, now, p);
      expect(fast.evictions.map((e) => `${e.waiter.symbol}>${e.evictee.symbol}`)).toEqual(ref.pairs);
      expect(fast.recheckAt).toBe(ref.recheckAt);
      expect(fast.paced).toBe(false);
      evictions += ref.pairs.length;
      if (Number.isFinite(ref.recheckAt)) rechecks++;
    }
    // the rounds exercised both outcomes
    expect(evictions).toBeGreaterThan(100);
    expect(rechecks).toBeGreaterThan(20);
  });

  it('planEvictions stops at the limit (paced) and serves the waiters first in line', () => {
    const members = ['A', 'B', 'C'].map((symbol, i) => ({ symbol, strength: 0.1 * (i + 1), activeSince: 0, lastSignalAt: 0 }));
    const waiters = ['X', 'Y', 'Z'].map((symbol, i) => ({ symbol, strength: 0.9 - 0.1 * i, hasPosition: false, pinned: false }));
    const p = { minActiveMs: 0, margin: 0.25 };
    const two = planEvictions(waiters, members, 0, p, 2);
    expect(two.evictions.map((e) => `${e.waiter.symbol}>${e.evictee.symbol}`)).toEqual(['X>A', 'Y>B']);
    expect(two.paced).toBe(true);
    expect(planEvictions(waiters, members, 0, p, 0)).toMatchObject({ evictions: [], paced: true });
    // a limit that was not reached paces nothing
    expect(planEvictions(waiters, members, 0, p, 5)).toMatchObject({ paced: false });
  });

  it('EvictionBudget: at most max evictions in any 10 minutes; a spent one is back 10 minutes after it was spent', () => {
    const b = new EvictionBudget(3);
    expect(b.available(0)).toBe(3);
    b.spend(0);
    b.spend(MIN);
    b.spend(MIN);
    expect(b.available(2 * MIN)).toBe(0);
    expect(b.nextAt(2 * MIN)).toBe(10 * MIN);
    expect(b.available(10 * MIN - 1)).toBe(0);
    expect(b.available(10 * MIN)).toBe(1);
    // the two spent at 1m come back together at 11m
    expect(b.nextAt(10 * MIN)).toBe(10 * MIN);
    b.spend(10 * MIN);
    expect(b.nextAt(10 * MIN)).toBe(11 * MIN);
    expect(b.available(11 * MIN)).toBe(2);
    const free = new EvictionBudget(Infinity);
    for (let i = 0; i < 1000; i++) free.spend(0);
    expect(free.available(0)).toBe(Infinity);
  });

  it('the eviction budget: with it spent, waiters wait and the next pass comes when a spent eviction is back', async () => {
    const h = harness({ mode: 'dynamic', idleMs: 60 * MIN, maxEvictionsPer10Min: 2 }, { budget: 4 });
    h.m.start();
    for (const s of ['A', 'B', 'C', 'D']) await h.signal(s, 0.1);
    await h.advance(6 * MIN);
    // four strong waiters; the members' signals are refreshed so they are not stale
    for (const s of ['A', 'B', 'C', 'D']) await h.signal(s, 0.1);
    for (const s of ['W', 'X', 'Y', 'Z']) await h.signal(s, 0.9);
    expect(h.m.counters.evicted).toBe(2);
    expect(states(h, ['W', 'X', 'Y', 'Z'])).toEqual(['active', 'active', 'waiting-for-line', 'waiting-for-line']);
    // no checks while nothing could be evicted anyway: the next pass when the budget is back
    expect(h.timers.get('preempt')).toBe(16 * MIN);
    for (const s of ['Y', 'Z']) await send(h, s, 0.9);
    await h.advance(16 * MIN - 1);
    expect(h.m.counters.evicted).toBe(2);
    await h.advance(16 * MIN);
    expect(h.m.counters.evicted).toBe(4);
    expect(states(h, ['W', 'X', 'Y', 'Z'])).toEqual(['active', 'active', 'active', 'active']);
    expect(h.events.filter((e) => e.type === 'state' && e.reason?.startsWith('evicted')).map((e) => [e.ts / MIN, e.symbol])).toEqual([
      [6, 'A'],
      [6, 'B'],
      [16, 'C'],
      [16, 'D'],
    ]);
  });

  it('re-checks every minute while a waiter could evict: a working order cancelled or expired without a fill frees its member', async () => {
    const h = harness({ mode: 'dynamic', idleMs: 60 * MIN, recheckMs: 30 * MIN }, { budget: 2 });
    h.m.start();
    await h.signal('A', 0.1);
    await h.signal('B', 0.1);
    // A has a working order; B held a position and went flat while another order was still working
    h.orders.set('A.K', 1);
    h.positions.set('B.K', 10);
    await h.advance(8 * MIN);
    h.positions.set('B.K', 0);
    h.orders.set('B.K', 1);
    h.m.onFlat('B.K');
    await h.settle();
    await h.advance(10 * MIN);
    await send(h, 'X', 0.9);
    await send(h, 'Y', 0.8);
    expect(states(h, ['X', 'Y'])).toEqual(['waiting-for-line', 'waiting-for-line']);
    expect(h.timers.get('preempt')).toBe(11 * MIN);
    // A's order is cancelled at 12m30 (nothing tells the universe): taken at the 13m check
    await h.advance(12.5 * MIN);
    h.orders.set('A.K', 0);
    await h.advance(13 * MIN);
    expect(h.m.entry('A')).toMatchObject({ state: 'retired', reason: 'evicted: line given to X (|signal| 0.9 > 0.1)' });
    expect(h.events.find((e) => e.type === 'state' && e.symbol === 'A' && e.to === 'retired')!.ts).toBe(13 * MIN);
    // B's order expires at 14m10: taken at 15m
    await h.advance(14 * MIN + 10_000);
    h.orders.set('B.K', 0);
    await h.advance(15 * MIN);
    expect(h.m.entry('B')).toMatchObject({ state: 'retired', reason: 'evicted: line given to Y (|signal| 0.8 > 0.1)' });
    // nobody waits: no more checks
    expect(h.timers.has('preempt')).toBe(false);
  });

  it('a member quiet for longer than maxSignalAgeMs keeps its strength (strengthMaxAgeMs defaults to idleMs): a weak waiter does not evict it', async () => {
    // the runner's 5-minute trading limit must not make every member quiet for 5 minutes evictable
    const h = harness({ mode: 'dynamic', idleMs: 60 * MIN, maxSignalAgeMs: 5 * MIN }, { budget: 1 });
    h.m.start();
    await h.signal('OLD', 0.6);
    await h.advance(20 * MIN);
    await send(h, 'W', 0.2);
    // W's signal is fresh for 5 minutes, checked every minute: 0.2 never beats OLD's 0.6 (20+ minutes old)
    await h.advance(30 * MIN);
    expect(states(h, ['OLD', 'W'])).toEqual(['active', 'waiting-for-line']);
    expect(h.m.counters.evicted).toBe(0);
    // a waiter stronger by the margin (1 > 0.6 × 1.25) still takes the line
    await send(h, 'S', -1);
    expect(states(h, ['OLD', 'S'])).toEqual(['retired', 'active']);
    expect(h.m.entry('OLD')!.reason).toBe('evicted: line given to S (|signal| 1 > 0.6)');
  });

  it('a member whose last signal is older than strengthMaxAgeMs has strength 0: a weak fresh waiter takes its line at the next check, no event needed', async () => {
    const h = harness({ mode: 'dynamic', idleMs: 60 * MIN, strengthMaxAgeMs: 5 * MIN }, { budget: 2 });
    h.m.start();
    await h.signal('OLD', 0.9);
    await h.advance(2 * MIN);
    await h.signal('NEW', 0.9);
    await h.advance(4 * MIN);
    await send(h, 'W', 0.2);
    // 5m: OLD is of age and its 0.9 is exactly 5 minutes old, still fresh: it stays
    await h.advance(5 * MIN);
    expect(states(h, ['OLD', 'NEW', 'W'])).toEqual(['active', 'active', 'waiting-for-line']);
    // 6m: older than 5 minutes, strength 0: the minute's check gives its line to W
    await h.advance(6 * MIN);
    expect(h.m.entry('OLD')).toMatchObject({ state: 'retired', reason: 'evicted: line given to W (|signal| 0.2 > 0)' });
    expect(h.events.find((e) => e.type === 'state' && e.symbol === 'OLD' && e.to === 'retired')!.ts).toBe(6 * MIN);
    // NEW (signal at 2m) the same way: fresh at 7m, stale and taken at 8m
    await send(h, 'V', 0.2);
    await h.advance(7 * MIN);
    expect(states(h, ['NEW', 'V'])).toEqual(['active', 'waiting-for-line']);
    await h.advance(8 * MIN);
    expect(h.m.entry('NEW')).toMatchObject({ state: 'retired', reason: 'evicted: line given to V (|signal| 0.2 > 0)' });
    expect(h.m.counters.evicted).toBe(2);
  });

  it('checks its options by path', () => {
    try {
      new UniverseManager({ mode: 'dynamic', strengthMaxAgeMs: -1, preempt: 'yes' as never, minActiveMs: -1, preemptMargin: NaN, maxEvictionsPer10Min: 2.5, preemptRecheckMs: 0 }, {} as never);
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).problems).toEqual([
        'universe.strengthMaxAgeMs: expected a positive number of milliseconds (Infinity: never), got -1',
        'universe.preempt: expected true or false, got "yes"',
        'universe.minActiveMs: expected a number of milliseconds >= 0, got -1',
        'universe.preemptMargin: expected a number >= 0 (0.25: 25% stronger), got NaN',
        'universe.maxEvictionsPer10Min: expected an integer >= 1 (Infinity: no budget), got 2.5',
        'universe.preemptRecheckMs: expected a positive number of milliseconds, got 0',
      ]);
      // Infinity: no budget
      expect(() => new UniverseManager({ mode: 'dynamic', maxEvictionsPer10Min: Infinity }, {} as never)).not.toThrow();
    }
  });
});
