import { describe, expect, it } from 'vitest';
import { ManualTime } from '../engine/manual-time.js';
import { MemorySignalProvider } from './memory-provider.js';
import { START_WATERMARK, type SignalBatch, type SignalPollOptions, type SignalProvider, type SignalWatermark } from './provider.js';
import type { Signal } from './signal.js';
import { SignalPoller } from './signal-poller.js';

const T0 = Date.UTC(2024, 2, 4, 15, 0);
const S = 1000;

function sig(symbol: string, at: number, value = 1): Signal {
  return { ts: at, symbol, value, availableAt: at };
}

describe('SignalPoller', () => {
  it('polls every interval up to now, hands on what was published, notices new tickers once, and keeps a resumable watermark', async () => {
    const time = new ManualTime(T0);
    const provider = new MemorySignalProvider([sig('AAPL', T0 - 5 * S), sig('MSFT', T0 + 2 * S), sig('AAPL', T0 + 2 * S, -1)]);
    const got: string[] = [];
    const fresh: string[][] = [];
    const poller = new SignalPoller({ provider, clock: time, scheduler: time, intervalMs: S, known: ['SPY'], onSignals: (b) => got.push(...b.map((s) => `${s.symbol}@${(s.availableAt - T0) / S}`)), onNewSymbols: (s) => fresh.push(s) });
    poller.start();
    await time.advanceTo(T0);
    expect(got).toEqual(['AAPL@-5']);
    await time.advanceTo(T0 + S);
    // published at +2 s: not visible at +1 s
    expect(got).toEqual(['AAPL@-5']);
    provider.append([sig('SPY', T0 + 3 * S), sig('IBM', T0 + 3 * S)]);
    await time.advanceTo(T0 + 3 * S);
    expect(got).toEqual(['AAPL@-5', 'AAPL@2', 'MSFT@2', 'IBM@3', 'SPY@3']);
    expect(fresh).toEqual([['AAPL'], ['MSFT'], ['IBM']]);
    expect(poller.watermark).toMatchObject({ availableAt: T0 + 3 * S, ts: T0 + 3 * S, symbol: 'SPY' });
    poller.stop();
    // a new poller resuming from the journaled watermark delivers nothing twice
    const again: Signal[] = [];
    const resumed = new SignalPoller({ provider, clock: time, scheduler: time, watermark: JSON.parse(JSON.stringify(poller.watermark)) as SignalWatermark, onSignals: (b) => again.push(...b) });
    expect(await resumed.pollNow()).toBe(0);
    expect(again).toEqual([]);
  });

  it('polls again at once after a full batch', async () => {
    const time = new ManualTime(T0);
    const provider = new MemorySignalProvider(['A', 'B', 'C', 'D', 'E'].map((s) => sig(s, T0 - S)));
    const batches: number[] = [];
    const poller = new SignalPoller({ provider, clock: time, scheduler: time, intervalMs: 60 * S, limit: 2, onSignals: (b) => batches.push(b.length) });
    poller.start();
    await time.advanceTo(T0);
    expect(batches).toEqual([2, 2, 1]);
    poller.stop();
  });

  it('reports a failing provider and retries with a doubling delay, never giving up', async () => {
    const time = new ManualTime(T0);
    const inner = new MemorySignalProvider([sig('AAPL', T0 - S)]);
    let failuresLeft = 3;
    const attempts: number[] = [];
    const flaky: SignalProvider = {
      name: 'flaky',
      poll: async (since: SignalWatermark, o: SignalPollOptions): Promise<SignalBatch> => {
        attempts.push((time.now() - T0) / S);
        if (failuresLeft-- > 0) throw new Error('connection refused');
        return inner.poll(since, o);
      },
      close: async () => {},
    };
    const errors: string[] = [];
    const got: Signal[] = [];
    const poller = new SignalPoller({ provider: flaky, clock: time, scheduler: time, intervalMs: S, onSignals: (b) => got.push(...b), onError: (e, n) => errors.push(`${n}: ${e.message}`) });
    poller.start();
    await time.advanceTo(T0 + 20 * S);
    // failures at 0, 2 (after 2 s), 6 (after 4 s); success at 14 (after 8 s), then every second
    expect(attempts.slice(0, 5)).toEqual([0, 2, 6, 14, 15]);
    expect(errors).toEqual(['1: connection refused', '2: connection refused', '3: connection refused']);
    expect(got.map((s) => s.symbol)).toEqual(['AAPL']);
    poller.stop();
  });

  it('a hand-off that throws keeps the watermark: the same batch is delivered on the retry', async () => {
    const time = new ManualTime(T0);
    const provider = new MemorySignalProvider([sig('AAPL', T0 - 2 * S), sig('MSFT', T0 - S)]);
    let throwsLeft = 1;
    const got: string[] = [];
    const errors: string[] = [];
    const poller = new SignalPoller({
      provider,
      clock: time,
      scheduler: time,
      intervalMs: S,
      onSignals: (b) => {
        if (throwsLeft-- > 0) throw new Error('queue full');
        got.push(...b.map((s) => s.symbol));
      },
      onError: (e, n) => errors.push(`${n}: ${e.message}`),
    });
    await expect(poller.pollNow()).rejects.toThrow('queue full');
    expect(errors).toEqual(['1: queue full']);
    expect(poller.watermark).toEqual(START_WATERMARK);
    expect(poller.delivered).toBe(0);
    expect(await poller.pollNow()).toBe(2);
    expect(got).toEqual(['AAPL', 'MSFT']);
    expect(poller.watermark).toMatchObject({ availableAt: T0 - S, symbol: 'MSFT' });
  });
});
