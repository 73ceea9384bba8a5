/**
 * Issue 6 "Session close": the whole runner in replay mode over TCP (TWS simulator, real @stoqey/ib
 * client, IB execution, kernel with sma-cross, supervisor, journal) must be flat before the close on
 * a normal day (2013-10-08, NYSE closes 16:00 New York = 20:00 UTC) and on an early-close day
 * (2013-11-29, 13:00 New York = 18:00 UTC). No bundled minute data falls on an early-close day, so
 * that day is the REAL SPY minute bars of 2013-10-08 re-dated to 2013-11-29 and cut at 13:00
 * (test/fixtures/redated-early-close.ts): only the date is invented.
 *
 * sma-cross runs with fast 4 / slow 9 so it trades every few minutes. The flatten time of each day
 * (N minutes before its close) is set inside one of its holding periods, found by backtesting the
 * same strategy on the same bars with the same engine (entered 19:19, exited by its own cross at
 * 19:34 UTC on 2013-10-08; 17:38 to 17:52 UTC on the re-dated day): N = 33 and N = 15 put the
 * flatten 7-8 minutes after the entry and 7 minutes before the strategy's own exit, so a position
 * is open when the session guard flattens, and the test asserts that it was.
 *
 * Timing: the replay runs at 300x, so the simulated minutes of margin around the flatten are
 * hundreds of real milliseconds; the assertions are on simulated time, with the grace the issue
 * itself allows (flat at least MIN_FLATTEN_MINUTES = 5 minutes before the close). The scenario needs
 * the strategy to hear the stored minutes exactly (a minute cut short by the market-data flush
 * timer between two bursts of the simulator's bars changed the crosses; fixed in
 * runner/live/ib-market-data.ts) and no load-induced health halt refusing its entries (below).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { silentLogger } from '../../lib/core/logger.js';
import { readJournal } from '../../lib/journal/journal.js';
import { Store } from '../../lib/store/store.js';
import { MIN_FLATTEN_MINUTES, validateRunnerConfig } from '../../runner/live/config.js';
import { runRunner, type RunSummary } from '../../runner/live/live-runner.js';
import { contractDetailsFeature } from '../../runner/tws-sim/contract-details.js';
import { historicalFeature } from '../../runner/tws-sim/historical.js';
import { marketDataFeature } from '../../runner/tws-sim/market-data.js';
import { ordersFeature, type OrdersFeature } from '../../runner/tws-sim/orders.js';
import { StoreQuoteBook } from '../../runner/tws-sim/replay-quotes.js';
import type { ExecutionRecord } from '../../runner/tws-sim/order-types.js';
import { EARLY_CLOSE_MS_OF_DAY, writeRedatedEarlyCloseDay } from '../fixtures/redated-early-close.js';

const MIN = 60_000;
/** The simulator's paper account starts with this cash: the runner must take it from the account summary */
const BROKER_CASH = 250_000;

const dir = mkdtempSync(join(tmpdir(), 'monger-session-close-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Day {
  name: string;
  date: string;
  import: string[];
  /** The session close (UTC) */
  close: number;
  /** session.flattenMinutesBeforeClose (and noNewEntriesMinutesBeforeClose) */
  flattenMinutes: number;
  earlyClose: boolean;
}

const SPY_MINUTE = 'data/lean/equity/usa/minute/spy';

function runnerConfig(day: Day) {
  // the shipped replay example, re-validated with this day's data, strategy and session guard
  const raw = parse(readFileSync('runner/examples/replay.yaml', 'utf8')) as Record<string, any>;
  raw.strategy.params = { fast: 4, slow: 9, size: 100 };
  raw.session = { noNewEntriesMinutesBeforeClose: day.flattenMinutes, flattenMinutesBeforeClose: day.flattenMinutes };
  raw.journal = { path: join(dir, `journal-${day.name}.duckdb`) };
  // the health monitor's event-loop-lag halt (200 ms by default) is not under test here, and a loaded
  // 2-core machine trips it: its halt refused entries the scenario needs (rejections before the flatten)
  raw.health = { ...raw.health, eventLoopLagMs: 2_000 };
  raw.replay = { db: ':memory:', import: day.import, from: new Date(day.close - 90 * MIN).toISOString(), to: new Date(day.close).toISOString(), speed: 300, simulator: { port: 0, serverVersion: 193 } };
  return validateRunnerConfig(raw, `session-close ${day.name}`, {});
}

async function runDay(day: Day) {
  const config = runnerConfig(day);
  let orders: OrdersFeature | undefined;
  const summary: RunSummary = await runRunner(config, {
    logger: silentLogger,
    // the features simFeatures() builds, with a paper account of BROKER_CASH
    simulatorFeatures: (store) => {
      const quotes = new StoreQuoteBook(store);
      orders = ordersFeature({ quotes, startingCash: BROKER_CASH });
      return [contractDetailsFeature(), historicalFeature(), marketDataFeature({ quotes }), orders];
    },
  });
  const executions = [...orders!.book!.executions()].sort((a, b) => a.time - b.time);
  const store = await Store.open(config.journal.path);
  try {
    const records = await readJournal(store, summary.journal.runId);
    const notes = records.filter((r) => r.kind === 'note').map((r) => r.payload as { type?: string; source?: string; reason?: string; ts?: number; context?: Record<string, unknown> });
    const rejections = records
      .filter((r) => r.kind === 'order_event' && (r.payload as { type: string }).type === 'rejected')
      .map((r) => ({ ts: r.ts!, ...(r.payload as { reason: string; order: { side: string } }) }));
    return { summary, executions, brokerPositions: orders!.book!.positions(), notes, rejections };
  } finally {
    store.close();
  }
}

/** The signed position after each execution, with its time */
function positionPath(executions: readonly ExecutionRecord[]): { time: number; position: number; orderRef: string }[] {
  let p = 0;
  return executions.map((e) => ({ time: e.time, position: (p += e.side === 'BOT' ? e.shares : -e.shares), orderRef: e.orderRef }));
}

function expectFlatBeforeClose(day: Day, r: Awaited<ReturnType<typeof runDay>>): void {
  const flattenAt = day.close - day.flattenMinutes * MIN;
  const { summary, executions, brokerPositions, notes, rejections } = r;

  // the run ended with the data, flat in the runner and at the broker
  expect(summary.stopReason).toBe('end of replay');
  // the only rejections are the strategy's entries the session guard refused near the close
  expect(summary.orders.rejected).toBe(rejections.length);
  for (const x of rejections) {
    expect(x.ts).toBeGreaterThanOrEqual(flattenAt);
    expect(x.order.side).toBe('BUY');
    expect(x.reason).toMatch(/SPY halted: session: (no new entries within|flattening) \d+ min (of|before) the /);
    expect(x.reason).toContain(`${day.earlyClose ? 'early ' : ''}close at ${day.earlyClose ? '13:00' : '16:00'}`);
  }
  expect(summary.positions).toEqual({});
  expect(brokerPositions.filter((p) => p.qty !== 0)).toEqual([]);
  expect(executions).toHaveLength(summary.fills);
  // the starting cash came from the simulator's account summary (NetLiquidation), not the 1,000,000 default
  expect(Math.abs(summary.equity - BROKER_CASH)).toBeLessThan(2_000);

  // sma-cross traded before the flatten and held a position when it came
  const path = positionPath(executions);
  const before = path.filter((s) => s.time < flattenAt);
  expect(before.length).toBeGreaterThanOrEqual(2);
  expect(before[before.length - 1]!.position).toBe(100);

  // the session guard closed it: its close order, for the position, at or after the flatten time
  const closes = notes.filter((n) => n.type === 'close' && n.source === 'session');
  expect(closes.length).toBeGreaterThanOrEqual(1);
  expect(closes[0]!.ts).toBeGreaterThanOrEqual(flattenAt);
  expect(closes[0]!.context?.position).toBe(100);
  expect(closes[0]!.reason).toContain(`${day.earlyClose ? 'early ' : ''}close at ${day.earlyClose ? '13:00' : '16:00'} America/New_York (${day.date})`);

  // after the flatten time only the supervisor trades, only to close, and the book is flat at least
  // MIN_FLATTEN_MINUTES before the close (and stays flat)
  const after = path.filter((s) => s.time >= flattenAt);
  expect(after.length).toBeGreaterThanOrEqual(1);
  for (const s of after) {
    expect(s.orderRef.startsWith('supervisor@')).toBe(true);
    expect(s.position).toBeGreaterThanOrEqual(0);
  }
  expect(after[after.length - 1]!.position).toBe(0);
  expect(after[after.length - 1]!.time).toBeLessThanOrEqual(day.close - MIN_FLATTEN_MINUTES * MIN);
}

describe('the runner is flat before the session close (replay over TCP)', () => {
  it('the early-close fixture is the real 2013-10-08 bars up to 13:00 New York, re-dated', () => {
    const fx = writeRedatedEarlyCloseDay(join(dir, 'fixture-check'));
    const src = (kind: string) => readFileSync(join(SPY_MINUTE, `20131008_spy_minute_${kind}.csv`), 'utf8').trim().split('\n');
    const out = (kind: string) => readFileSync(join(fx.folder, `20131129_spy_minute_${kind}.csv`), 'utf8').trim().split('\n');
    for (const kind of ['trade', 'quote']) {
      const kept = out(kind);
      // identical rows, in order, every one starting before 13:00; the source goes on after it
      expect(kept).toEqual(src(kind).slice(0, kept.length));
      expect(Number(kept[kept.length - 1]!.split(',')[0])).toBeLessThan(EARLY_CLOSE_MS_OF_DAY);
      expect(Number(src(kind)[kept.length]!.split(',')[0])).toBeGreaterThanOrEqual(EARLY_CLOSE_MS_OF_DAY);
    }
    // 12:59 is the last minute bar of the early session: 09:30..12:59 = 210 regular-hours bars at most
    expect(fx.trade).toBeGreaterThan(210);
  });

  it('early-close day 2013-11-29 (13:00 New York): flattened 15 minutes before the early close', async () => {
    const fx = writeRedatedEarlyCloseDay(join(dir, 'lean'));
    const day: Day = { name: 'early', date: '2013-11-29', import: [fx.folder], close: Date.parse('2013-11-29T18:00:00Z'), flattenMinutes: 15, earlyClose: true };
    expectFlatBeforeClose(day, await runDay(day));
  }, 180_000);

  it('normal day 2013-10-08 (16:00 New York): flattened 33 minutes before the close', async () => {
    const day: Day = {
      name: 'normal',
      date: '2013-10-08',
      import: [join(SPY_MINUTE, '20131008_spy_minute_trade.csv'), join(SPY_MINUTE, '20131008_spy_minute_quote.csv')],
      close: Date.parse('2013-10-08T20:00:00Z'),
      flattenMinutes: 33,
      earlyClose: false,
    };
    expectFlatBeforeClose(day, await runDay(day));
  }, 180_000);
});
