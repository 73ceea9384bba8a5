import type { BarColumns } from '../../lib/data/bar-series.js';
import { NEW_YORK } from '../../lib/core/time-zone.js';
import { futureKey, type InstrumentSpec, type SecType } from '../../lib/data/instrument.js';
import type { ContractQuery, ResolvedContract } from '../../lib/ib/contract-resolver.js';
import { BarAggregator, MINUTE_MS, REALTIME_BAR_MS, type DerivedInterval } from '../../lib/live/bar-aggregator.js';
import type { UniverseSettings } from './config.js';
import type { MarketDataInstrument } from './market-data-types.js';

/** The universe of a runner config as market-data instruments (stocks: SYMBOL; futures: ROOT or ROOT-YYYYMM; cash: EUR.USD). */
export function universeInstruments(universe: Pick<UniverseSettings, 'symbols' | 'secType' | 'exchange' | 'currency'>): MarketDataInstrument[] {
  return universe.symbols.map((key) => {
    if (universe.secType === 'FUT') {
      const m = /^([A-Z0-9]+)-(\d{6}|\d{8})$/.exec(key);
      const query: ContractQuery = { symbol: m ? m[1]! : key, secType: 'FUT', exchange: universe.exchange, currency: universe.currency };
      if (m) query.lastTradeDateOrContractMonth = m[2]!;
      return { key, query };
    }
    if (universe.secType === 'CASH') {
      const [base, quote] = key.split('.');
      return { key, query: { symbol: base!, secType: 'CASH', exchange: universe.exchange === 'SMART' ? 'IDEALPRO' : universe.exchange, currency: quote ?? universe.currency } };
    }
    return { key, query: { symbol: key, secType: 'STK', exchange: universe.exchange, currency: universe.currency } };
  });
}

/** The engine's instrument spec of a resolved contract, keyed `key`. */
export function specFromContract(key: string, c: ResolvedContract): InstrumentSpec {
  const tickSize = c.minTick > 0 ? c.minTick : 0.01;
  const secType: SecType = c.secType === 'FUT' ? 'FUT' : c.secType === 'CASH' ? 'CASH' : 'STK';
  const base = { key, symbol: c.symbol || key, secType, currency: c.currency || 'USD', tickSize, localSymbol: c.localSymbol || undefined, conId: c.conId || undefined };
  if (secType === 'FUT') {
    const month = c.contractMonth || c.lastTradeDate.slice(0, 6);
    const expiry = c.lastTradeDate ? `${c.lastTradeDate.slice(0, 4)}-${c.lastTradeDate.slice(4, 6)}-${c.lastTradeDate.slice(6, 8)}` : undefined;
    return { ...base, key: key || futureKey(c.symbol, month), exchange: c.exchange, multiplier: c.multiplier, contractMonth: month, expiry };
  }
  if (secType === 'CASH') return { ...base, exchange: c.exchange, multiplier: 1 };
  return { ...base, exchange: c.primaryExch || c.exchange || 'SMART', multiplier: 1 };
}

export const NO_BARS: BarColumns = { length: 0, ts: new Float64Array(0), open: new Float64Array(0), high: new Float64Array(0), low: new Float64Array(0), close: new Float64Array(0), volume: new Float64Array(0) };

/** Codes that are information, not a failure of the request. */
const WARNING_CODES = new Set([300, 399, 492, 2100, 10090, 10167]);
export const isWarning = (code: number) => (code >= 2100 && code <= 2999) || WARNING_CODES.has(code);

/** A minute (or derived) bar as plain data (ts = start, epoch ms). */
export interface PlainBar {
  ts: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** Derived bars of `interval` from minute bars, exactly as the live pipeline makes them; only bars closed by `now`. */
export function aggregateMinutes(minutes: readonly PlainBar[], interval: DerivedInterval, now: number, timeZone = NEW_YORK): PlainBar[] {
  const out: PlainBar[] = [];
  const agg = new BarAggregator({
    instrument: '',
    derived: [interval],
    timeZone,
    onBar: (b) => {
      if (b.interval === interval && b.closeTime <= now) out.push({ ts: b.ts, open: b.open, high: b.high, low: b.low, close: b.close, volume: b.volume });
    },
  });
  for (const m of minutes) agg.addRealtimeBar((m.ts + MINUTE_MS - REALTIME_BAR_MS) / 1000, m.open, m.high, m.low, m.close, m.volume);
  agg.flush(Infinity);
  return out;
}

export function columns(bars: readonly PlainBar[]): BarColumns {
  const n = bars.length;
  const c: BarColumns = { length: n, ts: new Float64Array(n), open: new Float64Array(n), high: new Float64Array(n), low: new Float64Array(n), close: new Float64Array(n), volume: new Float64Array(n) };
  bars.forEach((b, i) => {
    c.ts[i] = b.ts;
    c.open[i] = b.open;
    c.high[i] = b.high;
    c.low[i] = b.low;
    c.close[i] = b.close;
    c.volume[i] = b.volume;
  });
  return c;
}
