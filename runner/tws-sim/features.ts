/**
 * The simulator's feature modules, in one place so `monger gateway-sim` and tests start the same
 * simulator. Each feature owns the handlers for its OUT message ids (contracts, historical data,
 * market data, orders, account); the server core answers the session-level requests itself.
 */
import type { SimFeature } from './types.js';

/** Every feature the gateway simulator runs with (none yet: contracts and historical come next). */
export function simFeatures(): SimFeature[] {
  return [];
}
