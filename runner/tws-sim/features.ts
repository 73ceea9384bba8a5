/**
 * The simulator's feature modules, in one place so `monger gateway-sim` and tests start the same
 * simulator. Each feature owns the handlers for its OUT message ids (contracts, historical data,
 * market data, orders, account); the server core answers the session-level requests itself.
 */
import type { CommissionModel } from '../../lib/backtest/commission.js';
import type { Store } from '../../lib/store/store.js';
import type { FillModel } from './backtest-fills.js';
import { contractDetailsFeature } from './contract-details.js';
import { historicalFeature } from './historical.js';
import { marketDataFeature } from './market-data.js';
import type { RealtimeDelay } from './realtime-bars.js';
import { ordersFeature } from './orders.js';
import { StoreQuoteBook } from './replay-quotes.js';
import type { QuoteBook, SimFeature } from './types.js';

export interface SimFeaturesOptions {
  /** Wraps the shared quote book before the features get it (fault injection freezes instruments there) */
  wrapQuotes?: (quotes: StoreQuoteBook) => QuoteBook;
  /** Rejections the orders feature takes before matching (fault injection) */
  orderFaults?: { takeRejection(): string | undefined };
  /** How orders fill: at the replayed touch ('quote', default) or as the backtest fills them ('backtest') */
  fillModel?: FillModel;
  /** 'backtest' fill model: slippage of market and stop fills in basis points */
  slippageBps?: number;
  /** Default IBKR Pro Fixed */
  commission?: CommissionModel;
  /** When 5 s bars built from minute bars are sent (realtime-bars.ts); default 'source' */
  realtimeDelay?: RealtimeDelay;
  /** Real ms between market-data pushes; 0: only on the feature's `pump()` (lock-step replays) */
  marketDataTickMs?: number;
}

/**
 * Every feature the gateway simulator runs with. Market data (and orders, which fill against the
 * same quotes) share one quote book, so they see one market and load each instrument once.
 */
export function simFeatures(store: Store, options: SimFeaturesOptions = {}): SimFeature[] {
  const book = new StoreQuoteBook(store);
  const quotes = options.wrapQuotes?.(book) ?? book;
  const o = options;
  return [
    contractDetailsFeature(),
    historicalFeature(),
    marketDataFeature({ quotes, realtimeDelay: o.realtimeDelay, tickIntervalMs: o.marketDataTickMs }),
    ordersFeature({ quotes, faults: o.orderFaults, fillModel: o.fillModel, slippageBps: o.slippageBps, commission: o.commission, series: (k) => book.series(k) }),
  ];
}
