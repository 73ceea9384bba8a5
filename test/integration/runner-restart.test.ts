/**
 * kill -9 of the runner during order submission, then a restart with the same config, end to end:
 * the TWS simulator runs in this process on the bundled SPY minute bars of 2013-10-08 (accelerated),
 * the runner (`monger run`, sma-cross, `replay.connect: true`) runs as a child process over TCP.
 *
 * 1. The child is SIGKILLed the moment the simulator receives its first placeOrder: the order
 *    reached "IB", the runner had not heard back. The restarted runner must resume the same journal
 *    run (restarts 1), find the order at IB by its orderRef and adopt it (never send it again), and
 *    end with the simulator account's positions; every execution at the simulator is in the journal.
 * 2. The child SIGKILLs itself once its first order intent is durable, before the order is written
 *    to the socket (MONGER_TEST_FAULT): the restart must report that order NOT_FOUND and not send it.
 * 3. The child is stopped cleanly (SIGINT) holding a position: the next start is a new run, which
 *    must adopt the account's position instead of trading flat beside it.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { importFiles } from '../../lib/ingest/import-files.js';
import { Journal, readJournal, syncIntentLog, type JournalRecord } from '../../lib/journal/journal.js';
import { recover } from '../../lib/journal/recovery.js';
import { Store } from '../../lib/store/store.js';
import { simFeatures } from '../../runner/tws-sim/features.js';
import { OrderBook } from '../../runner/tws-sim/order-book.js';
import type { OrdersFeature } from '../../runner/tws-sim/orders.js';
import { TwsSimulator } from '../../runner/tws-sim/server.js';
import { replayClock } from '../../runner/tws-sim/sim-clock.js';
import { childTestDir, runMonger, summaryOf, type Exit } from './runner-child.js';

const FROM = '2013-10-08T13:25:00Z';
const TO = '2013-10-08T17:30:00Z';
const SPEED = 600;
// the working tree's sma-cross run with --dev (issue 7: no promoted tag in this repository)
const STRATEGY_REF = 'sma-cross@1.0.0-dev#';

const dir = childTestDir('monger-restart-');

interface Rig {
  sim: TwsSimulator;
  store: Store;
  orders: OrdersFeature;
  /** orderRef of every new order the simulator received, in arrival order */
  placed: string[];
  /** Called (once armed) as an order reaches the simulator, before it is placed */
  onOrder?: () => void;
  port: number;
}

async function startSimulator(): Promise<Rig> {
  const store = await Store.open(':memory:');
  await importFiles(store, [resolve('data/lean/equity/usa/minute/spy')]);
  const placed: string[] = [];
  const rig = { store, placed } as Rig;
  // every placeOrder the book sees (a modify reuses its IB id: only new ids count as orders)
  const place = OrderBook.prototype.place;
  vi.spyOn(OrderBook.prototype, 'place').mockImplementation(function (this: OrderBook, clientId, req, contract, now) {
    if (this.order(clientId, req.orderId) === undefined) placed.push(req.orderRef);
    return place.call(this, clientId, req, contract, now);
  });
  const features = simFeatures(store, {
    orderFaults: {
      takeRejection: () => {
        rig.onOrder?.();
        return undefined;
      },
    },
  });
  rig.orders = features.find((f) => f.name === 'orders') as OrdersFeature;
  rig.sim = new TwsSimulator({ store, port: 0, account: 'DU1234567', clock: replayClock({ start: Date.parse(FROM), speed: SPEED }), features });
  rig.port = (await rig.sim.start()).port;
  return rig;
}

function writeConfig(name: string, port: number): { config: string; journal: string } {
  const config = join(dir, `${name}.yaml`);
  const journal = join(dir, `${name}.duckdb`);
  writeFileSync(
    config,
    `mode: replay
ib: { host: 127.0.0.1, port: ${port}, clientId: 1, account: DU1234567 }
strategy: { name: sma-cross, version: 1.0.0, interval: 1m, params: { fast: 10, slow: 30, size: 100 } }
universe: { symbols: [SPY] }
trading: { defaults: { unitSize: 100, maxPosition: 100, spread: best } }
account: { maxLossPerTrade: 1000, maxCumulativeLoss: 5000 }
risk: { maxOrderQuantity: 100, maxOrderNotional: 50000, maxPositionNotionalPerSymbol: 50000, maxGrossLeverage: 1, maxOpenOrders: 4, drawdownHaltPct: 10 }
health: { port: 0 }
journal: { path: ${journal} }
replay: { db: ':memory:', from: ${FROM}, to: ${TO}, speed: ${SPEED}, connect: true }
`,
  );
  return { config, journal };
}

/** `monger run --config <config>` as a child; `onSpawn` gets it (to kill it from a simulator hook) */
const runChild = (config: string, env: Record<string, string> = {}, onSpawn?: (c: ChildProcess) => void): Promise<Exit> => runMonger(config, { env, onSpawn, safetyMs: 150_000 });

/** The simulator account's non-zero positions by instrument key */
function simPositions(rig: Rig): Record<string, number> {
  return Object.fromEntries(
    rig.orders
      .book!.positions()
      .filter((p) => p.qty !== 0)
      .map((p) => [p.contract.instrument.key, p.qty]),
  );
}

async function journalOf(path: string): Promise<{ runs: Awaited<ReturnType<typeof Journal.list>>; records: JournalRecord[] }> {
  const store = await Store.open(path);
  try {
    const runs = await Journal.list(store);
    if (runs.length !== 1) return { runs, records: [] };
    // durable records a killed process left only in the journal's write-ahead intent log
    await syncIntentLog(store, runs[0]!.runId);
    return { runs, records: await readJournal(store, runs[0]!.runId) };
  } finally {
    store.close();
  }
}

function expectNoDuplicateOrder(rig: Rig): void {
  const counts = new Map<string, number>();
  for (const ref of rig.placed) counts.set(ref, (counts.get(ref) ?? 0) + 1);
  expect([...counts].filter(([, n]) => n > 1), `orders the simulator received twice: ${rig.placed.join(', ')}`).toEqual([]);
}

describe('runner restart after kill -9 (simulator in this process, runner as a child over TCP)', () => {
  it('kill -9 as the first order reaches the simulator: the restart adopts it, sends nothing twice, recovers the positions', async () => {
    const rig = await startSimulator();
    try {
      const { config, journal } = writeConfig('adopt', rig.port);
      let child: ChildProcess | undefined;
      rig.onOrder = () => {
        rig.onOrder = undefined;
        child!.kill('SIGKILL');
      };
      const first = await runChild(config, {}, (c) => (child = c));
      expect(first.signal, `first child should have been killed at its first order:\n${first.stderr.slice(-3000)}`).toBe('SIGKILL');
      // the simulator goes on placing the order it received after the kill
      await vi.waitFor(() => expect(rig.placed).toHaveLength(1), { timeout: 5000 });
      const killedRef = rig.placed[0]!;
      expect(killedRef.startsWith(STRATEGY_REF)).toBe(true);
      const killedCoid = killedRef.slice(STRATEGY_REF.length);

      // what the killed process left: the intent is durable, nothing says the order reached IB
      const before = await journalOf(journal);
      expect(before.runs).toHaveLength(1);
      expect(before.runs[0]!.endedAt).toBeNull();
      const store = await Store.open(journal);
      const rec = await recover(store, before.runs[0]!.runId);
      store.close();
      expect(rec.orders.get(killedCoid)?.intentSeq).not.toBeNull();
      expect(rec.orders.get(killedCoid)?.state).not.toBe('closed');

      const summary = summaryOf(await runChild(config), 3000);
      expect(summary.stopReason).toBe('end of replay');
      expect(summary.journal.runId).toBe(before.runs[0]!.runId);
      expect(summary.resumed).toMatchObject({ restarts: 1, notFound: [], unsent: [] });
      expect(summary.resumed!.adopted).toEqual([killedCoid]);

      // no order reached the simulator twice, the killed one included
      expectNoDuplicateOrder(rig);
      expect(rig.placed.filter((r) => r === killedRef)).toHaveLength(1);
      // the runner's positions are the simulator account's
      expect(summary.positions).toEqual(simPositions(rig));

      const after = await journalOf(journal);
      expect(after.runs).toHaveLength(1);
      expect(after.runs[0]).toMatchObject({ restarts: 1, endReason: 'end of replay' });
      const restartNotes = after.records.filter((r) => r.kind === 'note' && (r.payload as { event?: string }).event === 'restart');
      expect(restartNotes.map((r) => (r.payload as { restarts: number }).restarts)).toEqual([1]);
      const adoption = after.records.find((r) => r.kind === 'reconcile' && r.clientOrderId === killedCoid);
      expect(adoption?.payload).toMatchObject({ adopted: true, outcome: 'adopted', orderRef: killedRef });
      // every execution at the simulator is journaled exactly once (the killed order's included)
      const executions = rig.orders.book!.executions().map((e) => e.execId);
      const fills = after.records.filter((r) => r.kind === 'fill').map((r) => (r.payload as { executionId: string }).executionId);
      expect([...fills].sort()).toEqual([...executions].sort());
      expect(after.records.some((r) => r.kind === 'fill' && r.clientOrderId === killedCoid)).toBe(true);
      // before its first bar the resumed engine held what the simulator's account held after the killed order's fill
      // (a marketable limit: it filled at once, the moment the child died)
      const killedFills = rig.orders.book!.executions().filter((e) => e.orderRef === killedRef);
      const recovered = after.records.find((r) => r.kind === 'note' && (r.payload as { event?: string }).event === 'recovered')!.payload as { positions: Record<string, number> };
      expect(recovered.positions).toEqual({ SPY: killedFills.reduce((q, e) => q + (e.side === 'BOT' ? e.shares : -e.shares), 0) });
      // new decisions after the restart carry the new process's prefix: no orderRef repeats across processes
      const prefixes = new Set(rig.placed.map((r) => /-([0-9a-f]{6}\.\d+)-\d+$/.exec(r)?.[1]));
      expect([...prefixes].every((p) => p !== undefined && /\.[01]$/.test(p))).toBe(true);
    } finally {
      await rig.sim.stop();
      rig.store.close();
    }
  }, 240_000);

  it('kill -9 after the intent is durable, before the socket write: the restart reports it NOT_FOUND and never sends it', async () => {
    const rig = await startSimulator();
    try {
      const { config, journal } = writeConfig('unsent', rig.port);
      const first = await runChild(config, { MONGER_TEST_FAULT: 'kill-after-first-intent' });
      expect(first.signal, `first child should have killed itself after its first intent:\n${first.stderr.slice(-3000)}`).toBe('SIGKILL');
      expect(rig.placed).toEqual([]);
      const before = await journalOf(journal);
      const intents = before.records.filter((r) => r.kind === 'order_intent');
      expect(intents).toHaveLength(1);
      const coid = intents[0]!.clientOrderId!;
      const ref = (intents[0]!.payload as { orderRef: string }).orderRef;

      const summary = summaryOf(await runChild(config), 3000);
      expect(summary.resumed).toMatchObject({ restarts: 1, adopted: [], notFound: [coid], unsent: [] });
      expect(rig.placed).not.toContain(ref);
      expectNoDuplicateOrder(rig);
      expect(summary.positions).toEqual(simPositions(rig));

      const after = await journalOf(journal);
      expect(after.runs[0]).toMatchObject({ restarts: 1 });
      const reconcile = after.records.find((r) => r.kind === 'reconcile' && r.clientOrderId === coid);
      expect(reconcile?.payload).toMatchObject({ status: 'NOT_FOUND', outcome: 'not-found' });
      const store = await Store.open(journal);
      const rec = await recover(store, after.runs[0]!.runId);
      store.close();
      expect(rec.orders.get(coid)).toMatchObject({ state: 'closed', status: expect.stringMatching(/NOT_FOUND|REJECTED/) });
    } finally {
      await rig.sim.stop();
      rig.store.close();
    }
  }, 240_000);

  it('a clean stop (SIGINT) holding a position: the next start is a new run that adopts the position from IB', async () => {
    const rig = await startSimulator();
    try {
      const { config, journal } = writeConfig('clean-stop', rig.port);
      let child: ChildProcess | undefined;
      let stopping = false;
      rig.onOrder = () => {
        rig.onOrder = undefined;
        // stop once the first order (a marketable limit) has filled at the simulator
        const poll = setInterval(() => {
          if (simPositions(rig)['SPY'] === undefined || stopping) return;
          stopping = true;
          clearInterval(poll);
          child!.kill('SIGINT');
        }, 20);
      };
      const first = summaryOf(await runChild(config, {}, (c) => (child = c)), 3000);
      expect(first.stopReason).toBe('signal');
      const held = simPositions(rig);
      expect(held['SPY']).toBeGreaterThan(0);
      expect(first.positions).toEqual(held);

      const second = summaryOf(await runChild(config), 3000);
      // run 1 ended cleanly: not resumed, a new run, which takes IB's position instead of ignoring it
      expect(second.journal.runId).not.toBe(first.journal.runId);
      expect(second.resumed).toBeUndefined();
      expect(second.positionsAdopted).toEqual(['SPY']);
      expectNoDuplicateOrder(rig);
      // engine and account agree at the end: the strategy neither bought on top nor lost track of it
      expect(second.positions).toEqual(simPositions(rig));

      const store = await Store.open(journal);
      try {
        const records = await readJournal(store, second.journal.runId, { kinds: ['alert', 'reconcile'] });
        expect(records.find((r) => r.kind === 'alert' && r.instrument === 'SPY')?.payload).toMatchObject({ kind: 'position-from-broker', broker: held['SPY'], engine: 0 });
        expect(records.find((r) => r.kind === 'reconcile' && (r.payload as { event?: string }).event === 'positions-adopted')?.payload).toMatchObject({ adopted: ['SPY'], positions: { SPY: { quantity: held['SPY'] } } });
      } finally {
        store.close();
      }
    } finally {
      await rig.sim.stop();
      rig.store.close();
    }
  }, 240_000);
});
