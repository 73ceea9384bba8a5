/**
 * Test fixture (supervisor-operator.test.ts, control-api.test.ts): a kernel on manual time with the
 * TradingSupervisor, its OperatorControl and a strategy that buys `quantity` whenever it is flat with
 * nothing working and sells everything `holdBars` bars after its entry filled. Bars are pushed minute
 * by minute at one price per minute (the simulated venue fills market orders at the bar's close).
 * Every supervisor action is kept and turned into the journal records the runner writes for it
 * (live-runner.ts: halts and resumes as their own kinds, everything else as a note), so a test can
 * recover a "restart" from them.
 */
import { z } from 'zod';
import { parseCommissionModel } from '../../lib/backtest/commission.js';
import { SimulatedVenue } from '../../lib/backtest/sim-venue.js';
import { stockSpec } from '../../lib/data/instrument.js';
import { Kernel } from '../../lib/engine/kernel.js';
import { PushDataClient } from '../../lib/engine/live-data-client.js';
import { LiveFeed } from '../../lib/engine/live-feed.js';
import { ManualTime } from '../../lib/engine/manual-time.js';
import { defineStrategy } from '../../lib/engine/strategy.js';
import type { JournalRecord } from '../../lib/journal/journal.js';
import type { OrderSide } from '../../lib/model/orders.js';
import { OperatorControl } from './supervisor-operator.js';
import { TradingSupervisor, type SupervisorAction, type SupervisorOptions } from './supervisor.js';

const MIN = 60_000;
/** 2024-12-02 (a Monday, standard time) at hh:mm New York: inside the session from 09:30 */
export const ny = (hh: number, mm = 0) => Date.UTC(2024, 11, 2, hh + 5, mm);

export interface StrategyEvent {
  ts: number;
  type: 'filled' | 'rejected';
  instrument: string;
  side: OrderSide;
  quantity: number;
  reason?: string;
}

export interface SupervisedKernelOptions {
  supervisor?: Omit<SupervisorOptions, 'onAction'>;
  symbols?: string[];
  /** Engine time at the start; default 10:00 New York */
  start?: number;
  /** Default 100_000 */
  cash?: number;
  /** Shares per entry; default 100 */
  quantity?: number;
  /** Bars after an entry filled before it is sold; default never */
  holdBars?: number;
}

export interface SupervisedKernel {
  time: ManualTime;
  kernel: Kernel;
  supervisor: TradingSupervisor;
  operator: OperatorControl;
  actions: SupervisorAction[];
  /** The strategy's fills and rejections */
  events: StrategyEvent[];
  /** Whether the RiskEngine halted the book before the run started (a restore) */
  haltedBeforeRun: boolean;
  /** One bar per symbol for every minute in [from, to), time moved to its close first */
  bars(from: number, to: number, price: (instrument: string, ts: number) => number): Promise<void>;
  stop(): Promise<void>;
}

export async function supervisedKernel(o: SupervisedKernelOptions = {}): Promise<SupervisedKernel> {
  const symbols = o.symbols ?? ['SPY'];
  const time = new ManualTime(o.start ?? ny(10));
  const feed = new LiveFeed({ clock: time, scheduler: time, heartbeatMs: MIN });
  const data = new PushDataClient({ feed, resolve: async (k) => stockSpec(k) });
  const kernel = new Kernel({ environment: 'paper', clock: time, dataClient: data, executionClient: new SimulatedVenue({ fill: 'close', commission: parseCommissionModel('none') }), startingCash: o.cash ?? 100_000, liveFeed: feed });
  const actions: SupervisorAction[] = [];
  const events: StrategyEvent[] = [];
  const supervisor = new TradingSupervisor(kernel, { ...o.supervisor, onAction: (a) => void actions.push(a) });
  const quantity = o.quantity ?? 100;
  const holdBars = o.holdBars ?? Infinity;
  const trader = defineStrategy({
    name: 'trader',
    version: '1.2.3',
    description: 'buys when flat, sells holdBars bars after the entry filled',
    params: z.object({}),
    create: (ctx) => {
      const held = new Map<string, number>();
      return {
        onBar: (bar) => {
          const i = bar.instrument;
          if (ctx.openOrders(i).length > 0) return;
          const position = ctx.portfolio.position(i);
          if (position === 0) ctx.submit(ctx.orders.market(i, 'BUY', quantity, { tag: 'entry' }));
          else {
            const n = (held.get(i) ?? 0) + 1;
            held.set(i, n);
            if (n >= holdBars) ctx.submit(ctx.orders.market(i, 'SELL', position, { tag: 'exit' }));
          }
        },
        onOrderEvent: (e) => {
          if (e.type === 'filled' && e.order.tag === 'entry') held.set(e.order.instrument, 0);
          if (e.type === 'filled' || e.type === 'rejected') events.push({ ts: e.ts, type: e.type, instrument: e.order.instrument, side: e.order.side, quantity: e.order.quantity, ...(e.reason !== undefined ? { reason: e.reason } : {}) });
        },
      };
    },
  });
  kernel.addStrategy(trader, { subscriptions: symbols.map((instrument) => ({ instrument, interval: '1m' as const })) });
  const haltedBeforeRun = kernel.risk.halted;
  const operator = new OperatorControl({ supervisor, kernel, run: { runId: 'run-1', mode: 'paper', strategy: trader.name, version: trader.version }, connection: () => 'connected' });
  const run = kernel.run();
  await feed.whenIdle();
  return {
    time,
    kernel,
    supervisor,
    operator,
    actions,
    events,
    haltedBeforeRun,
    bars: (from, to, price) => pushMinuteBars({ time, data, feed }, symbols, from, to, price),
    async stop() {
      kernel.requestStop();
      await run;
    },
  };
}

/** One flat bar (o = h = l = c = price, volume 100) per symbol for every minute in [from, to), time moved to its close first */
export async function pushMinuteBars(k: { time: ManualTime; data: PushDataClient; feed: LiveFeed }, symbols: readonly string[], from: number, to: number, price: (instrument: string, ts: number) => number): Promise<void> {
  for (let t = from; t < to; t += MIN) {
    await k.time.advanceTo(t + MIN);
    for (const s of symbols) {
      const p = price(s, t);
      k.data.handle(s, '1m')!.push(t, p, p, p, p, 100);
    }
    await k.feed.whenIdle();
  }
}

/** The journal records the runner writes for these actions (live-runner.ts `onAction`), seq from 1 */
export function journalRecords(actions: readonly SupervisorAction[]): JournalRecord[] {
  return actions.map((a, i) => ({
    runId: 'run-1',
    seq: i + 1,
    ts: a.ts,
    wallTs: 0,
    kind: a.type === 'halt' || a.type === 'halt-instrument' ? 'halt' : a.type === 'resume' || a.type === 'resume-instrument' ? 'resume' : 'note',
    decisionId: null,
    clientOrderId: null,
    brokerOrderId: null,
    instrument: null,
    payload: JSON.parse(JSON.stringify(a)) as unknown,
  }));
}
