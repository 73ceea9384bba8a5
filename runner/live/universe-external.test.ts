/**
 * UniverseRunner's resolve port and IB's positions outside the runner (setExternalPositions): a
 * signal's ticker held outside is `invalid` with the reason and one alert; others resolve; a signal
 * activation waits until the set is known; an operator's add is not refused. A real kernel and
 * signals store; the market data is a stub that records which contracts were asked for.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseCommissionModel } from '../../lib/backtest/commission.js';
import { SimulatedVenue } from '../../lib/backtest/sim-venue.js';
import { silentLogger } from '../../lib/core/logger.js';
import { stockSpec, type InstrumentSpec } from '../../lib/data/instrument.js';
import { Kernel } from '../../lib/engine/kernel.js';
import { PushDataClient } from '../../lib/engine/live-data-client.js';
import { LiveFeed } from '../../lib/engine/live-feed.js';
import { ManualTime } from '../../lib/engine/manual-time.js';
import { externalHoldings } from './adoption-policy.js';
import { parseRunnerConfig } from './config.js';
import type { IbMarketData } from './ib-market-data.js';
import { UniverseRunner } from './universe-runner.js';

const T0 = Date.UTC(2024, 11, 2, 15);
const REASON = 'held outside the runner: IB holds 20 BAC (not adopted, universe.adoptPositions: journal); its signals are skipped';

describe('UniverseRunner: tickers IB holds outside the runner', () => {
  let dir: string;
  let runner: UniverseRunner | undefined;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'monger-external-'))));
  afterEach(async () => {
    await runner?.stop();
    runner = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  async function compose() {
    const config = parseRunnerConfig(
      `mode: paper
ib: { host: 127.0.0.1, port: 4002, clientId: 3, account: DU1234567 }
strategy: { name: signal-trader, version: 1.0.0, interval: 1m, warmup: 2 }
universe: { mode: mixed, symbols: [MSFT] }
trading: { defaults: { unitSize: 10, maxPosition: 100, tradeThreshold: 0.5 } }
account: { maxLossPerTrade: 10000, maxCumulativeLoss: 100000 }
risk: { maxOrderQuantity: 100, maxOrderNotional: 100000, maxPositionNotionalPerSymbol: 100000, maxGrossLeverage: 2, maxOpenOrders: 20, drawdownHaltPct: 50 }
journal: { path: ${join(dir, 'journal.duckdb')} }
signals: { provider: duckdb, db: ${join(dir, 'signals.duckdb')} }
`,
      'x.yaml',
    );
    const time = new ManualTime(T0);
    const feed = new LiveFeed({ clock: time, scheduler: time });
    const kernel = new Kernel({ environment: 'paper', clock: time, dataClient: new PushDataClient({ feed, resolve: async (k) => stockSpec(k) }), executionClient: new SimulatedVenue({ fill: 'close', commission: parseCommissionModel('none') }), startingCash: 1e5, liveFeed: feed });
    // the contracts the universe asked IB for
    const asked: string[] = [];
    const marketData = {
      addInstrument: async (i: { key: string }): Promise<InstrumentSpec> => (asked.push(i.key), stockSpec(i.key)),
      startInstrument: () => undefined,
      removeInstrument: () => undefined,
      status: () => ({ instruments: [] }),
    } as unknown as IbMarketData;
    const alerts: Record<string, unknown>[] = [];
    const notes: Record<string, unknown>[] = [];
    runner = await UniverseRunner.create({ config, kernel, marketData, strategyId: 'signal-trader', clock: time, scheduler: time, logger: silentLogger, note: (p) => notes.push(p), alert: (p) => alerts.push(p) });
    return { runner, asked, alerts, notes };
  }

  /** Lets the activations' promise chains run (no timers: resolution is async work only) */
  const settle = () => new Promise((r) => setTimeout(r, 20));

  it('refuses a signal ticker held outside (invalid, one alert) once the set is known; others resolve', async () => {
    const { runner, asked, alerts, notes } = await compose();
    const m = runner.universe.manager;
    m.notice(['BAC', 'XOM']);
    await settle();
    // the set is not known yet: signal activations wait, nothing was asked of IB
    expect(m.entry('BAC')?.state).toBe('resolving');
    expect(m.entry('XOM')?.state).toBe('resolving');
    expect(asked).toEqual([]);

    // IB holds 20 BAC and 10 IBM; the engine holds IBM (adopted): only BAC is outside the runner
    const external = externalHoldings(
      [
        { instrument: 'BAC', brokerQuantity: 20 },
        { instrument: 'IBM', brokerQuantity: 10 },
        { instrument: 'T', brokerQuantity: 0 },
      ],
      (i) => i === 'IBM',
    );
    expect(Object.fromEntries(external)).toEqual({ BAC: 20 });
    runner.setExternalPositions(external);
    await vi.waitFor(() => expect(m.entry('BAC')?.state).toBe('invalid'));
    expect(m.entry('BAC')?.reason).toBe(REASON);
    // XOM got past resolution: its contract was asked for (BAC's never)
    await vi.waitFor(() => expect(asked).toContain('XOM'));
    expect(asked).not.toContain('BAC');
    expect(m.entry('XOM')?.state).not.toBe('resolving');
    expect(m.entry('XOM')?.reason ?? '').not.toContain('held outside');
    expect(alerts).toEqual([{ level: 'warning', kind: 'signal-for-external-position', symbol: 'BAC', broker: 20, message: REASON }]);
    expect(notes).toContainEqual({ universe: 'BAC', from: 'resolving', to: 'invalid', origin: 'signal', reason: REASON });

    // a later signal is skipped (invalid), not alerted again
    runner.universe.onSignal({ ts: T0, availableAt: T0, symbol: 'BAC', value: 0.9, source: 't' });
    expect(m.status().counters.skippedInvalid).toBe(1);
    expect(alerts).toHaveLength(1);
  });

  it("an operator's add of a ticker held outside is not refused (the operator's choice)", async () => {
    const { runner, asked, alerts } = await compose();
    runner.setExternalPositions(new Map([['BAC', 20]]));
    await runner.add('BAC').catch(() => undefined);
    expect(asked).toContain('BAC');
    expect(runner.universe.manager.entry('BAC')?.reason ?? '').not.toContain('held outside');
    expect(alerts).toEqual([]);
  });

  it('a later reconciliation that no longer reports the holding lets a new signal ticker resolve', async () => {
    const { runner, asked } = await compose();
    runner.setExternalPositions(new Map([['BAC', 20]]));
    runner.setExternalPositions(externalHoldings([], () => false));
    runner.universe.manager.notice(['BAC']);
    await vi.waitFor(() => expect(asked).toContain('BAC'));
    expect(runner.universe.manager.entry('BAC')?.reason ?? '').not.toContain('held outside');
  });
});
