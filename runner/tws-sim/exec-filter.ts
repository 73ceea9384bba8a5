/**
 * REQ_EXECUTIONS (7): `7, 3, reqId, clientId, acctCode, time, symbol, secType, exchange, side`
 * (tws-protocol.md §2) and the ExecutionFilter semantics: every set field narrows, empty/0 ones
 * do not. `time` is `yyyymmdd-hh:mm[:ss]` (or with a space and an optional zone) in the TWS login
 * zone (New York) and keeps executions at or after it.
 */
import { NEW_YORK, zonedWallToUtc } from '../../lib/core/time-zone.js';
import type { ExecutionRecord } from './order-book.js';
import type { FieldReader } from './types.js';

export interface ExecFilter {
  reqId: number;
  clientId: number;
  acctCode: string;
  /** Epoch ms, or undefined when unset or unreadable */
  since: number | undefined;
  symbol: string;
  secType: string;
  exchange: string;
  side: string;
}

export function readExecFilter(r: FieldReader): ExecFilter {
  r.int(); // version 3
  const reqId = r.int();
  return {
    reqId,
    clientId: r.int(),
    acctCode: r.string().trim(),
    since: parseFilterTime(r.string()),
    symbol: r.string().trim().toUpperCase(),
    secType: r.string().trim().toUpperCase(),
    exchange: r.string().trim().toUpperCase(),
    side: r.string().trim().toUpperCase(),
  };
}

const ZONE_ALIASES: Record<string, string> = { UTC: 'UTC', GMT: 'UTC', EST: NEW_YORK, EDT: NEW_YORK, ET: NEW_YORK };

/** `20260102-09:30:00`, `20260102 09:30`, `20260102 09:30:00 US/Eastern` -> epoch ms. */
export function parseFilterTime(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})[- ]+(\d{2}):(\d{2})(?::(\d{2}))?(?:\s+(\S+))?$/.exec(text.trim());
  if (!m) return undefined;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  const zone = m[7] ? (ZONE_ALIASES[m[7].toUpperCase()] ?? m[7]) : NEW_YORK;
  try {
    return zonedWallToUtc(zone, wall);
  } catch {
    return zonedWallToUtc(NEW_YORK, wall);
  }
}

const SIDES: Record<string, string> = { BUY: 'BOT', BOT: 'BOT', SELL: 'SLD', SLD: 'SLD' };

export function matchesFilter(e: ExecutionRecord, f: ExecFilter): boolean {
  if (f.clientId > 0 && e.clientId !== f.clientId) return false;
  if (f.acctCode && e.account !== f.acctCode) return false;
  if (f.since !== undefined && e.time < f.since) return false;
  if (f.symbol && e.contract.instrument.symbol.toUpperCase() !== f.symbol) return false;
  if (f.secType && (e.contract.secType === 'STK' ? 'STK' : 'FUT') !== f.secType) return false;
  if (f.exchange && ![e.contract.exchange, e.contract.primaryExch, e.contract.instrument.exchange].map((x) => x.toUpperCase()).includes(f.exchange)) return false;
  if (f.side && SIDES[f.side] !== e.side) return false;
  return true;
}
