/**
 * `universe.adoptPositions: journal` end to end: a NEW run of a dynamic universe on an account that
 * also holds positions the runner never had. The TWS simulator runs in this process on the real
 * IBM/BAC minute bars of 2013-10-08 (accelerated); a "manual trader" (the real IBApi client, client
 * id 9) buys 10 IBM and 20 BAC before the runner starts; the journal holds a finished earlier run of
 * signal-trader in replay mode that ended holding 10 IBM. The runner (`monger run`, signal-trader,
 * universe.mode dynamic, `replay.connect: true`) runs as a child process over TCP:
 *
 * - IBM (held by the previous run) is adopted, and traded: its max hold (1 minute) closes it;
 * - BAC (not held by the previous run) stays external: a `position-external` alert naming the
 *   policy, never in the engine, no order of the runner for it;
 * - a signal for BAC during the run does not activate it (its trader would see position 0 and buy
 *   beside the manual holding): BAC is `invalid` (held outside the runner), one
 *   `signal-for-external-position` alert; a signal for IBM in the same run trades.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EventName, IBApi, OrderAction, OrderType, SecType, type Contract } from '@stoqey/ib';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { importFiles } from '../../lib/ingest/import-files.js';
import { Journal, readJournal } from '../../lib/journal/journal.js';
import { insertSignals } from '../../lib/signals/duckdb-provider.js';
import { Store } from '../../lib/store/store.js';
import type { RunSummary } from '../../runner/live/live-runner.js';
import { simFeatures } from '../../runner/tws-sim/features.js';
import { OrderBook } from '../../runner/tws-sim/order-book.js';
import type { OrdersFeature } from '../../runner/tws-sim/orders.js';
import { TwsSimulator } from '../../runner/tws-sim/server.js';
import { replayClock } from '../../runner/tws-sim/sim-clock.js';

const at = (hhmm: string) => Date.parse(`2013-10-08T${hhmm}:00Z`);
const FROM = at('13:35');
const TO = at('13:50');
/** 1 real second = 1 simulated minute */
const SPEED = 60;
const ACCOUNT = 'DU1234567';

const dir = mkdtempSync(join(tmpdir(), 'monger-adopt-policy-'));
afterEach(() => vi.restoreAllMocks());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const stock = (symbol: string): Contract => ({ symbol, secType: SecType.STK, exchange: 'SMART', currency: 'USD' });

/** The manual trader: market buys from client 9, returned once every one has its commission report */
async function buyManually(port: number, orders: [string, number][]): Promise<void> {
  const api = new IBApi({ host: '127.0.0.1', port, clientId: 9 });
  let nextId: number | undefined;
  let reports = 0;
  api.on(EventName.nextValidId, (id: number) => (nextId ??= id));
  api.on(EventName.commissionReport, () => reports++);
  try {
    api.connect();
    await vi.waitFor(() => expect(nextId).toBeDefined(), { timeout: 20_000, interval: 20 });
    orders.forEach(([symbol, qty], i) => api.placeOrder(nextId! + i, stock(symbol), { action: OrderAction.BUY, orderType: OrderType.MKT, totalQuantity: qty, transmit: true, orderRef: 'manual' }));
    await vi.waitFor(() => expect(reports).toBe(orders.length), { timeout: 30_000, interval: 20 });
  } finally {
    api.disconnect();
  }
}

describe('universe.adoptPositions: journal (a new run of a dynamic universe)', () => {
  it('adopts what the previous run held and trades it; a manual position stays external, alerted, never traded', async () => {
    const store = await Store.open(':memory:');
    await importFiles(store, ['ibm', 'bac'].map((s) => resolve(`data/lean/equity/usa/minute/${s}/20131008_${s}_minute_trade.csv`)));
    // [orderRef, instrument] of every new order the simulator received
    const placed: [string, string][] = [];
    const place = OrderBook.prototype.place;
    vi.spyOn(OrderBook.prototype, 'place').mockImplementation(function (this: OrderBook, clientId, req, contract, now) {
      if (this.order(clientId, req.orderId) === undefined) placed.push([req.orderRef, typeof contract === 'string' ? contract : contract.instrument.key]);
      return place.call(this, clientId, req, contract, now);
    });
    const features = simFeatures(store);
    const sim = new TwsSimulator({ store, port: 0, account: ACCOUNT, clock: replayClock({ start: FROM, speed: SPEED }), features });
    const port = (await sim.start()).port;
    const orders = features.find((f) => f.name === 'orders') as OrdersFeature;
    const simPositions = () => Object.fromEntries(orders.book!.positions().filter((p) => p.qty !== 0).map((p) => [p.contract.instrument.key, p.qty]));
    try {
      await buyManually(port, [['IBM', 10], ['BAC', 20]]);
      expect(simPositions()).toEqual({ IBM: 10, BAC: 20 });

      // the journal: an earlier run of the strategy in replay mode that ended (cleanly) holding 10 IBM
      const journalPath = join(dir, 'journal.duckdb');
      const js = await Store.open(journalPath);
      try {
        const prev = await Journal.open(js, { runId: 'previous-run', mode: 'replay', strategy: 'signal-trader', strategyVersion: '1.0.0-dev', configHash: 'earlier' }, { wallClock: () => Date.now() - 86_400_000 });
        await prev.snapshot({ positions: { IBM: { quantity: 10, avgPrice: 180 } }, cash: 1e6 });
        await prev.close('stopped');
      } finally {
        js.close();
      }
      // buy signals (0.9 > tradeThreshold 0.5) for the manual BAC holding and for the adopted IBM
      // during the window, and one after it (never delivered)
      const signalsDb = join(dir, 'signals.duckdb');
      const ss = await Store.open(signalsDb);
      try {
        await insertSignals(ss, [
          { ts: at('13:39'), availableAt: at('13:39'), symbol: 'BAC', value: 0.9, source: 'adopt-test' },
          { ts: at('13:40'), availableAt: at('13:40'), symbol: 'IBM', value: 0.9, source: 'adopt-test' },
          { ts: at('20:00'), availableAt: at('20:00'), symbol: 'BAC', value: 0.9, source: 'adopt-test' },
        ]);
      } finally {
        ss.close();
      }
      const config = join(dir, 'runner.yaml');
      writeFileSync(
        config,
        `mode: replay
ib: { host: 127.0.0.1, port: ${port}, clientId: 3, account: ${ACCOUNT} }
strategy: { name: signal-trader, version: 1.0.0, interval: 1m, warmup: 2 }
universe: { mode: dynamic }
trading: { defaults: { unitSize: 10, maxPosition: 100, tradeThreshold: 0.5, spread: best, maxHoldMinutes: 1 } }
account: { maxLossPerTrade: 10000, maxCumulativeLoss: 100000 }
risk: { maxOrderQuantity: 100, maxOrderNotional: 100000, maxPositionNotionalPerSymbol: 100000, maxGrossLeverage: 2, maxOpenOrders: 20, drawdownHaltPct: 50 }
data: { lineBudget: 20, staleSeconds: 600 }
health: { port: 0 }
journal: { path: ${journalPath} }
signals: { provider: duckdb, db: ${signalsDb}, pollSeconds: 30 }
replay: { db: ':memory:', from: ${new Date(FROM).toISOString()}, to: ${new Date(TO).toISOString()}, speed: ${SPEED}, connect: true }
`,
      );
      const exit = await new Promise<{ code: number | null; stdout: string; stderr: string }>((res, rej) => {
        const child = spawn(process.execPath, [resolve('bin/monger.js'), 'run', '--config', config, '--dev'], {
          env: { ...process.env, IB_HOST: '', IB_PORT: '', IB_CLIENT_ID: '', MONGER_TEST_FAULT: '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        const safety = setTimeout(() => child.kill('SIGKILL'), 150_000);
        child.on('error', rej);
        child.on('exit', (code) => {
          clearTimeout(safety);
          res({ code, stdout, stderr });
        });
      });
      expect(exit.code, exit.stderr.slice(-3000)).toBe(0);
      const lines = exit.stdout.trim().split('\n');
      const summary = JSON.parse(lines[lines.length - 1]!) as RunSummary;
      expect(summary.journal.runId).not.toBe('previous-run');
      expect(summary.resumed).toBeUndefined();
      expect(summary.positionsAdopted).toEqual(['IBM']);

      // the runner traded IBM (the max hold closed the adopted position, the signal opened another
      // one) and never touched BAC, not even for its signal
      const ours = placed.filter(([ref]) => ref !== 'manual');
      expect(ours.filter(([, instrument]) => instrument === 'IBM').length).toBeGreaterThanOrEqual(2);
      expect(ours.filter(([, instrument]) => instrument === 'BAC')).toEqual([]);
      expect(simPositions()).toEqual({ BAC: 20 });
      expect(summary.positions['BAC'] ?? 0).toBe(0);

      const js2 = await Store.open(journalPath);
      try {
        const records = await readJournal(js2, summary.journal.runId, { kinds: ['alert', 'note', 'reconcile'] });
        const alerts = records.filter((r) => r.kind === 'alert' && r.instrument === 'BAC').map((r) => r.payload as { kind: string; message: string });
        expect(alerts.find((a) => a.kind === 'position-external')).toMatchObject({
          policy: 'journal',
          broker: 20,
          message: "new run: IB's position in BAC stays external (universe.adoptPositions: journal): not held by the previous run of signal-trader (previous-run); set universe.adoptPositions: all to adopt it",
        });
        expect(records.find((r) => r.kind === 'note' && (r.payload as { event?: string }).event === 'adoption-scope')?.payload).toMatchObject({ policy: 'journal', previousRun: 'previous-run', adoptable: ['IBM'] });
        expect(records.find((r) => r.kind === 'reconcile' && (r.payload as { event?: string }).event === 'positions-adopted')?.payload).toMatchObject({ adopted: ['IBM'], positions: { IBM: { quantity: 10 } } });

        // the BAC signal: refused as held outside the runner (a state note), alerted once
        const reason = 'held outside the runner: IB holds 20 BAC (not adopted, universe.adoptPositions: journal); its signals are skipped';
        const bacStates = records.filter((r) => r.kind === 'note' && (r.payload as { universe?: string }).universe === 'BAC').map((r) => r.payload);
        expect(bacStates.at(-1)).toEqual({ universe: 'BAC', from: 'resolving', to: 'invalid', origin: 'signal', reason });
        expect(bacStates.map((p) => (p as { to: string }).to)).toEqual(['resolving', 'invalid']);
        const externalAlerts = records.filter((r) => r.kind === 'alert' && (r.payload as { kind?: string }).kind === 'signal-for-external-position').map((r) => r.payload);
        expect(externalAlerts).toEqual([{ level: 'warning', kind: 'signal-for-external-position', symbol: 'BAC', broker: 20, message: reason }]);
        // BAC is the run's one invalid ticker; IBM traded its signal
        expect(summary.universe).toMatchObject({ invalid: 1 });
        expect(summary.universe!.signals.delivered).toBeGreaterThanOrEqual(1);
      } finally {
        js2.close();
      }
    } finally {
      await sim.stop();
      store.close();
    }
  }, 240_000);
});
