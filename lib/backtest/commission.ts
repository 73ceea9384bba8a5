/**
 * Commission models for the simulated venue, approximating Interactive Brokers' IBKR Pro schedules
 * (https://www.interactivebrokers.com/en/pricing/commissions-stocks.php and
 * https://www.interactivebrokers.com/en/pricing/commissions-futures.php).
 *
 * - Minimums and maximums apply once per ORDER, as at IB: the caller keeps one
 *   `OrderCommissionState` per order and passes it with every execution, and each execution is
 *   charged the increase of the order's total. A 10,000-share order filled in 20 pieces therefore
 *   pays the minimum once, not 20 times. (IB applies them per order per day; an order filling
 *   across days is treated as one order here.)
 * - Results are rounded to 1e-8, the precision IB reports, so float dust never differs between runs.
 * - Not modelled: exchange, regulatory (SEC, FINRA TAF/CAT) and pass-through fees for stocks,
 *   venue rebates, and IB's futures volume tiers (every contract is charged the ≤ 1,000 contracts/
 *   month rate).
 */
import { ConfigError } from '../core/errors.js';
import { NEW_YORK, utcToZonedWall } from '../core/time-zone.js';
import type { InstrumentSpec } from '../data/instrument.js';

/** Running totals of one order's executions; the model updates it on every call. */
export interface OrderCommissionState {
  quantity: number;
  /** Sum of quantity * price * multiplier */
  value: number;
  /** Broker commission before the per-order minimum and maximum */
  raw: number;
}

/** A fresh state for a new order. */
export function newOrderCommissionState(): OrderCommissionState {
  return { quantity: 0, value: 0, raw: 0 };
}

/** Prices executions. Models may keep state across calls (tiered monthly volume); `reset()` clears it. */
export interface CommissionModel {
  readonly name: string;
  /**
   * Commission for one execution of `quantity` at `price` at time `ts` (epoch ms). Pass the order's
   * `OrderCommissionState` so per-order minimums/maximums apply once per order; without it the
   * execution is priced as an order of its own. Never negative.
   */
  commission(spec: InstrumentSpec, quantity: number, price: number, ts: number, order?: OrderCommissionState): number;
  /** Forget accumulated state (month-to-date volume) before a new run. */
  reset(): void;
}

/**
 * IB's per-contract charge for US futures: the 0.85 IBKR commission plus the exchange and regulatory
 * fees IB passes on, by root symbol. The fees are approximations read from IB's futures commission
 * and CME fee pages (non-member rates) and change over time; roots not listed pay
 * `IB_FUTURES_DEFAULT_PER_CONTRACT`.
 */
export const IB_FUTURES_PER_CONTRACT: Readonly<Record<string, number>> = {
  ES: 2.23, // 0.85 + 1.38
  NQ: 2.23, // 0.85 + 1.38
  GC: 2.45, // 0.85 + 1.60
  '6E': 2.45, // 0.85 + 1.60
};
/** Per-contract charge for futures roots missing from the table (0.85 + 1.40 typical fees). */
export const IB_FUTURES_DEFAULT_PER_CONTRACT = 2.25;

/** IB Pro tiered monthly share-volume breaks: up to `upTo` shares in the month pay `rate` per share. */
export const IB_TIERED_STOCK_TIERS: readonly { upTo: number; rate: number }[] = [
  { upTo: 300_000, rate: 0.0035 },
  { upTo: 3_000_000, rate: 0.002 },
  { upTo: 20_000_000, rate: 0.0015 },
  { upTo: 100_000_000, rate: 0.001 },
  { upTo: Infinity, rate: 0.0005 },
];

const FIXED_PER_SHARE = 0.005;
const FIXED_MIN = 1.0;
const TIERED_MIN = 0.35;
const MAX_FRACTION_OF_VALUE = 0.01;
/** NSCC/DTC clearing fee per share, charged on top of the tiered commission (outside its min/max) */
const TIERED_CLEARING_PER_SHARE = 0.0002;
/** IB forex: 0.20 bps of trade value, minimum 2.00 (taken in the quote currency here) */
const FX_RATE = 0.00002;
const FX_MIN = 2.0;

function round8(x: number): number {
  return Math.round(x * 1e8) / 1e8;
}

/** Per-order clamp: max(raw, min) capped at 1% of the value, 0 before any execution. */
function clamped(raw: number, value: number, quantity: number, min: number): number {
  if (quantity <= 0) return 0;
  return Math.min(Math.max(raw, min), MAX_FRACTION_OF_VALUE * Math.abs(value));
}

/**
 * Adds one execution to `st` and returns the increase of the order's clamped commission.
 * The clamp is monotone in raw and value, so the increase is never negative.
 */
function perOrderIncrease(st: OrderCommissionState, quantity: number, value: number, raw: number, min: number): number {
  const before = clamped(st.raw, st.value, st.quantity, min);
  st.quantity += quantity;
  st.value += value;
  st.raw += raw;
  return clamped(st.raw, st.value, st.quantity, min) - before;
}

function futuresPerContract(table: Readonly<Record<string, number>>, fallback: number, spec: InstrumentSpec): number {
  return table[spec.symbol.toUpperCase()] ?? fallback;
}

function forex(st: OrderCommissionState, quantity: number, value: number): number {
  const before = st.quantity > 0 ? Math.max(FX_MIN, FX_RATE * st.value) : 0;
  st.quantity += quantity;
  st.value += value;
  return Math.max(FX_MIN, FX_RATE * st.value) - before;
}

/** Charges nothing. */
export function noCommission(): CommissionModel {
  return { name: 'none', commission: () => 0, reset: () => {} };
}

/** A flat `rate` per unit of quantity (contract, share or currency unit), no minimum or maximum. */
export function perContract(rate: number): CommissionModel {
  if (!Number.isFinite(rate) || rate < 0) throw new ConfigError('perContract', [`expected a rate >= 0, was ${rate}`]);
  return { name: 'per-contract', commission: (_spec, quantity) => round8(rate * Math.abs(quantity)), reset: () => {} };
}

/** Options shared by the IB models: override the futures per-contract table. */
export interface IbCommissionOptions {
  futuresPerContract?: Readonly<Record<string, number>>;
  futuresDefaultPerContract?: number;
}

/**
 * IBKR Pro Fixed. Stocks: 0.005/share, minimum 1.00 and maximum 1% of trade value per order
 * (fees included). Futures: the per-contract table. Cash FX: 0.20 bps of value, minimum 2.00.
 */
export function ibFixed(options: IbCommissionOptions = {}): CommissionModel {
  const table = options.futuresPerContract ?? IB_FUTURES_PER_CONTRACT;
  const fallback = options.futuresDefaultPerContract ?? IB_FUTURES_DEFAULT_PER_CONTRACT;
  return {
    name: 'ib-fixed',
    commission(spec, quantity, price, _ts, order = newOrderCommissionState()) {
      const q = Math.abs(quantity);
      const value = q * price * spec.multiplier;
      const other = futuresOrForex(spec, q, value, order, table, fallback);
      if (other !== undefined) return other;
      return round8(perOrderIncrease(order, q, value, FIXED_PER_SHARE * q, FIXED_MIN));
    },
    reset() {},
  };
}

/** Futures (per contract from the table) and cash FX are priced alike by both IB plans; undefined for stocks */
function futuresOrForex(
  spec: InstrumentSpec,
  q: number,
  value: number,
  order: OrderCommissionState,
  table: Readonly<Record<string, number>>,
  fallback: number,
): number | undefined {
  if (spec.secType === 'FUT') {
    perOrderIncrease(order, q, value, 0, 0);
    return round8(q * futuresPerContract(table, fallback, spec));
  }
  if (spec.secType === 'CASH') return round8(forex(order, q, value));
  return undefined;
}

/** Month index (year * 12 + month) of `ts` in New York, where IB's US monthly volume is counted. */
function monthOf(ts: number): number {
  const wall = new Date(utcToZonedWall(NEW_YORK, ts));
  return wall.getUTCFullYear() * 12 + wall.getUTCMonth();
}

/** Per-share rate for an execution when `monthToDate` shares have already traded this month. */
export function ibTieredRate(monthToDate: number): number {
  for (const t of IB_TIERED_STOCK_TIERS) if (monthToDate < t.upTo) return t.rate;
  return IB_TIERED_STOCK_TIERS[IB_TIERED_STOCK_TIERS.length - 1]!.rate;
}

/**
 * IBKR Pro Tiered. Stocks: per-share rate by month-to-date share volume (New York calendar month;
 * the whole execution is priced at the tier its first share falls in, and the volume counts only
 * executions priced by this model), minimum 0.35 and maximum 1% of trade value per order, plus the
 * 0.0002/share clearing fee. Futures: the per-contract table. Cash FX: as `ibFixed`.
 */
export function ibTiered(options: IbCommissionOptions = {}): CommissionModel {
  const table = options.futuresPerContract ?? IB_FUTURES_PER_CONTRACT;
  const fallback = options.futuresDefaultPerContract ?? IB_FUTURES_DEFAULT_PER_CONTRACT;
  let month = NaN;
  let monthVolume = 0;
  return {
    name: 'ib-tiered',
    commission(spec, quantity, price, ts, order = newOrderCommissionState()) {
      const q = Math.abs(quantity);
      const value = q * price * spec.multiplier;
      const other = futuresOrForex(spec, q, value, order, table, fallback);
      if (other !== undefined) return other;
      const m = monthOf(ts);
      if (m !== month) {
        month = m;
        monthVolume = 0;
      }
      const rate = ibTieredRate(monthVolume);
      monthVolume += q;
      const broker = perOrderIncrease(order, q, value, rate * q, TIERED_MIN);
      return round8(broker + TIERED_CLEARING_PER_SHARE * q);
    },
    reset() {
      month = NaN;
      monthVolume = 0;
    },
  };
}

/** Names accepted by `parseCommissionModel` (config files, CLI flags). */
export const COMMISSION_MODEL_NAMES = ['none', 'ib-fixed', 'ib-tiered'] as const;
export type CommissionModelName = (typeof COMMISSION_MODEL_NAMES)[number];

/** The model called `name`; throws ConfigError listing the valid names. */
export function parseCommissionModel(name: string): CommissionModel {
  switch (name) {
    case 'none':
      return noCommission();
    case 'ib-fixed':
      return ibFixed();
    case 'ib-tiered':
      return ibTiered();
    default:
      throw new ConfigError('commission', [`expected one of ${COMMISSION_MODEL_NAMES.join(', ')}, was '${name}'`]);
  }
}
