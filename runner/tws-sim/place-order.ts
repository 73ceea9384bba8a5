/**
 * PLACE_ORDER (3) as the real @stoqey/ib 1.6.10 encoder writes it (`encoder.js` placeOrder,
 * lines 504-1225; tws-protocol.md §2): the parser walks the fields in the encoder's order with the
 * same server-version thresholds and the same conditional blocks (BAG legs, delta-neutral, scale,
 * hedge, algo, PEG BENCH, conditions, PEG BEST/MID), so it never drifts. Every field must be
 * consumed exactly; a message of any other length is a protocol error, not a silently wrong order.
 *
 * One wire ambiguity exists: the encoder sends the 7 extra scale fields whenever
 * `scalePriceIncrement !== undefined`, but writes MAX_VALUE (and null) as an empty field. An empty
 * scalePriceIncrement therefore normally means "no extras"; when the message length only fits
 * with the extras, they are read.
 */
import type { ContractQuery } from './contract-match.js';
import type { FieldReader } from './types.js';
import { Fields, WireProtocolError } from './wire.js';

/** MIN_SERVER_VER thresholds the placeOrder encoder tests (min-server-version.js). */
const V = {
  PEGGED_TO_BENCHMARK: 102,
  MODELS_SUPPORT: 103,
  EXT_OPERATOR: 105,
  SOFT_DOLLAR_TIER: 106,
  CASH_QTY: 111,
  DECISION_MAKER: 138,
  MIFID_EXECUTION: 139,
  AUTO_PRICE_FOR_HEDGE: 141,
  ORDER_CONTAINER: 145,
  D_PEG_ORDERS: 148,
  PRICE_MGMT_ALGO: 151,
  DURATION: 158,
  POST_TO_ATS: 160,
  AUTO_CANCEL_PARENT: 162,
  ADVANCED_ORDER_REJECT: 166,
  MANUAL_ORDER_TIME: 169,
  PEGBEST_PEGMID_OFFSETS: 170,
  FA_PROFILE_DESUPPORT: 177,
  CUSTOMER_ACCOUNT: 183,
  PROFESSIONAL_CUSTOMER: 184,
  RFQ_FIELDS: 187,
  INCLUDE_OVERNIGHT: 189,
  UNDO_RFQ_FIELDS: 190,
  CME_TAGGING_FIELDS: 192,
} as const;

/** Lowest server version this parser walks (the simulator's handshake floor). */
export const MIN_PLACE_ORDER_VERSION = 100;

/** OrderConditionType ids and the fields each writes after type and conjunction. */
const CONDITION_FIELDS: Record<number, number> = {
  1: 5, // Price: isMore, value, conId, exchange, triggerMethod
  3: 2, // Time: isMore, value
  4: 2, // Margin: isMore, value
  5: 3, // Execution: secType, exchange, symbol
  6: 4, // Volume: isMore, value, conId, exchange
  7: 4, // PercentChange: isMore, value, conId, exchange
};

/** The order's contract block: `C` of tws-protocol.md §2 plus secIdType/secId. */
export interface OrderContract extends Omit<ContractQuery, 'includeExpired'> {
  secIdType: string;
  secId: string;
}

/** One placeOrder request: the fields the simulator acts on, plus flags it refuses. */
export interface SimOrderRequest {
  orderId: number;
  contract: OrderContract;
  /** Upper-cased as sent: BUY or SELL are accepted (the book rejects anything else) */
  action: string;
  totalQuantity: number;
  /** Upper-cased, trimmed: MKT, LMT, STP, STP LMT are simulated */
  orderType: string;
  lmtPrice: number | undefined;
  auxPrice: number | undefined;
  /** Upper-cased; empty means DAY */
  tif: string;
  ocaGroup: string;
  ocaType: number;
  account: string;
  openClose: string;
  origin: number;
  orderRef: string;
  transmit: boolean;
  parentId: number;
  blockOrder: boolean;
  sweepToFill: boolean;
  displaySize: number | undefined;
  triggerMethod: number;
  outsideRth: boolean;
  hidden: boolean;
  goodAfterTime: string;
  goodTillDate: string;
  allOrNone: boolean;
  minQty: number | undefined;
  trailStopPrice: number | undefined;
  trailingPercent: number | undefined;
  whatIf: boolean;
  algoStrategy: string;
  /** BAG combo legs sent (the simulator does not trade combos) */
  comboLegCount: number;
  conditionCount: number;
  cashQty: number | undefined;
  modelCode: string;
}

/**
 * Reads one placeOrder request (positioned after the message id) at `serverVersion`, consuming
 * every field. Throws WireProtocolError when the fields do not form one placeOrder.
 */
export function readPlaceOrder(reader: FieldReader, serverVersion: number): SimOrderRequest {
  if (serverVersion < MIN_PLACE_ORDER_VERSION) throw new WireProtocolError(`placeOrder below server version ${MIN_PLACE_ORDER_VERSION} is not supported`);
  const raw: string[] = [];
  while (reader.remaining() > 0) raw.push(reader.string());
  const first = walk(raw, serverVersion, false);
  if (first.order && first.left === 0) return first.order;
  if (first.scaleAmbiguous) {
    const second = walk(raw, serverVersion, true);
    if (second.order && second.left === 0) return second.order;
  }
  const why = first.error ?? `${first.left} fields left over`;
  throw new WireProtocolError(`placeOrder: ${raw.length} fields do not form one order at server version ${serverVersion} (${why})`);
}

interface Walked {
  order?: SimOrderRequest;
  /** Fields left after the walk */
  left: number;
  /** scalePriceIncrement was empty, so the 7 scale extras may or may not follow */
  scaleAmbiguous: boolean;
  error?: string;
}

function walk(raw: readonly string[], v: number, forceScaleExtras: boolean): Walked {
  const r = new Fields(raw);
  const seen = { scaleAmbiguous: false };
  try {
    const order = walkFields(r, v, forceScaleExtras, seen);
    return { order, left: r.remaining(), scaleAmbiguous: seen.scaleAmbiguous };
  } catch (e) {
    if (!(e instanceof WireProtocolError)) throw e;
    return { left: -1, scaleAmbiguous: seen.scaleAmbiguous, error: e.message };
  }
}

/** A repeat count from the wire (legs, params, conditions). */
function count(r: Fields, what: string): number {
  const n = r.int();
  if (n < 0 || n > 1000) throw new WireProtocolError(`bad ${what} count ${n}`);
  return n;
}

function walkFields(r: Fields, v: number, forceScaleExtras: boolean, seen: { scaleAmbiguous: boolean }): SimOrderRequest {
  if (v < V.ORDER_CONTAINER) r.int(); // version (27/45)
  const orderId = r.int();
  const conId = r.int();
  const symbol = r.string();
  const secType = r.string();
  const lastTradeDateOrContractMonth = r.string();
  const strike = r.double();
  const right = r.string();
  const multiplier = r.doubleOrUndefined();
  const exchange = r.string();
  const primaryExch = r.string();
  const currency = r.string();
  const localSymbol = r.string();
  const tradingClass = r.string();
  const secIdType = r.string();
  const secId = r.string();
  const contract: OrderContract = {
    conId,
    symbol: symbol.trim().toUpperCase(),
    secType: secType.trim().toUpperCase(),
    lastTradeDateOrContractMonth: lastTradeDateOrContractMonth.trim(),
    strike,
    right: right.trim(),
    multiplier,
    exchange: exchange.trim().toUpperCase(),
    primaryExch: primaryExch.trim().toUpperCase(),
    currency: currency.trim().toUpperCase(),
    localSymbol: localSymbol.trim().toUpperCase(),
    tradingClass: tradingClass.trim().toUpperCase(),
    secIdType,
    secId,
  };

  const action = r.string().trim().toUpperCase();
  const totalQuantity = r.double();
  const rawOrderType = r.string();
  const lmtPrice = r.doubleOrUndefined();
  const auxPrice = r.doubleOrUndefined();
  const tif = r.string().trim().toUpperCase();
  const ocaGroup = r.string();
  const account = r.string();
  const openClose = r.string();
  const origin = r.int();
  const orderRef = r.string();
  const transmit = r.bool();
  const parentId = r.int();
  const blockOrder = r.bool();
  const sweepToFill = r.bool();
  const displaySize = r.intOrUndefined();
  const triggerMethod = r.int();
  const outsideRth = r.bool();
  const hidden = r.bool();

  // BAG: combo legs (8 fields each), order combo leg prices, smart combo routing params
  let comboLegCount = 0;
  if (secType.toUpperCase() === 'BAG') {
    comboLegCount = count(r, 'combo leg');
    r.skip(comboLegCount * 8);
    r.skip(count(r, 'order combo leg')); // prices
    r.skip(count(r, 'smart combo routing param') * 2); // tag/value
  }

  r.skip(1); // deprecated sharesAllocation
  r.skip(1); // discretionaryAmt
  const goodAfterTime = r.string();
  const goodTillDate = r.string();
  r.skip(3); // faGroup, faMethod, faPercentage
  if (v < V.FA_PROFILE_DESUPPORT) r.skip(1); // faProfile
  const modelCode = v >= V.MODELS_SUPPORT ? r.string() : '';
  r.skip(2); // shortSaleSlot, designatedLocation
  r.skip(1); // exemptCode
  const ocaType = r.int();
  r.skip(2); // rule80A, settlingFirm
  const allOrNone = r.bool();
  const minQty = r.intOrUndefined();
  r.skip(1); // percentOffset
  r.skip(3); // eTradeOnly, firmQuoteOnly, nbboPriceCap
  r.skip(6); // auctionStrategy, startingPrice, stockRefPrice, delta, stockRangeLower, stockRangeUpper
  r.skip(1); // overridePercentageConstraints

  // volatility orders; a delta-neutral order type adds 4 + 4 fields
  r.skip(2); // volatility, volatilityType
  const deltaNeutralOrderType = r.string();
  r.skip(1); // deltaNeutralAuxPrice
  if (deltaNeutralOrderType !== '') r.skip(8);
  r.skip(2); // continuousUpdate, referencePriceType

  const trailStopPrice = r.doubleOrUndefined();
  const trailingPercent = r.doubleOrUndefined();

  r.skip(2); // scaleInitLevelSize, scaleSubsLevelSize
  const scalePriceIncrement = r.string();
  seen.scaleAmbiguous = scalePriceIncrement === '' && !forceScaleExtras;
  if (scalePriceIncrement !== '' || forceScaleExtras) r.skip(7);
  r.skip(3); // scaleTable, activeStartTime, activeStopTime

  if (r.string() !== '') r.skip(1); // hedgeType -> hedgeParam
  r.skip(1); // optOutSmartRouting
  r.skip(2); // clearingAccount, clearingIntent
  r.skip(1); // notHeld
  if (r.bool()) r.skip(3); // deltaNeutralContract: conId, delta, price
  const algoStrategy = r.string();
  if (algoStrategy !== '') r.skip(count(r, 'algo param') * 2);
  r.skip(1); // algoId
  const whatIf = r.bool();
  r.skip(1); // orderMiscOptions
  r.skip(1); // solicited
  r.skip(2); // randomizeSize, randomizePrice

  let conditionCount = 0;
  if (v >= V.PEGGED_TO_BENCHMARK) {
    if (rawOrderType === 'PEG BENCH' || rawOrderType === 'PEGBENCH') r.skip(5);
    conditionCount = count(r, 'condition');
    if (conditionCount > 0) {
      for (let i = 0; i < conditionCount; i++) {
        const type = r.int();
        r.skip(1); // conjunctionConnection
        r.skip(CONDITION_FIELDS[type] ?? 0);
      }
      r.skip(2); // conditionsIgnoreRth, conditionsCancelOrder
    }
    r.skip(7); // adjustedOrderType … adjustableTrailingUnit
  }
  if (v >= V.EXT_OPERATOR) r.skip(1);
  if (v >= V.SOFT_DOLLAR_TIER) r.skip(2);
  const cashQty = v >= V.CASH_QTY ? r.doubleOrUndefined() : undefined;
  if (v >= V.DECISION_MAKER) r.skip(2);
  if (v >= V.MIFID_EXECUTION) r.skip(2);
  if (v >= V.AUTO_PRICE_FOR_HEDGE) r.skip(1);
  if (v >= V.ORDER_CONTAINER) r.skip(1); // isOmsContainer
  if (v >= V.D_PEG_ORDERS) r.skip(1);
  if (v >= V.PRICE_MGMT_ALGO) r.skip(1);
  if (v >= V.DURATION) r.skip(1);
  if (v >= V.POST_TO_ATS) r.skip(1);
  if (v >= V.AUTO_CANCEL_PARENT) r.skip(1);
  if (v >= V.ADVANCED_ORDER_REJECT) r.skip(1);
  if (v >= V.MANUAL_ORDER_TIME) r.skip(1);
  if (v >= V.PEGBEST_PEGMID_OFFSETS) {
    // the encoder compares the contract's exchange and order type exactly as given
    if (exchange === 'IBKRATS') r.skip(1); // minTradeQty
    let midOffsets = false;
    if (rawOrderType === 'PEG BEST' || rawOrderType === 'PEGBEST') {
      r.skip(1); // minCompeteSize
      midOffsets = r.string() === 'Infinity'; // competeAgainstBestOffset: up to mid
    } else if (rawOrderType === 'PEG MID' || rawOrderType === 'PEGMID') {
      midOffsets = true;
    }
    if (midOffsets) r.skip(2);
  }
  if (v >= V.CUSTOMER_ACCOUNT) r.skip(1);
  if (v >= V.PROFESSIONAL_CUSTOMER) r.skip(1);
  if (v >= V.RFQ_FIELDS && v < V.UNDO_RFQ_FIELDS) r.skip(2);
  if (v >= V.INCLUDE_OVERNIGHT) r.skip(1);
  if (v >= V.CME_TAGGING_FIELDS) r.skip(1); // manualOrderIndicator

  return {
    orderId,
    contract,
    action,
    totalQuantity,
    orderType: rawOrderType.trim().toUpperCase(),
    lmtPrice,
    auxPrice,
    tif,
    ocaGroup,
    ocaType,
    account,
    openClose,
    origin,
    orderRef,
    transmit,
    parentId,
    blockOrder,
    sweepToFill,
    displaySize,
    triggerMethod,
    outsideRth,
    hidden,
    goodAfterTime,
    goodTillDate,
    allOrNone,
    minQty,
    trailStopPrice,
    trailingPercent,
    whatIf,
    algoStrategy,
    comboLegCount,
    conditionCount,
    cashQty,
    modelCode,
  };
}

/** CANCEL_ORDER (4): the order id (and nothing the simulator uses besides), per server version. */
export function readCancelOrder(r: FieldReader, v: number): number {
  if (v < V.CME_TAGGING_FIELDS) r.int(); // version 1
  const orderId = r.int();
  if (v >= V.MANUAL_ORDER_TIME) r.skip(1); // manualOrderCancelTime
  if (v >= V.RFQ_FIELDS && v < V.UNDO_RFQ_FIELDS) r.skip(3);
  if (v >= V.CME_TAGGING_FIELDS) r.skip(2); // extOperator, manualOrderIndicator
  return orderId;
}

/** REQ_GLOBAL_CANCEL (58): a version below 192, extOperator and manualOrderIndicator from it. */
export function readGlobalCancel(r: FieldReader, v: number): void {
  if (v < V.CME_TAGGING_FIELDS) r.int();
  else r.skip(2);
}
