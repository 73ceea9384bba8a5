import { describe, expect, it } from 'vitest';
import {
  allocationHeatmap,
  drawdown,
  equityDrawdownFigure,
  monthlyReturns,
  monthlyReturnsHeatmap,
  plotlyDate,
  reportFigures,
  returnsHistogram,
  rollingSharpeVolFigure,
  tradesOnCandlesFigure,
  type Figure,
  type Trace,
} from './index.js';
import { SMALL_DATES, SMALL_EQUITY, smallReportInput, syntheticReportInput } from './test-fixture.js';

const trace = (figure: Figure, i: number): Trace => {
  const t = figure.data[i];
  if (t === undefined) throw new Error(`figure has no trace ${i}`);
  return t;
};
const numbers = (v: unknown) => v as (number | null)[];
const closeTo = (actual: (number | null)[], expected: (number | null)[]) => {
  expect(actual).toHaveLength(expected.length);
  expected.forEach((e, i) => (e === null ? expect(actual[i]).toBeNull() : expect(actual[i]).toBeCloseTo(e, 10)));
};

// Hand-computed from SMALL_EQUITY = 101k, 102k, 99k, 104k, 103k, 107k (start 100k)
const DAILY_RETURNS = [102 / 101 - 1, 99 / 102 - 1, 104 / 99 - 1, 103 / 104 - 1, 107 / 103 - 1];

describe('plotlyDate', () => {
  it('gives a date at midnight UTC and a full ISO instant otherwise', () => {
    expect(plotlyDate(Date.UTC(2024, 0, 31))).toBe('2024-01-31');
    expect(plotlyDate(Date.UTC(2024, 0, 31, 14, 30))).toBe('2024-01-31T14:30:00.000Z');
  });
});

describe('equityDrawdownFigure', () => {
  it('plots equity on top and drawdown % from the running peak underneath on one time axis', () => {
    const fig = equityDrawdownFigure(smallReportInput());
    const [equity, underwater] = [trace(fig, 0), trace(fig, 1)];
    expect(equity.x).toEqual(SMALL_DATES);
    expect(equity.y).toEqual(SMALL_EQUITY);
    expect(underwater.x).toEqual(SMALL_DATES);
    // peaks 101k, 102k, 102k, 104k, 104k, 107k
    closeTo(numbers(underwater.y), [0, 0, (99 / 102 - 1) * 100, 0, (103 / 104 - 1) * 100, 0]);
    expect([equity.yaxis, underwater.yaxis, equity.xaxis, underwater.xaxis]).toEqual(['y', 'y2', 'x', 'x']);
    const layout = fig.layout as { xaxis: { anchor: string }; yaxis: { domain: number[] }; yaxis2: { domain: number[] } };
    expect(layout.xaxis.anchor).toBe('y2');
    expect(layout.yaxis2.domain[1]).toBeLessThan(layout.yaxis.domain[0]!);
  });

  it('leaves a gap for non-positive equity', () => {
    const d = Array.from(drawdown([100, 0, 80]));
    expect(d.slice(0, 2)).toEqual([0, NaN]);
    expect(d[2]).toBeCloseTo(-0.2, 12);
  });
});

describe('rollingSharpeVolFigure', () => {
  it('computes annualized Sharpe and volatility % over each full window of daily returns', () => {
    const fig = rollingSharpeVolFigure(smallReportInput(), 3);
    const [sharpe, vol] = [trace(fig, 0), trace(fig, 1)];
    // windows of 3 returns end on days 3, 4, 5
    expect(sharpe.x).toEqual(SMALL_DATES.slice(3));
    const expected = [0, 1, 2].map((s) => {
      const w = DAILY_RETURNS.slice(s, s + 3);
      const mean = (w[0]! + w[1]! + w[2]!) / 3;
      const sd = Math.sqrt(w.reduce((a, r) => a + (r - mean) ** 2, 0) / 2);
      return { sharpe: (mean / sd) * Math.sqrt(252), vol: sd * Math.sqrt(252) * 100 };
    });
    closeTo(numbers(sharpe.y), expected.map((e) => e.sharpe));
    closeTo(numbers(vol.y), expected.map((e) => e.vol));
    expect(vol.yaxis).toBe('y2');
  });

  it('gives empty traces when the run is shorter than the window (default 63 days)', () => {
    const fig = rollingSharpeVolFigure(smallReportInput());
    expect(trace(fig, 0).x).toEqual([]);
    expect(trace(fig, 1).y).toEqual([]);
  });

  it('rejects a window below 2', () => {
    expect(() => rollingSharpeVolFigure(smallReportInput(), 1)).toThrow(RangeError);
  });
});

describe('monthlyReturnsHeatmap', () => {
  it('lays out calendar-month returns in % as years x months, first month from the starting equity', () => {
    const fig = monthlyReturnsHeatmap(smallReportInput());
    const heat = trace(fig, 0);
    expect(heat.type).toBe('heatmap');
    expect(heat.y).toEqual(['2023', '2024']);
    expect((heat.x as string[])[0]).toBe('Jan');
    const z = heat.z as (number | null)[][];
    const empty = Array<null>(12).fill(null);
    // Dec 2023: 102k / 100k; Jan 2024: 104k / 102k; Feb 2024: 107k / 104k
    closeTo(z[0]!, [...empty.slice(0, 11), 2]);
    closeTo(z[1]!, [(104 / 102 - 1) * 100, (107 / 104 - 1) * 100, ...empty.slice(2)]);
    const text = heat.text as string[][];
    expect(text[0]![11]).toBe('2.0%');
    expect(text[1]!.slice(0, 3)).toEqual(['2.0%', '2.9%', '']);
    expect(heat.texttemplate).toBe('%{text}');
    expect(heat.zmid).toBe(0);
  });

  it('measures the first month from the first sample without a positive starting equity', () => {
    const input = smallReportInput();
    const months = monthlyReturns(input.daily.ts, input.daily.equity, 0);
    expect(months.map((m) => [m.year, m.month])).toEqual([[2023, 12], [2024, 1], [2024, 2]]);
    expect(months[0]!.value).toBeCloseTo(102 / 101 - 1, 12);
  });
});

describe('allocationHeatmap', () => {
  it('shows signed position value as % of that day\'s equity per instrument', () => {
    const heat = trace(allocationHeatmap(smallReportInput()), 0);
    expect(heat.y).toEqual(['AAA', 'BBB']);
    expect(heat.x).toEqual(SMALL_DATES);
    const z = heat.z as (number | null)[][];
    closeTo(z[0]!, [0, (50_000 / 102_000) * 100, (49_500 / 99_000) * 100, 0, 0, 0]);
    closeTo(z[1]!, [0, 0, 0, (-20_000 / 104_000) * 100, (-20_600 / 103_000) * 100, 0]);
  });

  it('leaves cells before the first daily sample empty', () => {
    const input = smallReportInput();
    input.allocation.ts = Float64Array.from(input.allocation.ts, (t) => t - 86_400_000);
    const z = trace(allocationHeatmap(input), 0).z as (number | null)[][];
    expect(z[0]![0]).toBeNull();
    expect(z[0]![2]).toBeCloseTo((49_500 / 102_000) * 100, 10);
  });
});

describe('tradesOnCandlesFigure', () => {
  it('draws candles, volume underneath, the instrument\'s trades and fills', () => {
    const fig = tradesOnCandlesFigure(smallReportInput(), 'BBB');
    const byName = new Map(fig.data.map((t) => [t.name as string, t]));
    const candles = byName.get('BBB')!;
    expect(candles.type).toBe('candlestick');
    expect(candles.x).toEqual(SMALL_DATES);
    expect(candles.close).toEqual([101, 100, 101, 100, 102, 103]);
    expect(byName.get('Volume')).toMatchObject({ type: 'bar', yaxis: 'y2', y: [1000, 2000, 3000, 4000, 5000, 6000] });
    expect(byName.get('Entry')).toMatchObject({ x: ['2024-01-31'], y: [100], marker: { symbol: ['triangle-down'] } });
    expect(byName.get('Exit')).toMatchObject({ x: ['2024-02-29'], y: [103] });
    expect(byName.get('Trade path')).toMatchObject({ x: ['2024-01-31', '2024-02-29', null], y: [100, 103, null] });
    expect(byName.get('Sell fill')).toMatchObject({ x: ['2024-01-31'], y: [100] });
    expect(byName.get('Buy fill')).toMatchObject({ x: ['2024-02-29'], y: [103] });
    expect((fig.layout.xaxis as { rangeslider: { visible: boolean } }).rangeslider.visible).toBe(false);
  });

  it('points a long entry up and throws for an instrument without prices', () => {
    const input = smallReportInput();
    const entry = tradesOnCandlesFigure(input, 'AAA').data.find((t) => t.name === 'Entry');
    expect(entry).toMatchObject({ x: ['2023-12-29'], marker: { symbol: ['triangle-up'] } });
    expect(() => tradesOnCandlesFigure(input, 'ZZZ')).toThrow(/no price series for ZZZ .*AAA 1d, BBB 1d/);
    expect(() => tradesOnCandlesFigure(input, 'AAA', '1m')).toThrow(RangeError);
  });
});

describe('returnsHistogram', () => {
  it('bins the daily returns in % and marks their mean', () => {
    const fig = returnsHistogram(smallReportInput());
    const hist = trace(fig, 0);
    expect(hist.type).toBe('histogram');
    closeTo(numbers(hist.x), DAILY_RETURNS.map((r) => r * 100));
    const mean = (DAILY_RETURNS.reduce((a, b) => a + b, 0) / 5) * 100;
    const [line] = fig.layout.shapes as { x0: number }[];
    expect(line!.x0).toBeCloseTo(mean, 10);
  });
});

describe('reportFigures', () => {
  it('builds 5 figures plus one per price series, all plain JSON', () => {
    for (const input of [smallReportInput(), syntheticReportInput(120)]) {
      const figures = reportFigures(input);
      expect(figures).toHaveLength(5 + input.prices.length);
      // no typed arrays, NaN or undefined: a JSON round trip changes nothing
      for (const f of figures) expect(JSON.parse(JSON.stringify(f))).toEqual(f);
    }
  });
});
