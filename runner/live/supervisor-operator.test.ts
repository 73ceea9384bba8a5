/**
 * The operator's halts on a running supervisor (supervisor-operator.ts): an operator halt of the book
 * or of one instrument and its resume; the sticky risk halts (drawdown, cumulative loss) lifted only
 * with confirm, re-based, journaled so that a restart does not bring them back; refusals that change
 * nothing.
 */
import { describe, expect, it } from 'vitest';
import { recoverFromRecords } from '../../lib/journal/recovery.js';
import { supervisorRestore } from './run-resume.js';
import { journalRecords, ny, supervisedKernel, type SupervisedKernel } from './supervisor-fixtures.js';
import { HaltRequestError, type ResumeRequest } from './supervisor-operator.js';

const at = (ts: number) => new Date(ts).toISOString();

/** The refusal `fn` throws, as [code, message]; fails when it does not throw one */
function refusal(fn: () => unknown): [string, string] {
  try {
    fn();
  } catch (e) {
    if (e instanceof HaltRequestError) return [e.code, e.message];
    throw e;
  }
  throw new Error('expected a HaltRequestError');
}

/** A refused resume changes nothing: same halts, no action reported */
function refusedResume(s: SupervisedKernel, req: ResumeRequest): [string, string] {
  const halts = JSON.stringify(s.supervisor.haltsInForce());
  const actions = s.actions.length;
  const r = refusal(() => s.operator.resume(req));
  expect(JSON.stringify(s.supervisor.haltsInForce())).toBe(halts);
  expect(s.actions.length).toBe(actions);
  return r;
}

describe('operator halts', () => {
  it('halts the whole book with a reason (entries refused, journaled as an operator halt), idempotent, lifted by resume', async () => {
    const s = await supervisedKernel({ holdBars: 2 });
    // 10:00 bar: bought 100 at 100; 10:01 bar: held one bar
    await s.bars(ny(10), ny(10, 2), () => 100);
    const a = s.operator.halt({ reason: '  data vendor incident  ', instrument: null });
    expect(a).toEqual({ halted: { source: 'operator', since: at(ny(10, 2)), detail: 'data vendor incident', lift: 'operator' }, already: false, halts: [a.halted] });
    expect(s.actions.at(-1)).toMatchObject({ type: 'halt', source: 'operator', reason: 'data vendor incident', ts: ny(10, 2), context: { via: 'operator', halts: 'operator: data vendor incident' } });
    // halting again changes nothing: the first reason stays, nothing more is journaled
    const actions = s.actions.length;
    expect(s.operator.halt({ reason: 'another reason' })).toMatchObject({ already: true, halted: { detail: 'data vendor incident' } });
    expect(s.actions.length).toBe(actions);
    // 10:02 bar: the exit (a reducing order) still goes; 10:03, 10:04: entries are refused
    await s.bars(ny(10, 2), ny(10, 5), () => 100);
    expect(s.events.map((e) => [at(e.ts), e.type, e.side])).toEqual([
      [at(ny(10, 1)), 'filled', 'BUY'],
      [at(ny(10, 3)), 'filled', 'SELL'],
      [at(ny(10, 4)), 'rejected', 'BUY'],
      [at(ny(10, 5)), 'rejected', 'BUY'],
    ]);
    expect(s.events.at(-1)!.reason).toBe('risk: trading halted: operator: data vendor incident');
    expect(s.operator.status()).toMatchObject({ halted: true, halts: [{ source: 'operator', since: at(ny(10, 2)) }] });

    const r = s.operator.resume({ source: 'operator' });
    expect(r).toEqual({ lifted: { source: 'operator', since: at(ny(10, 2)), detail: 'data vendor incident', lift: 'operator' }, halted: false, halts: [] });
    expect(s.actions.at(-1)).toMatchObject({ type: 'resume', source: 'operator', reason: 'trading resumed', context: { via: 'operator', lifted: 'data vendor incident', since: at(ny(10, 2)) } });
    await s.bars(ny(10, 5), ny(10, 6), () => 100);
    expect(s.events.at(-1)).toMatchObject({ ts: ny(10, 6), type: 'filled', side: 'BUY' });
    // nothing left to lift
    expect(refusedResume(s, { source: 'operator' })).toEqual(['HALT_NOT_IN_FORCE', 'operator does not halt the whole book; no halt is in force']);
    await s.stop();
  });

  it('halts one instrument (by symbol, any case); the others keep trading; its resume names the instrument', async () => {
    const s = await supervisedKernel({ symbols: ['SPY', 'IBM'] });
    const a = s.operator.halt({ reason: 'earnings', instrument: 'ibm' });
    expect(a.halted).toEqual({ source: 'operator', instrument: 'IBM', since: at(ny(10)), detail: 'earnings', lift: 'operator' });
    expect(s.actions.at(-1)).toMatchObject({ type: 'halt-instrument', source: 'operator', instrument: 'IBM', reason: 'earnings' });
    await s.bars(ny(10), ny(10, 1), () => 100);
    expect(s.events.map((e) => [e.instrument, e.type])).toEqual([
      ['SPY', 'filled'],
      ['IBM', 'rejected'],
    ]);
    expect(s.events[1]!.reason).toBe('risk: IBM halted: operator: earnings');
    // the whole book is not halted by the operator: the refusal says what is
    expect(refusedResume(s, { source: 'operator' })).toEqual(['HALT_NOT_IN_FORCE', 'operator does not halt the whole book; in force: operator IBM']);
    expect(refusal(() => s.operator.halt({ reason: 'x', instrument: 'QQQ' }))).toEqual(['HALT_UNKNOWN_INSTRUMENT', 'QQQ: not an instrument of this run (instruments: SPY, IBM)']);
    expect(s.operator.resume({ source: 'operator', instrument: 'IBM' }).halts).toEqual([]);
    expect(s.actions.at(-1)).toMatchObject({ type: 'resume-instrument', source: 'operator', instrument: 'IBM', reason: 'entries resumed' });
    await s.bars(ny(10, 1), ny(10, 2), () => 100);
    expect(s.events.at(-1)).toMatchObject({ instrument: 'IBM', type: 'filled', ts: ny(10, 2) });
    await s.stop();
  });

  it('refuses what it may not lift or does not know, changing nothing', async () => {
    const s = await supervisedKernel({ symbols: ['SPY'] });
    s.supervisor.halt('health:event-loop-lag', 'event-loop lag 450 ms');
    s.supervisor.haltInstrument('SPY', 'health:stale', 'no data for 45 s');
    s.supervisor.haltInstrument('SPY', 'removal', 'removed from the universe');
    expect(refusedResume(s, { source: 'health:event-loop-lag' })[0]).toBe('HALT_SELF_LIFTING');
    expect(refusedResume(s, { source: 'health:stale', instrument: 'SPY' })).toEqual(['HALT_SELF_LIFTING', "health:stale: not lifted by hand: it lifts itself when the instrument's market data is fresh again"]);
    expect(refusedResume(s, { source: 'session', instrument: 'SPY' })[1]).toMatch(/^session: not lifted by hand: the session guard lifts it/);
    expect(refusedResume(s, { source: 'removal', instrument: 'SPY' })[1]).toMatch(/monger symbol add/);
    expect(refusedResume(s, { source: 'bogus' })).toEqual([
      'HALT_UNKNOWN_SOURCE',
      'bogus: not a halt source an operator lifts (operator, loss:cumulative (with confirm), drawdown (with confirm)); in force: health:event-loop-lag, health:stale SPY, removal SPY',
    ]);
    expect(refusedResume(s, { source: 'drawdown', instrument: 'SPY', confirm: true })[0]).toBe('HALT_BAD_REQUEST');
    expect(refusedResume(s, { source: 'drawdown', confirm: true })[0]).toBe('HALT_NOT_IN_FORCE');
    expect(refusedResume(s, {})[0]).toBe('HALT_BAD_REQUEST');
    expect(refusedResume(s, { source: 'operator', instrument: 42 })[0]).toBe('HALT_BAD_REQUEST');
    const before = s.actions.length;
    expect(refusal(() => s.operator.halt({ reason: '   ' }))[0]).toBe('HALT_BAD_REQUEST');
    expect(refusal(() => s.operator.halt({ reason: 'x'.repeat(501) }))[0]).toBe('HALT_BAD_REQUEST');
    expect(s.actions.length).toBe(before);
    // the status says who lifts each
    expect(s.operator.status().halts.map((h) => [h.source, h.instrument, h.lift])).toEqual([
      ['health:event-loop-lag', undefined, 'automatic'],
      ['health:stale', 'SPY', 'automatic'],
      ['removal', 'SPY', 'automatic'],
    ]);
    await s.stop();
  });

  it('status: run, strategy@version, connection, halts, positions, working orders, sessions, account', async () => {
    const s = await supervisedKernel({ symbols: ['SPY'] });
    await s.bars(ny(10), ny(10, 1), () => 100);
    s.operator.halt({ reason: 'lunch' });
    expect(s.operator.status()).toEqual({
      runId: 'run-1',
      mode: 'paper',
      strategy: 'trader@1.2.3',
      connection: 'connected',
      now: at(ny(10, 1)),
      halted: true,
      halts: [{ source: 'operator', since: at(ny(10, 1)), detail: 'lunch', lift: 'operator' }],
      positions: [{ instrument: 'SPY', quantity: 100, avgPrice: 100, lastPrice: 100, unrealizedPnl: 0 }],
      workingOrders: 0,
      sessions: { SPY: { phase: 'open', close: '2024-12-02T21:00:00.000Z' } },
      account: { equity: 100_000, startEquity: 100_000, peakEquity: 100_000, cumulativePnl: 0, drawdownPct: 0 },
    });
    await s.stop();
  });
});

describe('lifting sticky risk halts', () => {
  it('drawdown: refused without confirm, lifted with it (the peak re-based on the equity now), entries go again', async () => {
    // 100 shares bought at 100 on the 10:00 bar; at 70 the equity is 97_000, 3% under the 100_000 peak
    const s = await supervisedKernel({ supervisor: { drawdownHaltPct: 2 }, holdBars: 2 });
    await s.bars(ny(10), ny(10, 1), () => 100);
    await s.bars(ny(10, 1), ny(10, 4), () => 70);
    const reason = 'drawdown 3.00% from the equity peak 100000.00 reached drawdownHaltPct 2';
    expect(s.supervisor.haltSources()).toEqual({ drawdown: reason });
    // held two bars, the exit sold at 70 at 10:03 (exits pass the halt); the entry after it was refused
    expect(s.events.map((e) => [at(e.ts), e.type, e.side])).toEqual([
      [at(ny(10, 1)), 'filled', 'BUY'],
      [at(ny(10, 3)), 'filled', 'SELL'],
      [at(ny(10, 4)), 'rejected', 'BUY'],
    ]);
    expect(s.events.at(-1)!.reason).toBe(`risk: trading halted: drawdown: ${reason}`);

    const [code, message] = refusedResume(s, { source: 'drawdown' });
    expect(code).toBe('HALT_CONFIRM_REQUIRED');
    expect(message).toBe(`drawdown is a risk limit's halt (${reason}): lifting it re-bases the limit on the equity now and lets entries through again; confirm it ("confirm": true, monger resume drawdown --confirm)`);
    // confirm must be the JSON true, not a truthy string
    expect(refusedResume(s, { source: 'drawdown', confirm: 'yes' })[0]).toBe('HALT_CONFIRM_REQUIRED');

    const r = s.operator.resume({ source: 'drawdown', confirm: true });
    expect(r).toEqual({ lifted: { source: 'drawdown', since: at(ny(10, 2)), detail: reason, lift: 'operator-confirm' }, rebased: { startEquity: 100_000, peakEquity: 97_000 }, halted: false, halts: [] });
    expect(s.actions.slice(-2)).toMatchObject([
      { type: 'resume', source: 'drawdown', reason: 'trading resumed', context: { via: 'operator', confirm: true, lifted: reason, since: at(ny(10, 2)) } },
      { type: 'baseline', reason: 're-based by the resume of drawdown', context: { startEquity: 100_000, peakEquity: 97_000 } },
    ]);
    await s.bars(ny(10, 4), ny(10, 5), () => 70);
    expect(s.events.at(-1)).toMatchObject({ ts: ny(10, 5), type: 'filled', side: 'BUY' });
    // measured from the new peak: 70 -> 69 is 100 / 97_000 = 0.1%, far from 2%
    await s.bars(ny(10, 5), ny(10, 6), () => 69);
    expect(s.supervisor.haltSources()).toEqual({});
    await s.stop();
  });

  it('cumulative loss: positions closed and entries refused; with confirm the loss re-bases and trading continues', async () => {
    // 100 bought at 100; at 85 the loss is 1_500 >= 1_000: halt, every position closed at 85
    const s = await supervisedKernel({ supervisor: { account: { maxCumulativeLoss: 1_000 } } });
    await s.bars(ny(10), ny(10, 1), () => 100);
    await s.bars(ny(10, 1), ny(10, 3), () => 85);
    expect(s.kernel.portfolio.position('SPY')).toBe(0);
    expect(s.actions.filter((a) => a.type === 'close').map((a) => [a.source, a.side, a.quantity])).toEqual([['loss:cumulative', 'SELL', 100]]);
    expect(s.events.at(-1)).toMatchObject({ type: 'rejected', reason: expect.stringMatching(/^risk: trading halted: loss:cumulative: cumulative loss 1500\.00/) });
    expect(refusedResume(s, { source: 'loss:cumulative' })[0]).toBe('HALT_CONFIRM_REQUIRED');

    const r = s.operator.resume({ source: 'loss:cumulative', confirm: true });
    // equity 98_500 after selling at 85: the loss now counts from there
    expect(r).toMatchObject({ lifted: { source: 'loss:cumulative', detail: 'cumulative loss 1500.00 reached maxCumulativeLoss 1000' }, rebased: { startEquity: 98_500, peakEquity: 100_000 }, halted: false });
    expect(s.operator.status().account).toEqual({ equity: 98_500, startEquity: 98_500, peakEquity: 100_000, cumulativePnl: 0, drawdownPct: 1.5 });
    await s.bars(ny(10, 3), ny(10, 4), () => 85);
    expect(s.events.at(-1)).toMatchObject({ ts: ny(10, 4), type: 'filled', side: 'BUY' });
    expect(s.kernel.portfolio.position('SPY')).toBe(100);
    await s.stop();
  });
});

describe('a restart after a lift', () => {
  it('brings back only what is still in force: a lifted drawdown and book halt stay lifted, an operator instrument halt comes back', async () => {
    const first = await supervisedKernel({ symbols: ['SPY', 'IBM'], supervisor: { drawdownHaltPct: 2 } });
    await first.bars(ny(10), ny(10, 1), () => 100);
    await first.bars(ny(10, 1), ny(10, 2), () => 70);
    expect(Object.keys(first.supervisor.haltSources())).toEqual(['drawdown']);
    first.operator.halt({ reason: 'desk closed' });
    first.operator.halt({ reason: 'corporate action', instrument: 'IBM' });
    const beforeLift = first.actions.length;
    first.operator.resume({ source: 'drawdown', confirm: true });
    first.operator.resume({ source: 'operator' });
    await first.stop();

    // the journal up to the lift: the drawdown and the operator's halts come back
    const records = journalRecords(first.actions);
    const early = supervisorRestore(recoverFromRecords('run-1', records.slice(0, beforeLift)));
    expect(Object.keys(early.halts!)).toEqual(['drawdown', 'operator']);
    expect(early.instrumentHalts).toEqual({ IBM: { operator: 'corporate action' } });
    // the whole journal: only the IBM halt, and the re-based peak (equity 94_000: 200 shares down 30)
    const restore = supervisorRestore(recoverFromRecords('run-1', records));
    expect(restore).toEqual({ halts: {}, instrumentHalts: { IBM: { operator: 'corporate action' } }, startEquity: 100_000, peakEquity: 94_000 });

    // the restarted process (flat, equity 100_000 at its start): IBM halted before it runs, SPY trades
    const second = await supervisedKernel({ symbols: ['SPY', 'IBM'], supervisor: { drawdownHaltPct: 2, restore }, start: ny(11) });
    expect(second.supervisor.haltsInForce()).toEqual([{ source: 'operator', instrument: 'IBM', since: ny(11), detail: 'corporate action', restored: true }]);
    expect(second.actions[0]).toMatchObject({ type: 'halt-instrument', source: 'operator', instrument: 'IBM', context: { restored: true } });
    await second.bars(ny(11), ny(11, 1), () => 100);
    expect(second.events.map((e) => [e.instrument, e.type])).toEqual([
      ['SPY', 'filled'],
      ['IBM', 'rejected'],
    ]);
    expect(second.events[1]!.reason).toBe('risk: IBM halted: operator: corporate action');
    // the restored halt is lifted like any other, and a restart after that restores nothing
    second.operator.resume({ source: 'operator', instrument: 'IBM' });
    expect(supervisorRestore(recoverFromRecords('run-1', journalRecords(second.actions)))).toMatchObject({ halts: {} });
    expect(supervisorRestore(recoverFromRecords('run-1', journalRecords(second.actions))).instrumentHalts).toBeUndefined();
    await second.stop();
  });

  it("recovery keeps an instrument's halts by source: another source's resume of the instrument leaves the operator's in force", () => {
    const rec = (seq: number, kind: 'halt' | 'resume', payload: Record<string, unknown>) => ({ runId: 'r', seq, ts: seq, wallTs: seq, kind, decisionId: null, clientOrderId: null, brokerOrderId: null, instrument: null, payload });
    const r = recoverFromRecords('r', [
      rec(1, 'halt', { type: 'halt-instrument', source: 'operator', instrument: 'IBM', reason: 'corporate action' }),
      rec(2, 'halt', { type: 'halt-instrument', source: 'health:stale', instrument: 'IBM', reason: 'no data' }),
      rec(3, 'resume', { type: 'resume-instrument', source: 'health:stale', instrument: 'IBM' }),
      rec(4, 'halt', { type: 'halt-instrument', source: 'session', instrument: 'SPY', reason: 'closed' }),
    ]);
    // halted.instruments keeps only an instrument's last halt, which the stale resume removed
    expect(r.halted.instruments).toEqual({ SPY: { seq: 4, reason: 'closed' } });
    expect(r.instrumentHaltSources).toEqual({ IBM: { operator: { seq: 1, reason: 'corporate action' } }, SPY: { session: { seq: 4, reason: 'closed' } } });
    // only the sticky one goes to the supervisor
    expect(supervisorRestore(r).instrumentHalts).toEqual({ IBM: { operator: 'corporate action' } });
    // a whole-book resume without a source lifts everything
    expect(recoverFromRecords('r', [rec(1, 'halt', { source: 'operator', instrument: 'IBM' }), rec(2, 'resume', {})]).instrumentHaltSources).toEqual({});
  });
});
