/**
 * The resolver's plain data and errors: what is asked (ContractQuery, its canonical cache key),
 * what comes back (ResolvedContract, the JSON-safe form of one contractDetails), error 200 records,
 * and the conversions to stoqey contracts (tws-protocol.md §2 contractDetails, §6 CONTFUT).
 */
import type { Contract, ContractDetails, SecType } from '@stoqey/ib';
import { WorkbenchError } from '../core/errors.js';

/** What the resolver asks about. CONTFUT is for futures discovery only (never cached, never tradable). */
export type ContractSecType = 'STK' | 'FUT' | 'CASH' | 'CONTFUT';

export interface ContractQuery {
  symbol: string;
  secType: ContractSecType;
  exchange?: string;
  currency?: string;
  /** YYYYMM (contract month) or YYYYMMDD (last trade date) */
  lastTradeDateOrContractMonth?: string;
  localSymbol?: string;
  conId?: number;
  /** Futures only: also list expired months (tws-protocol.md §6) */
  includeExpired?: boolean;
}

/** One contractDetails answer as plain, JSON-safe data. */
export interface ResolvedContract {
  conId: number;
  symbol: string;
  /** STK, FUT, CASH, or CONTFUT (discovery only) */
  secType: string;
  localSymbol: string;
  tradingClass: string;
  exchange: string;
  primaryExch: string;
  currency: string;
  /** Contract multiplier; 1 when TWS sends none (stocks, cash) */
  multiplier: number;
  minTick: number;
  /** YYYYMMDD ('' for stocks and cash): the first 8 characters of the expiry field (§2 caveat) */
  lastTradeDate: string;
  /** YYYYMM ('' for stocks and cash) */
  contractMonth: string;
  /** YYYYMMDD or '' */
  realExpirationDate: string;
  longName: string;
  timeZoneId: string;
  /** `YYYYMMDD:HHMM-YYYYMMDD:HHMM;YYYYMMDD:CLOSED;…` in timeZoneId */
  tradingHours: string;
  liquidHours: string;
  validExchanges: string;
  orderTypes: string;
  marketRuleIds: string;
  underConId: number;
}

/** A query TWS answered with error 200 (or with no contract at all). */
export interface InvalidSymbolRecord {
  key: string;
  symbol: string;
  secType: string;
  /** 200, or undefined when contractDetailsEnd came without any contract */
  code: number | undefined;
  reason: string;
  /** Epoch ms from the injected clock */
  recordedAt: number;
}

export type ContractResolveErrorCode =
  | 'IB_CONTRACT_TIMEOUT'
  | 'IB_CONTRACT_DISCONNECTED'
  | 'IB_CONTRACT_REQUEST_FAILED'
  | 'IB_CONTRACT_AMBIGUOUS'
  | 'IB_CONTRACT_CLOSED'
  | 'IB_CONTFUT_NOT_TRADABLE';

/** A resolution that could not complete (timeouts, connection lost, an IB error other than 200). */
export class ContractResolveError extends WorkbenchError {
  readonly code: ContractResolveErrorCode;
  readonly key: string | undefined;
  /** The IB error code, when TWS answered with one */
  readonly ibCode: number | undefined;
  constructor(code: ContractResolveErrorCode, message: string, details: { key?: string; ibCode?: number; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.key = details.key;
    this.ibCode = details.ibCode;
  }
}

/** TWS knows no contract for the query (error 200), raised by `resolveOne` only. */
export class ContractNotFoundError extends WorkbenchError {
  readonly code = 'IB_CONTRACT_NOT_FOUND';
  constructor(
    readonly query: ContractQuery,
    readonly reason: string,
  ) {
    super(`no contract for ${describeQuery(query)}: ${reason}`);
  }
}

/** The canonical cache key of a query: upper-cased, trimmed, fixed field order. */
export function contractQueryKey(q: ContractQuery): string {
  const norm = (s: string | undefined) => (s ?? '').trim().toUpperCase();
  return [
    norm(q.secType),
    norm(q.symbol),
    norm(q.exchange),
    norm(q.currency),
    (q.lastTradeDateOrContractMonth ?? '').trim(),
    norm(q.localSymbol),
    q.conId && q.conId > 0 ? String(q.conId) : '',
    q.includeExpired ? 'expired' : '',
  ].join('|');
}

export function describeQuery(q: ContractQuery): string {
  const parts = [q.secType, q.symbol];
  if (q.lastTradeDateOrContractMonth) parts.push(q.lastTradeDateOrContractMonth);
  if (q.localSymbol) parts.push(`local ${q.localSymbol}`);
  if (q.conId) parts.push(`conId ${q.conId}`);
  if (q.exchange) parts.push(`@${q.exchange}`);
  if (q.currency) parts.push(q.currency);
  return parts.join(' ');
}

/** A stoqey contract for market data or orders; refuses CONTFUT (tws-protocol.md §6). */
export function toIbContract(c: ResolvedContract): Contract {
  if (c.secType === 'CONTFUT') {
    throw new ContractResolveError('IB_CONTFUT_NOT_TRADABLE', `${c.symbol} CONTFUT cannot be used for real-time data or orders; resolve its front month (conId ${c.conId}) as FUT`);
  }
  const contract: Contract = { conId: c.conId, symbol: c.symbol, secType: c.secType as SecType, exchange: c.exchange, currency: c.currency, localSymbol: c.localSymbol };
  if (c.secType === 'FUT') contract.lastTradeDateOrContractMonth = c.lastTradeDate;
  if (c.primaryExch) contract.primaryExch = c.primaryExch;
  return contract;
}

/** The plain-data form of one stoqey ContractDetails. */
export function toResolvedContract(d: ContractDetails): ResolvedContract {
  const c = d.contract;
  const expiry = (c.lastTradeDate || c.lastTradeDateOrContractMonth || '').trim();
  const multiplier = Number(c.multiplier);
  return {
    conId: c.conId ?? 0,
    symbol: c.symbol ?? '',
    secType: String(c.secType ?? ''),
    localSymbol: c.localSymbol ?? '',
    tradingClass: c.tradingClass ?? '',
    exchange: c.exchange ?? '',
    primaryExch: c.primaryExch ?? '',
    currency: c.currency ?? '',
    multiplier: Number.isFinite(multiplier) && multiplier > 0 ? multiplier : 1,
    minTick: d.minTick ?? 0,
    lastTradeDate: /^\d{8}/.test(expiry) ? expiry.slice(0, 8) : '',
    contractMonth: d.contractMonth || (/^\d{6}/.test(expiry) ? expiry.slice(0, 6) : ''),
    realExpirationDate: d.realExpirationDate ?? '',
    longName: d.longName ?? '',
    timeZoneId: d.timeZoneId ?? '',
    tradingHours: d.tradingHours ?? '',
    liquidHours: d.liquidHours ?? '',
    validExchanges: d.validExchanges ?? '',
    orderTypes: d.orderTypes ?? '',
    marketRuleIds: d.marketRuleIds ?? '',
    underConId: d.underConId ?? 0,
  };
}
