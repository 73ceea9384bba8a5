import { describe, expect, it } from 'vitest';
import { compareEvents, diffParity } from './diff.js';
import { canonicalOrder, type ParityEvent } from './events.js';
import { parityReportText, type ParityResult } from './report.js';

const M = 60_000;
const bar = (ts: number, instrument: string, close: number): ParityEvent => ({ kind: 'bar', ts, instrument, data: { interval: '1m', start: ts - 60_000, open: close, high: close, low: close, close, volume: 100 } });
const fill = (ts: number, instrument: string, price: number): ParityEvent => ({ kind: 'fill', ts, instrument, data: { ref: 's#1', side: 'BUY', quantity: 100, price, commission: 1, liquidity: 'taker' } });
const state = (ts: number, equity: number): ParityEvent => ({ kind: 'state', ts, instrument: '', data: { cash: 0, equity, commissions: 0 } });

describe('canonical order', () => {
  it('orders by time, states last, then instrument, keeping each instrument’s own sequence', () => {
    // the runner hears every fill of an instant before the bars; the backtest fills an instrument at its bar
    const runner = [fill(120, 'IBM', 10), fill(120, 'SPY', 20), bar(120, 'SPY', 21), bar(120, 'IBM', 11), state(120, 5)];
    const backtest = [fill(120, 'SPY', 20), bar(120, 'SPY', 21), fill(120, 'IBM', 10), bar(120, 'IBM', 11), state(120, 5)];
    expect(canonicalOrder(runner)).toEqual(canonicalOrder(backtest));
    expect(canonicalOrder(runner).map((e) => `${e.kind} ${e.instrument}`)).toEqual(['fill IBM', 'bar IBM', 'fill SPY', 'bar SPY', 'state ']);
  });
});

describe('diffParity', () => {
  it('is equal for the same events in another interleaving', () => {
    const a = [fill(M, 'SPY', 2), bar(M, 'SPY', 2), fill(M, 'IBM', 5), bar(M, 'IBM', 5), state(M, 3)];
    const d = diffParity(a, [a[2]!, a[0]!, a[1]!, a[3]!, a[4]!]);
    expect(d.equal).toBe(true);
    expect(d.matched).toBe(5);
    // but within one instrument the order is part of what is compared (a fill before or after its bar)
    expect(diffParity(a, [a[1]!, a[0]!, a[2]!, a[3]!, a[4]!]).equal).toBe(false);
    expect(d.firstDivergence).toBeUndefined();
  });

  it('reports the first differing event with its fields and context from both legs', () => {
    const a = [bar(60, 'SPY', 1), bar(120, 'SPY', 2), fill(180, 'SPY', 2.5), bar(180, 'SPY', 3), bar(240, 'SPY', 4)];
    const b = [bar(60, 'SPY', 1), bar(120, 'SPY', 2), fill(180, 'SPY', 2.51), bar(180, 'SPY', 3), bar(240, 'SPY', 4)];
    const d = diffParity(a, b, { context: 1 });
    expect(d.equal).toBe(false);
    expect(d.matched).toBe(2);
    const f = d.firstDivergence!;
    expect(f.index).toBe(2);
    expect(f.differences).toEqual([{ field: 'price', backtest: 2.5, runner: 2.51 }]);
    expect(f.context.backtest.map((c) => c.index)).toEqual([1, 2, 3]);
    expect(f.context.runner[1]!.event).toBe(b[2]);
    expect(d.unmatched.fill).toEqual({ backtest: 1, runner: 1 });
    expect(d.unmatched.bar).toEqual({ backtest: 0, runner: 0 });
  });

  it('reports an event one leg lacks, and counts per kind', () => {
    const a = [bar(60, 'SPY', 1), bar(120, 'SPY', 2)];
    const d = diffParity(a, a.slice(0, 1));
    expect(d.firstDivergence).toMatchObject({ index: 1, runner: undefined, differences: [] });
    expect(d.counts.backtest.bar).toBe(2);
    expect(d.counts.runner.bar).toBe(1);
  });

  it('compares numbers exactly unless given a relative tolerance, and can leave kinds out', () => {
    expect(compareEvents(state(1, 100), state(1, 100 + 1e-9))).toHaveLength(1);
    expect(compareEvents(state(1, 100), state(1, 100 + 1e-9), 1e-10)).toEqual([]);
    expect(diffParity([state(1, 1)], [state(1, 2)], { ignore: ['state'] }).equal).toBe(true);
  });

  it('names differing kinds without listing fields that cannot be compared', () => {
    expect(compareEvents(bar(60, 'SPY', 1), state(60, 1)).map((x) => x.field)).toEqual(['kind', 'instrument']);
  });
});

describe('parityReportText', () => {
  it('says EMPTY DIFF or shows the divergence with both sides', () => {
    const subject = { strategy: 's', version: '1.0.0', params: {}, symbols: ['SPY'], interval: '1m', from: 0, to: 1, settings: {} };
    const result = (d: ReturnType<typeof diffParity>): ParityResult => ({ subject, diff: d, runner: {}, elapsedMs: { backtest: 1, runner: 2 } });
    expect(parityReportText(result(diffParity([bar(M, 'SPY', 1)], [bar(M, 'SPY', 1)])))).toContain('EMPTY DIFF');
    const text = parityReportText(result(diffParity([fill(M, 'SPY', 1)], [fill(M, 'SPY', 2)])));
    expect(text).toContain('DIVERGENCE at event #0');
    expect(text).toContain('differs: price: backtest 1, runner 2');
    expect(text).toMatch(/context \(runner\):\n {2}> #0 1970-01-01T00:01:00Z fill SPY ref=s#1 side=BUY quantity=100 price=2/);
  });
});
