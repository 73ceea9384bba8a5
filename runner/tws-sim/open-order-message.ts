/**
 * openOrder (5) and orderStatus (3) as TWS sends them, field by field in the order of
 * @stoqey/ib's `decodeMsg_OPEN_ORDER` / `OrderDecoder` (decoder.js 589-680, 2125-2817) and
 * tws-protocol.md §2: 133 fields for a simple order at v193, 128 at v176 (faProfile kept; no
 * customerAccount … manualOrderIndicator). Server versions from 145 (no version field) up.
 *
 * The simulator's orders never carry the conditional blocks (delta-neutral legs, combo legs,
 * scale extras, hedge, algo params, PEG BENCH, conditions), so their counts are sent as empty/0.
 * Unset values are what real TWS sends: MAX doubles, 2147483647 ints, 0 prices for MKT.
 */
import type { BookOrder, OrderStatus } from './order-book.js';
import { IN, type WireField } from './types.js';
import { UNSET_INT } from './wire.js';

/** MIN_SERVER_VER thresholds the openOrder decoder tests above 145. */
const FA_PROFILE_DESUPPORT = 177;
const CUSTOMER_ACCOUNT = 183;
const PROFESSIONAL_CUSTOMER = 184;
const BOND_ACCRUED_INTEREST = 185;
const INCLUDE_OVERNIGHT = 189;
const CME_TAGGING_FIELDS_IN_OPEN_ORDER = 193;

const MAX = Number.MAX_VALUE;

/** The 11 contract fields of openOrder: conId … tradingClass (no primaryExch). */
export function orderContractFields(o: Readonly<BookOrder>): WireField[] {
  const c = o.contract;
  const inst = c.instrument;
  const isStock = c.secType === 'STK';
  return [
    c.conId,
    inst.symbol,
    isStock ? 'STK' : 'FUT',
    c.lastTradeDate,
    0, // strike
    '', // right
    isStock ? '' : inst.multiplier,
    c.exchange,
    inst.currency,
    c.localSymbol,
    c.tradingClass,
  ];
}

export function openOrderFields(o: Readonly<BookOrder>, serverVersion: number): WireField[] {
  const r = o.request;
  const f: WireField[] = [IN.OPEN_ORDER, o.orderId, ...orderContractFields(o)];
  f.push(
    o.action,
    o.totalQuantity,
    o.orderType,
    o.lmtPrice ?? 0,
    o.auxPrice ?? 0,
    o.tif,
    o.ocaGroup,
    o.account,
    r.openClose,
    r.origin,
    o.orderRef,
    o.clientId,
    o.permId,
    o.outsideRth,
    r.hidden ? 1 : 0,
    0, // discretionaryAmt
    r.goodAfterTime,
    '', // sharesAllocation
    '', // faGroup
    '', // faMethod
    '', // faPercentage
  );
  if (serverVersion < FA_PROFILE_DESUPPORT) f.push(''); // faProfile
  f.push(
    r.modelCode,
    r.goodTillDate,
    '', // rule80A
    '', // percentOffset
    '', // settlingFirm
    0, // shortSaleSlot
    '', // designatedLocation
    -1, // exemptCode
    0, // auctionStrategy
    '', // startingPrice
    '', // stockRefPrice
    '', // delta
    '', // stockRangeLower
    '', // stockRangeUpper
    r.displaySize ?? UNSET_INT,
    r.blockOrder,
    r.sweepToFill,
    r.allOrNone,
    r.minQty ?? UNSET_INT,
    o.ocaType,
    0, // eTradeOnly
    0, // firmQuoteOnly
    '', // nbboPriceCap
    o.parentId,
    r.triggerMethod,
    // volatility block; an empty deltaNeutralOrderType means no delta-neutral fields follow
    '', // volatility
    0, // volatilityType
    '', // deltaNeutralOrderType
    '', // deltaNeutralAuxPrice
    0, // continuousUpdate
    0, // referencePriceType
    r.trailStopPrice ?? '',
    r.trailingPercent ?? '',
    '', // basisPoints
    '', // basisPointsType
    '', // comboLegsDescrip
    0, // comboLegsCount
    0, // orderComboLegsCount
    0, // smartComboRoutingParamsCount
    UNSET_INT, // scaleInitLevelSize
    UNSET_INT, // scaleSubsLevelSize
    '', // scalePriceIncrement: unset, so no scale extras
    '', // hedgeType
    0, // optOutSmartRouting
    '', // clearingAccount
    'IB', // clearingIntent
    0, // notHeld
    0, // deltaNeutralContract
    '', // algoStrategy
    0, // solicited
    0, // whatIf
    o.status,
    MAX, // initMarginBefore
    MAX, // maintMarginBefore
    MAX, // equityWithLoanBefore
    MAX, // initMarginChange
    MAX, // maintMarginChange
    MAX, // equityWithLoanChange
    MAX, // initMarginAfter
    MAX, // maintMarginAfter
    MAX, // equityWithLoanAfter
    o.execCount > 0 ? o.commission : MAX,
    MAX, // minCommission
    MAX, // maxCommission
    o.execCount > 0 ? o.contract.instrument.currency : '',
    '', // warningText
    0, // randomizeSize
    0, // randomizePrice
    0, // conditionsCount
    '', // adjustedOrderType
    '', // triggerPrice
    '', // trailStopPrice
    '', // lmtPriceOffset
    '', // adjustedStopPrice
    '', // adjustedStopLimitPrice
    '', // adjustedTrailingAmount
    0, // adjustableTrailingUnit
    '', // softDollarTier name
    '', // value
    '', // displayName
    r.cashQty ?? '',
    0, // dontUseAutoPriceForHedge
    0, // isOmsContainer
    0, // discretionaryUpToLimitPrice
    0, // usePriceMgmtAlgo
    UNSET_INT, // duration
    UNSET_INT, // postToAts
    0, // autoCancelParent
    UNSET_INT, // minTradeQty
    UNSET_INT, // minCompeteSize
    MAX, // competeAgainstBestOffset
    MAX, // midOffsetAtWhole
    MAX, // midOffsetAtHalf
  );
  if (serverVersion >= CUSTOMER_ACCOUNT) f.push('');
  if (serverVersion >= PROFESSIONAL_CUSTOMER) f.push(0);
  if (serverVersion >= BOND_ACCRUED_INTEREST) f.push('');
  if (serverVersion >= INCLUDE_OVERNIGHT) f.push(0);
  if (serverVersion >= CME_TAGGING_FIELDS_IN_OPEN_ORDER) f.push('', UNSET_INT); // extOperator, manualOrderIndicator
  return f;
}

/** orderStatus (3) at >= 131 (no version field): 11 fields. */
export function orderStatusFields(o: Readonly<BookOrder>, status: OrderStatus = o.status): WireField[] {
  return [
    IN.ORDER_STATUS,
    o.orderId,
    status,
    o.filled,
    Math.max(0, o.totalQuantity - o.filled),
    o.avgFillPrice,
    o.permId,
    o.parentId,
    o.lastFillPrice,
    o.clientId,
    '', // whyHeld
    0, // mktCapPrice
  ];
}

/** openOrderEnd (53) */
export const OPEN_ORDER_END: WireField[] = [IN.OPEN_ORDER_END, 1];
