/** Report inputs for tests: a tiny hand-built run and a larger seeded synthetic one. */
import type { FillRecord, RunStatistics, TradeRecord } from '../backtest/result-types.js';
import type { PriceSeries, RunReportInput } from './report-input.js';

const DAY_MS = 86_400_000;
const utc = (date: string) => Date.parse(`${date}T00:00:00Z`);

/** Plausible statistics; the figures never read them except startingEquity. */
export function fixtureStatistics(overrides: Partial<RunStatistics> = {}): RunStatistics {
  return {
    startingEquity: 100_000,
    finalEquity: 107_000,
    totalReturn: 0.07,
    annualReturn: 0.4567,
    annualVolatility: 0.1834,
    sharpe: 1.23456,
    sortino: 2.5,
    probabilisticSharpe: 0.91,
    maxDrawdown: -0.029411764705882353,
    maxDrawdownDurationDays: 12,
    calmar: 15.528,
    trades: 2,
    winRate: 0.5,
    profitFactor: 1.75,
    averageWin: 1_990,
    averageLoss: -620,
    expectancy: 685,
    turnover: 3.21,
    exposure: 0.6667,
    averageGrossExposure: 0.35,
    feesPaid: 12.5,
    days: 6,
    ...overrides,
  };
}

/** Six trading days over Dec 2023 to Feb 2024; dates, equity and trades are easy to check by hand. */
export const SMALL_DATES = ['2023-12-28', '2023-12-29', '2024-01-02', '2024-01-31', '2024-02-01', '2024-02-29'];
export const SMALL_EQUITY = [101_000, 102_000, 99_000, 104_000, 103_000, 107_000];

function bars(instrument: string, closes: number[]): PriceSeries {
  const ts = Float64Array.from(SMALL_DATES, utc);
  const close = Float64Array.from(closes);
  const open = Float64Array.from(closes, (c, i) => (i === 0 ? c : closes[i - 1]!));
  return {
    instrument,
    interval: '1d',
    ts,
    open,
    high: Float64Array.from(closes, (c, i) => Math.max(c, open[i]!) + 1),
    low: Float64Array.from(closes, (c, i) => Math.min(c, open[i]!) - 1),
    close,
    volume: Float64Array.from(closes, (_, i) => 1_000 * (i + 1)),
  };
}

/** The tiny hand-built run: a LONG AAA trade (win) and a SHORT BBB trade (loss). */
export function smallReportInput(): RunReportInput {
  const ts = Float64Array.from(SMALL_DATES, utc);
  const equity = Float64Array.from(SMALL_EQUITY);
  const trades: TradeRecord[] = [
    {
      instrument: 'AAA', direction: 'LONG', quantity: 500, entryTs: utc('2023-12-29'), exitTs: utc('2024-01-31'),
      entryPrice: 100, exitPrice: 104, grossPnl: 2_000, commission: 10, netPnl: 1_990, returnPct: 0.0398,
    },
    {
      instrument: 'BBB', direction: 'SHORT', quantity: 200, entryTs: utc('2024-01-31'), exitTs: utc('2024-02-29'),
      entryPrice: 100, exitPrice: 103, grossPnl: -600, commission: 2.5, netPnl: -602.5, returnPct: -0.030125,
    },
  ];
  const fill = (id: number, instrument: string, side: 'BUY' | 'SELL', quantity: number, price: number, date: string): FillRecord => ({
    orderId: id, clientOrderId: `c${id}`, instrument, side, quantity, price, commission: 2.5, ts: utc(date), liquidity: 'taker',
  });
  return {
    title: 'Small fixture run',
    strategy: 'fixture',
    strategyVersion: '1.0.0',
    params: { lookback: 20, threshold: 0.5 },
    from: utc('2023-12-28'),
    to: utc('2024-02-29'),
    statistics: fixtureStatistics(),
    equity: { ts, equity },
    daily: {
      ts,
      equity,
      grossExposure: Float64Array.from([0, 50_000, 49_500, 20_000, 20_600, 0]),
      netExposure: Float64Array.from([0, 50_000, 49_500, -20_000, -20_600, 0]),
    },
    allocation: {
      ts,
      instruments: ['AAA', 'BBB'],
      values: [Float64Array.from([0, 50_000, 49_500, 0, 0, 0]), Float64Array.from([0, 0, 0, -20_000, -20_600, 0])],
    },
    trades,
    fills: [
      fill(1, 'AAA', 'BUY', 500, 100, '2023-12-29'),
      fill(2, 'AAA', 'SELL', 500, 104, '2024-01-31'),
      fill(3, 'BBB', 'SELL', 200, 100, '2024-01-31'),
      fill(4, 'BBB', 'BUY', 200, 103, '2024-02-29'),
    ],
    prices: [bars('AAA', [99, 100, 99, 104, 103, 105]), bars('BBB', [101, 100, 101, 100, 102, 103])],
  };
}

/** Deterministic uniform numbers in [0, 1) (a 32-bit LCG), so fixtures need no Math.random. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * A seeded synthetic run over `days` weekdays from 2022-01-03: random-walk prices per instrument,
 * one round-trip trade every 5 days rotating over the instruments (with its two fills), and an
 * equity curve that follows the open position.
 */
export function syntheticReportInput(days = 400, instruments = ['AAA', 'BBB', 'CCC'], seed = 7): RunReportInput {
  const next = lcg(seed);
  const ts: number[] = [];
  for (let t = utc('2022-01-03'); ts.length < days; t += DAY_MS) {
    const weekday = new Date(t).getUTCDay();
    if (weekday !== 0 && weekday !== 6) ts.push(t);
  }
  const prices = instruments.map((instrument, k) => {
    const close: number[] = [];
    let price = 50 + 25 * k;
    for (let i = 0; i < days; i++) close.push((price *= 1 + (next() - 0.48) * 0.03));
    const series: PriceSeries = {
      instrument, interval: '1d', ts: Float64Array.from(ts),
      open: Float64Array.from(close, (c, i) => (i === 0 ? c : close[i - 1]!)),
      high: new Float64Array(days), low: new Float64Array(days), close: Float64Array.from(close),
      volume: Float64Array.from(close, () => Math.round(1e5 + next() * 9e5)),
    };
    for (let i = 0; i < days; i++) {
      series.high[i] = Math.max(series.open[i]!, close[i]!) * (1 + next() * 0.01);
      series.low[i] = Math.min(series.open[i]!, close[i]!) * (1 - next() * 0.01);
    }
    return series;
  });
  const quantity = 100;
  const trades: TradeRecord[] = [];
  const fills: FillRecord[] = [];
  const values = instruments.map(() => new Float64Array(days));
  const equity = new Float64Array(days);
  let cash = 100_000;
  for (let start = 0; start + 4 < days; start += 5) {
    const k = (start / 5) % instruments.length;
    const series = prices[k]!;
    const direction = next() < 0.5 ? 'LONG' : 'SHORT';
    const sign = direction === 'LONG' ? 1 : -1;
    const entryPrice = series.close[start]!;
    const exitPrice = series.close[start + 3]!;
    for (let i = start; i < start + 3; i++) values[k]![i] = sign * quantity * series.close[i]!;
    const grossPnl = sign * quantity * (exitPrice - entryPrice);
    const commission = 2;
    trades.push({
      instrument: series.instrument, direction, quantity, entryTs: ts[start]!, exitTs: ts[start + 3]!,
      entryPrice, exitPrice, grossPnl, commission, netPnl: grossPnl - commission, returnPct: (grossPnl - commission) / (entryPrice * quantity),
    });
    fills.push(
      { orderId: fills.length + 1, clientOrderId: `o${fills.length + 1}`, instrument: series.instrument, side: sign > 0 ? 'BUY' : 'SELL',
        quantity, price: entryPrice, commission: 1, ts: ts[start]!, liquidity: 'taker' },
      { orderId: fills.length + 2, clientOrderId: `o${fills.length + 2}`, instrument: series.instrument, side: sign > 0 ? 'SELL' : 'BUY',
        quantity, price: exitPrice, commission: 1, ts: ts[start + 3]!, liquidity: 'taker' },
    );
    for (let i = start; i < start + 5; i++) {
      if (i === start + 3) cash += grossPnl - commission;
      equity[i] = i < start + 3 ? cash + sign * quantity * (series.close[i]! - entryPrice) : cash;
    }
  }
  // Days after the last full 5-day block are flat
  for (let i = days - (days % 5); i < days; i++) equity[i] = cash;
  const gross = Float64Array.from({ length: days }, (_, i) => values.reduce((s, v) => s + Math.abs(v[i]!), 0));
  const net = Float64Array.from({ length: days }, (_, i) => values.reduce((s, v) => s + v[i]!, 0));
  const daily = { ts: Float64Array.from(ts), equity, grossExposure: gross, netExposure: net };
  return {
    title: 'Synthetic run',
    strategy: 'synthetic',
    strategyVersion: '0.0.1',
    params: { seed, instruments },
    from: ts[0]!,
    to: ts[days - 1]!,
    statistics: fixtureStatistics({ finalEquity: equity[days - 1]!, trades: trades.length, days }),
    equity: { ts: daily.ts, equity },
    daily,
    allocation: { ts: daily.ts, instruments: [...instruments], values },
    trades,
    fills,
    prices,
  };
}
