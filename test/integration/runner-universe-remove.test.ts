/**
 * Issue 10, graceful removal of a symbol that holds a position, end to end in a running runner:
 * replay against the TWS simulator over TCP (real @stoqey/ib client) on the real SPY/IBM/BAC minute
 * bars of 2013-10-08, moved in lock step (runner/parity/lock-step.ts) so every step settles before
 * time moves on, with the control API enabled (what `monger symbol remove` sends).
 *
 * A probe strategy buys 100 shares on a positive signal (signals pushed into the runner's signal
 * source, as its poller would), puts a +5% take-profit limit behind every entry, sells on a negative
 * signal, and exits by itself after HOLD. Timeline (UTC; the session opens 13:30):
 *
 * - 13:40 signals SPY, IBM, BAC +1: long 100 each (filled 13:41), take-profits working;
 * - 13:50 refusals: removing a non-member (404 UNIVERSE_NOT_MEMBER), an immediate removal of IBM with
 *   its position (409 UNIVERSE_POSITION_OPEN), a bad flatten (400): each changes nothing;
 * - 14:00 `DELETE /symbols/IBM` (default policy, flatten: market): retiring, the supervisor halts IBM's
 *   entries (source `removal`), cancels its take-profit and sends one market close (tag
 *   `supervisor:removal`), filled at 14:01; IBM retires and frees its lines. An IBM signal right
 *   after the removal is skipped (retiring), one after the retirement ignored (removed), and a BUY the
 *   strategy sends at 14:10 is refused by the halt.
 *   `DELETE /symbols/BAC?flatten=none`: retiring with its position and take-profit, no close sent,
 *   its signals skipped; the strategy's own HOLD exit (cancel take-profit, sell) flattens it ~14:26,
 *   then it retires.
 * - SPY keeps trading throughout: exit at 14:20, entry at 14:40, exit at 15:00.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Kernel } from '../../lib/engine/kernel.js';
import { defineStrategy, type StrategyContext, type StrategyDefinition } from '../../lib/engine/strategy.js';
import type { JournalRecord } from '../../lib/journal/journal.js';
import type { Order } from '../../lib/model/orders.js';
import type { Signal } from '../../lib/signals/signal.js';
import type { ControlList, ControlSymbol } from '../../runner/live/control-api.js';
import type { ControlAnswer, ControlClient } from '../../runner/live/control-client.js';
import type { IbExecutionClient } from '../../runner/live/ib-execution-client.js';
import type { RunSummary } from '../../runner/live/live-runner.js';
import type { UniverseRunner } from '../../runner/live/universe-runner.js';
import type { UniverseCounters, UniverseStatus } from '../../lib/universe/universe-types.js';
import type { MarketDataFeature } from '../../runner/tws-sim/market-data.js';
import type { OrdersFeature } from '../../runner/tws-sim/orders.js';
import { importCloses, lockStepDriver, readRunJournal, runLockStep } from './lock-step-runner.js';

const MIN = 60_000;
const at = (h: number, m: number) => Date.UTC(2013, 9, 8, h, m);
const SYMBOLS = ['SPY', 'IBM', 'BAC'] as const;
const FROM = at(13, 25);
const TO = at(15, 15);
const QTY = 100;
/** The probe's own exit: a position is sold once held this long */
const HOLD = 45 * MIN;
const ENTRY = at(13, 40);
const REFUSALS = at(13, 50);
const REMOVE = at(14, 0);
const CHECK = at(14, 5);
/** The probe sends an IBM BUY on its first SPY bar closing at or after this (IBM is retired by then) */
const PROBE = at(14, 10);
/** GET /symbols once both removals are done */
const LATE = at(15, 10);
/** Signals pushed after the step of their time: symbol -> value */
const SIGNALS: ReadonlyMap<number, Record<string, number>> = new Map<number, Record<string, number>>([
  [ENTRY, { SPY: 1, IBM: 1, BAC: 1 }],
  [at(14, 20), { SPY: -1 }],
  [at(14, 40), { SPY: 1 }],
  [at(15, 0), { SPY: -1 }],
]);

const dir = mkdtempSync(join(tmpdir(), 'monger-universe-remove-'));
const db = join(dir, 'bars.duckdb');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the probe strategy saw and did (a test's window into it; it reads nothing from outside) */
interface ProbeLog {
  signals: string[];
  probe: Readonly<Order> | undefined;
}

function probeStrategy(log: ProbeLog): StrategyDefinition {
  return defineStrategy({
    name: 'removal-probe',
    version: '1.0.0',
    description: 'Long 100 on a positive signal with a +5% take-profit, out on a negative signal or after HOLD',
    params: z.object({}),
    create: (ctx: StrategyContext) => {
      const entryAt = new Map<string, number>();
      const exit = (instrument: string, tag: string) => {
        ctx.cancelAll(instrument);
        const position = ctx.portfolio.position(instrument);
        if (position > 0) ctx.submit(ctx.orders.market(instrument, 'SELL', position, { tag }));
        entryAt.delete(instrument);
      };
      return {
        onSignal(s) {
          log.signals.push(`${new Date(ctx.now()).toISOString().slice(11, 16)} ${s.symbol} ${s.value}`);
          const position = ctx.portfolio.position(s.instrument);
          if (s.value > 0 && position === 0 && ctx.openOrders(s.instrument).length === 0) ctx.submit(ctx.orders.market(s.instrument, 'BUY', QTY, { tag: 'entry' }));
          else if (s.value < 0 && position > 0) exit(s.instrument, 'exit:signal');
        },
        onOrderEvent(e) {
          if (e.type !== 'filled' || e.order.tag !== 'entry') return;
          entryAt.set(e.order.instrument, e.ts);
          const tp = Math.round(e.order.avgFillPrice * 1.05 * 100) / 100;
          ctx.submit(ctx.orders.limit(e.order.instrument, 'SELL', e.order.filledQuantity, tp, { tag: 'take-profit' }));
        },
        onBar(bar) {
          const since = entryAt.get(bar.instrument);
          if (since !== undefined && bar.closeTime >= since + HOLD && ctx.openOrders(bar.instrument).every((o) => o.tag === 'take-profit')) exit(bar.instrument, 'exit:hold');
          // an entry into the removed symbol: the removal's halt must refuse it
          if (bar.instrument === 'SPY' && bar.closeTime >= PROBE && log.probe === undefined) log.probe = ctx.submit(ctx.orders.market('IBM', 'BUY', QTY, { tag: 'probe' }));
        },
      };
    },
  }) as unknown as StrategyDefinition;
}

/** Close times of the stored minute bars in (FROM, TO], per symbol */
let closes = new Map<string, number[]>();

beforeAll(async () => {
  closes = await importCloses(db, SYMBOLS.map((s) => `data/lean/equity/usa/minute/${s.toLowerCase()}/20131008_${s.toLowerCase()}_minute_trade.csv`), SYMBOLS, FROM, TO);
});

interface Snapshot {
  at: string;
  list: ControlList;
  /** Lines the simulator holds and real-time bar streams it answers */
  simLines: number;
  simBarStreams: number;
  /** The simulator account's position per symbol */
  simPositions: Record<string, number>;
  orders: number;
}

interface RunResult {
  summary: RunSummary;
  stalls: string[];
  answers: Map<string, ControlAnswer>;
  snapshots: Map<number, Snapshot>;
  /** Engine time of each symbol's universe state changes, `SYM from>to` */
  transitions: { ts: number; change: string }[];
  kernel: Kernel;
  execution: IbExecutionClient;
  orders: OrdersFeature;
  log: ProbeLog;
  journal: JournalRecord[];
  /** The universe at the end */
  status: UniverseStatus;
  counters: UniverseCounters;
}

async function replay(): Promise<RunResult> {
  const log: ProbeLog = { signals: [], probe: undefined };
  const strategy = probeStrategy(log);
  let universe: UniverseRunner | undefined;
  let md: MarketDataFeature | undefined;
  let orders: OrdersFeature | undefined;
  let api: ControlClient | undefined;
  let kernel: Kernel | undefined;
  let execution: IbExecutionClient | undefined;
  const answers = new Map<string, ControlAnswer>();
  const snapshots = new Map<number, Snapshot>();
  const transitions: RunResult['transitions'] = [];
  const retiredAt = new Map<string, number>();

  const simPositions = (): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const p of orders!.book?.positions() ?? []) out[p.contract.instrument.symbol] = p.qty;
    return out;
  };
  const snapshot = async (t: number): Promise<void> => {
    const list = (await api!.list()).body as ControlList;
    snapshots.set(t, { at: new Date(t).toISOString(), list, simLines: md!.lineCount(), simBarStreams: md!.realtimeBarCount(), simPositions: simPositions(), orders: [...kernel!.orders.all()].length });
  };
  const push = (t: number, values: Record<string, number>) => {
    const signals: Signal[] = Object.entries(values).map(([symbol, value]) => ({ ts: t, availableAt: t, symbol, value, source: 'removal-test' }));
    universe!.source.push(signals);
  };

  const driver = lockStepDriver({
    from: FROM,
    to: TO,
    // a lower bound: a symbol's bars up to the step it retired at (the bar of that step may or may
    // not come, depending on whether its streams were cancelled before the simulator sent it)
    expectedBars: (t) => {
      let n = 0;
      for (const sym of SYMBOLS) for (const c of closes.get(sym)!) if (c <= t && c < (retiredAt.get(sym) ?? Infinity)) n++;
      return n;
    },
    streams: SYMBOLS.length,
    // settled when every member is active, retiring or retired and the simulator streams bars for
    // exactly the symbols still subscribed and holds exactly the runner's lines (a retired symbol's
    // streams cancelled)
    busy: () => {
      if (universe === undefined || md === undefined) return 'universe not composed yet';
      const entries = universe.status().entries;
      const busy = entries.find((e) => e.state !== 'active' && e.state !== 'retiring' && e.state !== 'retired');
      if (busy !== undefined) return `${busy.symbol} ${busy.state}`;
      const streaming = entries.filter((e) => e.state === 'active' || e.state === 'retiring').length;
      if (md.realtimeBarCount() !== streaming) return `${md.realtimeBarCount()} real-time bar streams for ${streaming} subscribed symbols`;
      // the cancels of a retired symbol's streams go through the session's paced queue: the
      // simulator holds the lines the runner accounts for only once they were processed
      return md.lineCount() !== universe.lines.used ? `simulator holds ${md.lineCount()} lines, the runner ${universe.lines.used}` : undefined;
    },
    afterStep: async (t): Promise<void> => {
      const signals = SIGNALS.get(t);
      if (signals !== undefined) push(t, signals);
      if (t === REFUSALS) {
        await snapshot(t - 1);
        answers.set('remove QQQ', await api!.remove('QQQ'));
        answers.set('remove IBM immediate', await api!.remove('IBM', true));
        answers.set('remove IBM flatten=sideways', await api!.remove('IBM', false, 'sideways' as 'none'));
        await snapshot(t);
      }
      if (t === REMOVE) {
        await snapshot(t - 1);
        answers.set('remove IBM', await api!.remove('IBM'));
        // an IBM signal while it retires: skipped, never reaches the strategy
        push(t, { IBM: 1 });
        answers.set('remove BAC flatten=none', await api!.remove('BAC', false, 'none'));
        await snapshot(t);
      }
      if (t === CHECK) {
        await snapshot(t);
        // IBM retired (removed): ignored; BAC still retiring: skipped
        push(t, { IBM: 1, BAC: 1 });
      }
      if (t === LATE) await snapshot(t);
    },
  });
  const run = await runLockStep({
    name: 'universe-remove',
    driver,
    strategy,
    symbols: SYMBOLS,
    db,
    journal: join(dir, 'journal.duckdb'),
    from: FROM,
    to: TO,
    startingCash: 1_000_000,
    onAttach: (parts) => {
      kernel = parts.kernel;
      execution = parts.execution;
    },
    onUniverse: (u) => {
      universe = u;
      u.universe.manager.on((e) => {
        if (e.type !== 'state') return;
        const ts = kernel!.now();
        transitions.push({ ts, change: `${e.symbol} ${e.from}>${e.to}` });
        if (e.to === 'retired') retiredAt.set(e.symbol, ts);
      });
    },
    onControl: (client) => (api = client),
    onSimulator: (f) => {
      md = f.marketData;
      orders = f.orders;
    },
  });
  const journal = await readRunJournal(run);
  const status = universe!.status();
  return { status, counters: status.counters, summary: run.summary, stalls: driver.stalls, answers, snapshots, transitions, kernel: kernel!, execution: execution!, orders: orders!, log, journal };
}

/** A symbol's orders as [strategy, side, type, quantity, tag, status] */
const ordersOf = (r: RunResult, sym: string) => [...r.kernel.orders.all()].filter((o) => o.instrument === sym).map((o) => [o.strategyId, o.side, o.type, o.quantity, o.tag, o.status]);
const entryOf = (s: Snapshot, sym: string): ControlSymbol | undefined => s.list.symbols.find((e) => e.symbol === sym);
const errorOf = (a: ControlAnswer | undefined) => (a?.body as { error?: { code: string; message: string } }).error;
const stateOf = (a: ControlAnswer | undefined) => (a?.body as { symbol?: { state?: string } }).symbol?.state;
const universeNotes = (r: RunResult, sym: string) => r.journal.filter((j) => j.kind === 'note' && (j.payload as { universe?: string }).universe === sym).map((j) => (j.payload as { from: string; to: string }).from + '>' + (j.payload as { to: string }).to);
const supervisorNotes = (r: RunResult, sym: string) =>
  r.journal.filter((j) => (j.payload as { source?: string; instrument?: string }).source === 'removal' && (j.payload as { instrument?: string }).instrument === sym).map((j) => `${j.kind} ${(j.payload as { type: string }).type}`);

describe('runner: graceful removal of a symbol holding a position (control API, lock-step replay)', () => {
  let r: RunResult;
  beforeAll(async () => {
    r = await replay();
    const hm = (t: number) => new Date(t).toISOString().slice(11, 16);
    console.info(`universe remove: ${r.transitions.filter((x) => x.ts > FROM).map((x) => `${hm(x.ts)} ${x.change}`).join(', ')}; orders ${[...r.kernel.orders.all()].filter((o) => o.instrument !== 'SPY').map((o) => `${o.instrument} ${o.tag} ${hm(o.createdAt)}-${hm(o.updatedAt)} ${o.status}`).join(', ')}`);
  }, 300_000);

  it('runs the whole replay without a stall', () => {
    expect(r.stalls).toEqual([]);
    expect(r.summary.stopReason).toBe('end of replay');
    // every position closed: IBM by the removal, BAC by the strategy's exit, SPY by its signal
    expect(r.summary.positions).toEqual({});
    expect(r.orders.book!.positions().filter((p) => p.qty !== 0)).toEqual([]);
  });

  it('refuses a non-member, an immediate removal with a position and a bad policy, changing nothing', () => {
    const before = r.snapshots.get(REFUSALS - 1)!;
    const after = r.snapshots.get(REFUSALS)!;
    const qqq = r.answers.get('remove QQQ')!;
    expect(qqq.status).toBe(404);
    expect(errorOf(qqq)).toEqual({ code: 'UNIVERSE_NOT_MEMBER', message: 'QQQ: not in the universe' });
    const immediate = r.answers.get('remove IBM immediate')!;
    expect(immediate.status).toBe(409);
    expect(errorOf(immediate)?.code).toBe('UNIVERSE_POSITION_OPEN');
    expect(errorOf(immediate)?.message).toMatch(/^IBM: holds a position of 100/);
    const bad = r.answers.get('remove IBM flatten=sideways')!;
    expect(bad.status).toBe(400);
    expect(errorOf(bad)?.message).toMatch(/flatten: expected one of market, none/);
    // IBM held its position and take-profit before, and everything is exactly as it was after
    expect(entryOf(before, 'IBM')).toMatchObject({ state: 'active', position: 100, workingOrders: 1 });
    expect(after.list).toEqual(before.list);
    expect(after.orders).toBe(before.orders);
    expect(after.simPositions).toEqual(before.simPositions);
    expect(after.simLines).toBe(before.simLines);
  });

  it("flatten 'market' (default): retiring, entries halted, working orders cancelled, one market close filled, then retired with its lines freed", () => {
    // the answer: retiring (the close is on its way)
    const removed = r.answers.get('remove IBM')!;
    expect(removed.status).toBe(200);
    expect(stateOf(removed)).toBe('retiring');
    const atRemove = r.snapshots.get(REMOVE)!;
    expect(entryOf(atRemove, 'IBM')).toMatchObject({ state: 'retiring', position: 100 });

    // IBM's orders: the entry, its take-profit cancelled by the removal, the supervisor's one
    // market close (filled), and the probe's later BUY refused by the removal halt
    expect(ordersOf(r, 'IBM')).toEqual([
      ['removal-probe', 'BUY', 'MARKET', 100, 'entry', 'FILLED'],
      ['removal-probe', 'SELL', 'LIMIT', 100, 'take-profit', 'CANCELLED'],
      ['supervisor', 'SELL', 'MARKET', 100, 'supervisor:removal', 'FILLED'],
      ['removal-probe', 'BUY', 'MARKET', 100, 'probe', 'REJECTED'],
    ]);
    const all = [...r.kernel.orders.all()];
    expect(all.filter((o) => o.tag === 'supervisor:removal')).toHaveLength(1);
    const close = all.find((o) => o.tag === 'supervisor:removal')!;
    expect(r.log.probe?.status).toBe('REJECTED');
    expect(r.log.probe?.reason).toMatch(/IBM halted: removal/);
    expect(r.log.probe!.createdAt).toBeGreaterThan(r.transitions.find((x) => x.change === 'IBM retiring>retired')!.ts);

    // the simulator got that close as a market order from the supervisor and filled it; its account is flat in IBM
    const ids = r.execution.ibOrderIdOf(close.id)!;
    const simClose = r.orders.book!.order(ids.clientId, ids.ibOrderId)!;
    expect([simClose.action, simClose.orderType, simClose.totalQuantity, simClose.status, simClose.filled]).toEqual(['SELL', 'MKT', 100, 'Filled', 100]);
    expect(simClose.orderRef).toMatch(/^supervisor@/);
    expect(r.orders.book!.executions().filter((x) => x.contract.instrument.symbol === 'IBM').map((x) => [x.side, x.shares])).toEqual([
      ['BOT', 100],
      ['SLD', 100],
    ]);
    // the probe never reached the simulator
    expect(r.execution.ibOrderIdOf(r.log.probe!.id)).toBeUndefined();
    expect(r.kernel.portfolio.position('IBM')).toBe(0);

    // retired after the close filled, not before
    const ibm = r.transitions.filter((x) => x.change.startsWith('IBM ') && x.ts >= REMOVE);
    expect(ibm.map((x) => x.change)).toEqual(['IBM active>retiring', 'IBM retiring>retired']);
    // lock step: the close fills on the next minute's bar (the backtest fill model) and IBM retires then
    expect(ibm.map((x) => x.ts)).toEqual([REMOVE, REMOVE + MIN]);
    expect([close.createdAt, close.updatedAt]).toEqual([REMOVE, REMOVE + MIN]);
    // the take-profit was cancelled at the removal, at the simulator too, before the close went out
    const tp = all.find((o) => o.instrument === 'IBM' && o.tag === 'take-profit')!;
    expect(tp.updatedAt).toBe(REMOVE);
    expect(tp.id).toBeLessThan(close.id);
    const tpIds = r.execution.ibOrderIdOf(tp.id)!;
    expect(r.orders.book!.order(tpIds.clientId, tpIds.ibOrderId)!.status).toBe('Cancelled');

    // a few minutes later: retired, flat here and at the simulator, its lines and streams freed
    const before = r.snapshots.get(REMOVE - 1)!;
    const later = r.snapshots.get(CHECK)!;
    expect(entryOf(later, 'IBM')).toMatchObject({ state: 'retired', position: 0, workingOrders: 0 });
    expect(entryOf(later, 'IBM')!.streams).toBeUndefined();
    expect(entryOf(before, 'IBM')!.streams).toBeDefined();
    const perSymbol = before.list.lines.used / SYMBOLS.length;
    expect(perSymbol).toBeGreaterThanOrEqual(1);
    expect(later.list.lines.used).toBe(before.list.lines.used - perSymbol);
    expect(later.simLines).toBe(before.simLines - perSymbol);
    expect(later.simBarStreams).toBe(before.simBarStreams - 1);
    expect(before.simPositions['IBM']).toBe(100);
    expect(later.simPositions['IBM'] ?? 0).toBe(0);

    // its later signals never reached the strategy (skipped while retiring, ignored once retired)
    expect(r.log.signals.filter((s) => s.includes('IBM'))).toEqual(['13:40 IBM 1']);
    // skipped: IBM's signal at the removal and BAC's at CHECK; ignored: IBM's at CHECK
    expect(r.counters).toMatchObject({ skippedRetiring: 2, ignored: 1 });
  });

  it('journals the removal: the instrument halt (source removal), the cancel, the close and its fill, retiring then retired', () => {
    expect(universeNotes(r, 'IBM').slice(-2)).toEqual(['active>retiring', 'retiring>retired']);
    // the session guard's halts before the open aside, one halt: IBM's, by the removal
    const halts = r.journal.filter((j) => j.kind === 'halt' && (j.payload as { source?: string }).source !== 'session');
    expect(halts.map((j) => j.payload)).toEqual([expect.objectContaining({ type: 'halt-instrument', source: 'removal', instrument: 'IBM' })]);
    expect(halts[0]!.ts).toBe(REMOVE);
    expect(supervisorNotes(r, 'IBM')).toEqual(['halt halt-instrument', 'note cancel', 'note close', 'note close-filled']);
    expect(r.summary.halts.filter((h) => !h.startsWith('session '))).toEqual(['removal IBM']);
    // the order intents journaled before sending: the close is there, the refused probe is not
    const intents = r.journal.filter((j) => j.kind === 'order_intent' && j.instrument === 'IBM').map((j) => (j.payload as { tag: string }).tag);
    expect(intents).toEqual(['entry', 'take-profit', 'supervisor:removal']);
  });

  it("flatten 'none': stays retiring with its position, no close sent, signals skipped; retires once the strategy's own exit flattens it", () => {
    const removed = r.answers.get('remove BAC flatten=none')!;
    expect(removed.status).toBe(200);
    expect(stateOf(removed)).toBe('retiring');
    const later = r.snapshots.get(CHECK)!;
    expect(entryOf(later, 'BAC')).toMatchObject({ state: 'retiring', position: 100, workingOrders: 1 });
    expect(entryOf(later, 'BAC')!.streams).toBeDefined();
    expect(later.simPositions['BAC']).toBe(100);

    // no supervisor order, no halt, no cancel by the removal: the take-profit went with the strategy's exit
    expect(ordersOf(r, 'BAC')).toEqual([
      ['removal-probe', 'BUY', 'MARKET', 100, 'entry', 'FILLED'],
      ['removal-probe', 'SELL', 'LIMIT', 100, 'take-profit', 'CANCELLED'],
      ['removal-probe', 'SELL', 'MARKET', 100, 'exit:hold', 'FILLED'],
    ]);
    expect(supervisorNotes(r, 'BAC')).toEqual([]);
    expect(r.log.signals.filter((s) => s.includes('BAC'))).toEqual(['13:40 BAC 1']);

    // retired only after the exit filled
    const exitFill = [...r.kernel.orders.all()].find((o) => o.instrument === 'BAC' && o.tag === 'exit:hold')!;
    // entry filled 13:41, so HOLD ends at the bar closing 14:26; the exit fills at 14:27 and BAC retires then
    expect([exitFill.createdAt, exitFill.updatedAt]).toEqual([at(13, 41) + HOLD, at(13, 42) + HOLD]);
    const bac = r.transitions.filter((x) => x.change.startsWith('BAC ') && x.ts >= REMOVE);
    expect(bac).toEqual([
      { ts: REMOVE, change: 'BAC active>retiring' },
      { ts: exitFill.updatedAt, change: 'BAC retiring>retired' },
    ]);
    expect(universeNotes(r, 'BAC').slice(-2)).toEqual(['active>retiring', 'retiring>retired']);
    expect(r.kernel.portfolio.position('BAC')).toBe(0);
    expect(r.orders.book!.positions().find((p) => p.contract.instrument.symbol === 'BAC')?.qty ?? 0).toBe(0);
  });

  it('other symbols keep trading; both removed symbols end retired', () => {
    expect(r.log.signals.filter((s) => s.includes('SPY'))).toEqual(['13:40 SPY 1', '14:20 SPY -1', '14:40 SPY 1', '15:00 SPY -1']);
    const spy = [...r.kernel.orders.all()].filter((o) => o.instrument === 'SPY' && o.status === 'FILLED' && o.createdAt > REMOVE);
    expect(spy.map((o) => [o.side, o.tag])).toEqual([
      ['SELL', 'exit:signal'],
      ['BUY', 'entry'],
      ['SELL', 'exit:signal'],
    ]);
    expect(r.summary.universe!.retired).toBe(2);
    expect(r.summary.universe!.active).toBe(1);
    expect(r.transitions.filter((x) => x.change.startsWith('SPY ') && x.ts > FROM)).toEqual([]);
    const late = r.snapshots.get(LATE)!;
    expect(late.list.symbols.map((e) => [e.symbol, e.state, e.position, e.workingOrders, e.streams === undefined])).toEqual([
      ['SPY', 'active', 0, 0, false],
      ['IBM', 'retired', 0, 0, true],
      ['BAC', 'retired', 0, 0, true],
    ]);
    // only SPY's lines are held, here and at the simulator
    const before = r.snapshots.get(REMOVE - 1)!;
    expect(late.list.lines.used).toBe(before.list.lines.used / SYMBOLS.length);
    expect(late.simLines).toBe(before.simLines / SYMBOLS.length);
    expect(r.status.entries.map((e) => [e.symbol, e.state])).toEqual([
      ['SPY', 'active'],
      ['IBM', 'retired'],
      ['BAC', 'retired'],
    ]);
  });
});
