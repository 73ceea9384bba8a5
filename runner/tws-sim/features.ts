/**
 * The simulator's feature modules, in one place so `monger gateway-sim` and tests start the same
 * simulator. Each feature owns the handlers for its OUT message ids (contracts, historical data,
 * market data, orders, account); the server core answers the session-level requests itself.
 */
import type { Store } from '../../lib/store/store.js';
import { contractDetailsFeature } from './contract-details.js';
import { historicalFeature } from './historical.js';
import { marketDataFeature } from './market-data.js';
import { ordersFeature } from './orders.js';
import { StoreQuoteBook } from './replay-quotes.js';
import type { QuoteBook, SimFeature } from './types.js';

export interface SimFeaturesOptions {
  /** Wraps the shared quote book before the features get it (fault injection freezes instruments there) */
  wrapQuotes?: (quotes: StoreQuoteBook) => QuoteBook;
  /** Rejections the orders feature takes before matching (fault injection) */
  orderFaults?: { takeRejection(): string | undefined };
}

/**
 * Every feature the gateway simulator runs with. Market data (and orders, which fill against the
 * same quotes) share one quote book, so they see one market and load each instrument once.
 */
export function simFeatures(store: Store, options: SimFeaturesOptions = {}): SimFeature[] {
  const book = new StoreQuoteBook(store);
  const quotes = options.wrapQuotes?.(book) ?? book;
  return [contractDetailsFeature(), historicalFeature(), marketDataFeature({ quotes }), ordersFeature({ quotes, faults: options.orderFaults })];
}
