/**
 * Contracts between the TWS simulator's parts: the server core (sockets, handshake, framing,
 * sessions) dispatches each decoded client request to a handler registered for its OUT message
 * id; handlers answer through the connection. Feature modules (contracts, historical data, market
 * data, orders, account) each export a `SimFeature` and never touch sockets.
 */
import { WorkbenchError } from '../../lib/core/errors.js';
import type { Store } from '../../lib/store/store.js';

/** A field value on the wire: numbers via String(n), booleans as 1/0, null/undefined as empty. */
export type WireField = string | number | boolean | null | undefined;

/** Reads one client request's fields in order (after the message id), like the TWS decoder. */
export interface FieldReader {
  /** Empty field -> 0 */
  int(): number;
  /** Empty or 2147483647 -> undefined */
  intOrUndefined(): number | undefined;
  /** Empty -> 0 */
  double(): number;
  /** Empty or Number.MAX_VALUE text -> undefined */
  doubleOrUndefined(): number | undefined;
  string(): string;
  /** "1"/"true" -> true */
  bool(): boolean;
  /** Fields not read yet */
  remaining(): number;
  /** Skips n fields */
  skip(n: number): void;
}

/** One connected API client as a handler sees it. */
export interface ClientConnection {
  readonly id: number;
  readonly clientId: number;
  /** Negotiated server version (193 by default, 176 when the simulator runs as an older TWS) */
  readonly serverVersion: number;
  /** Sends one server -> client message: the fields start with the IN message id */
  send(fields: readonly WireField[]): void;
  /** Sends ERR_MSG (4) for `reqId` (-1 for connection-level info) */
  error(reqId: number, code: number, message: string): void;
  /** True while the socket is open */
  readonly open: boolean;
  /** Called once when the connection closes (cancel its subscriptions) */
  onClose(listener: () => void): void;
  /** Last reqMarketDataType (1 live, 2 frozen, 3 delayed, 4 delayed-frozen); the server starts it at 1 */
  readonly marketDataType?: number;
}

/** The simulated time: wall time or accelerated replay from a chosen start. */
export interface SimClock {
  /** Simulated epoch ms now */
  now(): number;
  /** Replay speed: 1 real time, N accelerated */
  readonly speed: number;
}

/** What every feature can reach. */
export interface SimContext {
  readonly store: Store;
  readonly clock: SimClock;
  /** Account id reported in managedAccounts, executions, positions */
  readonly account: string;
  /** The server's order-id sequence behind nextValidId (the server always provides it) */
  readonly orderIds?: OrderIdSource;
}

/** Hands out nextValidId values; order handlers report ids clients used so later ids stay above them. */
export interface OrderIdSource {
  /** Takes the next valid order id (each call returns a larger one) */
  next(): number;
  /** The id nextValidId would report now, without taking it */
  peek(): number;
  /** Records an id a client used (placeOrder), so ids handed out later are larger */
  observe(orderId: number): void;
}

/**
 * Thrown by a handler to answer with one ERR_MSG for `reqId` (e.g. 200 no security definition);
 * the server sends it and carries on. Any other exception becomes a generic 321/322 with id -1.
 */
export class SimRequestError extends WorkbenchError {
  readonly code = 'TWS_REQUEST';
  constructor(
    readonly reqId: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Handles one client request: `fields` is positioned after the message id. */
export type RequestHandler = (conn: ClientConnection, fields: FieldReader, ctx: SimContext) => void | Promise<void>;

/** A simulator feature: handlers by OUT message id (client -> server ids, see tws-protocol.md). */
export interface SimFeature {
  readonly name: string;
  readonly handlers: ReadonlyMap<number, RequestHandler>;
  /** Called when the server stops (timers, replay loops) */
  close?(): void;
}

/** Client -> server message ids the simulator understands (subset of @stoqey/ib's OUT_MSG_ID). */
export const OUT = {
  REQ_MKT_DATA: 1,
  CANCEL_MKT_DATA: 2,
  PLACE_ORDER: 3,
  CANCEL_ORDER: 4,
  REQ_OPEN_ORDERS: 5,
  REQ_ACCOUNT_DATA: 6,
  REQ_EXECUTIONS: 7,
  REQ_IDS: 8,
  REQ_CONTRACT_DATA: 9,
  REQ_MKT_DEPTH: 10,
  CANCEL_MKT_DEPTH: 11,
  REQ_ALL_OPEN_ORDERS: 16,
  REQ_MANAGED_ACCTS: 17,
  REQ_HISTORICAL_DATA: 20,
  CANCEL_HISTORICAL_DATA: 25,
  REQ_CURRENT_TIME: 49,
  REQ_REAL_TIME_BARS: 50,
  CANCEL_REAL_TIME_BARS: 51,
  REQ_GLOBAL_CANCEL: 58,
  REQ_MARKET_DATA_TYPE: 59,
  REQ_POSITIONS: 61,
  REQ_ACCOUNT_SUMMARY: 62,
  CANCEL_ACCOUNT_SUMMARY: 63,
  CANCEL_POSITIONS: 64,
  START_API: 71,
  REQ_HEAD_TIMESTAMP: 87,
  CANCEL_HEAD_TIMESTAMP: 90,
} as const;

/** Server -> client message ids (IN_MSG_ID). */
export const IN = {
  TICK_PRICE: 1,
  TICK_SIZE: 2,
  ORDER_STATUS: 3,
  ERR_MSG: 4,
  OPEN_ORDER: 5,
  ACCT_VALUE: 6,
  PORTFOLIO_VALUE: 7,
  ACCT_UPDATE_TIME: 8,
  NEXT_VALID_ID: 9,
  CONTRACT_DATA: 10,
  EXECUTION_DATA: 11,
  MARKET_DEPTH: 12,
  MARKET_DEPTH_L2: 13,
  MANAGED_ACCTS: 15,
  HISTORICAL_DATA: 17,
  TICK_GENERIC: 45,
  TICK_STRING: 46,
  CURRENT_TIME: 49,
  REAL_TIME_BARS: 50,
  CONTRACT_DATA_END: 52,
  OPEN_ORDER_END: 53,
  ACCT_DOWNLOAD_END: 54,
  EXECUTION_DATA_END: 55,
  TICK_SNAPSHOT_END: 57,
  MARKET_DATA_TYPE: 58,
  COMMISSION_REPORT: 59,
  POSITION: 61,
  POSITION_END: 62,
  ACCOUNT_SUMMARY: 63,
  ACCOUNT_SUMMARY_END: 64,
  TICK_REQ_PARAMS: 81,
  HEAD_TIMESTAMP: 88,
  HISTORICAL_DATA_UPDATE: 90,
} as const;

/** The replayed top of book of one instrument at a simulated instant (NaN where unknown). */
export interface SimQuote {
  /** Time of the replayed observation (epoch ms) */
  ts: number;
  bid: number;
  ask: number;
  bidSize: number;
  askSize: number;
  last: number;
  lastSize: number;
  /** Volume of the session so far */
  volume: number;
}

/**
 * Replayed quotes by instrument key at the sim clock's time: the market-data feature streams them
 * and the order feature fills against them, so both see the same market.
 */
export interface QuoteBook {
  quote(instrumentKey: string, now: number): Promise<SimQuote | undefined>;
}
