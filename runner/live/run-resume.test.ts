/** Which run a restart continues, the per-process client order id prefix, and the orders it adopts. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/core/errors.js';
import type { JournalRecord, JournalRun } from '../../lib/journal/journal.js';
import { recoverFromRecords } from '../../lib/journal/recovery.js';
import { adoptionPlan, chooseRun, clientOrderIdPrefix, supervisorRestore } from './run-resume.js';

const run = (runId: string, over: Partial<JournalRun> = {}): JournalRun => ({
  runId,
  startedAt: 1000,
  mode: 'paper',
  strategy: 'sma-cross',
  strategyVersion: '1.0.0',
  configHash: 'aaa',
  host: 'h',
  pid: 1,
  restarts: 0,
  endedAt: null,
  endReason: null,
  ...over,
});
const want = { mode: 'paper', strategy: 'sma-cross', configHash: 'aaa' };
const auto = { autoResume: true };

function problem(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.join('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('chooseRun', () => {
  it('resumes the newest unfinished run of the same strategy, mode and config; never a finished one', () => {
    const runs = [
      run('old', { startedAt: 1 }),
      run('newest', { startedAt: 3 }),
      run('finished', { startedAt: 5, endedAt: 6, endReason: 'end of replay' }),
      run('other-mode', { startedAt: 7, mode: 'live' }),
      run('other-strategy', { startedAt: 8, strategy: 'buy-and-hold' }),
    ];
    expect(chooseRun(runs, want, auto)).toMatchObject({ action: 'resume', run: { runId: 'newest' } });
    expect(chooseRun([run('done', { endedAt: 2, endReason: 'signal' })], want, auto)).toMatchObject({ action: 'new' });
    expect(chooseRun([], want, auto)).toMatchObject({ action: 'new' });
  });

  it('refuses an unfinished run with another config unless --new-run; --new-run names what it leaves behind', () => {
    const runs = [run('r1', { configHash: 'bbbbbbbbbbbbbbbb' })];
    expect(problem(() => chooseRun(runs, want, auto))).toMatch(/r1.*did not finish.*another configuration.*--new-run/);
    expect(chooseRun(runs, want, { ...auto, newRun: true })).toEqual({ action: 'new', reason: '--new-run (unfinished, not resumed: r1)' });
  });

  it('--resume names a run (finished ones too) and checks it; --resume with --new-run is refused', () => {
    const runs = [run('r1', { endedAt: 9, endReason: 'signal' }), run('r2', { configHash: 'ccc' }), run('r3', { mode: 'live' })];
    expect(chooseRun(runs, want, { ...auto, resume: 'r1' })).toMatchObject({ action: 'resume', run: { runId: 'r1' }, reason: '--resume r1 (it ended: signal)' });
    expect(problem(() => chooseRun(runs, want, { ...auto, resume: 'nope' }))).toMatch(/no run 'nope'/);
    expect(problem(() => chooseRun(runs, want, { ...auto, resume: 'r2' }))).toMatch(/another configuration/);
    expect(problem(() => chooseRun(runs, want, { ...auto, resume: 'r3' }))).toMatch(/live mode/);
    expect(problem(() => chooseRun(runs, want, { ...auto, resume: 'r1', newRun: true }))).toMatch(/exclude each other/);
  });

  it('a replay that starts its own simulator (a fresh broker) does not resume implicitly', () => {
    expect(chooseRun([run('r1', { mode: 'replay' })], { ...want, mode: 'replay' }, { autoResume: false })).toMatchObject({ action: 'new' });
    expect(chooseRun([run('r1', { mode: 'replay' })], { ...want, mode: 'replay' }, { autoResume: false, resume: 'r1' })).toMatchObject({ action: 'resume' });
  });
});

describe('clientOrderIdPrefix', () => {
  it('is the run id random tail (or a hash of a chosen id) and the restart count: unique per process of a run', () => {
    expect(clientOrderIdPrefix('sma-cross-20240607T133000Z-a1b2c3', 0)).toBe('a1b2c3.0');
    expect(clientOrderIdPrefix('sma-cross-20240607T133000Z-a1b2c3', 2)).toBe('a1b2c3.2');
    // a chosen run id: sha256('my-run') begins with these six hex digits
    expect(clientOrderIdPrefix('my-run', 1)).toMatch(/^[0-9a-f]{6}\.1$/);
    expect(clientOrderIdPrefix('my-run', 1)).toBe(clientOrderIdPrefix('my-run', 1));
    expect(clientOrderIdPrefix('my-run', 1)).not.toBe(clientOrderIdPrefix('my-run2', 1));
  });
});

describe('adoptionPlan', () => {
  let seq = 0;
  const rec = (kind: JournalRecord['kind'], f: Partial<JournalRecord>): JournalRecord => ({
    runId: 'r',
    seq: ++seq,
    ts: 5,
    wallTs: 5,
    kind,
    decisionId: null,
    clientOrderId: null,
    brokerOrderId: null,
    instrument: null,
    payload: {},
    ...f,
  });
  const intent = (coid: string, extra: Record<string, unknown> = {}) =>
    rec('order_intent', {
      clientOrderId: coid,
      decisionId: `sma-cross@1.0.0#${coid}`,
      instrument: 'SPY',
      payload: { orderRef: `sma-cross@1.0.0#${coid}`, strategyId: 'sma-cross', instrument: 'SPY', side: 'BUY', type: 'LIMIT', quantity: 100, limitPrice: 168.5, stopPrice: null, trailingAmount: null, trailingPercent: null, tif: 'DAY', tag: '', ...extra },
    });

  it('rebuilds unconfirmed and open orders from their intents with the fills the journal has; an order without intent was never sent', () => {
    seq = 0;
    const records = [
      intent('sma-cross-a.0-1'),
      intent('sma-cross-a.0-2', { side: 'SELL', type: 'MARKET', limitPrice: null, quantity: 50 }),
      rec('order_event', { clientOrderId: 'sma-cross-a.0-2', payload: { type: 'accepted', status: 'ACCEPTED' } }),
      rec('fill', { clientOrderId: 'sma-cross-a.0-2', instrument: 'SPY', payload: { executionId: 'e1', side: 'SELL', quantity: 20, price: 168, commission: 1 } }),
      rec('fill', { clientOrderId: 'sma-cross-a.0-2', instrument: 'SPY', payload: { executionId: 'e2', side: 'SELL', quantity: 10, price: 171, commission: 1 } }),
      // the engine's own step, its intent lost with the crash
      rec('order_event', { clientOrderId: 'sma-cross-a.0-3', instrument: 'SPY', payload: { type: 'submitted', status: 'SUBMITTED' } }),
      intent('sma-cross-a.0-4'),
      rec('order_event', { clientOrderId: 'sma-cross-a.0-4', payload: { type: 'filled', status: 'FILLED' } }),
    ];
    const plan = adoptionPlan(recoverFromRecords('r', records), 77);
    expect(plan.adopt.map((a) => [a.adopted.clientOrderId, a.journalState, a.adopted.status, a.orderRef])).toEqual([
      ['sma-cross-a.0-1', 'unconfirmed', 'SUBMITTED', 'sma-cross@1.0.0#sma-cross-a.0-1'],
      ['sma-cross-a.0-2', 'open', 'PARTIALLY_FILLED', 'sma-cross@1.0.0#sma-cross-a.0-2'],
    ]);
    expect(plan.adopt[0]!.adopted).toMatchObject({ strategyId: 'sma-cross', filledQuantity: 0, createdAt: 77, request: { instrument: 'SPY', side: 'BUY', type: 'LIMIT', quantity: 100, limitPrice: 168.5, tif: 'DAY' } });
    expect(plan.adopt[0]!.adopted.request.stopPrice).toBeUndefined();
    // 20 @ 168 and 10 @ 171: 30 filled at (3360 + 1710) / 30 = 169
    expect(plan.adopt[1]!.adopted).toMatchObject({ filledQuantity: 30, avgFillPrice: 169, request: { side: 'SELL', type: 'MARKET', quantity: 50 } });
    expect(plan.adopt[1]!.knownExecutions).toEqual(['e1', 'e2']);
    expect(plan.unsent.map((u) => [u.order.clientOrderId, u.reason])).toEqual([['sma-cross-a.0-3', 'no durable order intent: never sent']]);
  });
});

describe('supervisorRestore', () => {
  it('the whole-book halts the journal left in force, by source, and the last loss baseline', () => {
    const rec = (seq: number, kind: JournalRecord['kind'], payload: unknown): JournalRecord => ({ runId: 'r', seq, ts: seq, wallTs: seq, kind, decisionId: null, clientOrderId: null, brokerOrderId: null, instrument: null, payload });
    const r = recoverFromRecords('r', [
      rec(1, 'note', { type: 'baseline', context: { startEquity: 100_000, peakEquity: 100_000 } }),
      rec(2, 'halt', { type: 'halt', source: 'drawdown', reason: 'drawdown 2.10% from the equity peak 102000.00 reached drawdownHaltPct 2' }),
      rec(3, 'halt', { type: 'halt', source: 'reconnect' }),
      rec(4, 'halt', { type: 'halt-instrument', source: 'session', instrument: 'SPY', reason: 'closed' }),
      rec(5, 'note', { type: 'baseline', context: { startEquity: 100_000, peakEquity: 102_000 } }),
    ]);
    // the supervisor keeps only the sticky sources of these (drawdown); reconnect is the session's to re-derive
    expect(supervisorRestore(r)).toEqual({ halts: { drawdown: 'drawdown 2.10% from the equity peak 102000.00 reached drawdownHaltPct 2', reconnect: '' }, startEquity: 100_000, peakEquity: 102_000 });
    expect(supervisorRestore(recoverFromRecords('r', []))).toEqual({ halts: {} });
  });
});
