/**
 * The supervisor across a restart: sticky halts and the loss baseline a resumed run passes back
 * (`restore`), and the `baseline` actions the runner journals for it.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseCommissionModel } from '../../lib/backtest/commission.js';
import { SimulatedVenue } from '../../lib/backtest/sim-venue.js';
import { stockSpec } from '../../lib/data/instrument.js';
import { Kernel } from '../../lib/engine/kernel.js';
import { PushDataClient } from '../../lib/engine/live-data-client.js';
import { LiveFeed } from '../../lib/engine/live-feed.js';
import { ManualTime } from '../../lib/engine/manual-time.js';
import { defineStrategy } from '../../lib/engine/strategy.js';
import { recoverFromRecords } from '../../lib/journal/recovery.js';
import type { JournalRecord } from '../../lib/journal/journal.js';
import { supervisorRestore } from './run-resume.js';
import { TradingSupervisor, type SupervisorAction, type SupervisorOptions } from './supervisor.js';

const MIN = 60_000;
/** 2024-12-02 (a Monday, standard time) at hh:mm New York */
const ny = (hh: number, mm = 0) => Date.UTC(2024, 11, 2, hh + 5, mm);

/** A kernel on SPY (100_000 of equity) whose strategy buys 100 whenever flat; `position` is restored before the run */
async function setup(options: SupervisorOptions, position?: { quantity: number; avgPrice: number }) {
  const time = new ManualTime(ny(10));
  const feed = new LiveFeed({ clock: time, scheduler: time, heartbeatMs: MIN });
  const data = new PushDataClient({ feed, resolve: async (k) => stockSpec(k) });
  const kernel = new Kernel({ environment: 'paper', clock: time, dataClient: data, executionClient: new SimulatedVenue({ fill: 'close', commission: parseCommissionModel('none') }), startingCash: 100_000, liveFeed: feed });
  const actions: SupervisorAction[] = [];
  const rejected: string[] = [];
  const supervisor = new TradingSupervisor(kernel, { ...options, onAction: (a) => void actions.push(a) });
  const buyer = defineStrategy({
    name: 'buyer',
    version: '0.0.0',
    description: 'buys 100 when flat',
    params: z.object({}),
    create: (ctx) => ({
      onBar: (bar) => {
        if (ctx.portfolio.position(bar.instrument) === 0 && ctx.openOrders(bar.instrument).length === 0) ctx.submit(ctx.orders.market(bar.instrument, 'BUY', 100));
      },
      onOrderEvent: (e) => {
        if (e.type === 'rejected') rejected.push(e.reason ?? '');
      },
    }),
  });
  kernel.addStrategy(buyer, { subscriptions: [{ instrument: 'SPY', interval: '1m' }] });
  // as a resume restores them: the position and the cash that paid for it (equity stays 100_000)
  if (position !== undefined) await kernel.restore({ positions: { SPY: position }, cash: 100_000 - position.quantity * position.avgPrice });
  // the halts a restore re-applies are in force before the strategies start
  const haltedBeforeRun = kernel.risk.halted;
  const run = kernel.run();
  await feed.whenIdle();
  return {
    kernel,
    supervisor,
    actions,
    rejected,
    haltedBeforeRun,
    async bars(from: number, to: number, price: (ts: number) => number) {
      for (let t = from; t < to; t += MIN) {
        await time.advanceTo(t + MIN);
        const p = price(t);
        data.handle('SPY', '1m')!.push(t, p, p, p, p, 100);
        await feed.whenIdle();
      }
    },
    async stop() {
      kernel.requestStop();
      await run;
    },
  };
}

const cumulativeReason = 'cumulative loss 1020.00 reached maxCumulativeLoss 1000';

describe('TradingSupervisor across a restart', () => {
  it('re-applies a sticky cumulative-loss halt before the strategy starts, closes the position IB still holds, refuses entries until the operator resumes', async () => {
    const s = await setup(
      {
        account: { maxCumulativeLoss: 1_000 },
        // as recovery read them: the session and health halts are their owners' to re-derive
        restore: { halts: { 'loss:cumulative': cumulativeReason, 'health:event-loop-lag': 'lag 450 ms', session: 'closed' }, startEquity: 101_020, peakEquity: 101_020 },
      },
      { quantity: 50, avgPrice: 100 },
    );
    expect(s.haltedBeforeRun).toBe(true);
    expect(s.supervisor.haltSources()).toEqual({ 'loss:cumulative': cumulativeReason });
    expect(s.actions[0]).toMatchObject({ type: 'halt', source: 'loss:cumulative', reason: cumulativeReason, ts: ny(10), context: { restored: true } });
    // the baseline comes back: the loss is still counted from the first process's start
    expect(s.actions.find((a) => a.type === 'baseline')).toMatchObject({ reason: 'restored from the journal', context: { startEquity: 101_020, peakEquity: 101_020 } });
    await s.bars(ny(10), ny(10, 3), () => 100);
    // the first bar closes the 50 adopted shares (as when the limit fired), then every entry is refused
    expect(s.actions.filter((a) => a.type === 'close').map((a) => [a.source, a.side, a.quantity])).toEqual([['loss:cumulative', 'SELL', 50]]);
    expect(s.kernel.portfolio.position('SPY')).toBe(0);
    expect(s.rejected.length).toBeGreaterThan(0);
    expect(s.rejected.every((r) => r.startsWith(`risk: trading halted: loss:cumulative: ${cumulativeReason}`))).toBe(true);
    // equity 100_000 (the 50 shares sold at their cost) against the restored start 101_020
    expect(s.supervisor.status()).toMatchObject({ startEquity: 101_020, cumulativePnl: -1_020 });
    s.supervisor.resume('loss:cumulative');
    expect(s.actions.at(-1)).toMatchObject({ type: 'baseline', reason: 're-based by the resume of loss:cumulative', context: { startEquity: 100_000 } });
    await s.bars(ny(10, 3), ny(10, 4), () => 100);
    expect(s.kernel.portfolio.position('SPY')).toBe(100);
    await s.stop();
  });

  it('the restored peak and start keep counting: a drawdown and a cumulative loss from before the restart halt at the first mark', async () => {
    // 100_000 now against a peak of 103_000: 2.91 % down; against a start of 101_500: 1_500 lost
    const restored = await setup({ drawdownHaltPct: 2, account: { maxCumulativeLoss: 1_000 }, restore: { startEquity: 101_500, peakEquity: 103_000 } });
    expect(restored.haltedBeforeRun).toBe(false);
    await restored.bars(ny(10), ny(10, 1), () => 100);
    expect(Object.keys(restored.supervisor.haltSources()).sort()).toEqual(['drawdown', 'loss:cumulative']);
    expect(restored.supervisor.haltSources()['drawdown']).toBe('drawdown 2.91% from the equity peak 103000.00 reached drawdownHaltPct 2');
    await restored.stop();
    // the same account without the restore (a new run): a fresh baseline, nothing halts
    const fresh = await setup({ drawdownHaltPct: 2, account: { maxCumulativeLoss: 1_000 } });
    await fresh.bars(ny(10), ny(10, 1), () => 100);
    expect(fresh.supervisor.haltSources()).toEqual({});
    expect(fresh.supervisor.status()).toMatchObject({ startEquity: 100_000, peakEquity: 100_000 });
    await fresh.stop();
  });

  it('reports its baseline at start and a rising peak at most once a minute; the journal gives the last one back', async () => {
    const s = await setup({ drawdownHaltPct: 50 });
    // bought 100 at 100 in the first minute, then +1 a minute: the peak rises every bar
    await s.bars(ny(10), ny(10, 5), (t) => 100 + (t - ny(10)) / MIN);
    const baselines = s.actions.filter((a) => a.type === 'baseline');
    expect(baselines.length).toBeGreaterThan(2);
    expect(baselines[0]).toMatchObject({ ts: ny(10), reason: 'equity at start', context: { startEquity: 100_000, peakEquity: 100_000 } });
    for (let i = 1; i < baselines.length; i++) expect(baselines[i]!.ts - baselines[i - 1]!.ts).toBeGreaterThanOrEqual(MIN);
    // equity at 10:05 is 100_000 + 100 x (104 - 100)
    expect(s.supervisor.status().peakEquity).toBe(100_400);
    expect(baselines.at(-1)!.context).toEqual({ startEquity: 100_000, peakEquity: 100_400 });
    await s.stop();

    // the runner journals every action that is not a halt or resume as a note: recovery reads it back
    const records: JournalRecord[] = s.actions.map((a, i) => ({ runId: 'r', seq: i + 1, ts: a.ts, wallTs: 0, kind: a.type === 'halt' ? 'halt' : a.type === 'resume' ? 'resume' : 'note', decisionId: null, clientOrderId: null, brokerOrderId: null, instrument: null, payload: JSON.parse(JSON.stringify(a)) }));
    const restore = supervisorRestore(recoverFromRecords('r', records));
    expect(restore).toEqual({ halts: {}, startEquity: 100_000, peakEquity: 100_400 });
  });
});
