/**
 * A signal-driven universe across kill -9 and a restart, end to end: the TWS simulator runs in this
 * process on the real SPY/IBM/BAC/AIG minute bars of 2013-10-08 (accelerated), the runner (`monger
 * run`, signal-trader, universe.mode dynamic, `replay.connect: true`) runs as a child process over
 * TCP, its signals in a DuckDB table written before it starts (the child holds the file).
 *
 * Process 1: a strong IBM signal (S1) brings IBM in and buys 10; BAC is added by hand through the
 * control API. The child is SIGKILLed once the simulator's account holds the IBM position. An AIG
 * signal (G) is published while the runner is down. Process 2 (the restart, same config: resumed):
 *
 * (a) S1 is not delivered again: IBM has exactly one order from process 1; the signals' late-row
 *     window (lateSeconds) covers S1 at the restart, so a poller that started from the restart time
 *     without the journaled watermark would hand it on again and buy 10 more;
 * (b) IBM is active again without a new signal (a signal-driven member restored from its position:
 *     state active, bars streaming, as `monger symbol list` shows) and BAC is back, pinned;
 * (c) G, published while the runner was down, and the later signals (IBM, SPY) are delivered and traded.
 */
import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { importFiles } from '../../lib/ingest/import-files.js';
import { Journal, readJournal, syncIntentLog, type JournalRecord } from '../../lib/journal/journal.js';
import { insertSignals } from '../../lib/signals/duckdb-provider.js';
import type { Signal } from '../../lib/signals/signal.js';
import { Store } from '../../lib/store/store.js';
import type { ControlList, ControlSymbol } from '../../runner/live/control-api.js';
import { ControlClient } from '../../runner/live/control-client.js';
import { simFeatures } from '../../runner/tws-sim/features.js';
import { OrderBook } from '../../runner/tws-sim/order-book.js';
import type { OrdersFeature } from '../../runner/tws-sim/orders.js';
import { TwsSimulator } from '../../runner/tws-sim/server.js';
import { replayClock } from '../../runner/tws-sim/sim-clock.js';
import { childTestDir, runMonger, summaryOf, type Exit } from './runner-child.js';

const MIN = 60_000;
const at = (hhmm: string) => Date.parse(`2013-10-08T${hhmm}:00Z`);
const FROM = at('13:25');
const TO = at('15:00');
/** 1 real second = 1 simulated minute */
const SPEED = 60;
/** S1: after process 1 is up (~2 real seconds; 30 of margin for a loaded machine, asserted below) */
const S1 = at('13:55') + 1000;
/** G: published while the runner is down (the kill comes a simulated minute or two after S1: asserted) */
const G = at('14:20') + 1000;
/** After the restart (or, on a slow machine, while process 2 starts: delivered all the same) */
const LATER = at('14:40') + 1000;
const TOKEN = 'test-token-0123456789abcdef';
const REF = /^signal-trader@1\.0\.0-dev#signal-trader-[0-9a-f]{6}\.(\d+)-\d+$/;

const SIGNALS: Signal[] = [
  { ts: S1, availableAt: S1, symbol: 'IBM', value: 0.8, source: 'restart-test' },
  { ts: G, availableAt: G, symbol: 'AIG', value: 0.8, source: 'restart-test' },
  { ts: LATER, availableAt: LATER, symbol: 'IBM', value: 0.8, source: 'restart-test' },
  { ts: LATER, availableAt: LATER, symbol: 'SPY', value: 0.8, source: 'restart-test' },
];

const dir = childTestDir('monger-universe-restart-');

interface Rig {
  sim: TwsSimulator;
  store: Store;
  orders: OrdersFeature;
  now: () => number;
  /** Every new order the simulator received: [orderRef, instrument] */
  placed: [string, string][];
  port: number;
}

async function startSimulator(): Promise<Rig> {
  const store = await Store.open(':memory:');
  await importFiles(store, ['spy', 'ibm', 'bac', 'aig'].map((s) => resolve(`data/lean/equity/usa/minute/${s}/20131008_${s}_minute_trade.csv`)));
  const placed: [string, string][] = [];
  const place = OrderBook.prototype.place;
  vi.spyOn(OrderBook.prototype, 'place').mockImplementation(function (this: OrderBook, clientId, req, contract, now) {
    if (this.order(clientId, req.orderId) === undefined) placed.push([req.orderRef, typeof contract === 'string' ? contract : contract.instrument.key]);
    return place.call(this, clientId, req, contract, now);
  });
  const features = simFeatures(store);
  const clock = replayClock({ start: FROM, speed: SPEED });
  const sim = new TwsSimulator({ store, port: 0, account: 'DU1234567', clock, features });
  const port = (await sim.start()).port;
  return { sim, store, orders: features.find((f) => f.name === 'orders') as OrdersFeature, now: () => clock.now(), placed, port };
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function writeConfig(simPort: number, controlPort: number): Promise<{ config: string; journal: string }> {
  const signalsDb = join(dir, 'signals.duckdb');
  const store = await Store.open(signalsDb);
  try {
    await insertSignals(store, SIGNALS);
  } finally {
    store.close();
  }
  const config = join(dir, 'runner.yaml');
  const journal = join(dir, 'journal.duckdb');
  writeFileSync(
    config,
    `mode: replay
ib: { host: 127.0.0.1, port: ${simPort}, clientId: 3, account: DU1234567 }
strategy: { name: signal-trader, version: 1.0.0, interval: 1m, warmup: 2 }
universe: { mode: dynamic, retireAfterMinutes: 30 }
trading: { defaults: { unitSize: 10, maxPosition: 100, tradeThreshold: 0.5, spread: best } }
account: { maxLossPerTrade: 10000, maxCumulativeLoss: 100000 }
risk: { maxOrderQuantity: 100, maxOrderNotional: 100000, maxPositionNotionalPerSymbol: 100000, maxGrossLeverage: 2, maxOpenOrders: 20, drawdownHaltPct: 50 }
data: { lineBudget: 20, staleSeconds: 600 }
health: { port: 0 }
journal: { path: ${journal} }
# a late-row window of an hour: at the restart it still covers S1 (see the file comment); signals up to
# an hour old trade, so G (published while down, minutes old at the restart) does (default: 5 min;
# at least lateSeconds + pollSeconds)
signals: { provider: duckdb, db: ${signalsDb}, pollSeconds: 30, lateSeconds: 3600, maxAgeSeconds: 3630 }
control: { enabled: true, port: ${controlPort}, token: ${TOKEN} }
replay: { db: ':memory:', from: ${new Date(FROM).toISOString()}, to: ${new Date(TO).toISOString()}, speed: ${SPEED}, connect: true }
`,
  );
  return { config, journal };
}

/** The running child's output so far (a wait that times out says why) */
const live = { stderr: '', exited: false };

function runChild(config: string, onSpawn?: (c: ChildProcess) => void): Promise<Exit> {
  live.stderr = '';
  live.exited = false;
  return runMonger(config, { onSpawn, safetyMs: 240_000, onStderr: (d) => (live.stderr += d), onExit: () => (live.exited = true) });
}

const simPosition = (rig: Rig, key: string) => rig.orders.book?.positions().find((p) => p.contract.instrument.key === key)?.qty ?? 0;

/** The runner process (0: the first, 1: the restart) that placed each order of `key` */
const ordersBy = (rig: Rig, key: string) => rig.placed.filter(([, k]) => k === key).map(([ref]) => Number(REF.exec(ref)?.[1] ?? NaN));

async function symbols(api: ControlClient): Promise<Map<string, ControlSymbol> | undefined> {
  if (live.exited) throw new Error(`the runner exited:\n${live.stderr.slice(-3000)}`);
  const r = await api.list().catch(() => undefined);
  if (r?.status !== 200) return undefined;
  return new Map((r.body as ControlList).symbols.map((s) => [s.symbol, s]));
}

async function journalRecords(path: string): Promise<{ runs: Awaited<ReturnType<typeof Journal.list>>; records: JournalRecord[] }> {
  const store = await Store.open(path);
  try {
    const runs = await Journal.list(store);
    await syncIntentLog(store, runs[0]!.runId);
    return { runs, records: await readJournal(store, runs[0]!.runId) };
  } finally {
    store.close();
  }
}

const payload = (r: JournalRecord) => r.payload as Record<string, unknown>;

describe('runner restart with a signal-driven universe (simulator in this process, runner as a child over TCP)', () => {
  it('kill -9 after a signal-opened fill: the restart does not trade that signal again, re-activates the ticker and the added symbol, delivers what was published while down and later', async () => {
    const rig = await startSimulator();
    try {
      const controlPort = await freePort();
      const { config, journal } = await writeConfig(rig.port, controlPort);
      const api = new ControlClient('127.0.0.1', controlPort, TOKEN);

      // ---- process 1: up, BAC added by hand, S1 buys IBM, killed once the account holds it
      let child: ChildProcess | undefined;
      const first = runChild(config, (c) => (child = c));
      await vi.waitFor(async () => expect(await symbols(api)).toBeDefined(), { timeout: 120_000, interval: 200 });
      const upAt = rig.now();
      expect(upAt, `process 1 came up at ${new Date(upAt).toISOString()}, after S1: too slow to test`).toBeLessThan(S1 - 2 * MIN);
      const added = await api.add('BAC');
      expect(added.status, JSON.stringify(added.body)).toBe(200);
      await vi.waitFor(() => expect(simPosition(rig, 'IBM')).toBe(10), { timeout: 120_000, interval: 20 });
      child!.kill('SIGKILL');
      const killedAt = rig.now();
      const exit1 = await first;
      expect(exit1.signal, exit1.stderr.slice(-3000)).toBe('SIGKILL');
      expect(killedAt, `killed at ${new Date(killedAt).toISOString()}: G must be published after the kill`).toBeLessThan(G - MIN);
      expect(ordersBy(rig, 'IBM')).toEqual([0]);

      // ---- down while G is published; then process 2 resumes the run
      await vi.waitFor(() => expect(rig.now()).toBeGreaterThan(G + 2 * MIN), { timeout: 60_000, interval: 100 });
      let checked: { ibm: ControlSymbol; bac: ControlSymbol } | undefined;
      const second = runChild(config);
      // (b) while it runs: IBM active with bars streaming and its position, BAC back and pinned
      await vi.waitFor(
        async () => {
          const s = await symbols(api);
          const ibm = s?.get('IBM');
          const bac = s?.get('BAC');
          expect(ibm).toMatchObject({ state: 'active', origin: 'signal', streams: { bars: 'active' } });
          expect(ibm!.position).toBeGreaterThanOrEqual(10);
          expect(bac).toMatchObject({ state: 'active', origin: 'added', pinned: true, position: 0 });
          checked = { ibm: ibm!, bac: bac! };
        },
        { timeout: 120_000, interval: 250 },
      );
      const summary = summaryOf(await second, 4000);
      expect(checked).toBeDefined();
      expect(summary.stopReason).toBe('end of replay');
      expect(summary.resumed).toMatchObject({ restarts: 1 });

      // (a) S1 traded once: one IBM order of process 1, and process 2's only IBM order is the later signal's
      expect(ordersBy(rig, 'IBM')).toEqual([0, 1]);
      // (c) G (published while down) and the later signals traded by process 2
      expect(ordersBy(rig, 'AIG')).toEqual([1]);
      expect(ordersBy(rig, 'SPY')).toEqual([1]);
      expect(ordersBy(rig, 'BAC')).toEqual([]);
      expect(simPosition(rig, 'IBM')).toBe(20);
      expect(summary.positions).toEqual({ IBM: 20, AIG: 10, SPY: 10 });
      const executions = rig.orders.book!.executions();
      expect(executions.filter((e) => e.contract.instrument.key === 'IBM').reduce((q, e) => q + e.shares, 0)).toBe(20);

      // the journal: the watermark notes, the restore, IBM's activation in process 2 without a signal
      const { runs, records } = await journalRecords(journal);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ restarts: 1, endReason: 'end of replay' });
      const restartSeq = records.find((r) => r.kind === 'note' && payload(r)['event'] === 'restart')!.seq;
      const watermarks = records.filter((r) => r.kind === 'note' && payload(r)['signals'] === 'watermark');
      // process 1: the new run's start (before S1), then S1's batch; process 2 goes on from there:
      // G's batch and the later one (one batch for both if it came up late)
      const availableAt = (r: JournalRecord) => (payload(r)['watermark'] as { availableAt: number }).availableAt;
      const before = watermarks.filter((r) => r.seq < restartSeq).map(availableAt);
      const after = watermarks.filter((r) => r.seq > restartSeq).map(availableAt);
      expect(before).toEqual([expect.any(Number), S1]);
      expect(before[0]).toBeLessThan(S1);
      expect(after.length).toBeGreaterThan(0);
      expect(after.every((t) => t >= G)).toBe(true);
      expect(after[after.length - 1]).toBe(LATER);
      const restored = records.find((r) => r.kind === 'note' && payload(r)['event'] === 'universe-restored');
      expect(restored?.seq).toBeGreaterThan(restartSeq);
      expect(payload(restored!)).toMatchObject({ signal: ['IBM'], added: ['BAC'], removing: [] });
      const ibmStates = records.filter((r) => r.kind === 'note' && payload(r)['universe'] === 'IBM' && r.seq > restartSeq).map((r) => payload(r)['to']);
      expect(ibmStates.slice(0, 3)).toEqual(['resolving', 'warming', 'active']);
      expect(ibmStates).not.toContain('retired');
      // every execution at the simulator is journaled exactly once
      const fills = records.filter((r) => r.kind === 'fill').map((r) => (r.payload as { executionId: string }).executionId);
      expect([...fills].sort()).toEqual(executions.map((e) => e.execId).sort());
      console.info(`universe restart: process 1 up at ${new Date(upAt).toISOString()}, killed at ${new Date(killedAt).toISOString()}; IBM ${checked!.ibm.state} (bars ${checked!.ibm.streams?.bars}) after the restart; orders ${rig.placed.map(([r, k]) => `${k}:${REF.exec(r)?.[1]}`).join(' ')}`);
    } finally {
      await rig.sim.stop();
      rig.store.close();
    }
  }, 360_000);
});
