/**
 * The whole runner in replay mode over TCP (as live-runner-replay.test.ts), with IB's faults
 * injected into the simulator mid-session by a FaultInjector: a dropped connection, order
 * rejections, an 1100 → 1101 link loss, the nightly reset. Each run must come out with its orders
 * and fills matching the simulator's account and the journal, having halted, reconnected,
 * reconciled and resubscribed as the fault asks.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/core/logger.js';
import { readJournal, type JournalRecord } from '../../lib/journal/journal.js';
import { Store } from '../../lib/store/store.js';
import { loadRunnerConfig } from '../../runner/live/config.js';
import { HEALTH_SOURCES } from '../../runner/live/health.js';
import { runRunner, type RunSummary } from '../../runner/live/live-runner.js';
import { FaultInjector, faultableFeatures, FreezableQuoteBook, type ResettableFeature } from '../../runner/tws-sim/faults.js';
import { simFeatures } from '../../runner/tws-sim/features.js';
import type { OrdersFeature } from '../../runner/tws-sim/orders.js';

const dir = mkdtempSync(join(tmpdir(), 'monger-faults-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What a scenario can reach while the runner runs */
interface Rig {
  orders: OrdersFeature;
  faults: FaultInjector;
  /** Executions at the simulator so far */
  executions(): number;
}

interface Outcome {
  summary: RunSummary;
  records: JournalRecord[];
  orders: OrdersFeature;
  faults: FaultInjector;
  /** What the fault returned */
  result: unknown;
  /** Journal seq of the first record after the fault fired */
  faultSeq: number;
  /** Simulator executions when the fault fired */
  executionsAtFault: number;
}

let runs = 0;

interface FaultPlan {
  /** Polled every 20 ms (real time) while the runner runs: the fault fires the first time it holds */
  when?: (rig: Rig) => boolean;
  /** Called as each order reaches the simulator, before the simulator looks at it: true fires the fault now */
  onOrder?: (rig: Rig) => boolean;
  fault: (rig: Rig) => unknown;
}

/**
 * Runs the shipped replay example (faster, journal in a temp folder) with the simulator wired for
 * faults (freezable quotes, market data whose subscriptions 1101 drops, order rejections) and
 * fires `plan.fault` once.
 */
async function runWithFault(plan: FaultPlan): Promise<Outcome> {
  const config = loadRunnerConfig('runner/examples/replay.yaml', {});
  config.replay!.speed = 3000;
  // at 3000x the example's 5-minute flatten window is 100 ms of real time, too short for the closing
  // order's round trip on a loaded machine: flatten from 15 minutes before the close (300 ms)
  config.session.noNewEntriesMinutesBeforeClose = 30;
  config.session.flattenMinutesBeforeClose = 15;
  config.journal.path = join(dir, `journal-${++runs}.duckdb`);
  let quotes: FreezableQuoteBook | undefined;
  let resettable: ResettableFeature[] = [];
  let rig: Rig | undefined;
  let fired: Promise<unknown> | undefined;
  let executionsAtFault = -1;
  let faultAt = NaN;
  // runs the fault synchronously (onOrder: before the simulator places the order)
  const fire = (r: Rig) => {
    if (fired !== undefined) return;
    executionsAtFault = r.executions();
    faultAt = Date.now();
    try {
      fired = Promise.resolve(plan.fault(r));
    } catch (e) {
      fired = Promise.reject(e);
    }
    // reported when awaited after the run, not as an unhandled rejection meanwhile
    fired.catch(() => undefined);
  };
  const poll = setInterval(() => {
    if (rig !== undefined && fired === undefined && plan.when?.(rig)) fire(rig);
  }, 20);
  let summary: RunSummary;
  try {
    summary = await runRunner(config, {
      logger: silentLogger,
      simulatorFeatures: (store) => {
        const wired = faultableFeatures(
          simFeatures(store, {
            wrapQuotes: (book) => (quotes = new FreezableQuoteBook(book)),
            // the injector exists once the simulator does: the orders feature asks it through this
            orderFaults: {
              takeRejection: () => {
                if (rig === undefined) return undefined;
                if (fired === undefined && plan.onOrder?.(rig)) fire(rig);
                return rig.faults.takeRejection();
              },
            },
          }),
        );
        resettable = wired.resettable;
        return wired.features;
      },
      onSimulator: (sim, features) => {
        const orders = features.find((f) => f.name === 'orders') as OrdersFeature;
        rig = {
          orders,
          faults: new FaultInjector(sim, { quotes, resettable, resetWarningMs: 50 }),
          executions: () => orders.book?.executions().length ?? 0,
        };
      },
    });
  } finally {
    clearInterval(poll);
    rig?.faults.close();
  }
  expect(fired, 'the fault fired').toBeDefined();
  const result = await fired;
  const store = await Store.open(config.journal.path);
  let records: JournalRecord[];
  try {
    records = await readJournal(store, summary.journal.runId);
  } finally {
    store.close();
  }
  const faultSeq = records.find((r) => r.wallTs >= faultAt)?.seq ?? Infinity;
  return { summary, records, orders: rig!.orders, faults: rig!.faults, result, faultSeq, executionsAtFault };
}

type Payload = Record<string, unknown>;
const payload = (r: JournalRecord) => r.payload as Payload;
const of = (records: JournalRecord[], kind: string, pred: (p: Payload, r: JournalRecord) => boolean = () => true) => records.filter((r) => r.kind === kind && pred(payload(r), r));
/** The session transition notes the runner journals ('connected>reconnecting', …) */
const transitions = (records: JournalRecord[], pred: (t: string, reason: string) => boolean) => of(records, 'note', (p) => typeof p.session === 'string' && pred(p.session, String(p.reason)));

/**
 * What must hold after any fault: the run ended with the data, flat (session guard), and the
 * runner's orders and fills are exactly the simulator's executions, each journaled once.
 */
function expectConsistent(o: Outcome): void {
  const { summary, records, orders } = o;
  const executions = orders.book!.executions();
  expect(summary.stopReason).toBe('end of replay');
  expect(summary.positions).toEqual({});
  // every halt the fault caused was lifted; the health monitor's event-loop-lag halt (p99 lag beyond
  // 200 ms) comes and goes with the machine's load, so a loaded machine may end the run inside one
  expect(Object.keys(summary.haltedAtEnd).filter((s) => s !== HEALTH_SOURCES.eventLoopLag)).toEqual([]);
  expect(summary.orders.working).toBe(0);
  expect(orders.book!.positions().filter((p) => p.qty !== 0)).toEqual([]);
  expect(orders.book!.openOrders()).toEqual([]);
  // every execution at the simulator reached the engine once: no lost fill, no duplicate
  expect(summary.fills).toBe(executions.length);
  expect(summary.orders.filled).toBe(summary.fills);
  const fills = of(records, 'fill').map((r) => payload(r).executionId as string);
  expect(new Set(fills).size).toBe(fills.length);
  expect([...fills].sort()).toEqual(executions.map((e) => e.execId).sort());
  // one durable intent per order that went to IB (the supervisor's closing orders included)
  expect(of(records, 'order_intent').length).toBeLessThanOrEqual(summary.orders.total);
  for (const e of executions) expect(of(records, 'order_intent', (p) => typeof p.orderRef === 'string' && p.orderRef === e.orderRef)).toHaveLength(1);
}

/** The first record of `kind` after seq `after` that satisfies `pred` */
function firstAfter(records: JournalRecord[], after: number, kind: string, pred: (p: Payload) => boolean = () => true): JournalRecord | undefined {
  return records.find((r) => r.seq > after && r.kind === kind && pred(payload(r)));
}

/** No entry (the strategy is long/flat: a BUY) was sent between two journal seqs */
function expectNoEntriesBetween(records: JournalRecord[], from: number, to: number): void {
  expect(of(records, 'order_intent', (p, r) => r.seq > from && r.seq < to && p.side === 'BUY')).toEqual([]);
}

describe('the live runner under IB faults (replay over TCP)', () => {
  it('connection dropped as an order reaches IB, mid-position: halts, reconnects with backoff, recovers the fill made while disconnected exactly once, resubscribes, trades on', async () => {
    // after the first fill (long 100) the next order (the exit) reaches the simulator and every
    // client is dropped at that instant: the order fills at IB while the runner is disconnected
    const o = await runWithFault({ onOrder: (rig) => rig.executions() >= 1, fault: (rig) => rig.faults.dropAll() });
    const { summary, records, orders } = o;
    expectConsistent(o);
    expect(o.executionsAtFault).toBe(1);
    const missed = orders.book!.executions()[1]!;

    // halted while the connection was down, resumed once it was back
    expect(summary.reconnects).toBeGreaterThanOrEqual(1);
    expect(summary.halts).toContain('health:connection');
    const dropped = transitions(records, (t) => t === 'connected>reconnecting')[0]!;
    expect(dropped.seq).toBeGreaterThanOrEqual(o.faultSeq);
    const halt = firstAfter(records, dropped.seq - 1, 'halt', (p) => p.source === 'health:connection')!;
    const back = transitions(records, (t) => t.endsWith('>connected')).find((r) => r.seq > dropped.seq)!;
    const resume = firstAfter(records, back.seq - 1, 'resume', (p) => p.source === 'health:connection')!;
    expect(halt).toBeDefined();
    expect(resume).toBeDefined();
    expectNoEntriesBetween(records, halt.seq, resume.seq);

    // the reconnect's reconciliation recovered the fill made while disconnected, once
    const reconcile = firstAfter(records, dropped.seq, 'reconcile', (p) => p.cause === 'reconnect')!;
    expect(reconcile).toBeDefined();
    const recovered = payload(reconcile).recoveredFills as { executionId: string; quantity: number }[];
    expect(recovered.map((f) => f.executionId)).toEqual([missed.execId]);
    expect(recovered[0]!.quantity).toBe(missed.shares);
    expect(of(records, 'fill', (p) => p.executionId === missed.execId)).toHaveLength(1);
    expect(of(records, 'reconcile', (p) => (p.recoveredFills as unknown[]).length > 0)).toHaveLength(1);
    expect(of(records, 'alert', (p) => p.kind === 'missed-fill')).toHaveLength(1);

    // market data came back: the strategy kept deciding and trading on new bars after the reconnect
    const later = of(records, 'fill', (_p, r) => r.seq > reconcile.seq && r.ts! > reconcile.ts!);
    expect(later.length).toBeGreaterThanOrEqual(2);
    expect(summary.halts.filter((h) => h.includes('stale'))).toEqual([]);
  }, 60_000);

  it('rejected orders: two orders rejected by IB are counted and journaled, nothing crashes, later orders fill', async () => {
    const o = await runWithFault({ when: (rig) => rig.executions() >= 1, fault: (rig) => rig.faults.rejectNextOrders(2) });
    const { summary, records } = o;
    expectConsistent(o);
    expect(o.result).toEqual({ count: 2, reason: 'Simulated rejection' });
    // both rejections were used up by the runner's orders
    expect(o.faults.status().pendingRejections.count).toBe(0);

    // IB rejected exactly two orders; any other rejection is the runner's own pre-trade refusal
    // (the session guard refusing an entry near the close), which never reached IB
    const rejections = of(records, 'order_event', (p) => p.type === 'rejected');
    expect(summary.orders.rejected).toBe(rejections.length);
    const rejected = rejections.filter((r) => payload(r).reason === 'Order rejected - reason:Simulated rejection');
    expect(rejected).toHaveLength(2);
    for (const r of rejections.filter((x) => !rejected.includes(x))) {
      expect(String(payload(r).reason)).toMatch(/^risk: /);
      expect(of(records, 'order_intent', (_p, i) => i.clientOrderId === r.clientOrderId)).toEqual([]);
    }
    expect(summary.reconnects).toBe(0);
    for (const r of rejected) {
      // they reached IB: each had its durable intent first
      expect(of(records, 'order_intent', (_p, i) => i.clientOrderId === r.clientOrderId && i.seq < r.seq)).toHaveLength(1);
    }
    expect(new Set(rejected.map((r) => r.clientOrderId)).size).toBe(2);
    // the run carried on: orders after the rejections were sent and filled
    const lastRejection = rejected[1]!.seq;
    expect(of(records, 'fill', (_p, r) => r.seq > lastRejection).length).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('1100 then 1101 (data lost): halts while IB is unreachable, resubscribes the dropped streams, resumes', async () => {
    const o = await runWithFault({
      when: (rig) => rig.executions() >= 1,
      fault: async (rig) => {
        rig.faults.connectivityLost();
        // 1.2 real seconds = an hour of the replayed day without IB
        await new Promise((r) => setTimeout(r, 1200));
        return rig.faults.connectivityRestored({ dataLost: true });
      },
    });
    const { summary, records } = o;
    expectConsistent(o);
    // the simulator really dropped the runner's market-data streams with the 1101
    expect((o.result as { droppedSubscriptions: number }).droppedSubscriptions).toBeGreaterThanOrEqual(1);

    // same connection throughout: degraded by 1100, usable again by 1101, no reconnect
    expect(summary.reconnects).toBe(0);
    const lost = transitions(records, (t, reason) => t === 'connected>degraded' && reason === 'connectivity-lost');
    const restored = transitions(records, (t, reason) => t === 'degraded>connected' && reason === 'connectivity-restored-data-lost');
    expect(lost).toHaveLength(1);
    expect(restored).toHaveLength(1);
    expect(lost[0]!.seq).toBeGreaterThanOrEqual(o.faultSeq);

    // halted on the 1100 (whole book), resumed on the 1101
    expect(summary.halts).toContain('health:connection');
    const halt = firstAfter(records, lost[0]!.seq - 1, 'halt', (p) => p.source === 'health:connection')!;
    expect(String(payload(halt).reason)).toContain('IB link lost');
    const resume = firstAfter(records, restored[0]!.seq - 1, 'resume', (p) => p.source === 'health:connection')!;
    expect(resume).toBeDefined();
    expect(of(records, 'halt', (p, r) => p.source === 'health:connection' && r.seq > resume.seq)).toEqual([]);
    expectNoEntriesBetween(records, halt.seq, resume.seq);

    // resubscribed: bars kept coming after the 1101 (the strategy traded on them, nothing went stale)
    expect(of(records, 'fill', (_p, r) => r.seq > resume.seq && r.ts! > resume.ts!).length).toBeGreaterThanOrEqual(2);
    expect(summary.halts.filter((h) => h.includes('stale'))).toEqual([]);
    expect(of(records, 'reconcile')).toHaveLength(1);
  }, 60_000);

  it('nightly reset: 1100, dropped, refused for the down time; reconnects, reconciles, resubscribes and carries on', async () => {
    const downSeconds = 1;
    const speed = 3000;
    const o = await runWithFault({ when: (rig) => rig.executions() >= 1, fault: (rig) => rig.faults.nightlyReset({ downSeconds }) });
    const { summary, records } = o;
    expectConsistent(o);
    expect((o.result as { dropped: number }).dropped).toBe(1);

    expect(summary.reconnects).toBeGreaterThanOrEqual(1);
    expect(summary.halts).toContain('health:connection');
    const warned = transitions(records, (t, reason) => t === 'connected>degraded' && reason === 'connectivity-lost')[0]!;
    expect(warned.seq).toBeGreaterThanOrEqual(o.faultSeq);
    const dropped = transitions(records, (t) => t.endsWith('>reconnecting')).find((r) => r.seq > warned.seq)!;
    const back = transitions(records, (t) => t === 'connecting>connected').find((r) => r.seq > dropped.seq)!;
    expect(back).toBeDefined();
    // connections were refused for the down time: back no earlier than that (in replayed time)
    expect(back.ts! - dropped.ts!).toBeGreaterThanOrEqual(0.9 * downSeconds * speed * 1000);

    const halt = firstAfter(records, warned.seq - 1, 'halt', (p) => p.source === 'health:connection')!;
    const resume = firstAfter(records, back.seq - 1, 'resume', (p) => p.source === 'health:connection')!;
    expect(halt).toBeDefined();
    expect(resume).toBeDefined();
    expectNoEntriesBetween(records, halt.seq, resume.seq);

    // reconciled on the new connection (the position taken before the reset is IB's too)
    const reconcile = firstAfter(records, back.seq, 'reconcile', (p) => p.cause === 'reconnect')!;
    expect(reconcile).toBeDefined();
    const report = payload(reconcile) as { recoveredFills: unknown[]; mismatches: unknown[]; externalPositions: unknown[]; externalOrders: unknown[] };
    expect(report.recoveredFills).toEqual([]);
    expect(report.mismatches).toEqual([]);
    expect(report.externalPositions).toEqual([]);
    expect(report.externalOrders).toEqual([]);

    // resubscribed on the new connection: trading went on
    expect(of(records, 'fill', (_p, r) => r.seq > reconcile.seq && r.ts! > reconcile.ts!).length).toBeGreaterThanOrEqual(2);
    expect(summary.halts.filter((h) => h.includes('stale'))).toEqual([]);
  }, 60_000);
});
