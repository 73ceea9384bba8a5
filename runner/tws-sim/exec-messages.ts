/**
 * Fill, position and account messages as TWS sends them (tws-protocol.md §2, checked against
 * @stoqey/ib 1.6.10's decoder): execDetails (11), execDetailsEnd (55), commissionReport (59),
 * position (61) / positionEnd (62), accountSummary (63) / accountSummaryEnd (64),
 * updateAccountValue (6), updatePortfolio (7), updateAccountTime (8), accountDownloadEnd (54).
 */
import { NEW_YORK, utcToZonedWall } from '../../lib/core/time-zone.js';
import type { SimContract } from './contract-match.js';
import type { AccountValues, PortfolioLine, PositionState } from './ledger.js';
import type { ExecutionRecord } from './order-book.js';
import { IN, type WireField } from './types.js';

/** execDetails gained pendingPriceRevision at this server version. */
const PENDING_PRICE_REVISION = 178;
/** TWS reports times in the login time zone; the simulator logs in as New York. */
const LOGIN_ZONE = NEW_YORK;
const LOGIN_ZONE_ID = 'US/Eastern';

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `20231203 20:15:20 US/Eastern`, the execution time format of real TWS. */
export function execTime(ms: number): string {
  const d = new Date(utcToZonedWall(LOGIN_ZONE, ms));
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${LOGIN_ZONE_ID}`;
}

/** `HH:mm` for updateAccountTime. */
export function accountTime(ms: number): string {
  const d = new Date(utcToZonedWall(LOGIN_ZONE, ms));
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** conId … lastTradeDateOrContractMonth, strike, right, multiplier as execDetails/position send them. */
function contractHead(c: SimContract): WireField[] {
  const inst = c.instrument;
  return [c.conId, inst.symbol, c.secType === 'STK' ? 'STK' : 'FUT', c.lastTradeDate, 0, '', c.secType === 'STK' ? '' : inst.multiplier];
}

/** Where a fill happened: the stock's listing exchange, the future's exchange. */
function venue(c: SimContract): string {
  return c.primaryExch || (c.instrument.exchange === 'SMART' ? 'SMART' : c.instrument.exchange);
}

/** execDetails (11): reqId -1 when pushed for a new fill. */
export function execDetailsFields(reqId: number, e: ExecutionRecord, serverVersion: number): WireField[] {
  const c = e.contract;
  const f: WireField[] = [
    IN.EXECUTION_DATA,
    reqId,
    e.orderId,
    ...contractHead(c),
    c.exchange,
    c.instrument.currency,
    c.localSymbol,
    c.tradingClass,
    e.execId,
    execTime(e.time),
    e.account,
    venue(c),
    e.side,
    e.shares,
    e.price,
    e.permId,
    e.clientId,
    0, // liquidation
    e.cumQty,
    e.avgPrice,
    e.orderRef,
    '', // evRule
    '', // evMultiplier
    '', // modelCode
    e.liquidity,
  ];
  if (serverVersion >= PENDING_PRICE_REVISION) f.push(0);
  return f;
}

export const execDetailsEndFields = (reqId: number): WireField[] => [IN.EXECUTION_DATA_END, 1, reqId];

/** commissionReport (59): realizedPNL and yield unset (MAX) for an opening execution. */
export function commissionReportFields(e: ExecutionRecord): WireField[] {
  return [IN.COMMISSION_REPORT, 1, e.execId, e.commission, e.currency, e.realizedPnl ?? Number.MAX_VALUE, Number.MAX_VALUE, ''];
}

/** position (61), version 3. */
export function positionFields(p: PositionState): WireField[] {
  const c = p.contract;
  return [IN.POSITION, 3, p.account, ...contractHead(c), venue(c), c.instrument.currency, c.localSymbol, c.tradingClass, p.qty, p.avgCost];
}

export const POSITION_END: WireField[] = [IN.POSITION_END, 1];

/** Money values with cents, as TWS formats them. */
const money = (x: number): string => (Math.round(x * 100) / 100).toFixed(2);

/** Account-summary tags the simulator answers, with their values. */
export const SUMMARY_TAGS = ['NetLiquidation', 'TotalCashValue', 'BuyingPower', 'GrossPositionValue', 'RealizedPnL', 'UnrealizedPnL', 'AvailableFunds', 'ExcessLiquidity', 'EquityWithLoanValue', 'InitMarginReq', 'MaintMarginReq', 'AccountType'] as const;

export function summaryValue(tag: string, v: AccountValues): { value: string; currency: string } | undefined {
  switch (tag) {
    case 'NetLiquidation':
    case 'EquityWithLoanValue':
      return { value: money(v.netLiquidation), currency: 'USD' };
    case 'TotalCashValue':
      return { value: money(v.totalCashValue), currency: 'USD' };
    case 'BuyingPower':
      return { value: money(v.buyingPower), currency: 'USD' };
    case 'GrossPositionValue':
      return { value: money(v.grossPositionValue), currency: 'USD' };
    case 'RealizedPnL':
      return { value: money(v.realizedPnl), currency: 'USD' };
    case 'UnrealizedPnL':
      return { value: money(v.unrealizedPnl), currency: 'USD' };
    case 'AvailableFunds':
      return { value: money(v.availableFunds), currency: 'USD' };
    case 'ExcessLiquidity':
      return { value: money(v.excessLiquidity), currency: 'USD' };
    case 'InitMarginReq':
      return { value: money(v.initMarginReq), currency: 'USD' };
    case 'MaintMarginReq':
      return { value: money(v.maintMarginReq), currency: 'USD' };
    case 'AccountType':
      return { value: 'INDIVIDUAL', currency: '' };
    default:
      return undefined;
  }
}

/**
 * The tags a reqAccountSummary tag list asks for that the simulator knows; `$LEDGER` variants ask
 * for the cash tags.
 */
export function requestedTags(tags: string): string[] {
  const out = new Set<string>();
  for (const t of tags.split(',').map((s) => s.trim())) {
    if (t.startsWith('$LEDGER')) ['TotalCashValue', 'NetLiquidation', 'RealizedPnL', 'UnrealizedPnL'].forEach((x) => out.add(x));
    else if ((SUMMARY_TAGS as readonly string[]).includes(t)) out.add(t);
  }
  return [...out];
}

export const accountSummaryFields = (reqId: number, account: string, tag: string, value: string, currency: string): WireField[] => [IN.ACCOUNT_SUMMARY, 1, reqId, account, tag, value, currency];
export const accountSummaryEndFields = (reqId: number): WireField[] => [IN.ACCOUNT_SUMMARY_END, 1, reqId];

/** updateAccountValue (6) rows for the account window: key, value, currency. */
export function accountValueRows(account: string, v: AccountValues): [string, string, string][] {
  const rows: [string, string, string][] = [
    ['AccountCode', account, ''],
    ['AccountReady', 'true', ''],
    ['AccountType', 'INDIVIDUAL', ''],
    ['Currency', 'USD', 'USD'],
    ['Currency', 'BASE', 'BASE'],
    ['CashBalance', money(v.totalCashValue), 'USD'],
    ['CashBalance', money(v.totalCashValue), 'BASE'],
    ['TotalCashValue', money(v.totalCashValue), 'USD'],
    ['NetLiquidation', money(v.netLiquidation), 'USD'],
    ['NetLiquidationByCurrency', money(v.netLiquidation), 'BASE'],
    ['EquityWithLoanValue', money(v.netLiquidation), 'USD'],
    ['GrossPositionValue', money(v.grossPositionValue), 'USD'],
    ['StockMarketValue', money(v.grossPositionValue), 'BASE'],
    ['BuyingPower', money(v.buyingPower), 'USD'],
    ['AvailableFunds', money(v.availableFunds), 'USD'],
    ['ExcessLiquidity', money(v.excessLiquidity), 'USD'],
    ['InitMarginReq', money(v.initMarginReq), 'USD'],
    ['MaintMarginReq', money(v.maintMarginReq), 'USD'],
    ['RealizedPnL', money(v.realizedPnl), 'USD'],
    ['RealizedPnL', money(v.realizedPnl), 'BASE'],
    ['UnrealizedPnL', money(v.unrealizedPnl), 'USD'],
    ['UnrealizedPnL', money(v.unrealizedPnl), 'BASE'],
  ];
  return rows;
}

export const accountValueFields = (account: string, [key, value, currency]: [string, string, string]): WireField[] => [IN.ACCT_VALUE, 2, key, value, currency, account];

/** updatePortfolio (7), version 8. */
export function portfolioFields(account: string, line: PortfolioLine): WireField[] {
  const p = line.position;
  const c = p.contract;
  return [
    IN.PORTFOLIO_VALUE,
    8,
    ...contractHead(c),
    venue(c), // primaryExch
    c.instrument.currency,
    c.localSymbol,
    c.tradingClass,
    p.qty,
    line.marketPrice,
    line.marketValue,
    p.avgCost,
    line.unrealizedPnl,
    p.realized,
    account,
  ];
}

export const accountTimeFields = (ms: number): WireField[] => [IN.ACCT_UPDATE_TIME, 1, accountTime(ms)];
export const accountDownloadEndFields = (account: string): WireField[] => [IN.ACCT_DOWNLOAD_END, 1, account];
