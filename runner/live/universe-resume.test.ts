/**
 * What a resumed signal-driven universe reads back from its journal (universe-resume.ts): the poller's
 * watermark as journaled with each batch it handed on (a real Journal in DuckDB, read back the way
 * live-runner.ts does after recover()), the members' last states, and the restore plan.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualTime } from '../../lib/engine/manual-time.js';
import { Journal, type JournalRecord } from '../../lib/journal/journal.js';
import { recover } from '../../lib/journal/recovery.js';
import { MemorySignalProvider } from '../../lib/signals/memory-provider.js';
import { watermarkAt, type SignalWatermark } from '../../lib/signals/provider.js';
import type { Signal } from '../../lib/signals/signal.js';
import { SignalPoller } from '../../lib/signals/signal-poller.js';
import { Store } from '../../lib/store/store.js';
import { heldInstruments, readUniverseResume, restorePlan, universeResumeFromRecords, watermarkNote } from './universe-resume.js';

const T0 = Date.UTC(2013, 9, 8, 14, 0);
const S = 1000;
const sig = (symbol: string, at: number, value = 1): Signal => ({ ts: T0 + at * S, availableAt: T0 + at * S, symbol, value });

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'monger-universe-resume-'));
  store = await Store.open(join(dir, 'journal.duckdb'));
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

let seq = 0;
const note = (payload: Record<string, unknown>): JournalRecord => ({ runId: 'r', seq: ++seq, ts: null, wallTs: 0, kind: 'note', decisionId: null, clientOrderId: null, brokerOrderId: null, instrument: null, payload });

describe('the signal watermark across a restart', () => {
  it('a resumed poller starts at the last watermark journaled at hand-off: nothing delivered twice, nothing published while down lost', async () => {
    const provider = new MemorySignalProvider([sig('AAA', 1), sig('BBB', 2, -1)], undefined, 'duckdb:signals');
    const time = new ManualTime(T0);
    const journal = await Journal.open(store, { mode: 'paper', strategy: 'signal-trader', strategyVersion: '1.0.0', configHash: 'h' });
    const first: string[] = [];
    // as universe-runner.ts: hand the batch on, journal the watermark that covers it
    const poller = new SignalPoller({
      provider,
      clock: time,
      scheduler: time,
      intervalMs: S,
      watermark: watermarkAt(T0),
      onSignals: (batch, watermark) => {
        first.push(...batch.map((s) => s.symbol));
        journal.append('note', { payload: { ...watermarkNote(provider.name, watermark) } });
      },
    });
    journal.append('note', { payload: { ...watermarkNote(provider.name, poller.watermark) } });
    poller.start();
    await time.advanceTo(T0 + 3 * S);
    expect(first).toEqual(['AAA', 'BBB']);
    // an order caused by BBB is journaled durably: the watermark note before it is durable too
    await journal.appendDurable('order_intent', { clientOrderId: 'c1', payload: { side: 'SELL', quantity: 10 } });
    poller.stop(); // the crash: nothing after this reaches the journal
    // published while the runner is down, and after it is back
    provider.append([sig('CCC', 5), sig('DDD', 9)]);
    time.set(T0 + 7 * S);

    // the restart (live-runner.ts): recover() syncs the intent log, then the universe's notes are read
    await recover(store, journal.runId);
    const resume = await readUniverseResume(store, journal.runId);
    const journaled = resume.watermarks.get(provider.name)!;
    // the poller's own watermark at the crash (late-row window included)
    expect(journaled).toMatchObject({ availableAt: T0 + 2 * S, ts: T0 + 2 * S, symbol: 'BBB' });
    expect(journaled).toEqual(JSON.parse(JSON.stringify(poller.watermark)));
    const second: string[] = [];
    const resumed = new SignalPoller({ provider, clock: time, scheduler: time, intervalMs: S, watermark: journaled, onSignals: (b) => second.push(...b.map((s) => s.symbol)) });
    resumed.start();
    await time.advanceTo(T0 + 10 * S);
    expect(second).toEqual(['CCC', 'DDD']);
    resumed.stop();

    // what the runner did before, polling from the restart time (T0+7 s): without a late-row window it
    // loses CCC; with one (the default 60 s) it knows of no delivered keys and hands AAA and BBB on again
    const fromRestart = async (lateMs: number) => {
      const got: string[] = [];
      await new SignalPoller({ provider, clock: time, scheduler: time, lateMs, watermark: watermarkAt(T0 + 7 * S), onSignals: (b) => got.push(...b.map((s) => s.symbol)) }).pollNow();
      return got;
    };
    expect(await fromRestart(0)).toEqual(['DDD']);
    expect(await fromRestart(60_000)).toEqual(['AAA', 'BBB', 'CCC', 'DDD']);
    await journal.close();
  });

  it('reads the last watermark per provider and the last state of each member; other notes are ignored', () => {
    const w1: SignalWatermark = { availableAt: T0 };
    const w2: SignalWatermark = { availableAt: T0 + 5 * S, ts: T0 + 4 * S, symbol: 'AAA', recent: [['AAA@1', T0 + 5 * S]] };
    const records = [
      note(watermarkNote('duckdb:signals', w1)),
      note({ universe: 'AAA', from: 'none', to: 'resolving' }), // written before origins were journaled
      note({ universe: 'AAA', from: 'resolving', to: 'active' }),
      note({ universe: 'BBB', from: 'none', to: 'resolving', origin: 'added' }),
      note({ universe: 'BBB', from: 'warming', to: 'active', origin: 'added' }),
      note({ universe: 'CCC', from: 'active', to: 'retiring', origin: 'added', flatten: 'none', reason: 'removed: leaves once flat with no working orders' }),
      note({ session: 'connected>degraded' }),
      note({ type: 'baseline', context: { startEquity: 1, peakEquity: 1 } }),
      note({ signals: 'poll failed', error: 'boom' }),
      note(watermarkNote('duckdb:signals', w2)),
      note(watermarkNote('folder:/x', w1)),
      note({ signals: 'watermark', provider: 'bad', watermark: { availableAt: 'soon' } }),
      { ...note({ universe: 'ZZZ', to: 'active' }), kind: 'alert' as const },
    ];
    // any order: seq decides
    const r = universeResumeFromRecords([...records].reverse());
    expect([...r.watermarks]).toEqual([
      ['duckdb:signals', w2],
      ['folder:/x', w1],
    ]);
    expect(Object.fromEntries(r.members)).toEqual({
      AAA: { state: 'active', origin: undefined, flatten: undefined },
      BBB: { state: 'active', origin: 'added', flatten: undefined },
      CCC: { state: 'retiring', origin: 'added', flatten: 'none' },
    });
  });
});

describe('restorePlan', () => {
  const member = (state: string, origin?: string, flatten?: string) => ({ state, origin, flatten }) as never;

  it('a new run: every position outside the configured symbols comes back signal-driven', () => {
    expect(restorePlan({ configured: ['SPY'], positions: ['SPY', 'IBM', 'AIG'] })).toEqual({ signal: ['AIG', 'IBM'], added: [], removing: [] });
    expect(restorePlan({ configured: [], positions: [] })).toEqual({ signal: [], added: [], removing: [] });
  });

  it('a resumed run: added members pinned, a retiring symbol with a position removed again with its policy', () => {
    const members = new Map([
      ['BAC', member('active', 'added')], // added, flat: comes back pinned
      ['XOM', member('waiting-for-line', 'added')],
      ['GE', member('retired', 'added')], // removed and gone: not a member any more
      ['C', member('invalid', 'added')],
      ['SPY', member('active', 'added')], // configured in the new config: the universe's start
      ['IBM', member('retiring', 'signal', 'none')], // being removed, still holds: removed again
      ['F', member('retiring', 'added', 'market')], // being removed, flat now: gone
      ['AIG', member('active', 'signal')], // signal-driven, holds: by its position
      ['T', member('active', 'signal')], // signal-driven, flat: comes back with its next signal
    ]);
    expect(restorePlan({ configured: ['SPY'], positions: ['IBM', 'AIG', 'BAC', 'MSFT'], members })).toEqual({
      signal: ['AIG', 'MSFT'],
      added: ['BAC', 'XOM'],
      removing: [{ symbol: 'IBM', flatten: 'none' }],
    });
  });

  it('adopted working orders bring their symbol back too (flat or being removed); positions come first', () => {
    const members = new Map([
      ['F', member('retiring', 'signal', 'market')], // being removed, flat, its close still working: removed again
      ['T', member('retiring', 'added')], // being removed, flat, no orders: gone
    ]);
    expect(restorePlan({ configured: ['SPY'], positions: ['MSFT', 'IBM'], workingOrders: ['AIG', 'IBM', 'F', 'SPY', 'BAC'], members })).toEqual({
      // IBM and MSFT hold positions: requested (and given lines) before AIG and BAC with orders only
      signal: ['IBM', 'MSFT', 'AIG', 'BAC'],
      added: [],
      removing: [{ symbol: 'F', flatten: 'market' }],
    });
  });

  it('the instruments to resolve before the journal is restored: positions and open orders', () => {
    expect(heldInstruments({ positions: { IBM: {}, AIG: {} }, openIntents: [{ instrument: 'BAC' }, { instrument: null }, { instrument: 'IBM' }] })).toEqual(['AIG', 'BAC', 'IBM']);
  });
});
