/**
 * The simulated account's books: cash, positions with IB-style average cost, realized and
 * unrealized P&L, and the account values TWS reports. One base currency (USD) is assumed.
 *
 * Conventions, as TWS reports them:
 * - `avgCost` is per unit times the multiplier (ES at 5000 has avgCost 250000) and includes the
 *   opening commissions; a flat position reports 0.
 * - Realized P&L of a closing execution is (price * multiplier - avgCost) * quantity minus the
 *   execution's commission share, so it is net of commissions on both legs.
 * - Stocks move cash by their notional; futures move cash only by commissions and the realized
 *   variation (settled when a position is reduced; open variation is unrealized P&L).
 * - Net liquidation = cash + stock market value + futures open variation.
 * - Margin is a rough Reg T / exchange-style approximation (not IB's real requirements): stocks
 *   50% initial and 25% maintenance, futures 10% of notional for both. BuyingPower is
 *   AvailableFunds at Reg T's 2:1.
 */
import type { SimContract } from './contract-match.js';
import { finite, type Side } from './order-matching.js';
import type { SimQuote } from './types.js';

export interface PositionState {
  account: string;
  contract: SimContract;
  /** Signed: long > 0 */
  qty: number;
  /** IB's average cost: per unit times multiplier, commissions included (0 when flat) */
  avgCost: number;
  /** Average entry price times multiplier, without commissions (futures settlement) */
  avgPrice: number;
  /** Realized P&L of this position so far (net of commissions) */
  realized: number;
}

export interface PortfolioLine {
  position: PositionState;
  marketPrice: number;
  marketValue: number;
  unrealizedPnl: number;
}

export interface AccountValues {
  netLiquidation: number;
  totalCashValue: number;
  grossPositionValue: number;
  realizedPnl: number;
  unrealizedPnl: number;
  initMarginReq: number;
  maintMarginReq: number;
  availableFunds: number;
  excessLiquidity: number;
  buyingPower: number;
}

const STOCK_INIT_MARGIN = 0.5;
const STOCK_MAINT_MARGIN = 0.25;
const FUTURES_MARGIN = 0.1;
const REG_T_LEVERAGE = 2;

/** IB reports amounts to 1e-8 at most; rounding keeps float dust off the wire. */
const round8 = (x: number): number => Math.round(x * 1e8) / 1e8;

export class Ledger {
  cash: number;
  realized = 0;
  private readonly positions = new Map<string, PositionState>();
  private readonly marks = new Map<string, number>();

  constructor(
    readonly account: string,
    readonly startingCash: number,
  ) {
    this.cash = startingCash;
  }

  /**
   * Books one execution; returns its realized P&L (undefined for a purely opening execution,
   * which TWS reports as an unset realizedPNL) and the position after it.
   */
  apply(contract: SimContract, side: Side, qty: number, price: number, commission: number): { realized: number | undefined; position: PositionState } {
    const key = contract.instrument.key;
    let pos = this.positions.get(key);
    if (!pos) {
      pos = { account: this.account, contract, qty: 0, avgCost: 0, avgPrice: 0, realized: 0 };
      this.positions.set(key, pos);
    }
    const mult = contract.instrument.multiplier || 1;
    const unit = price * mult;
    const signed = side === 'BUY' ? qty : -qty;
    const closing = pos.qty !== 0 && Math.sign(pos.qty) !== Math.sign(signed) ? Math.min(qty, Math.abs(pos.qty)) : 0;
    const opening = qty - closing;
    const commissionClose = qty > 0 ? (commission * closing) / qty : 0;
    const commissionOpen = commission - commissionClose;
    let realized: number | undefined;
    let variation = 0;
    if (closing > 0) {
      const dir = Math.sign(pos.qty);
      realized = round8(closing * dir * (unit - pos.avgCost) - commissionClose);
      variation = closing * dir * (unit - pos.avgPrice);
      pos.qty -= dir * closing;
      pos.realized = round8(pos.realized + realized);
      this.realized = round8(this.realized + realized);
      if (pos.qty === 0) pos.avgCost = pos.avgPrice = 0;
    }
    if (opening > 0) {
      const held = Math.abs(pos.qty);
      const total = held + opening;
      pos.avgCost = round8((held * pos.avgCost + opening * unit + commissionOpen) / total);
      pos.avgPrice = round8((held * pos.avgPrice + opening * unit) / total);
      pos.qty += Math.sign(signed) * opening;
    }
    if (contract.instrument.secType === 'FUT') this.cash = round8(this.cash + variation - commission);
    else this.cash = round8(this.cash - signed * unit - commission);
    this.marks.set(key, price);
    return { realized, position: { ...pos } };
  }

  /** Marks a position's instrument from a quote: the last trade, else the mid. */
  markFromQuote(instrumentKey: string, q: SimQuote | undefined): void {
    if (!q) return;
    if (finite(q.last)) this.marks.set(instrumentKey, q.last);
    else if (finite(q.bid) && finite(q.ask)) this.marks.set(instrumentKey, (q.bid + q.ask) / 2);
  }

  /** Positions ever held (flat ones too: TWS reports a closed position with 0 for the day). */
  list(): PositionState[] {
    return [...this.positions.values()].map((p) => ({ ...p }));
  }

  position(instrumentKey: string): PositionState | undefined {
    const p = this.positions.get(instrumentKey);
    return p ? { ...p } : undefined;
  }

  /** Instruments with an open position (their marks matter). */
  openKeys(): string[] {
    return [...this.positions.values()].filter((p) => p.qty !== 0).map((p) => p.contract.instrument.key);
  }

  markPrice(p: PositionState): number {
    return this.marks.get(p.contract.instrument.key) ?? p.avgPrice / (p.contract.instrument.multiplier || 1);
  }

  portfolio(): PortfolioLine[] {
    return this.list().map((position) => {
      const mult = position.contract.instrument.multiplier || 1;
      const marketPrice = this.markPrice(position);
      const marketValue = round8(position.qty * marketPrice * mult);
      return { position, marketPrice, marketValue, unrealizedPnl: position.qty === 0 ? 0 : round8(marketValue - position.qty * position.avgCost) };
    });
  }

  values(): AccountValues {
    let stockValue = 0;
    let gross = 0;
    let variation = 0;
    let unrealized = 0;
    let init = 0;
    let maint = 0;
    for (const line of this.portfolio()) {
      const p = line.position;
      unrealized += line.unrealizedPnl;
      if (p.contract.instrument.secType === 'FUT') {
        variation += line.marketValue - p.qty * p.avgPrice;
        init += Math.abs(line.marketValue) * FUTURES_MARGIN;
        maint += Math.abs(line.marketValue) * FUTURES_MARGIN;
      } else {
        stockValue += line.marketValue;
        gross += Math.abs(line.marketValue);
        init += Math.abs(line.marketValue) * STOCK_INIT_MARGIN;
        maint += Math.abs(line.marketValue) * STOCK_MAINT_MARGIN;
      }
    }
    const netLiquidation = round8(this.cash + stockValue + variation);
    const availableFunds = round8(netLiquidation - init);
    return {
      netLiquidation,
      totalCashValue: this.cash,
      grossPositionValue: round8(gross),
      realizedPnl: this.realized,
      unrealizedPnl: round8(unrealized),
      initMarginReq: round8(init),
      maintMarginReq: round8(maint),
      availableFunds,
      excessLiquidity: round8(netLiquidation - maint),
      buyingPower: round8(Math.max(0, availableFunds * REG_T_LEVERAGE)),
    };
  }
}
