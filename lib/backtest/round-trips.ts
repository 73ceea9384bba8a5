/**
 * Turns fills into round-trip {@link TradeRecord}s: a trade runs from flat to flat; a fill
 * that crosses zero (a flip) closes the current trade and opens the next one at its price.
 */
import { InvariantError } from '../core/errors.js';
import type { TradeRecord } from './result-types.js';

/** An open (not yet flat) trade, as reported by {@link RoundTripBuilder.openTrades}. */
export interface OpenTrade {
  instrument: string;
  direction: 'LONG' | 'SHORT';
  /** Current absolute position */
  quantity: number;
  entryTs: number;
  /** Volume-weighted price of the opening/increasing fills so far */
  entryPrice: number;
}

/** Per-instrument accumulator of the trade in progress. */
interface TradeState {
  /** +1 long, -1 short */
  sign: 1 | -1;
  multiplier: number;
  /** Current absolute position */
  position: number;
  maxPosition: number;
  entryTs: number;
  entryQty: number;
  entryNotional: number;
  exitQty: number;
  exitNotional: number;
  commission: number;
}

/**
 * A reduction within this relative distance of the position closes it: fractional quantities
 * summed in floating point (0.1 + 0.2 vs 0.3) must not leave a dust trade open.
 */
const FLAT_TOLERANCE = 1e-9;

/**
 * Builds round trips from a stream of fills, one open trade per instrument.
 *
 * P&L: a closed trade's `grossPnl = sign * multiplier * (exitNotional - entryNotional)`,
 * i.e. `(exitPrice - entryPrice) * closedQuantity * sign * multiplier` with both prices
 * volume-weighted over the whole trade; since the trade ends flat this is its exact cash P&L.
 * `quantity` is the largest absolute position held; `returnPct = netPnl / |entryPrice *
 * quantity * multiplier|` (0 if that notional is 0). A flip fill's commission is split
 * between the closed and the new trade in proportion to the quantity each received.
 */
export class RoundTripBuilder {
  /** Closed trades, in the order they closed. */
  readonly trades: TradeRecord[] = [];
  private readonly open = new Map<string, TradeState>();

  /**
   * Records one fill. `signedQuantity > 0` buys, `< 0` sells; `multiplier` is the contract
   * multiplier (1 for stocks) and must stay the same for an instrument.
   * @throws InvariantError on a zero or non-finite quantity, a non-finite price or
   * commission, or a non-positive multiplier.
   */
  onFill(instrument: string, multiplier: number, signedQuantity: number, price: number, commission: number, ts: number): void {
    if (signedQuantity === 0 || !Number.isFinite(signedQuantity)) throw new InvariantError(`${instrument}: fill quantity must be finite and non-zero, got ${signedQuantity}`);
    if (!Number.isFinite(price) || !Number.isFinite(commission)) throw new InvariantError(`${instrument}: fill price ${price} / commission ${commission} must be finite`);
    if (!(multiplier > 0) || !Number.isFinite(multiplier)) throw new InvariantError(`${instrument}: multiplier must be positive, got ${multiplier}`);
    const qty = Math.abs(signedQuantity);
    const sign = signedQuantity > 0 ? 1 : -1;
    const state = this.open.get(instrument);
    if (state === undefined) {
      this.open.set(instrument, newTrade(sign, multiplier, qty, price, commission, ts));
      return;
    }
    if (state.multiplier !== multiplier) throw new InvariantError(`${instrument}: multiplier changed from ${state.multiplier} to ${multiplier} mid-trade`);
    if (sign === state.sign) {
      state.position += qty;
      state.maxPosition = Math.max(state.maxPosition, state.position);
      state.entryQty += qty;
      state.entryNotional += qty * price;
      state.commission += commission;
      return;
    }
    // Reducing fill: closes up to the whole position, the rest (if any) opens a flipped trade.
    const closesAll = qty >= state.position * (1 - FLAT_TOLERANCE);
    const closeQty = closesAll ? state.position : qty;
    const remaining = closesAll && qty > state.position * (1 + FLAT_TOLERANCE) ? qty - state.position : 0;
    const closeCommission = remaining > 0 ? (commission * closeQty) / qty : commission;
    state.exitQty += closeQty;
    state.exitNotional += closeQty * price;
    state.commission += closeCommission;
    if (!closesAll) {
      state.position -= qty;
      return;
    }
    this.trades.push(closeTrade(instrument, state, ts));
    this.open.delete(instrument);
    if (remaining > 0) this.open.set(instrument, newTrade(sign, multiplier, remaining, price, commission - closeCommission, ts));
  }

  /** Trades still open, in the order their instruments were first traded (current quantity). */
  openTrades(): OpenTrade[] {
    const out: OpenTrade[] = [];
    for (const [instrument, s] of this.open) {
      out.push({
        instrument,
        direction: s.sign > 0 ? 'LONG' : 'SHORT',
        quantity: s.position,
        entryTs: s.entryTs,
        entryPrice: s.entryNotional / s.entryQty,
      });
    }
    return out;
  }
}

function newTrade(sign: 1 | -1, multiplier: number, qty: number, price: number, commission: number, ts: number): TradeState {
  return {
    sign,
    multiplier,
    position: qty,
    maxPosition: qty,
    entryTs: ts,
    entryQty: qty,
    entryNotional: qty * price,
    exitQty: 0,
    exitNotional: 0,
    commission,
  };
}

function closeTrade(instrument: string, s: TradeState, exitTs: number): TradeRecord {
  const entryPrice = s.entryNotional / s.entryQty;
  const grossPnl = s.sign * s.multiplier * (s.exitNotional - s.entryNotional);
  const netPnl = grossPnl - s.commission;
  const notional = Math.abs(entryPrice * s.maxPosition * s.multiplier);
  return {
    instrument,
    direction: s.sign > 0 ? 'LONG' : 'SHORT',
    quantity: s.maxPosition,
    entryTs: s.entryTs,
    exitTs,
    entryPrice,
    exitPrice: s.exitNotional / s.exitQty,
    grossPnl,
    commission: s.commission,
    netPnl,
    returnPct: notional > 0 ? netPnl / notional : 0,
  };
}
