import type { Order } from '../model/orders.js';
import { sideSign } from '../model/orders.js';
import type { Portfolio } from './portfolio.js';

/** Pre-trade limits; an order that breaks one is rejected (an event), never thrown. */
export interface RiskLimits {
  /** Largest quantity of one order */
  maxOrderQuantity?: number;
  /** Largest absolute position per instrument if the order filled completely */
  maxPositionQuantity?: number;
  /** Largest notional (quantity x reference price x multiplier) of one order */
  maxOrderNotional?: number;
  /** Largest gross exposure / equity if the order filled at its reference price */
  maxGrossLeverage?: number;
  /** Default true; false rejects orders that would leave a short position */
  allowShort?: boolean;
}

/**
 * Checks orders before they reach the venue. Orders that reduce a position are always allowed
 * through the exposure checks, so a halted or over-limit book can still be flattened.
 */
export class RiskEngine {
  private haltReason = '';

  constructor(
    private readonly limits: RiskLimits,
    private readonly portfolio: Portfolio,
  ) {}

  /** Stops all new risk-increasing orders until resume() */
  halt(reason: string): void {
    this.haltReason = reason;
  }

  resume(): void {
    this.haltReason = '';
  }

  get halted(): boolean {
    return this.haltReason !== '';
  }

  /** Why the order must be rejected, or undefined when it may go */
  check(order: Readonly<Order>, referencePrice: number, multiplier: number): string | undefined {
    const l = this.limits;
    if (!(order.quantity > 0) || !Number.isFinite(order.quantity)) return `quantity must be a positive number, was ${order.quantity}`;
    const current = this.portfolio.quantityAt(order.instrumentIndex);
    const after = current + sideSign(order.side) * order.quantity;
    const reducing = Math.abs(after) <= Math.abs(current) && Math.sign(after) * Math.sign(current) >= 0;
    if (reducing) return undefined;
    if (this.haltReason !== '') return `trading halted: ${this.haltReason}`;
    if (l.maxOrderQuantity !== undefined && order.quantity > l.maxOrderQuantity) {
      return `order quantity ${order.quantity} exceeds maxOrderQuantity ${l.maxOrderQuantity}`;
    }
    if (l.maxPositionQuantity !== undefined && Math.abs(after) > l.maxPositionQuantity) {
      return `position would be ${after}, beyond maxPositionQuantity ${l.maxPositionQuantity}`;
    }
    if (l.allowShort === false && after < 0) return `position would be ${after}: shorting is not allowed`;
    if (Number.isFinite(referencePrice)) {
      const notional = order.quantity * referencePrice * multiplier;
      if (l.maxOrderNotional !== undefined && notional > l.maxOrderNotional) {
        return `order notional ${notional.toFixed(2)} exceeds maxOrderNotional ${l.maxOrderNotional}`;
      }
      if (l.maxGrossLeverage !== undefined) {
        const equity = this.portfolio.equity();
        const gross = this.portfolio.grossExposure() - Math.abs(current * referencePrice * multiplier) + Math.abs(after * referencePrice * multiplier);
        if (equity <= 0 || gross / equity > l.maxGrossLeverage) {
          return `gross leverage would be ${(gross / Math.max(equity, 1e-9)).toFixed(2)}, beyond maxGrossLeverage ${l.maxGrossLeverage}`;
        }
      }
    }
    return undefined;
  }
}
