import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../store/store.js';
import { Journal, type JournalFields, type JournalKind, type JournalRecord } from './journal.js';
import { recover, recoverFromRecords } from './recovery.js';

/** Builds records with seq 1..n in the order given */
function journalOf(...entries: [JournalKind, JournalFields?][]): JournalRecord[] {
  return entries.map(([kind, f = {}], i) => ({
    runId: 'r',
    seq: i + 1,
    ts: f.ts ?? 1000 + i,
    wallTs: 2000 + i,
    kind,
    decisionId: f.decisionId ?? null,
    clientOrderId: f.clientOrderId ?? null,
    brokerOrderId: f.brokerOrderId === undefined ? null : String(f.brokerOrderId),
    instrument: f.instrument ?? null,
    payload: f.payload ?? {},
  }));
}

const intent = (coid: string, side: 'BUY' | 'SELL' = 'BUY', quantity = 10, instrument = 'SPY'): [JournalKind, JournalFields] => [
  'order_intent',
  { clientOrderId: coid, decisionId: `d-${coid}`, instrument, payload: { request: { instrument, side, quantity, type: 'MARKET' } } },
];
const submitted = (coid: string, broker: number): [JournalKind, JournalFields] => ['order_submitted', { clientOrderId: coid, brokerOrderId: broker }];
const event = (coid: string, type: string, status?: string): [JournalKind, JournalFields] => ['order_event', { clientOrderId: coid, payload: status === undefined ? { type } : { type, status } }];
const fill = (coid: string | undefined, exec: string, side: 'BUY' | 'SELL', quantity: number, price: number, instrument = 'SPY', ts = 5000): [JournalKind, JournalFields] => [
  'fill',
  { clientOrderId: coid, instrument, payload: { executionId: exec, side, quantity, price, commission: 1, ts } },
];

describe('recoverFromRecords: orders', () => {
  it('an intent with nothing after it is unconfirmed: check it at the broker', () => {
    const r = recoverFromRecords('r', journalOf(['decision', { decisionId: 'd-c1' }], intent('c1')));
    const o = r.orders.get('c1')!;
    expect(o).toMatchObject({ state: 'unconfirmed', brokerOrderId: null, decisionId: 'd-c1', instrument: 'SPY', side: 'BUY', quantity: 10, status: null, intentSeq: 2, submittedSeq: null });
    expect(r.unconfirmed.map((x) => x.clientOrderId)).toEqual(['c1']);
    expect(r.openOrders).toEqual([]);
    expect(r.openIntents.map((x) => x.clientOrderId)).toEqual(['c1']);
    expect(r.lastDecisionId).toBe('d-c1');
  });

  it('submitted without a terminal event is open, with its broker id', () => {
    const r = recoverFromRecords('r', journalOf(intent('c1'), submitted('c1', 1_000_001), event('c1', 'accepted')));
    expect(r.orders.get('c1')).toMatchObject({ state: 'open', brokerOrderId: '1000001', status: 'ACCEPTED', submittedSeq: 2 });
    expect(r.openOrders.map((o) => o.clientOrderId)).toEqual(['c1']);
    expect(r.unconfirmed).toEqual([]);
    expect([...r.submitted]).toEqual([['c1', '1000001']]);
  });

  it('a terminal event closes an order; later non-terminal events do not reopen it', () => {
    const r = recoverFromRecords('r', journalOf(intent('c1'), submitted('c1', 7), event('c1', 'cancelled', 'CANCELLED'), event('c1', 'accepted')));
    expect(r.orders.get('c1')).toMatchObject({ state: 'closed', status: 'CANCELLED' });
    expect(r.openIntents).toEqual([]);
    for (const [type, status] of [['rejected', undefined], ['expired', undefined], ['filled', undefined], ['modified', 'FILLED']] as const) {
      const x = recoverFromRecords('r', journalOf(intent('c'), event('c', type, status)));
      expect(x.orders.get('c')!.state, type).toBe('closed');
    }
  });

  it("the engine's own 'submitted' event proves nothing reached the broker; a broker event does", () => {
    const r = recoverFromRecords('r', journalOf(event('a', 'submitted', 'SUBMITTED'), event('b', 'submitted', 'SUBMITTED'), event('b', 'accepted', 'ACCEPTED'), event('c', 'submitted'), event('c', 'pending_cancel')));
    expect(r.orders.get('a')!.state).toBe('unconfirmed');
    expect(r.orders.get('b')!.state).toBe('open');
    expect(r.orders.get('c')!.state).toBe('open');
  });

  it('a reconcile record is the broker speaking: NOT_FOUND or terminal closes, working opens, even after a terminal event', () => {
    const r = recoverFromRecords(
      'r',
      journalOf(
        intent('gone'),
        ['reconcile', { clientOrderId: 'gone', payload: { status: 'NOT_FOUND' } }],
        intent('there'),
        ['reconcile', { clientOrderId: 'there', brokerOrderId: 55, payload: { status: 'ACCEPTED' } }],
        intent('late'),
        event('late', 'cancelled'),
        ['reconcile', { clientOrderId: 'late', payload: { status: 'PARTIALLY_FILLED' } }],
      ),
    );
    expect(r.orders.get('gone')).toMatchObject({ state: 'closed', status: 'NOT_FOUND' });
    expect(r.orders.get('there')).toMatchObject({ state: 'open', brokerOrderId: '55', status: 'ACCEPTED' });
    expect(r.orders.get('late')).toMatchObject({ state: 'open', status: 'PARTIALLY_FILLED' });
    expect(r.submitted.get('there')).toBe('55');
  });

  it('fills make an order open, and close it once they add up to its quantity', () => {
    const r = recoverFromRecords('r', journalOf(intent('p', 'BUY', 10), fill('p', 'e1', 'BUY', 4, 100), intent('f', 'SELL', 5), fill('f', 'e2', 'SELL', 2, 101), fill('f', 'e3', 'SELL', 3, 102)));
    expect(r.orders.get('p')).toMatchObject({ state: 'open', filledQuantity: 4 });
    expect(r.orders.get('f')).toMatchObject({ state: 'closed', status: 'FILLED', filledQuantity: 5 });
  });

  it('lists open intents in the order they were first journaled', () => {
    const r = recoverFromRecords('r', journalOf(intent('b'), intent('a'), submitted('a', 1), intent('c'), event('c', 'rejected')));
    expect(r.openIntents.map((o) => [o.clientOrderId, o.state])).toEqual([
      ['b', 'unconfirmed'],
      ['a', 'open'],
    ]);
  });
});

describe('recoverFromRecords: fills and positions', () => {
  it('counts a fill once per execution id, however often it is journaled', () => {
    const r = recoverFromRecords('r', journalOf(intent('c1', 'BUY', 10), fill('c1', 'e1', 'BUY', 6, 100, 'SPY', 5000), fill('c1', 'e1', 'BUY', 6, 100, 'SPY', 5000), fill('c1', 'e2', 'BUY', 4, 102, 'SPY', 6000), fill('c1', 'e2', 'BUY', 4, 102, 'SPY', 6000)));
    expect(r.fillsSeen.size).toBe(2);
    expect(r.duplicateFills).toBe(2);
    expect(r.orders.get('c1')).toMatchObject({ filledQuantity: 10, state: 'closed' });
    expect(r.positions).toEqual({ SPY: { quantity: 10, avgPrice: 100.8 } });
    expect(r.lastExecutionTime).toBe(6000);
    expect(r.fillsSeen.get('e2')).toMatchObject({ seq: 4, clientOrderId: 'c1', side: 'BUY', quantity: 4, price: 102, ts: 6000 });
  });

  it('positions: last snapshot plus the fills after it; a fill seen before the snapshot is not applied again', () => {
    const r = recoverFromRecords(
      'r',
      journalOf(
        fill('a', 'e1', 'BUY', 100, 10),
        ['snapshot', { payload: { positions: { SPY: { quantity: 100, avgPrice: 10 }, IBM: { quantity: -5, avgPrice: 180 } }, cash: 5000, strategies: { sma: { trend: 'up' } } } }],
        fill('a', 'e1', 'BUY', 100, 10), // the broker reported e1 again after the snapshot
        fill('b', 'e2', 'SELL', 40, 12),
        fill('c', 'e3', 'BUY', 5, 170, 'IBM'),
        fill(undefined, 'e4', 'BUY', 7, 50, 'AIG'), // an external order
      ),
    );
    expect(r.positionsBaseSeq).toBe(2);
    expect(r.positions).toEqual({ SPY: { quantity: 60, avgPrice: 10 }, AIG: { quantity: 7, avgPrice: 50 } });
    expect(r.duplicateFills).toBe(1);
    expect(r.snapshotCash).toBe(5000);
    expect(r.strategyState).toEqual({ sma: { trend: 'up' } });
    expect(r.lastSnapshot).toMatchObject({ seq: 2, ts: 1001 });
  });

  it('average cost as the portfolio keeps it: adds average, reductions keep the cost, a flip opens at the fill price', () => {
    const r = recoverFromRecords('r', journalOf(fill('a', 'e1', 'BUY', 10, 100), fill('a', 'e2', 'BUY', 10, 110), fill('b', 'e3', 'SELL', 5, 120), fill('c', 'e4', 'SELL', 25, 90)));
    expect(r.positions).toEqual({ SPY: { quantity: -10, avgPrice: 90 } });
  });

  it("a reconcile with the broker's positions replaces the base from its seq on", () => {
    const r = recoverFromRecords(
      'r',
      journalOf(['snapshot', { payload: { positions: { SPY: { quantity: 100, avgPrice: 10 } } } }], fill('a', 'e1', 'BUY', 50, 11), ['reconcile', { payload: { positions: { SPY: 120, QQQ: { quantity: 3, avgPrice: 300 } } } }], fill('b', 'e2', 'SELL', 20, 12)),
    );
    expect(r.positionsBaseSeq).toBe(3);
    expect(r.positions).toEqual({ SPY: { quantity: 100, avgPrice: 0 }, QQQ: { quantity: 3, avgPrice: 300 } });
  });

  it('flat positions are left out', () => {
    const r = recoverFromRecords('r', journalOf(fill('a', 'e1', 'BUY', 10, 100), fill('b', 'e2', 'SELL', 10, 101)));
    expect(r.positions).toEqual({});
  });
});

describe('recoverFromRecords: run state', () => {
  it('halts in force at the end: per instrument and global, a global resume clears all', () => {
    const r = recoverFromRecords('r', journalOf(['halt', { instrument: 'SPY', payload: { reason: 'stale data' } }], ['halt', { instrument: 'IBM', payload: { reason: 'stale data' } }], ['resume', { instrument: 'IBM' }], ['halt', { payload: { reason: 'disconnected' } }]));
    expect(r.halted).toEqual({ global: { seq: 4, reason: 'disconnected' }, sources: { '': { seq: 4, reason: 'disconnected' } }, instruments: { SPY: { seq: 1, reason: 'stale data' } } });
    const cleared = recoverFromRecords('r', journalOf(['halt', { instrument: 'SPY' }], ['halt', {}], ['resume', {}]));
    expect(cleared.halted).toEqual({ global: null, sources: {}, instruments: {} });
  });

  it('whole-book halts by source: a resume lifts only its own source; instrument halts named in the payload stay per instrument', () => {
    // as the runner journals the supervisor's actions: the source and instrument in the payload
    const r = recoverFromRecords(
      'r',
      journalOf(
        ['halt', { payload: { type: 'halt', source: 'loss:cumulative', reason: 'cumulative loss 1020.00 reached maxCumulativeLoss 1000' } }],
        ['halt', { payload: { type: 'halt', source: 'health:event-loop-lag', reason: 'lag' } }],
        ['halt', { payload: { type: 'halt-instrument', source: 'session', instrument: 'SPY', reason: 'closed' } }],
        ['halt', { payload: { type: 'halt', source: 'drawdown', reason: 'drawdown 1.03%' } }],
        ['resume', { payload: { type: 'resume', source: 'health:event-loop-lag' } }],
        ['resume', { payload: { type: 'resume', source: 'drawdown' } }],
      ),
    );
    expect(r.halted.sources).toEqual({ 'loss:cumulative': { seq: 1, reason: 'cumulative loss 1020.00 reached maxCumulativeLoss 1000' } });
    expect(r.halted.instruments).toEqual({ SPY: { seq: 3, reason: 'closed' } });
  });

  it('the loss baseline: the last baseline note, whatever notes come around it', () => {
    const baseline = (startEquity: number, peakEquity: number): [JournalKind, JournalFields] => ['note', { payload: { type: 'baseline', source: 'baseline', context: { startEquity, peakEquity } } }];
    expect(recoverFromRecords('r', journalOf(['note', { payload: { event: 'x' } }])).lossBaseline).toBeNull();
    const r = recoverFromRecords('r', journalOf(baseline(100_000, 100_000), ['note', { payload: { type: 'close' } }], baseline(100_000, 102_500), ['note', { payload: { type: 'baseline', context: {} } }]));
    expect(r.lossBaseline).toEqual({ seq: 3, startEquity: 100_000, peakEquity: 102_500 });
  });

  it('checks that seqs are contiguous, whatever order the records come in', () => {
    const ok = journalOf(['note'], ['note'], ['note']);
    expect(recoverFromRecords('r', [...ok].reverse())).toMatchObject({ contiguous: true, lastSeq: 3, records: 3 });
    expect(recoverFromRecords('r', [ok[0]!, ok[2]!]).contiguous).toBe(false);
    expect(recoverFromRecords('r', [])).toMatchObject({ contiguous: true, lastSeq: 0, lastSnapshot: null, strategyState: {}, positions: {}, lastExecutionTime: null });
  });
});

describe('recover (from the store)', () => {
  let store: Store;
  beforeEach(async () => {
    store = await Store.open(':memory:');
  });
  afterEach(() => store.close());

  it('reads a run back: the last snapshot whole, order records, fills; unknown runs are JOURNAL_NOT_FOUND', async () => {
    const j = await Journal.open(store, { runId: 'live-1', mode: 'live', strategy: 's', strategyVersion: '1', configHash: 'h' });
    await j.snapshot({ strategies: { s: { n: 1 } }, positions: {} });
    await j.appendDurable('decision', { decisionId: 'd1', payload: { inputs: { x: 1 } } });
    await j.appendDurable('order_intent', { decisionId: 'd1', clientOrderId: 's-1', instrument: 'SPY', payload: { request: { side: 'BUY', quantity: 10 } } });
    await j.appendDurable('order_submitted', { clientOrderId: 's-1', brokerOrderId: 1_000_000 });
    j.append('fill', { clientOrderId: 's-1', instrument: 'SPY', payload: { executionId: 'x1', side: 'BUY', quantity: 10, price: 100, ts: 1234 } });
    j.append('order_event', { clientOrderId: 's-1', payload: { type: 'filled', status: 'FILLED' } });
    await j.snapshot({ strategies: { s: { n: 2 } }, positions: { SPY: { quantity: 10, avgPrice: 100 } }, cash: 9000 }, 1300);
    await j.appendDurable('order_intent', { decisionId: 'd2', clientOrderId: 's-2', instrument: 'SPY', payload: { request: { side: 'SELL', quantity: 10 } } });
    // notes are not loaded, but the supervisor's loss baseline is
    await j.appendDurable('note', { payload: { type: 'baseline', context: { startEquity: 10_000, peakEquity: 10_250 } } });
    await j.appendDurable('note', { payload: { type: 'close', context: { startEquity: 1, peakEquity: 1 } } });
    const r = await recover(store, 'live-1');
    expect(r.run).toMatchObject({ runId: 'live-1', mode: 'live', endedAt: null });
    expect(r.lossBaseline).toEqual({ seq: 9, startEquity: 10_000, peakEquity: 10_250 });
    expect(r).toMatchObject({ records: 10, lastSeq: 10, contiguous: true, strategyState: { s: { n: 2 } }, positions: { SPY: { quantity: 10, avgPrice: 100 } }, snapshotCash: 9000, lastExecutionTime: 1234, lastDecisionId: 'd1' });
    expect(r.lastSnapshot).toMatchObject({ seq: 7, ts: 1300 });
    expect(r.orders.get('s-1')).toMatchObject({ state: 'closed', brokerOrderId: '1000000', filledQuantity: 10 });
    expect(r.unconfirmed.map((o) => [o.clientOrderId, o.decisionId, o.side])).toEqual([['s-2', 'd2', 'SELL']]);
    await expect(recover(store, 'nope')).rejects.toMatchObject({ code: 'JOURNAL_NOT_FOUND' });
    await j.close();
  });
});
