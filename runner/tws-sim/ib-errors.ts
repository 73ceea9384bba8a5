/**
 * IB error codes and texts the contract and historical features answer with (tws-protocol.md §5).
 * Texts are IB's where the doc records them, so a runner's error matching works unchanged.
 */

export const NO_SECURITY_DEFINITION = { code: 200, text: 'No security definition has been found for the request' } as const;

/** 200 for a description that matches several contracts where one is needed. */
export function ambiguousContract(symbol: string): string {
  return `The contract description specified for ${symbol} is ambiguous`;
}

/** Every HMDS (historical data farm) error is 162 with this prefix. */
export const HMDS_ERROR = 162;
const HMDS = 'Historical Market Data Service error message:';

export const PACING_VIOLATION = `${HMDS}Historical data request pacing violation`;
export const TIME_LENGTH_EXCEEDED = `${HMDS}Time length exceed max.`;

/** e.g. `HMDS query returned no data: SPY@SMART Trades` */
export function noData(what: string): string {
  return `${HMDS}HMDS query returned no data: ${what}`;
}

export function queryCancelled(reqId: number): string {
  return `${HMDS}API historical data query cancelled: ${reqId}`;
}

/** 321: a request field TWS cannot accept. */
export const VALIDATION_ERROR = 321;
export function invalidRequest(cause: string): string {
  return `Error validating request:-'bP' : cause - ${cause}`;
}

/** 10339: CONTFUT historical requests must leave endDateTime empty. */
export const CONTFUT_END_DATE = { code: 10339, text: 'Setting end date/time for continuous future security type is not allowed.' } as const;
