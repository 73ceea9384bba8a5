/**
 * REQ_CONTRACT_DATA (9) -> one contractDetails (10) per matching instrument, then
 * contractDetailsEnd (52); error 200 when nothing matches (tws-protocol.md §2, §6).
 */
import { listInstruments } from '../../lib/store/instruments.js';
import { matchContracts, readContract, type SimContract } from './contract-match.js';
import { NO_SECURITY_DEFINITION } from './ib-errors.js';
import { contractHours, type ContractHours } from './trading-hours.js';
import { IN, OUT, type ClientConnection, type FieldReader, type RequestHandler, type SimContext, type SimFeature, type WireField } from './types.js';

/** Server versions at which contractDetails gained a field (MIN_SERVER_VER in @stoqey/ib). */
const LAST_TRADE_DATE = 182;
const INELIGIBILITY_REASONS = 186;

const ORDER_TYPES = 'LMT,MKT,STP,STPLMT,TRAIL,TRAILLIMIT,MOC,LOC,MIT,LIT';
/** Market rule ids TWS reports for US stocks and CME futures; reqMarketRule is not simulated. */
const MARKET_RULE_IDS: Record<string, string> = { STK: '26', FUT: '67', CONTFUT: '67' };

/** The contractDetails (10) fields, in the order of the doc's numbered list for `serverVersion`. */
export function contractDetailsFields(reqId: number, c: SimContract, hours: ContractHours, serverVersion: number): WireField[] {
  const inst = c.instrument;
  const isStock = c.secType === 'STK';
  const f: WireField[] = [IN.CONTRACT_DATA, reqId, inst.symbol, c.secType, c.lastTradeDate];
  if (serverVersion >= LAST_TRADE_DATE) f.push(c.lastTradeDate);
  f.push(
    0, // strike
    '', // right
    c.exchange,
    inst.currency,
    c.localSymbol,
    c.tradingClass, // marketName
    c.tradingClass,
    c.conId,
    inst.tickSize, // minTick
    isStock ? '' : inst.multiplier,
    ORDER_TYPES,
    isStock ? ['SMART', c.primaryExch].filter(Boolean).join(',') : c.exchange, // validExchanges
    1, // priceMagnifier
    0, // underConId: the index underlying is not in the store
    c.longName,
    c.primaryExch,
    c.contractMonth,
    '', // industry
    '', // category
    '', // subcategory
    hours.timeZoneId,
    hours.tradingHours,
    hours.liquidHours,
    '', // evRule
    '', // evMultiplier
    0, // secIdList count
    1, // aggGroup
    inst.symbol, // underSymbol
    isStock ? '' : 'IND', // underSecType
    MARKET_RULE_IDS[c.secType] ?? '',
    c.lastTradeDate, // realExpirationDate
    isStock ? 'COMMON' : '', // stockType
    1, // minSize
    1, // sizeIncrement
    1, // suggestedSizeIncrement
  );
  // the 17 fund fields follow only for secType FUND, which the store has none of
  if (serverVersion >= INELIGIBILITY_REASONS) f.push(0);
  return f;
}

async function answer(conn: ClientConnection, fields: FieldReader, ctx: SimContext): Promise<void> {
  fields.int(); // version (8)
  const reqId = fields.int();
  const contract = readContract(fields);
  const includeExpired = fields.bool();
  // secIdType, secId, issuerId: the store has no ISIN/CUSIP to look up
  fields.skip(fields.remaining());
  const now = ctx.clock.now();
  const matches = matchContracts(await listInstruments(ctx.store), { ...contract, includeExpired }, now);
  if (matches.length === 0) {
    conn.error(reqId, NO_SECURITY_DEFINITION.code, NO_SECURITY_DEFINITION.text);
    return;
  }
  for (const c of matches) conn.send(contractDetailsFields(reqId, c, contractHours(c.instrument, now), conn.serverVersion));
  conn.send([IN.CONTRACT_DATA_END, 1, reqId]);
}

export function contractDetailsFeature(): SimFeature {
  const handler: RequestHandler = (conn, fields, ctx) => answer(conn, fields, ctx);
  return { name: 'contract-details', handlers: new Map([[OUT.REQ_CONTRACT_DATA, handler]]) };
}
