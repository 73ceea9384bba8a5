/**
 * Market-data requests as the v193 client sends them (tws-protocol.md §2, client -> server):
 * reqMktData, reqMktDepth, reqRealTimeBars and their cancels, plus resolving a request's contract
 * block to one stored instrument with the contract feature's matching (contract-match.ts).
 */
import { listInstruments } from '../../lib/store/instruments.js';
import { matchContracts, readContract, type ContractQuery, type SimContract } from './contract-match.js';
import { ambiguousContract, NO_SECURITY_DEFINITION } from './ib-errors.js';
import { SimRequestError, type FieldReader, type SimContext } from './types.js';

/** Server versions at which these requests gained a field (MIN_SERVER_VER in @stoqey/ib). */
const LINKING = 70;
const REQ_SMART_COMPONENTS = 114;
const SMART_DEPTH = 146;

export type RequestContract = Omit<ContractQuery, 'includeExpired'>;

export interface MktDataRequest {
  reqId: number;
  contract: RequestContract;
  genericTickList: string;
  snapshot: boolean;
  regulatorySnapshot: boolean;
}

/** reqMktData: `11, reqId, C, [BAG legs], deltaNeutral, genericTickList, snapshot, regulatorySnapshot, options`. */
export function readMktData(f: FieldReader, serverVersion: number): MktDataRequest {
  f.int(); // version (11)
  const reqId = f.int();
  const contract = readContract(f);
  if (contract.secType === 'BAG') {
    const legs = f.int();
    f.skip(legs * 4); // conId, ratio, action, exchange
  }
  // delta-neutral contract: conId, delta, price
  if (f.bool()) f.skip(3);
  const genericTickList = f.string();
  const snapshot = f.bool();
  const regulatorySnapshot = serverVersion >= REQ_SMART_COMPONENTS ? f.bool() : false;
  if (serverVersion >= LINKING) f.skip(f.remaining()); // mktDataOptions (TWS ignores them)
  return { reqId, contract, genericTickList, snapshot, regulatorySnapshot };
}

export interface DepthRequest {
  reqId: number;
  contract: RequestContract;
  numRows: number;
  isSmartDepth: boolean;
}

/** reqMktDepth: `5, reqId, C, numRows, isSmartDepth, mktDepthOptions`. */
export function readMktDepth(f: FieldReader, serverVersion: number): DepthRequest {
  f.int(); // version (5)
  const reqId = f.int();
  const contract = readContract(f);
  const numRows = f.int();
  const isSmartDepth = serverVersion >= SMART_DEPTH ? f.bool() : false;
  if (serverVersion >= LINKING) f.skip(f.remaining());
  return { reqId, contract, numRows, isSmartDepth };
}

export interface RealTimeBarsRequest {
  reqId: number;
  contract: RequestContract;
  barSize: number;
  whatToShow: string;
  useRTH: boolean;
}

/** reqRealTimeBars: `3, reqId, C, barSize, whatToShow, useRTH, options`. */
export function readRealTimeBars(f: FieldReader, serverVersion: number): RealTimeBarsRequest {
  f.int(); // version (3)
  const reqId = f.int();
  const contract = readContract(f);
  const barSize = f.int();
  const whatToShow = f.string().trim().toUpperCase();
  const useRTH = f.bool();
  if (serverVersion >= LINKING) f.skip(f.remaining());
  return { reqId, contract, barSize, whatToShow, useRTH };
}

/** cancelMktData / cancelRealTimeBars: `1, reqId`; cancelMktDepth adds isSmartDepth. */
export function readCancel(f: FieldReader): number {
  f.int(); // version
  const reqId = f.int();
  f.skip(f.remaining()); // cancelMktDepth's isSmartDepth
  return reqId;
}

export const MAX_TICKERS = { code: 101, text: 'Max number of tickers has been reached' } as const;
export const maxDepthText = (max: number) => `Max number (${max}) of market depth requests has been reached`;
export const MAX_DEPTH_CODE = 309;
export const DUPLICATE_TICKER = { code: 322, text: "Error processing request:-'bW' : cause - Duplicate ticker id" } as const;
export const noTickerText = (reqId: number) => `Can't find EId with tickerId:${reqId}`;
export const NO_TICKER_CODE = 300;
export const CONTFUT_MARKET_DATA =
  `${NO_SECURITY_DEFINITION.text}: continuous futures (CONTFUT) serve historical data only; ` +
  'request market data for the front-month FUT (its conId is the one reqContractDetails reports for the CONTFUT)';
export const VALIDATION = 321;
export const invalid = (cause: string) => `Error validating request:-'bW' : cause - ${cause}`;

/**
 * The one stored instrument a market-data request names. Throws SimRequestError: 200 when nothing
 * or several contracts match and for CONTFUT (streaming it is not allowed), 321 for combos.
 */
export async function resolveContract(ctx: SimContext, reqId: number, contract: RequestContract): Promise<SimContract> {
  if (contract.secType === 'CONTFUT' || contract.secType === 'FUT+CONTFUT') throw new SimRequestError(reqId, NO_SECURITY_DEFINITION.code, CONTFUT_MARKET_DATA);
  if (contract.secType === 'BAG') throw new SimRequestError(reqId, VALIDATION, invalid('combo (BAG) market data is not simulated'));
  const matches = matchContracts(await listInstruments(ctx.store), { ...contract, includeExpired: false }, ctx.clock.now());
  if (matches.length === 0) throw new SimRequestError(reqId, NO_SECURITY_DEFINITION.code, NO_SECURITY_DEFINITION.text);
  if (matches.length > 1) throw new SimRequestError(reqId, NO_SECURITY_DEFINITION.code, ambiguousContract(contract.symbol || contract.localSymbol));
  return matches[0]!;
}

/** Digits needed to print multiples of `step` exactly (0.01 -> 2, 0.00005 -> 5, 0.25 -> 2). */
export function stepDecimals(step: number): number {
  for (let d = 0; d < 12; d++) {
    const scaled = step * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-9) return d;
  }
  return 12;
}

/** Rounds away binary noise (168.28000000000003 -> 168.28) to `decimals` digits. */
export function roundTo(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}
