/**
 * The simulator's feature modules, in one place so `monger gateway-sim` and tests start the same
 * simulator. Each feature owns the handlers for its OUT message ids (contracts, historical data,
 * market data, orders, account); the server core answers the session-level requests itself.
 */
import { contractDetailsFeature } from './contract-details.js';
import { historicalFeature } from './historical.js';
import type { SimFeature } from './types.js';

/** Every feature the gateway simulator runs with (market data and orders are being added). */
export function simFeatures(): SimFeature[] {
  return [contractDetailsFeature(), historicalFeature()];
}
