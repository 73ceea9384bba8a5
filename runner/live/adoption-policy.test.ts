/**
 * `universe.adoptPositions`: which broker positions a new run of a signal-driven universe may adopt,
 * computed from a real DuckDB journal file (previous runs written through the Journal API).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCommissionModel } from '../../lib/backtest/commission.js';
import { SimulatedVenue } from '../../lib/backtest/sim-venue.js';
import { silentLogger } from '../../lib/core/logger.js';
import { stockSpec } from '../../lib/data/instrument.js';
import { Kernel } from '../../lib/engine/kernel.js';
import { PushDataClient } from '../../lib/engine/live-data-client.js';
import { LiveFeed } from '../../lib/engine/live-feed.js';
import { ManualTime } from '../../lib/engine/manual-time.js';
import { Journal, readJournal } from '../../lib/journal/journal.js';
import { Store } from '../../lib/store/store.js';
import { adoptionScope, notAdoptedReason, PositionNotAdoptedError, previousRun } from './adoption-policy.js';
import type { PositionDiscrepancy } from './execution-types.js';
import { adoptBrokerPositions } from './resume-run.js';

const T0 = Date.parse('2024-05-01T13:30:00Z');

/** A finished run of `strategy` in `mode` started at `startedAt`, ending with `positions` (a snapshot, then `fills`) */
async function writeRun(store: Store, runId: string, strategy: string, mode: 'paper' | 'live', startedAt: number, positions: Record<string, number>, fills: [string, 'BUY' | 'SELL', number][] = []): Promise<void> {
  const j = await Journal.open(store, { runId, mode, strategy, strategyVersion: '1.0.0', configHash: 'h' }, { wallClock: () => startedAt, clock: () => startedAt });
  await j.snapshot({ positions: Object.fromEntries(Object.entries(positions).map(([k, q]) => [k, { quantity: q, avgPrice: 100 }])), cash: 1e6 });
  fills.forEach(([instrument, side, quantity], i) => j.append('fill', { clientOrderId: `${runId}-${i}`, instrument, payload: { executionId: `${runId}-x${i}`, side, quantity, price: 100, commission: 1, ts: startedAt + i } }));
  await j.close('stopped');
}

describe('adoptionScope (universe.adoptPositions)', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'monger-adoption-'));
    store = await Store.open(join(dir, 'journal.duckdb'));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('journal (unset): the configured symbols plus what the newest earlier run of the same strategy and mode held at its end', async () => {
    // an older run of the strategy (XOM: superseded), the previous one (IBM 10 and BAC 5 at its snapshot,
    // then BAC sold and AIG bought: it ended holding IBM 10, AIG 3), and runs of another strategy / mode
    await writeRun(store, 'old', 'signal-trader', 'paper', T0, { XOM: 7 });
    await writeRun(store, 'prev', 'signal-trader', 'paper', T0 + 86_400_000, { IBM: 10, BAC: 5 }, [['BAC', 'SELL', 5], ['AIG', 'BUY', 3]]);
    await writeRun(store, 'other-strategy', 'sma-cross', 'paper', T0 + 2 * 86_400_000, { TSLA: 1 });
    await writeRun(store, 'other-mode', 'signal-trader', 'live', T0 + 2 * 86_400_000, { MSFT: 1 });
    const j = await Journal.open(store, { runId: 'new', mode: 'paper', strategy: 'signal-trader', strategyVersion: '1.0.0', configHash: 'h' }, { wallClock: () => T0 + 3 * 86_400_000 });
    try {
      const dynamic = await adoptionScope(store, { strategy: 'signal-trader', mode: 'paper', runId: 'new', universe: { mode: 'dynamic', symbols: [] } });
      expect(dynamic).toMatchObject({ previousRunId: 'prev', previousPositions: { IBM: 10, AIG: 3 } });
      expect([...dynamic!.instruments].sort()).toEqual(['AIG', 'IBM']);
      expect(notAdoptedReason(dynamic!, 'BAC')).toBe("new run: IB's position in BAC stays external (universe.adoptPositions: journal): not held by the previous run of signal-trader (prev); set universe.adoptPositions: all to adopt it");

      const mixed = await adoptionScope(store, { strategy: 'signal-trader', mode: 'paper', runId: 'new', universe: { mode: 'mixed', symbols: ['SPY', 'IBM'], adoptPositions: 'journal' } });
      expect([...mixed!.instruments].sort()).toEqual(['AIG', 'IBM', 'SPY']);
    } finally {
      await j.close('stopped');
    }
  });

  it("all, or a static universe: no scope (every position in the universe is adoptable; static keeps its configured symbols' rule)", async () => {
    await writeRun(store, 'prev', 'signal-trader', 'paper', T0, { IBM: 10 });
    expect(await adoptionScope(store, { strategy: 'signal-trader', mode: 'paper', runId: 'new', universe: { mode: 'dynamic', symbols: [], adoptPositions: 'all' } })).toBeUndefined();
    expect(await adoptionScope(store, { strategy: 'signal-trader', mode: 'paper', runId: 'new', universe: { mode: 'static', symbols: ['SPY'] } })).toBeUndefined();
  });

  it('no earlier run of the strategy and mode: only the configured symbols, and the alert says so', async () => {
    await writeRun(store, 'other', 'sma-cross', 'paper', T0, { IBM: 10 });
    const scope = (await adoptionScope(store, { strategy: 'signal-trader', mode: 'paper', runId: 'new', universe: { mode: 'mixed', symbols: ['SPY'] } }))!;
    expect(scope.previousRunId).toBeUndefined();
    expect([...scope.instruments]).toEqual(['SPY']);
    expect(notAdoptedReason(scope, 'IBM')).toContain('no previous run of signal-trader in paper mode in this journal; set universe.adoptPositions: all to adopt it');
  });

  it('previousRun: newest first by start, the new run itself left out', () => {
    const run = (runId: string, startedAt: number, strategy = 's', mode = 'paper') => ({ runId, startedAt, strategy, mode, strategyVersion: '1', configHash: 'h', host: 'h', pid: 1, restarts: 0, endedAt: null, endReason: null });
    const runs = [run('b', 2), run('new', 3), run('a', 1), run('x', 4, 'other'), run('y', 5, 's', 'live')];
    expect(previousRun(runs, 's', 'paper', 'new')?.runId).toBe('b');
    expect(previousRun(runs, 's', 'paper', 'b')?.runId).toBe('new');
    expect(previousRun([], 's', 'paper', 'new')).toBeUndefined();
  });
});

describe('adoptBrokerPositions under the journal policy', () => {
  it('adopts what the scope names; a refused position stays out of the engine with a position-external alert naming the policy', async () => {
    const store = await Store.open(':memory:');
    const journal = await Journal.open(store, { runId: 'new', mode: 'paper', strategy: 'signal-trader', strategyVersion: '1', configHash: 'h' });
    try {
      const scope = { strategy: 'signal-trader', mode: 'paper', instruments: new Set(['IBM']), previousRunId: 'prev', previousPositions: { IBM: 10 } };
      // UniverseRunner.resolveHeld's rule on a new run: every ticker resolves, the scope decides
      const resolve = async (k: string) => (scope.instruments.has(k) ? stockSpec(k) : Promise.reject(new PositionNotAdoptedError(notAdoptedReason(scope, k))));
      const time = new ManualTime(Date.UTC(2024, 11, 2, 15));
      const feed = new LiveFeed({ clock: time, scheduler: time });
      const kernel = new Kernel({ environment: 'paper', clock: time, dataClient: new PushDataClient({ feed, resolve }), executionClient: new SimulatedVenue({ fill: 'close', commission: parseCommissionModel('none') }), startingCash: 1e5, liveFeed: feed });
      const position = (instrument: string, brokerQuantity: number): PositionDiscrepancy => ({ instrument, account: 'DU1', conId: 1, brokerQuantity, ourQuantity: 0, difference: brokerQuantity, avgCost: 100 });
      const externalPositions = [position('BAC', 20), position('IBM', 10)];
      const report = { cause: 'start' as const, at: 0, recoveredFills: [], updatedOrders: [], externalOrders: [], unclaimedOrders: [], externalPositions, mismatches: [], counts: { openOrders: 0, executions: 0, positions: 2 } };
      expect(await adoptBrokerPositions({ report, kernel, journal, resolve, now: () => time.now(), log: silentLogger })).toEqual(['IBM']);
      expect(kernel.portfolio.position('IBM')).toBe(10);
      expect(kernel.instruments.indexOf('BAC')).toBeUndefined();
      await journal.flush();
      const alerts = await readJournal(store, 'new', { kinds: ['alert'] });
      expect(alerts.map((a) => [a.instrument, (a.payload as { kind: string }).kind])).toEqual([
        ['BAC', 'position-external'],
        ['IBM', 'position-from-broker'],
      ]);
      expect(alerts[0]!.payload).toEqual({ kind: 'position-external', policy: 'journal', broker: 20, message: notAdoptedReason(scope, 'BAC') });
      expect((alerts[0]!.payload as { message: string }).message).toContain('not held by the previous run of signal-trader (prev); set universe.adoptPositions: all to adopt it');
    } finally {
      await journal.close();
      store.close();
    }
  });
});
