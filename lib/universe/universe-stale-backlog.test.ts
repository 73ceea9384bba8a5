/**
 * Regression (review of cab4e2b): a resumed runner polls on from its journaled watermark, so the
 * signals published while it was down arrive in one burst, possibly hours old. A member that is
 * already active (a restored position, a configured or operator-added symbol) gets each of them
 * delivered with no age check: UniverseManager.onSignal delivers to active members unconditionally,
 * only the pending signal of a symbol still activating is checked against maxSignalAgeMs (and the
 * runner never sets maxSignalAgeMs, so there it defaults to idleMs: Infinity without
 * retireAfterMinutes). signal-trader then trades stale signals at today's prices. A signal older than
 * maxSignalAgeMs must be dropped whether its symbol is active or not.
 */
import { describe, expect, it } from 'vitest';
import { harness, MIN } from './universe-harness.js';

describe('UniverseManager: stale backlog after a resume', () => {
  it('does not deliver a signal older than maxSignalAgeMs to an active member', async () => {
    const h = harness({ mode: 'dynamic', maxSignalAgeMs: 5 * MIN });
    h.m.start();
    await h.signal('AAA', 0.8);
    expect(h.state('AAA')).toBe('active');
    expect(h.delivered.map((s) => s.value)).toEqual([0.8]);
    // the runner was down from 0:10 to 3:00; the resumed poller hands on what was published at 0:20
    await h.advance(180 * MIN);
    h.m.onSignal({ ts: 20 * MIN, availableAt: 20 * MIN, symbol: 'AAA', value: 0.9 });
    await h.settle();
    // 160 minutes old against a 5-minute limit: dropped as stale, as a pending signal would be
    expect(h.delivered.map((s) => s.value)).toEqual([0.8]);
    expect(h.m.counters.droppedStale).toBe(1);
  });

  it('a backlog burst: stale signals dropped (an event each, `first` once per symbol), fresh ones in the same burst delivered; a stale signal activates nothing and moves no idle clock', async () => {
    const h = harness({ mode: 'dynamic', idleMs: 30 * MIN, maxSignalAgeMs: 5 * MIN });
    h.m.start();
    await h.signal('AAA', 0.5);
    await h.advance(120 * MIN);
    // published 100, 90 and 80 minutes ago for AAA (active) and BBB (never seen), then one fresh AAA
    for (const [symbol, at] of [['AAA', 20], ['BBB', 30], ['AAA', 40], ['BBB', 40]] as const) h.m.onSignal({ ts: at * MIN, availableAt: at * MIN, symbol, value: 0.9 });
    h.m.onSignal({ ts: 118 * MIN, availableAt: 118 * MIN, symbol: 'AAA', value: -0.7 });
    await h.settle();
    expect(h.delivered.map((s) => [s.symbol, s.value])).toEqual([['AAA', 0.5], ['AAA', -0.7]]);
    expect(h.m.counters).toMatchObject({ droppedStale: 4, delivered: 2 });
    // BBB was seen only in stale signals: no activation, no line, no entry
    expect(h.state('BBB')).toBeUndefined();
    expect(h.subscribed).toEqual(new Set(['AAA.K']));
    // one event per drop (the runner's alerts count them); `first` once per symbol (its notes)
    const stale = h.events.filter((e) => e.type === 'stale');
    expect(stale).toEqual([
      { type: 'stale', ts: 120 * MIN, symbol: 'AAA', availableAt: 20 * MIN, ageMs: 100 * MIN, maxAgeMs: 5 * MIN, first: true },
      { type: 'stale', ts: 120 * MIN, symbol: 'BBB', availableAt: 30 * MIN, ageMs: 90 * MIN, maxAgeMs: 5 * MIN, first: true },
      { type: 'stale', ts: 120 * MIN, symbol: 'AAA', availableAt: 40 * MIN, ageMs: 80 * MIN, maxAgeMs: 5 * MIN, first: false },
      { type: 'stale', ts: 120 * MIN, symbol: 'BBB', availableAt: 40 * MIN, ageMs: 80 * MIN, maxAgeMs: 5 * MIN, first: false },
    ]);
    // AAA's idle clock and strength come from its fresh signal's arrival (120), not from a stale one
    expect(h.m.entry('AAA')).toMatchObject({ lastSignalAt: 120 * MIN, lastValue: -0.7 });
    // a later backlog: AAA had a fresh signal delivered since its report, so it is reported again;
    // BBB had none, so its report stands (counted, no new event)
    await h.advance(140 * MIN);
    h.m.onSignal({ ts: 125 * MIN, availableAt: 125 * MIN, symbol: 'AAA', value: 1 });
    h.m.onSignal({ ts: 125 * MIN, availableAt: 125 * MIN, symbol: 'BBB', value: 1 });
    expect(h.events.flatMap((e) => (e.type === 'stale' && e.first ? [e.symbol] : []))).toEqual(['AAA', 'BBB', 'AAA']);
    expect(h.events.filter((e) => e.type === 'stale').length).toBe(6);
    expect(h.m.counters.droppedStale).toBe(6);
  });

  it('a signal exactly maxSignalAgeMs old is still delivered (the limit is inclusive, as for a pending one)', async () => {
    const h = harness({ mode: 'dynamic', maxSignalAgeMs: 5 * MIN });
    h.m.start();
    await h.signal('AAA', 0.8);
    await h.advance(10 * MIN);
    h.m.onSignal({ ts: 5 * MIN, availableAt: 5 * MIN, symbol: 'AAA', value: 0.6 });
    expect(h.delivered.map((s) => s.value)).toEqual([0.8, 0.6]);
    expect(h.m.counters.droppedStale).toBe(0);
  });
});
