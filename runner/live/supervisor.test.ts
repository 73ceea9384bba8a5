import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseCommissionModel } from '../../lib/backtest/commission.js';
import { SimulatedVenue } from '../../lib/backtest/sim-venue.js';
import { ConfigError } from '../../lib/core/errors.js';
import { futureSpec } from '../../lib/data/futures.js';
import { stockSpec, type InstrumentSpec } from '../../lib/data/instrument.js';
import { Kernel } from '../../lib/engine/kernel.js';
import { PushDataClient } from '../../lib/engine/live-data-client.js';
import { LiveFeed } from '../../lib/engine/live-feed.js';
import { ManualTime } from '../../lib/engine/manual-time.js';
import type { RiskLimits } from '../../lib/engine/risk-engine.js';
import { defineStrategy, type StrategyContext } from '../../lib/engine/strategy.js';
import type { Bar } from '../../lib/model/market.js';
import type { Fill } from '../../lib/model/order-events.js';
import type { OrderRequest } from '../../lib/model/orders.js';
import { parseRunnerConfig } from './config.js';
import { riskLimitsFromConfig, supervisorOptionsFromConfig, TradingSupervisor, type SupervisorAction, type SupervisorOptions } from './supervisor.js';
import { pushMinuteBars } from './supervisor-fixtures.js';

const MIN = 60_000;
/** New York wall time to UTC; every date used here is on standard time (UTC-5) */
function ny(date: string, hh: number, mm = 0): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return Date.UTC(y, m - 1, d, hh + 5, mm);
}
function hm(ts: number): string {
  const d = new Date(ts - 5 * 3_600_000);
  return `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
}

interface Rec {
  ts: number;
  strategy: string;
  type: string;
  instrument: string;
  side: string;
  quantity: number;
  reason?: string;
  price?: number;
}

type Plan = (bar: Readonly<Bar>, ctx: StrategyContext) => OrderRequest[];

/** Buys `qty` at the first bar it sees flat with nothing working: "buys at the open", and again whenever flat */
const buyWhenFlat =
  (qty: (instrument: string) => number = () => 100): Plan =>
  (bar, ctx) =>
    ctx.portfolio.position(bar.instrument) === 0 && ctx.openOrders(bar.instrument).length === 0 ? [ctx.orders.market(bar.instrument, 'BUY', qty(bar.instrument))] : [];

function trader(records: Rec[], plan: Plan) {
  return defineStrategy({
    name: 'trader',
    version: '0.0.0',
    description: 'test strategy',
    params: z.object({}),
    create: (ctx) => ({
      onBar: (bar) => {
        for (const r of plan(bar, ctx)) ctx.submit(r);
      },
      onOrderEvent: (e) => {
        if (e.type === 'submitted' || e.type === 'accepted') return;
        records.push({ ts: e.ts, strategy: e.order.strategyId, type: e.type, instrument: e.order.instrument, side: e.order.side, quantity: e.fill?.quantity ?? e.order.quantity, reason: e.reason, price: e.fill?.price });
      },
    }),
  });
}

interface Setup {
  time: ManualTime;
  feed: LiveFeed;
  data: PushDataClient;
  kernel: Kernel;
  supervisor: TradingSupervisor;
  actions: SupervisorAction[];
  records: Rec[];
  /** Every fill of the run (all strategies) */
  fills: Fill[];
  run: Promise<void>;
  /** Pushes one 1-minute bar per symbol for every minute in [from, to), time moving to each close first */
  bars(from: number, to: number, price: (instrument: string, ts: number) => number, symbols?: string[]): Promise<void>;
  stop(): Promise<void>;
}

async function setup(start: number, options: { specs?: InstrumentSpec[]; supervisor?: SupervisorOptions; risk?: RiskLimits; plan?: Plan; cash?: number } = {}): Promise<Setup> {
  const specs = options.specs ?? [stockSpec('SPY')];
  const time = new ManualTime(start);
  const feed = new LiveFeed({ clock: time, scheduler: time, heartbeatMs: 60_000 });
  const data = new PushDataClient({ feed, resolve: async (key) => specs.find((s) => s.key === key)! });
  const kernel = new Kernel({
    environment: 'paper',
    clock: time,
    dataClient: data,
    executionClient: new SimulatedVenue({ fill: 'close', commission: parseCommissionModel('none') }),
    startingCash: options.cash ?? 100_000,
    liveFeed: feed,
    risk: options.risk,
  });
  const actions: SupervisorAction[] = [];
  const records: Rec[] = [];
  const allFills: Fill[] = [];
  kernel.bus.subscribe('order.fill', (f) => void allFills.push(f));
  const supervisor = new TradingSupervisor(kernel, { ...options.supervisor, onAction: (a) => void actions.push(a) });
  kernel.addStrategy(trader(records, options.plan ?? buyWhenFlat()), { subscriptions: specs.map((s) => ({ instrument: s.key, interval: '1m' as const })) });
  const run = kernel.run();
  await feed.whenIdle();
  const all = specs.map((s) => s.key);
  return {
    time,
    feed,
    data,
    kernel,
    supervisor,
    actions,
    records,
    fills: allFills,
    run,
    bars: (from, to, price, symbols = all) => pushMinuteBars({ time, data, feed }, symbols, from, to, price),
    async stop() {
      kernel.requestStop();
      await run;
    },
  };
}

const flat = (p: number) => () => p;
const fills = (records: Rec[], instrument?: string) => records.filter((r) => r.type === 'filled' && (instrument === undefined || r.instrument === instrument));
const rejections = (records: Rec[], instrument?: string) => records.filter((r) => r.type === 'rejected' && (instrument === undefined || r.instrument === instrument));

describe('TradingSupervisor: session guard', () => {
  it('normal day: entries stop 15 min before the 16:00 close, the position is flat at 15:55, re-armed for the next session', async () => {
    const day = '2024-12-02';
    const s = await setup(ny(day, 9, 30));
    expect(s.supervisor.phase('SPY')).toBe('open');
    // the open: the strategy buys on the first bar
    await s.bars(ny(day, 9, 30), ny(day, 9, 35), flat(100));
    expect(fills(s.records).map((f) => [hm(f.ts), f.side, f.quantity])).toEqual([['09:31', 'BUY', 100]]);
    // no data for hours: the guard runs on its timers
    await s.time.advanceTo(ny(day, 15, 30));
    await s.bars(ny(day, 15, 30), ny(day, 15, 54), flat(101));
    expect(s.kernel.portfolio.position('SPY')).toBe(100);
    expect(s.supervisor.phase('SPY')).toBe('no-entries');
    // 15:55 with no bar at all: flat by then
    await s.time.advanceTo(ny(day, 15, 55));
    await s.feed.whenIdle();
    expect(s.kernel.portfolio.position('SPY')).toBe(0);
    const closes = s.actions.filter((a) => a.type === 'close-filled');
    expect(closes.map((a) => [hm(a.ts), a.instrument, a.side, a.quantity, a.source])).toEqual([['15:55', 'SPY', 'SELL', 100, 'session']]);
    expect(s.supervisor.phase('SPY')).toBe('flatten');
    // the strategy tries to buy back on every later bar: refused
    await s.bars(ny(day, 15, 55), ny(day, 16, 0), flat(101));
    expect(s.kernel.portfolio.position('SPY')).toBe(0);
    const refused = rejections(s.records, 'SPY');
    expect(refused.map((r) => hm(r.ts))).toEqual(['15:56', '15:57', '15:58', '15:59', '16:00']);
    for (const r of refused.slice(0, 4)) expect(r.reason).toBe('risk: SPY halted: session: flattening 5 min before the close at 16:00 America/New_York (2024-12-02)');
    // the bar closing at 16:00 comes after the close: the session is over
    // outside the session: still refused
    await s.bars(ny(day, 16, 0), ny(day, 16, 3), flat(101));
    expect(s.supervisor.phase('SPY')).toBe('closed');
    expect(rejections(s.records, 'SPY').at(-1)!.reason).toMatch(/outside trading sessions \(next open 2024-12-03T14:30:00.000Z\)/);
    // the next session: open again, the strategy buys at its open
    await s.time.advanceTo(ny('2024-12-03', 9, 30));
    await s.bars(ny('2024-12-03', 9, 30), ny('2024-12-03', 9, 32), flat(102));
    expect(s.supervisor.phase('SPY')).toBe('open');
    expect(s.fills.map((f) => [new Date(f.ts).toISOString(), f.strategyId, f.side])).toEqual([
      ['2024-12-02T14:31:00.000Z', 'trader', 'BUY'],
      ['2024-12-02T20:55:00.000Z', 'supervisor', 'SELL'],
      ['2024-12-03T14:31:00.000Z', 'trader', 'BUY'],
    ]);
    const phases = s.actions.filter((a) => a.type === 'session').map((a) => [new Date(a.ts).toISOString(), a.context!.phase]);
    expect(phases).toEqual([
      ['2024-12-02T14:30:00.000Z', 'open'],
      ['2024-12-02T20:45:00.000Z', 'no-entries'],
      ['2024-12-02T20:55:00.000Z', 'flatten'],
      ['2024-12-02T21:00:00.000Z', 'closed'],
      ['2024-12-03T14:30:00.000Z', 'open'],
    ]);
    await s.stop();
  });

  for (const day of ['2013-11-29', '2024-11-29']) {
    it(`early close ${day} (13:00): flat by 12:55; the holiday before trades nothing; the future closes on its own calendar (13:15 CT close -> 13:10)`, async () => {
      const es = futureSpec('ES', `${day.slice(0, 4)}12`);
      const holiday = `${day.slice(0, 8)}28`;
      const s = await setup(ny(holiday, 11, 0), { specs: [stockSpec('SPY'), es], plan: buyWhenFlat((i) => (i === 'SPY' ? 100 : 1)) });
      // Thanksgiving: the stock exchange is closed; the CME is open until its early halt
      expect(s.supervisor.phase('SPY')).toBe('closed');
      await s.bars(ny(holiday, 11, 0), ny(holiday, 11, 2), (i) => (i === 'SPY' ? 100 : 4000), ['SPY']);
      expect(rejections(s.records, 'SPY').map((r) => r.reason)).toEqual([
        expect.stringMatching(new RegExp(`SPY halted: session: outside trading sessions \\(next open ${day}T14:30:00.000Z\\)`)),
        expect.stringMatching(/outside trading sessions/),
      ]);
      await s.time.advanceTo(ny(day, 9, 30));
      await s.bars(ny(day, 9, 30), ny(day, 12, 50), (i) => (i === 'SPY' ? 100 : 4000));
      expect(s.supervisor.phase('SPY')).toBe('no-entries');
      expect(s.kernel.portfolio.position('SPY')).toBe(100);
      expect(s.kernel.portfolio.position(es.key)).toBe(1);
      await s.time.advanceTo(ny(day, 12, 55));
      await s.feed.whenIdle();
      expect(s.kernel.portfolio.position('SPY')).toBe(0);
      expect(s.kernel.portfolio.position(es.key)).toBe(1);
      await s.bars(ny(day, 12, 55), ny(day, 13, 10), (i) => (i === 'SPY' ? 100 : 4000), [es.key]);
      expect(s.kernel.portfolio.position(es.key)).toBe(0);
      const closes = s.actions.filter((a) => a.type === 'close-filled').map((a) => [a.instrument, hm(a.ts)]);
      expect(closes).toEqual([
        ['SPY', '12:55'],
        [es.key, '13:10'],
      ]);
      const spyFlatten = s.actions.find((a) => a.type === 'session' && a.instrument === 'SPY' && a.context!.phase === 'flatten')!;
      expect(spyFlatten.reason).toBe(`flattening 5 min before the early close at 13:00 America/New_York (${day})`);
      // the stock session has closed: the next open is Monday (the weekend skipped)
      await s.time.advanceTo(ny(day, 13, 1));
      await s.feed.whenIdle();
      expect(s.supervisor.phase('SPY')).toBe('closed');
      const closed = s.actions.filter((a) => a.type === 'session' && a.instrument === 'SPY' && a.context!.phase === 'closed').at(-1)!;
      expect(closed.context!.next).toBe(day === '2013-11-29' ? '2013-12-02T14:30:00.000Z' : '2024-12-02T14:30:00.000Z');
      await s.stop();
    });
  }

  it('no new entries within the configured minutes: an exit inside the window goes, the re-entry does not', async () => {
    const day = '2024-12-02';
    // exits at 15:40 and 15:50 (bars closing then); buys whenever flat
    const plan: Plan = (bar, ctx) => {
      const close = bar.closeTime;
      if ((close === ny(day, 15, 40) || close === ny(day, 15, 50)) && ctx.portfolio.position('SPY') > 0) return [ctx.orders.market('SPY', 'SELL', ctx.portfolio.position('SPY'))];
      return buyWhenFlat()(bar, ctx);
    };
    const s = await setup(ny(day, 15, 30), { plan, supervisor: { session: { noNewEntriesMinutesBeforeClose: 12, flattenMinutesBeforeClose: 5 } } });
    await s.bars(ny(day, 15, 30), ny(day, 15, 54), flat(50));
    expect(fills(s.records).map((f) => [hm(f.ts), f.side])).toEqual([
      ['15:31', 'BUY'],
      ['15:40', 'SELL'],
      ['15:41', 'BUY'], // 15:41 is before 15:48: allowed
      ['15:50', 'SELL'], // inside the window: exits go
    ]);
    const refused = rejections(s.records);
    expect(refused.map((r) => hm(r.ts))).toEqual(['15:51', '15:52', '15:53', '15:54']);
    expect(refused[0]!.reason).toBe('risk: SPY halted: session: no new entries within 12 min of the close at 16:00 America/New_York (2024-12-02)');
    expect(s.actions.filter((a) => a.type === 'close')).toEqual([]); // flat already: nothing to close at 15:55
    await s.stop();
  });

  it('flatten cancels working orders of the instrument first, then closes', async () => {
    const day = '2024-12-02';
    const plan: Plan = (bar, ctx) => {
      if (bar.closeTime !== ny(day, 15, 31)) return [];
      return [ctx.orders.market('SPY', 'BUY', 100), ctx.orders.limit('SPY', 'SELL', 100, 150, { tif: 'GTC' }), ctx.orders.limit('SPY', 'BUY', 10, 50)];
    };
    const s = await setup(ny(day, 15, 30), { plan });
    await s.bars(ny(day, 15, 30), ny(day, 15, 56), flat(100));
    expect(s.kernel.portfolio.position('SPY')).toBe(0);
    expect(s.kernel.orders.working()).toEqual([]);
    const at1555 = s.actions.filter((a) => a.ts === ny(day, 15, 55)).map((a) => [a.type, a.orderId ?? null]);
    expect(at1555).toEqual([
      ['session', null],
      ['cancel', 2],
      ['cancel', 3],
      ['close', 4],
      ['close-filled', 4],
    ]);
    expect(s.records.filter((r) => r.type === 'cancelled').map((r) => [hm(r.ts), r.side])).toEqual([
      ['15:55', 'SELL'],
      ['15:55', 'BUY'],
    ]);
    await s.stop();
  });
});

describe('TradingSupervisor: halts by source', () => {
  it('a per-instrument halt leaves the other instruments trading; each source resumes only its own halt', async () => {
    const day = '2024-12-02';
    // round trips every bar: buy when flat, sell when long
    const plan: Plan = (bar, ctx) => {
      const q = ctx.portfolio.position(bar.instrument);
      return [q === 0 ? ctx.orders.market(bar.instrument, 'BUY', 10) : ctx.orders.market(bar.instrument, 'SELL', q)];
    };
    const s = await setup(ny(day, 10, 0), { specs: [stockSpec('SPY'), stockSpec('QQQ')], plan });
    await s.bars(ny(day, 10, 0), ny(day, 10, 2), flat(100));
    expect(fills(s.records).length).toBe(4);
    s.supervisor.haltInstrument('SPY', 'health:stale', 'no data for 45 s');
    s.supervisor.haltInstrument('SPY', 'reconcile');
    await s.bars(ny(day, 10, 2), ny(day, 10, 6), flat(100));
    // SPY: flat when halted, every buy from 10:03 refused; QQQ kept trading
    expect(fills(s.records, 'SPY').map((f) => [hm(f.ts), f.side])).toEqual([
      ['10:01', 'BUY'],
      ['10:02', 'SELL'],
    ]);
    expect(rejections(s.records, 'SPY').map((r) => [hm(r.ts), r.reason])).toEqual([
      ['10:03', 'risk: SPY halted: health:stale: no data for 45 s; reconcile'],
      ['10:04', 'risk: SPY halted: health:stale: no data for 45 s; reconcile'],
      ['10:05', 'risk: SPY halted: health:stale: no data for 45 s; reconcile'],
      ['10:06', 'risk: SPY halted: health:stale: no data for 45 s; reconcile'],
    ]);
    expect(fills(s.records, 'QQQ').length).toBe(6);
    expect(rejections(s.records, 'QQQ')).toEqual([]);
    // the stale source resumes: reconcile still holds SPY
    s.supervisor.resumeInstrument('SPY', 'health:stale');
    await s.bars(ny(day, 10, 6), ny(day, 10, 7), flat(100));
    expect(rejections(s.records, 'SPY').at(-1)!.reason).toBe('risk: SPY halted: reconcile');
    s.supervisor.resumeInstrument('SPY', 'reconcile');
    await s.bars(ny(day, 10, 7), ny(day, 10, 8), flat(100));
    expect(fills(s.records, 'SPY').at(-1)).toMatchObject({ ts: ny(day, 10, 8), side: 'BUY' });

    // whole book: two sources, one resumes, still halted
    s.supervisor.halt('health:event-loop-lag', 'p99 450 ms');
    s.supervisor.halt('reconnect');
    s.supervisor.halt('reconnect'); // idempotent: reported once
    s.supervisor.resume('health:event-loop-lag');
    expect(s.kernel.risk.halted).toBe(true);
    expect(s.kernel.risk.reason).toBe('reconnect');
    s.supervisor.resume('reconnect');
    expect(s.kernel.risk.halted).toBe(false);
    expect(s.actions.filter((a) => a.type === 'halt' || a.type === 'resume').map((a) => [a.type, a.source])).toEqual([
      ['halt', 'health:event-loop-lag'],
      ['halt', 'reconnect'],
      ['resume', 'health:event-loop-lag'],
      ['resume', 'reconnect'],
    ]);
    await s.stop();
  });

  it('a halt of an instrument not yet subscribed applies once it is', async () => {
    const time = new ManualTime(ny('2024-12-02', 10));
    const feed = new LiveFeed({ clock: time, scheduler: time });
    const data = new PushDataClient({ feed, resolve: async (k) => stockSpec(k) });
    const kernel = new Kernel({ environment: 'paper', clock: time, dataClient: data, executionClient: new SimulatedVenue({ fill: 'close', commission: parseCommissionModel('none') }), startingCash: 1e5, liveFeed: feed });
    const sup = new TradingSupervisor(kernel);
    sup.haltInstrument('IWM', 'health:stale');
    const rt = kernel.addStrategy(trader([], () => []), { subscriptions: [{ instrument: 'SPY', interval: '1m' }] });
    const run = kernel.run();
    await feed.whenIdle();
    rt.context.subscribe({ instrument: 'IWM', interval: '1m' });
    await feed.whenIdle();
    expect(kernel.risk.instrumentHalt(kernel.instruments.require('IWM'))).toBe('health:stale');
    expect(sup.phase('IWM')).toBe('open');
    expect(sup.status().instrumentHalts).toEqual({ IWM: { 'health:stale': '' } });
    kernel.requestStop();
    await run;
  });
});

describe('TradingSupervisor: loss limits', () => {
  const day = '2024-12-02';

  it('cumulative loss: halts every entry and flattens every position (working orders cancelled); sticky until resumed', async () => {
    let price = 100;
    const plan: Plan = (bar, ctx) => {
      if (bar.closeTime === ny(day, 10, 1)) return [ctx.orders.market(bar.instrument, 'BUY', 100), ctx.orders.limit(bar.instrument, 'BUY', 10, 20, { tif: 'GTC' })];
      return bar.closeTime > ny(day, 10, 1) ? buyWhenFlat()(bar, ctx) : [];
    };
    const s = await setup(ny(day, 10, 0), { specs: [stockSpec('SPY'), stockSpec('QQQ')], plan, supervisor: { account: { maxLossPerTrade: 5_000, maxCumulativeLoss: 1_000 } } });
    await s.bars(ny(day, 10, 0), ny(day, 10, 1), () => price);
    expect(s.kernel.portfolio.position('SPY')).toBe(100);
    expect(s.kernel.portfolio.position('QQQ')).toBe(100);
    price = 96; // -400 each: -800
    await s.bars(ny(day, 10, 1), ny(day, 10, 2), () => price);
    expect(s.kernel.risk.halted).toBe(false);
    price = 94.9; // SPY's bar first: -510 -400 = -910; then QQQ's: -1020
    await s.bars(ny(day, 10, 2), ny(day, 10, 3), () => price);
    expect(s.kernel.risk.halted).toBe(true);
    expect(s.kernel.risk.reason).toBe('loss:cumulative: cumulative loss 1020.00 reached maxCumulativeLoss 1000');
    expect(s.kernel.portfolio.position('SPY')).toBe(0);
    expect(s.kernel.portfolio.position('QQQ')).toBe(0);
    expect(s.kernel.orders.working()).toEqual([]);
    const breach = s.actions.find((a) => a.type === 'breach')!;
    expect(breach).toMatchObject({ source: 'loss:cumulative', ts: ny(day, 10, 3) });
    expect(s.actions.filter((a) => a.ts === ny(day, 10, 3)).map((a) => [a.type, a.instrument ?? null])).toEqual([
      ['breach', null],
      ['halt', null],
      ['cancel', 'SPY'],
      ['close', 'SPY'],
      ['cancel', 'QQQ'],
      ['close', 'QQQ'],
      ['close-filled', 'SPY'],
      ['close-filled', 'QQQ'],
    ]);
    // entries refused from then on, also after the price recovers
    price = 100;
    await s.bars(ny(day, 10, 3), ny(day, 10, 5), () => price);
    expect(s.kernel.portfolio.isFlat()).toBe(true);
    expect(rejections(s.records).at(-1)!.reason).toMatch(/^risk: trading halted: loss:cumulative: cumulative loss 1020\.00/);
    // the operator resumes: the loss is counted again from here
    s.supervisor.resume('loss:cumulative');
    await s.bars(ny(day, 10, 5), ny(day, 10, 6), () => price);
    expect(s.kernel.portfolio.position('SPY')).toBe(100);
    expect(s.supervisor.status().cumulativePnl).toBeCloseTo(0, 6);
    await s.stop();
  });

  it('max loss per trade: the losing position is closed and logged; the others and new entries go on', async () => {
    const prices: Record<string, number> = { SPY: 100, QQQ: 100 };
    const s = await setup(ny(day, 10, 0), { specs: [stockSpec('SPY'), stockSpec('QQQ')], supervisor: { account: { maxLossPerTrade: 500, maxCumulativeLoss: 10_000 } } });
    await s.bars(ny(day, 10, 0), ny(day, 10, 1), (i) => prices[i]!);
    prices.SPY = 95.1; // -490
    await s.bars(ny(day, 10, 1), ny(day, 10, 2), (i) => prices[i]!);
    expect(s.kernel.portfolio.position('SPY')).toBe(100);
    prices.SPY = 95; // -500: closed
    prices.QQQ = 99;
    await s.bars(ny(day, 10, 2), ny(day, 10, 3), (i) => prices[i]!);
    const breach = s.actions.filter((a) => a.type === 'breach');
    expect(breach.map((a) => [a.source, a.instrument, a.reason])).toEqual([['loss:per-trade', 'SPY', 'unrealized loss 500.00 of SPY reached maxLossPerTrade 500']]);
    expect(breach[0]!.context).toMatchObject({ position: 100, averagePrice: 100, lastPrice: 95, unrealized: -500, limit: 500 });
    expect(fills(s.records, 'SPY').map((f) => [hm(f.ts), f.strategy, f.side])).toEqual([['10:01', 'trader', 'BUY']]);
    expect(s.actions.filter((a) => a.type === 'close-filled').map((a) => [hm(a.ts), a.instrument, a.quantity])).toEqual([['10:03', 'SPY', 100]]);
    expect(s.kernel.portfolio.position('QQQ')).toBe(100);
    expect(s.kernel.risk.halted).toBe(false);
    // not a halt: the strategy may enter again
    await s.bars(ny(day, 10, 3), ny(day, 10, 4), (i) => prices[i]!);
    expect(s.kernel.portfolio.position('SPY')).toBe(100);
    await s.stop();
  });

  it('drawdown breaker: halts new entries, lets reducing orders through, does not flatten', async () => {
    let price = 100;
    const plan: Plan = (bar, ctx) => {
      const c = bar.closeTime;
      if (c === ny(day, 10, 1)) return [ctx.orders.market('SPY', 'BUY', 500)];
      if (c === ny(day, 10, 4)) return [ctx.orders.market('SPY', 'BUY', 10)]; // add: refused
      if (c === ny(day, 10, 5)) return [ctx.orders.market('SPY', 'SELL', 200)]; // reduce: goes
      if (c === ny(day, 10, 6)) return [ctx.orders.market('SPY', 'SELL', 400)]; // would open a short: refused
      return [];
    };
    const s = await setup(ny(day, 10, 0), { plan, supervisor: { drawdownHaltPct: 1, account: { maxCumulativeLoss: 50_000, maxLossPerTrade: 50_000 } } });
    await s.bars(ny(day, 10, 0), ny(day, 10, 1), () => price);
    price = 104; // peak equity 102_000
    await s.bars(ny(day, 10, 1), ny(day, 10, 2), () => price);
    price = 102; // 101_000: -0.98 %
    await s.bars(ny(day, 10, 2), ny(day, 10, 3), () => price);
    expect(s.kernel.risk.halted).toBe(false);
    price = 101.9; // 100_950: -1.03 %
    await s.bars(ny(day, 10, 3), ny(day, 10, 7), () => price);
    expect(s.kernel.risk.halted).toBe(true);
    expect(s.kernel.risk.reason).toBe('drawdown: drawdown 1.03% from the equity peak 102000.00 reached drawdownHaltPct 1');
    expect(s.records.filter((r) => r.type === 'filled' || r.type === 'rejected').map((r) => [hm(r.ts), r.type, r.side, r.quantity])).toEqual([
      ['10:01', 'filled', 'BUY', 500],
      ['10:04', 'rejected', 'BUY', 10],
      ['10:05', 'filled', 'SELL', 200],
      ['10:06', 'rejected', 'SELL', 400],
    ]);
    expect(rejections(s.records)[0]!.reason).toMatch(/^risk: trading halted: drawdown: drawdown 1\.03%/);
    // no flatten
    expect(s.kernel.portfolio.position('SPY')).toBe(300);
    expect(s.actions.filter((a) => a.type === 'close')).toEqual([]);
    expect(s.supervisor.status()).toMatchObject({ halted: true, peakEquity: 102_000, halts: { drawdown: expect.stringMatching(/^drawdown 1\.03%/) } });
    await s.stop();
  });

  it('clip: armed above clipActivation, closes every position when the gain falls to clipStopLoss x its peak', async () => {
    let price = 100;
    const s = await setup(ny(day, 10, 0), { supervisor: { account: { clipActivation: 1_000, clipStopLoss: 0.5 } } });
    await s.bars(ny(day, 10, 0), ny(day, 10, 1), () => price);
    for (const p of [105, 111, 120, 115, 111]) {
      price = p;
      await s.bars(s.time.now(), s.time.now() + MIN, () => price);
    }
    expect(s.actions.filter((a) => a.type === 'clip-armed').map((a) => a.context!.gain)).toEqual([1_100]);
    expect(s.kernel.portfolio.position('SPY')).toBe(100);
    price = 110; // gain 1000 = 0.5 x 2000
    await s.bars(s.time.now(), s.time.now() + MIN, () => price);
    const breach = s.actions.filter((a) => a.type === 'breach');
    expect(breach.map((a) => a.source)).toEqual(['clip']);
    expect(breach[0]!.context).toMatchObject({ gain: 1_000, peakGain: 2_000, stop: 1_000 });
    expect(s.actions.filter((a) => a.type === 'close-filled').map((a) => [a.instrument, a.quantity, a.context!.price])).toEqual([['SPY', 100, 110]]);
    expect(s.kernel.risk.halted).toBe(false);
    expect(s.kernel.portfolio.realizedPnl()).toBe(1_000);
    await s.stop();
  });
});

describe('TradingSupervisor: pre-trade limits through the kernel', () => {
  it('maxOpenOrders counts the working orders of every strategy', async () => {
    const day = '2024-12-02';
    const plan: Plan = (bar, ctx) => (bar.closeTime === ny(day, 10, 1) ? [10, 11, 12].map((p) => ctx.orders.limit('SPY', 'BUY', 1, p, { tif: 'GTC' })) : []);
    const s = await setup(ny(day, 10, 0), { plan, risk: { maxOpenOrders: 2 } });
    await s.bars(ny(day, 10, 0), ny(day, 10, 1), flat(100));
    expect(s.kernel.orders.working().length).toBe(2);
    expect(rejections(s.records).map((r) => r.reason)).toEqual(['risk: 2 orders are working, maxOpenOrders is 2']);
    await s.stop();
  });

  it('builds its options and the full risk limits from a runner config', () => {
    const config = parseRunnerConfig(
      `
mode: paper
ib: { port: 7497, clientId: 7 }
strategy: { name: sma-cross, interval: 1m }
universe: { symbols: [SPY, QQQ] }
trading:
  defaults: { unitSize: 10, maxPosition: 100 }
  symbols: { QQQ: { maxPosition: 50 } }
account: { maxLossPerTrade: 500, maxCumulativeLoss: 2000, clipActivation: 1000, clipStopLoss: 0.5 }
risk: { maxOrderQuantity: 100, maxOrderNotional: 50000, maxPositionNotionalPerSymbol: 25000, maxGrossLeverage: 2, maxNetLeverage: 1.5, maxOpenOrders: 10, drawdownHaltPct: 5 }
session: { noNewEntriesMinutesBeforeClose: 20, flattenMinutesBeforeClose: 10 }
`,
      'runner.yaml',
    );
    expect(riskLimitsFromConfig(config)).toEqual({
      maxOrderQuantity: 100,
      maxOrderNotional: 50_000,
      maxGrossLeverage: 2,
      maxPositionQuantity: 100,
      allowShort: false,
      maxPositionNotional: 25_000,
      maxOpenOrders: 10,
      maxNetLeverage: 1.5,
    });
    expect(supervisorOptionsFromConfig(config)).toEqual({
      session: { noNewEntriesMinutesBeforeClose: 20, flattenMinutesBeforeClose: 10, tradeOutsideSessions: false },
      account: { maxLossPerTrade: 500, maxCumulativeLoss: 2000, clipActivation: 1000, clipStopLoss: 0.5 },
      drawdownHaltPct: 5,
      instrumentLimits: { SPY: { maxPositionQuantity: 100 }, QQQ: { maxPositionQuantity: 50 } },
    });
  });

  it('refuses bad options with every problem listed', () => {
    const time = new ManualTime(0);
    const kernel = new Kernel({ environment: 'paper', clock: time, dataClient: new PushDataClient({ feed: new LiveFeed({ clock: time, scheduler: time }), resolve: async (k) => stockSpec(k) }), executionClient: new SimulatedVenue({ fill: 'close', commission: parseCommissionModel('none') }), startingCash: 1 });
    expect(() => new TradingSupervisor(kernel, { session: { flattenMinutesBeforeClose: -1 }, account: { clipActivation: 5 }, drawdownHaltPct: 120 })).toThrow(ConfigError);
    try {
      new TradingSupervisor(kernel, { session: { flattenMinutesBeforeClose: -1 }, account: { clipActivation: 5 }, drawdownHaltPct: 120 });
    } catch (e) {
      expect((e as ConfigError).problems).toEqual([
        'session.flattenMinutesBeforeClose: expected a number >= 0, got -1',
        'account: clipActivation and clipStopLoss go together',
        'drawdownHaltPct: expected a percentage above 0 and below 100, got 120',
      ]);
    }
  });
});
