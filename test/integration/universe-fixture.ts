/**
 * A replay day for signal-driven universes (runner-universe.test.ts, the `universe` bench): a DuckDB
 * store file holding the real SPY/IBM/BAC/AIG minute bars of 2013-10-08 (data/lean), `synthetic`
 * stocks SYN0000.. with seeded random-walk minute bars of the same session (served by the simulator
 * like the real ones: contract details from the store's instruments, history and streams from its
 * bars) and a `signals` table: every ticker gets signals at seeded times through the day, plus
 * signals for tickers nobody serves (invalid: IB answers 200).
 *
 * The runner config validates through validateRunnerConfig, as a runner.yaml would; the simulator's
 * features are built as simFeatures builds them, with historical pacing off and `maxLines` equal to
 * the runner's line budget (one line more and the simulator answers 101).
 */
import { insertSignals } from '../../lib/signals/duckdb-provider.js';
import type { Signal } from '../../lib/signals/signal.js';
import { importFiles } from '../../lib/ingest/import-files.js';
import { stockSpec } from '../../lib/data/instrument.js';
import type { BarSeries } from '../../lib/data/bar-series.js';
import { writeBars } from '../../lib/store/bar-writer.js';
import { upsertInstruments } from '../../lib/store/instruments.js';
import type { Store } from '../../lib/store/store.js';
import { validateRunnerConfig, type RunnerConfig } from '../../runner/live/config.js';
import { contractDetailsFeature } from '../../runner/tws-sim/contract-details.js';
import { historicalFeature } from '../../runner/tws-sim/historical.js';
import { marketDataFeature, type MarketDataFeature } from '../../runner/tws-sim/market-data.js';
import { ordersFeature } from '../../runner/tws-sim/orders.js';
import { StoreQuoteBook } from '../../runner/tws-sim/replay-quotes.js';
import type { SimFeature } from '../../runner/tws-sim/types.js';

export const REAL = ['SPY', 'IBM', 'BAC', 'AIG'] as const;
export const DAY = '2013-10-08';
/** 09:30 and 16:00 New York (EDT) */
export const OPEN = Date.UTC(2013, 9, 8, 13, 30);
export const CLOSE = Date.UTC(2013, 9, 8, 20, 0);
const MINUTE = 60_000;

export const syntheticSymbol = (i: number) => `SYN${String(i).padStart(4, '0')}`;

/** Real minute bars + `synthetic` random-walk stocks of the same session (warm-up from 13:00 UTC) */
export async function seedStore(store: Store, synthetic: number, seed = 11): Promise<void> {
  await importFiles(store, REAL.map((s) => `data/lean/equity/usa/minute/${s.toLowerCase()}/20131008_${s.toLowerCase()}_minute_trade.csv`));
  let x = seed >>> 0;
  const rand = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const from = OPEN - 30 * MINUTE;
  const n = (CLOSE - from) / MINUTE;
  const series: BarSeries[] = [];
  for (let k = 0; k < synthetic; k++) {
    const c = { length: n, ts: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n) };
    let p = 20 + (k % 200);
    for (let i = 0; i < n; i++) {
      const o = p;
      p = Math.max(1, p * (1 + (rand() - 0.5) * 0.004));
      c.ts[i] = from + i * MINUTE;
      c.open[i] = o;
      c.close[i] = p;
      c.high[i] = Math.max(o, p) * (1 + rand() * 0.001);
      c.low[i] = Math.min(o, p) * (1 - rand() * 0.001);
      c.volume[i] = 1000 + Math.floor(rand() * 1000);
    }
    series.push({ ...c, instrumentKey: syntheticSymbol(k), interval: '1m', kind: 'trade', file: 'universe-fixture' });
  }
  if (synthetic === 0) return;
  const ids = await upsertInstruments(store, series.map((s) => stockSpec(s.instrumentKey)), 'universe-fixture');
  await writeBars(store, series, ids, 'sim', 0);
}

export interface SignalPlan {
  /** Tickers with signals (real first, then synthetic), each 1..3 signals at seeded minutes */
  symbols: readonly string[];
  /** Tickers nobody serves (resolution: invalid) */
  invalid?: readonly string[];
  /** First and last signal time */
  from: number;
  to: number;
  /** Signals per ticker: 1..maxPerSymbol (default 3) */
  maxPerSymbol?: number;
  /** Share of signals strong enough to trade (|value| above the threshold 0.5) */
  tradeShare?: number;
  seed?: number;
}

/** Seeded signals on whole minutes + 1 s (after the minute's bar), published at their time */
export function planSignals(p: SignalPlan): Signal[] {
  let x = (p.seed ?? 5) >>> 0;
  const rand = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const minutes = Math.floor((p.to - p.from) / MINUTE);
  const out: Signal[] = [];
  const all = [...p.symbols, ...(p.invalid ?? [])];
  for (const symbol of all) {
    const count = 1 + Math.floor(rand() * (p.maxPerSymbol ?? 3));
    const at = new Set<number>();
    for (let i = 0; i < count; i++) at.add(p.from + Math.floor(rand() * minutes) * MINUTE + 1000);
    for (const ts of at) {
      const strong = rand() < (p.tradeShare ?? 0.05);
      const sign = rand() < 0.5 ? -1 : 1;
      out.push({ ts, availableAt: ts, symbol, value: sign * (strong ? 0.6 + rand() * 0.4 : rand() * 0.4), source: 'universe-fixture' });
    }
  }
  return out;
}

export async function seedSignals(store: Store, signals: readonly Signal[]): Promise<void> {
  await insertSignals(store, signals);
}

export interface UniverseConfigOptions {
  db: string;
  journal: string;
  lineBudget: number;
  speed: number;
  mode?: 'dynamic' | 'mixed' | 'static';
  symbols?: string[];
  retireAfterMinutes?: number;
  control?: boolean;
  from?: string;
  to?: string;
  warmup?: number;
  pollSeconds?: number;
}


/** A signal-trader runner config over the fixture store, validated as a runner.yaml would be */
export function universeConfig(o: UniverseConfigOptions): RunnerConfig {
  return validateRunnerConfig(
    {
      mode: 'replay',
      ib: { clientId: 7, account: 'DU1234567' },
      strategy: { name: 'signal-trader', interval: '1m', warmup: o.warmup ?? 2 },
      universe: { mode: o.mode ?? 'dynamic', ...(o.symbols ? { symbols: o.symbols } : {}), ...(o.retireAfterMinutes !== undefined ? { retireAfterMinutes: o.retireAfterMinutes } : {}) },
      // one unit per strong signal; positions leave after 20 minutes (max hold), then the trader may retire
      trading: { defaults: { unitSize: 10, maxPosition: 10, tradeThreshold: 0.5, spread: 'best', maxHoldMinutes: 20 } },
      account: { maxLossPerTrade: 10_000, maxCumulativeLoss: 100_000 },
      risk: { maxOrderQuantity: 100, maxOrderNotional: 100_000, maxPositionNotionalPerSymbol: 100_000, maxGrossLeverage: 2, maxOpenOrders: 200, drawdownHaltPct: 50 },
      session: { noNewEntriesMinutesBeforeClose: 15, flattenMinutesBeforeClose: 10 },
      data: { lineBudget: o.lineBudget, staleSeconds: 600, ...(o.lineBudget > 100 ? { allowMoreLines: true } : {}) },
      journal: { path: o.journal },
      signals: { provider: 'duckdb', pollSeconds: o.pollSeconds ?? 30, lateSeconds: 0 },
      ...(o.control ? { control: { enabled: true, port: 0, token: 'test-token-0123456789abcdef' } } : {}),
      replay: { db: o.db, from: o.from ?? `${DAY}T13:25:00Z`, to: o.to ?? `${DAY}T20:00:00Z`, speed: o.speed },
    },
    'universe-fixture',
  );
}

/** simFeatures' features with IB's historical pacing off and the simulator's line limit at `maxLines` */
export function universeSimFeatures(store: Store, maxLines: number): { features: SimFeature[]; marketData: MarketDataFeature } {
  const quotes = new StoreQuoteBook(store);
  const marketData = marketDataFeature({ quotes, maxLines });
  return { features: [contractDetailsFeature(), historicalFeature({ pacing: false }), marketData, ordersFeature({ quotes, series: (k) => quotes.series(k) })], marketData };
}

/** IB pacing opened for accelerated replays of hundreds of tickers (RunnerOptions.pacing) */
export const UNPACED = { session: { messagesPerSecond: 100_000, messageBurst: 100_000, maxQueuedRequests: 1_000_000, clientMaxReqPerSec: 100_000 }, simulatorMaxMessagesPerSecond: 1_000_000 };
