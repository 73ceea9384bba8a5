/**
 * A new run on an account that already holds positions (the previous run stopped cleanly): the
 * engine adopts IB's positions in the universe; the rest stays external.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCommissionModel } from '../../lib/backtest/commission.js';
import { SimulatedVenue } from '../../lib/backtest/sim-venue.js';
import { silentLogger } from '../../lib/core/logger.js';
import { futureSpec } from '../../lib/data/futures.js';
import { stockSpec, type InstrumentSpec } from '../../lib/data/instrument.js';
import { Kernel } from '../../lib/engine/kernel.js';
import { PushDataClient } from '../../lib/engine/live-data-client.js';
import { LiveFeed } from '../../lib/engine/live-feed.js';
import { ManualTime } from '../../lib/engine/manual-time.js';
import { Journal, readJournal } from '../../lib/journal/journal.js';
import { recover } from '../../lib/journal/recovery.js';
import { Store } from '../../lib/store/store.js';
import type { PositionDiscrepancy, ReconcileReport } from './execution-types.js';
import { adoptBrokerPositions, ExpectedPositions } from './resume-run.js';
import { keepUnfinished } from './run-resume.js';

const position = (instrument: string, brokerQuantity: number, avgCost: number, ourQuantity = 0): PositionDiscrepancy => ({ instrument, account: 'DU1', conId: 1, brokerQuantity, ourQuantity, difference: brokerQuantity - ourQuantity, avgCost });
const report = (externalPositions: PositionDiscrepancy[]): ReconcileReport => ({ cause: 'start', at: 0, recoveredFills: [], updatedOrders: [], externalOrders: [], unclaimedOrders: [], externalPositions, mismatches: [], counts: { openOrders: 0, executions: 0, positions: externalPositions.length } });

describe('adoptBrokerPositions (a new run)', () => {
  let store: Store;
  let journal: Journal;
  beforeEach(async () => {
    store = await Store.open(':memory:');
    journal = await Journal.open(store, { runId: 'new-1', mode: 'paper', strategy: 's', strategyVersion: '1', configHash: 'h' });
  });
  afterEach(async () => {
    await journal.close();
    await store.close();
  });

  it('takes IB positions in the universe into the engine (journaled, expected by later reconciliations); the rest stays external', async () => {
    const es = futureSpec('ES', '202503');
    const universe = new Map<string, InstrumentSpec>([
      ['SPY', stockSpec('SPY')],
      ['IBM', stockSpec('IBM')],
      [es.key, es],
    ]);
    const time = new ManualTime(Date.UTC(2024, 11, 2, 15));
    const feed = new LiveFeed({ clock: time, scheduler: time });
    const resolve = async (k: string) => universe.get(k) ?? Promise.reject(new Error(`'${k}' is not in the market-data universe`));
    const kernel = new Kernel({ environment: 'paper', clock: time, dataClient: new PushDataClient({ feed, resolve }), executionClient: new SimulatedVenue({ fill: 'close', commission: parseCommissionModel('none') }), startingCash: 100_000, liveFeed: feed });
    const expected = new ExpectedPositions();
    // IB: 100 SPY at 450, short 20 IBM at 180, 2 ES at 6000 x 50 (IB's avgCost is per contract), 7 AAPL outside the universe
    const r = report([position('AAPL', 7, 190), position(es.key, 2, 300_000), position('IBM', -20, 180), position('SPY', 100, 450)]);
    const adopted = await adoptBrokerPositions({ report: r, kernel, journal, resolve, now: () => time.now(), log: silentLogger, expected });

    expect(adopted).toEqual([es.key, 'IBM', 'SPY']);
    expect([kernel.portfolio.position('SPY'), kernel.portfolio.averagePrice('SPY')]).toEqual([100, 450]);
    expect([kernel.portfolio.position('IBM'), kernel.portfolio.averagePrice('IBM')]).toEqual([-20, 180]);
    expect([kernel.portfolio.position(es.key), kernel.portfolio.averagePrice(es.key)]).toEqual([2, 6000]);
    expect(kernel.instruments.indexOf('AAPL')).toBeUndefined();
    // later reconciliations expect the adopted positions (AAPL stays external)
    expect(Object.fromEntries(expected.before)).toEqual({ [es.key]: 2, IBM: -20, SPY: 100 });

    await journal.flush();
    const alerts = await readJournal(store, 'new-1', { kinds: ['alert'] });
    expect(alerts.map((a) => [a.instrument, (a.payload as { kind: string }).kind])).toEqual([
      [es.key, 'position-from-broker'],
      ['IBM', 'position-from-broker'],
      ['SPY', 'position-from-broker'],
    ]);
    expect((alerts[2]!.payload as { message: string }).message).toMatch(/^new run: adopted IB's position 100 SPY from the broker/);
    // the reconcile record is the position base of a later recovery of this run
    const recovery = await recover(store, 'new-1');
    expect(recovery.positions).toEqual({ [es.key]: { quantity: 2, avgPrice: 6000 }, IBM: { quantity: -20, avgPrice: 180 }, SPY: { quantity: 100, avgPrice: 450 } });
    expect(recovery.positionsBaseSeq).toBeGreaterThan(0);
  });

  it('an account with nothing in the universe: nothing adopted, nothing journaled', async () => {
    const time = new ManualTime(0);
    const feed = new LiveFeed({ clock: time, scheduler: time });
    const resolve = async (k: string) => (k === 'SPY' ? stockSpec('SPY') : Promise.reject(new Error('not in the universe')));
    const kernel = new Kernel({ environment: 'paper', clock: time, dataClient: new PushDataClient({ feed, resolve }), executionClient: new SimulatedVenue({ fill: 'close', commission: parseCommissionModel('none') }), startingCash: 1e5, liveFeed: feed });
    expect(await adoptBrokerPositions({ report: report([position('AAPL', 7, 190)]), kernel, journal, resolve, now: () => 0, log: silentLogger })).toEqual([]);
    await journal.flush();
    expect(await readJournal(store, 'new-1', { kinds: ['alert', 'reconcile'] })).toEqual([]);
  });
});

describe('keepUnfinished (a run that failed)', () => {
  const none = { orders: new Map(), positions: {}, halted: { global: null, sources: {}, instruments: {} } };
  it('stays unfinished when it sent orders, or its journal holds orders, positions or a halt', () => {
    expect(keepUnfinished(0, undefined)).toBe(false);
    expect(keepUnfinished(0, none)).toBe(false);
    expect(keepUnfinished(1, undefined)).toBe(true);
    // a sticky halt this process's supervisor holds (an operator's instrument halt, say)
    expect(keepUnfinished(0, undefined, true)).toBe(true);
    expect(keepUnfinished(0, { ...none, positions: { SPY: { quantity: 100, avgPrice: 450 } } })).toBe(true);
    expect(keepUnfinished(0, { ...none, halted: { ...none.halted, sources: { drawdown: { seq: 3, reason: 'drawdown 2%' } } } })).toBe(true);
  });
});
