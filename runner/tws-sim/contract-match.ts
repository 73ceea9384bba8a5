/**
 * Client contract descriptions -> the store's instruments, the way TWS resolves them
 * (tws-protocol.md §6): filter on whatever fields are set, hide expired futures unless
 * includeExpired, map CONTFUT to the front month by the simulated clock.
 */
import { FUTURE_ROOTS } from '../../lib/data/futures.js';
import type { InstrumentRow } from '../../lib/store/instruments.js';
import { compactDate, tradingDate } from './trading-hours.js';
import type { FieldReader } from './types.js';

/** The contract block (`C` in tws-protocol.md §2) plus includeExpired. */
export interface ContractQuery {
  conId: number;
  symbol: string;
  secType: string;
  lastTradeDateOrContractMonth: string;
  strike: number;
  right: string;
  multiplier: number | undefined;
  exchange: string;
  primaryExch: string;
  currency: string;
  localSymbol: string;
  tradingClass: string;
  includeExpired: boolean;
}

/** Reads the 12-field contract block: conId … tradingClass (includeExpired follows it on the wire). */
export function readContract(r: FieldReader): Omit<ContractQuery, 'includeExpired'> {
  return {
    conId: r.int(),
    symbol: r.string().trim().toUpperCase(),
    secType: r.string().trim().toUpperCase(),
    lastTradeDateOrContractMonth: r.string().trim(),
    strike: r.double(),
    right: r.string().trim(),
    multiplier: r.doubleOrUndefined(),
    exchange: r.string().trim().toUpperCase(),
    primaryExch: r.string().trim().toUpperCase(),
    currency: r.string().trim().toUpperCase(),
    localSymbol: r.string().trim().toUpperCase(),
    tradingClass: r.string().trim().toUpperCase(),
  };
}

/** One answerable contract: an instrument as TWS would describe it. */
export interface SimContract {
  instrument: InstrumentRow;
  secType: 'STK' | 'FUT' | 'CONTFUT';
  conId: number;
  exchange: string;
  primaryExch: string;
  localSymbol: string;
  tradingClass: string;
  /** YYYYMMDD last trade date for futures, '' for stocks */
  lastTradeDate: string;
  /** YYYYMM for futures, '' for stocks */
  contractMonth: string;
  longName: string;
}

/** The store's con_id, else a stable positive int32 from the instrument key (FNV-1a). */
export function conIdOf(inst: Pick<InstrumentRow, 'key' | 'conId'>): number {
  return inst.conId ?? hashConId(inst.key);
}

export function hashConId(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // keep clear of 0 (unset) and of 2147483647 (the wire's "unset int")
  return ((h >>> 0) % 2_147_483_000) + 1;
}

/** Futures exchanges IB knows under two names. */
const EXCHANGE_ALIASES: Record<string, string> = { GLOBEX: 'CME', ECBOT: 'CBOT' };
const canonicalExchange = (e: string): string => EXCHANGE_ALIASES[e] ?? e;

function isExpired(inst: InstrumentRow, now: number): boolean {
  return inst.secType === 'FUT' && inst.expiry !== undefined && inst.expiry < tradingDate(inst, now);
}

function describe(inst: InstrumentRow, q: Pick<ContractQuery, 'exchange'>, secType: SimContract['secType']): SimContract {
  if (inst.secType === 'STK') {
    return {
      instrument: inst,
      secType: 'STK',
      conId: conIdOf(inst),
      exchange: q.exchange || 'SMART',
      primaryExch: inst.exchange === 'SMART' ? '' : inst.exchange,
      localSymbol: inst.localSymbol ?? inst.symbol,
      tradingClass: inst.symbol,
      lastTradeDate: '',
      contractMonth: '',
      longName: inst.symbol,
    };
  }
  return {
    instrument: inst,
    secType,
    conId: conIdOf(inst),
    exchange: inst.exchange,
    primaryExch: '',
    localSymbol: inst.localSymbol ?? inst.symbol,
    tradingClass: inst.symbol,
    lastTradeDate: inst.expiry ? compactDate(inst.expiry) : '',
    contractMonth: inst.contractMonth ?? '',
    longName: FUTURE_ROOTS[inst.symbol]?.description ?? inst.symbol,
  };
}

/** Fields every secType filters on: symbol, exchange, currency, multiplier, trading class. */
function commonMatch(inst: InstrumentRow, q: ContractQuery): boolean {
  if (q.symbol && inst.symbol.toUpperCase() !== q.symbol) return false;
  if (q.currency && inst.currency.toUpperCase() !== q.currency) return false;
  if (q.tradingClass && inst.symbol.toUpperCase() !== q.tradingClass) return false;
  if (q.multiplier !== undefined && q.multiplier > 0 && inst.secType === 'FUT' && inst.multiplier !== q.multiplier) return false;
  // no options or warrants in the store
  if ((q.right && q.right !== '0' && q.right !== '?') || q.strike > 0) return false;
  if (inst.secType === 'STK') {
    // SMART (or nothing) routes anywhere; an instrument whose primary exchange we do not know matches any
    const known = inst.exchange !== 'SMART';
    if (q.exchange && q.exchange !== 'SMART' && known && inst.exchange !== q.exchange) return false;
    if (q.primaryExch && known && inst.exchange !== q.primaryExch) return false;
    return true;
  }
  return !q.exchange || canonicalExchange(q.exchange) === canonicalExchange(inst.exchange.toUpperCase());
}

function listedMatch(inst: InstrumentRow, q: ContractQuery, now: number): boolean {
  if (!commonMatch(inst, q)) return false;
  if (q.localSymbol && (inst.localSymbol ?? inst.symbol).toUpperCase() !== q.localSymbol) return false;
  if (q.conId > 0 && conIdOf(inst) !== q.conId) return false;
  if (inst.secType === 'FUT') {
    const ltd = q.lastTradeDateOrContractMonth.slice(0, 8);
    if (/^\d{6}$/.test(ltd) && inst.contractMonth !== ltd) return false;
    if (/^\d{8}$/.test(ltd) && (inst.expiry === undefined || compactDate(inst.expiry) !== ltd)) return false;
    if (!q.includeExpired && isExpired(inst, now)) return false;
  }
  return true;
}

/** The nearest non-expired future of a root (CONTFUT's current contract). */
export function frontMonth(instruments: readonly InstrumentRow[], q: ContractQuery, now: number): InstrumentRow | undefined {
  return instruments
    .filter((i) => i.secType === 'FUT' && i.expiry !== undefined && commonMatch(i, q) && !isExpired(i, now))
    .sort((a, b) => a.expiry!.localeCompare(b.expiry!))[0];
}

/**
 * Every contract the description matches, stocks by key and futures by expiry; a CONTFUT
 * answers the front month (its conId) as secType CONTFUT, `FUT+CONTFUT` the listed months then that.
 */
export function matchContracts(instruments: readonly InstrumentRow[], q: ContractQuery, now: number): SimContract[] {
  // a description must name something
  if (!q.symbol && q.conId <= 0 && !q.localSymbol) return [];
  const wantsCont = q.secType === 'CONTFUT' || q.secType === 'FUT+CONTFUT';
  const listedType = q.secType === 'FUT+CONTFUT' ? 'FUT' : q.secType;
  const out: SimContract[] = [];
  if (q.secType !== 'CONTFUT') {
    const listed = instruments
      .filter((i) => (!listedType || i.secType === listedType) && (i.secType === 'STK' || i.secType === 'FUT') && listedMatch(i, q, now))
      .sort((a, b) => (a.expiry ?? '').localeCompare(b.expiry ?? '') || a.key.localeCompare(b.key));
    out.push(...listed.map((i) => describe(i, q, i.secType === 'STK' ? 'STK' : 'FUT')));
  }
  if (wantsCont) {
    const front = frontMonth(instruments, q, now);
    if (front && (q.conId <= 0 || conIdOf(front) === q.conId)) out.push(describe(front, q, 'CONTFUT'));
  }
  return out;
}
