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
import type { SimFeature } from './types.js';

/**
 * Every feature the gateway simulator runs with. Market data (and orders, which fill against the
 * same quotes) share one quote book, so they see one market and load each instrument once.
 */
export function simFeatures(store: Store): SimFeature[] {
  const quotes = new StoreQuoteBook(store);
  return [contractDetailsFeature(), historicalFeature(), marketDataFeature({ quotes }), ordersFeature({ quotes })];
}
