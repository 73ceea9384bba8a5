/**
 * The fetcher's targets: each symbol asked for, resolved to exactly one IB contract and
 * registered as an instrument, and the requests planned for it (jobs).
 */
import type { Contract } from '@stoqey/ib';
import { calendarForInstrument } from '../calendar/index.js';
import { ConfigError } from '../core/errors.js';
import { futureKey, type InstrumentSpec } from '../data/instrument.js';
import { upsertInstruments } from '../store/instruments.js';
import { ContractResolver, toIbContract, type ContractQuery, type ResolvedContract } from './contract-resolver.js';
import { IbHistoryError, type FetchHistoryOptions, type FetchSymbolSummary, type HistoryContractResolver } from './history-fetch-options.js';
import type { HistorySecType, PlannedRequest } from './history-plan.js';
import type { SessionScheduler } from './ib-session.js';

export interface Target {
  /** The symbol as asked */
  symbol: string;
  contract: ResolvedContract;
  ibContract: Contract;
  spec: InstrumentSpec;
  instrumentId: number;
  secType: HistorySecType;
  zone: string;
  summary: FetchSymbolSummary;
}

/** One planned request of a target. */
export interface Job extends PlannedRequest {
  target: Target;
  label: string;
}

/**
 * Resolves every symbol of `options` to exactly one contract (IbHistoryError otherwise) and
 * registers the instruments; the targets come back with their instrument ids.
 */
export async function resolveTargets(
  options: FetchHistoryOptions,
  o: { secType: HistorySecType; currency: string; timers: SessionScheduler; now: () => number },
): Promise<Target[]> {
  const { session, store } = options;
  const { secType, currency, timers, now } = o;
  const ownResolver = options.resolver ? undefined : new ContractResolver({ session, store, logger: options.logger, scheduler: timers, now });
  const resolver: HistoryContractResolver = options.resolver ?? ownResolver!;
  const targets: Target[] = [];
  try {
    for (const raw of options.symbols) {
      const symbol = raw.trim().toUpperCase();
      const query = queryFor(symbol, secType, options.exchange, currency);
      const found = await resolver.resolve(query);
      if (found.length !== 1) {
        const list = found.map((c) => `${c.localSymbol || c.symbol}@${c.exchange} (${c.conId})`).join(', ');
        throw new IbHistoryError('IB_HISTORY_CONTRACT', found.length === 0 ? `no IB contract for ${symbol} (${secType} ${query.exchange} ${query.currency})` : `${symbol} matches ${found.length} contracts: ${list}`);
      }
      const contract = found[0]!;
      const ibContract: Contract = toIbContract(contract);
      if (secType === 'FUT') ibContract.includeExpired = true;
      const spec = instrumentSpec(symbol, secType, contract);
      const zone = calendarForInstrument(secType, contract.symbol || symbol).timeZone;
      targets.push({
        symbol: spec.key,
        contract,
        ibContract,
        spec,
        instrumentId: 0,
        secType,
        zone,
        summary: { symbol: spec.key, conId: contract.conId, units: 0, skippedStored: 0, skippedEmpty: 0, requests: 0, bars: 0, empty: 0, failed: 0 },
      });
    }
  } finally {
    if (ownResolver) {
      await ownResolver.flush();
      ownResolver.close();
    }
  }
  const ids = await store.transaction(() => upsertInstruments(store, targets.map((t) => t.spec), 'ib'));
  for (const t of targets) t.instrumentId = ids.get(t.spec.key)!;
  return targets;
}

function queryFor(symbol: string, secType: HistorySecType, exchange: string | undefined, currency: string): ContractQuery {
  if (secType === 'FUT') {
    const m = /^([A-Z0-9]+)-(\d{6}|\d{8})$/.exec(symbol);
    if (!m) throw new ConfigError('ib history fetch', [`futures are named ROOT-YYYYMM (e.g. ES-201312), was '${symbol}'`]);
    if (!exchange) throw new ConfigError('ib history fetch', [`futures need an exchange (e.g. CME) for ${symbol}`]);
    return { symbol: m[1]!, secType, exchange, currency, lastTradeDateOrContractMonth: m[2]!, includeExpired: true };
  }
  if (secType === 'CASH') {
    const [base, quote] = symbol.split('.');
    return { symbol: base!, secType, exchange: exchange ?? 'IDEALPRO', currency: quote ?? currency };
  }
  return { symbol, secType, exchange: exchange ?? 'SMART', currency };
}

function instrumentSpec(symbol: string, secType: HistorySecType, c: ResolvedContract): InstrumentSpec {
  const tickSize = c.minTick > 0 ? c.minTick : 0.01;
  if (secType === 'FUT') {
    const month = c.contractMonth || c.lastTradeDate.slice(0, 6);
    const expiry = c.lastTradeDate ? `${c.lastTradeDate.slice(0, 4)}-${c.lastTradeDate.slice(4, 6)}-${c.lastTradeDate.slice(6, 8)}` : undefined;
    return { key: futureKey(c.symbol, month), symbol: c.symbol, secType, exchange: c.exchange, currency: c.currency, multiplier: c.multiplier, tickSize, contractMonth: month, expiry, localSymbol: c.localSymbol || undefined, conId: c.conId };
  }
  if (secType === 'CASH') {
    return { key: `${c.symbol}.${c.currency}`, symbol: c.symbol, secType, exchange: c.exchange, currency: c.currency, multiplier: 1, tickSize, localSymbol: c.localSymbol || undefined, conId: c.conId };
  }
  return { key: symbol, symbol: c.symbol || symbol, secType, exchange: c.primaryExch || c.exchange || 'SMART', currency: c.currency || 'USD', multiplier: 1, tickSize, localSymbol: c.localSymbol || undefined, conId: c.conId };
}
