import { isWorking } from '../model/order-state.js';
import type { Order } from '../model/orders.js';
import { remainingQuantity, sideSign } from '../model/orders.js';
import type { Portfolio } from './portfolio.js';

/** Limits of one instrument's position, overriding the book-wide ones of `RiskLimits` */
export interface InstrumentRiskLimits {
  /** Largest absolute position (quantity) if the order filled completely */
  maxPositionQuantity?: number;
  /** Largest absolute position notional (quantity x reference price x multiplier): the instrument's allocation */
  maxPositionNotional?: number;
}

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
  /** Largest |net exposure| / equity if the order filled at its reference price */
  maxNetLeverage?: number;
  /** Largest absolute position notional of any one instrument if the order filled at its reference price */
  maxPositionNotional?: number;
  /**
   * Most working orders (of every strategy) at once: an order is rejected when this many are
   * already working. Needs an open-order counter (`RiskEngine.setOpenOrderCounter`); without one
   * every order the limit applies to is rejected, so the limit can never silently not bind.
   */
  maxOpenOrders?: number;
  /** Per-instrument overrides (by instrument key, e.g. `SPY`, `ES-202412`) of the position limits */
  perInstrument?: Readonly<Record<string, InstrumentRiskLimits>>;
  /** Default true; false rejects orders that would leave a short position */
  allowShort?: boolean;
}

/** The working orders of one instrument (by key): the order manager's */
export type WorkingOrderSource = (instrument: string) => readonly Readonly<Order>[];

/**
 * Remaining quantities of the working orders that may still fill, per side: what could be added to
 * the position if every order of that side filled. Orders whose owner asked to cancel them
 * (PENDING_CANCEL) are left out: they are going away, and counting them would refuse the market
 * order that replaces them (the supervisor cancels, then flattens); the rare fill that races such a
 * cancel is closed again by whoever flattens. Bracket exits are conditional: left out while their
 * entry works (they can only unwind its fill), and an OCO group counts once (its largest order).
 */
export function workingQuantities(orders: readonly Readonly<Order>[]): { buy: number; sell: number } {
  let buy = 0;
  let sell = 0;
  let groups: Map<string, number> | undefined;
  for (const o of orders) {
    if (!isWorking(o.status) || o.status === 'PENDING_CANCEL') continue;
    if (o.parentId > 0 && orders.some((p) => p.id === o.parentId && isWorking(p.status))) continue;
    const q = remainingQuantity(o);
    if (!(q > 0)) continue;
    if (o.ocaGroup !== '') {
      groups ??= new Map();
      const key = `${o.side}|${o.ocaGroup}`;
      const seen = groups.get(key) ?? 0;
      if (q <= seen) continue;
      groups.set(key, q);
      if (o.side === 'BUY') buy += q - seen;
      else sell += q - seen;
      continue;
    }
    if (o.side === 'BUY') buy += q;
    else sell += q;
  }
  return { buy, sell };
}

/**
 * Checks orders before they reach the venue. Orders that reduce a position are always allowed
 * through every check (halts and limits alike), so a halted or over-limit book can still be
 * flattened.
 *
 * Position, short and halt checks judge the worst case of the order's side, not today's position
 * alone: with working orders attached (`setWorkingOrders`), a sell is judged on position − every
 * working sell's remaining quantity (a buy likewise), so two closing orders of different strategies
 * (an exit and a signal, the supervisor's flatten) cannot together overshoot flat into a short,
 * or maxPositionQuantity/maxPositionNotional, whatever fills.
 *
 * Halts: a global one (`halt`/`resume`) and one per instrument (`haltInstrument`/
 * `resumeInstrument`); while either applies, risk-increasing orders are rejected with its reason.
 * The engine keeps one reason per halt: callers with several sources (the runner's supervisor)
 * combine them and call again.
 */
export class RiskEngine {
  private haltReason = '';
  private readonly instrumentHalts = new Map<number, string>();
  private readonly instrumentLimits = new Map<string, InstrumentRiskLimits>();
  private openOrders: (() => number) | undefined;
  private workingOrders: WorkingOrderSource | undefined;

  constructor(
    private readonly limits: RiskLimits,
    private readonly portfolio: Portfolio,
    openOrders?: () => number,
  ) {
    this.openOrders = openOrders;
    for (const [key, l] of Object.entries(limits.perInstrument ?? {})) this.instrumentLimits.set(key, l);
  }

  /** Where `maxOpenOrders` reads the number of working orders (the order manager's) */
  setOpenOrderCounter(count: () => number): void {
    this.openOrders = count;
  }

  /** Where the position checks read the instrument's working orders (the kernel attaches its order manager) */
  setWorkingOrders(source: WorkingOrderSource): void {
    this.workingOrders = source;
  }

  /** Sets (replaces) the position limits of one instrument by key; `undefined` removes them */
  setInstrumentLimits(instrument: string, limits: InstrumentRiskLimits | undefined): void {
    if (limits === undefined) this.instrumentLimits.delete(instrument);
    else this.instrumentLimits.set(instrument, limits);
  }

  instrumentLimitsOf(instrument: string): InstrumentRiskLimits | undefined {
    return this.instrumentLimits.get(instrument);
  }

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

  /** The global halt's reason ('' when not halted) */
  get reason(): string {
    return this.haltReason;
  }

  /** Stops new risk-increasing orders of one instrument (by engine index) until resumeInstrument() */
  haltInstrument(index: number, reason: string): void {
    this.instrumentHalts.set(index, reason === '' ? 'halted' : reason);
  }

  resumeInstrument(index: number): void {
    this.instrumentHalts.delete(index);
  }

  /** The instrument's halt reason, or undefined when it is not halted (the global halt aside) */
  instrumentHalt(index: number): string | undefined {
    return this.instrumentHalts.get(index);
  }

  /** Indices of the halted instruments */
  haltedInstruments(): number[] {
    return [...this.instrumentHalts.keys()];
  }

  /** Why the order must be rejected, or undefined when it may go */
  check(order: Readonly<Order>, referencePrice: number, multiplier: number): string | undefined {
    const l = this.limits;
    if (!(order.quantity > 0) || !Number.isFinite(order.quantity)) return `quantity must be a positive number, was ${order.quantity}`;
    const held = this.portfolio.quantityAt(order.instrumentIndex);
    // the position if every working order of the order's side filled (see the class comment)
    let current = held;
    if (this.workingOrders !== undefined) {
      const w = workingQuantities(this.workingOrders(order.instrument));
      current += order.side === 'BUY' ? w.buy : -w.sell;
    }
    const after = current + sideSign(order.side) * order.quantity;
    const reducing = Math.abs(after) <= Math.abs(current) && Math.sign(after) * Math.sign(current) >= 0;
    if (reducing) return undefined;
    if (this.haltReason !== '') return `trading halted: ${this.haltReason}`;
    if (this.instrumentHalts.size > 0) {
      const r = this.instrumentHalts.get(order.instrumentIndex);
      if (r !== undefined) return `${order.instrument} halted: ${r}`;
    }
    if (l.maxOpenOrders !== undefined) {
      if (this.openOrders === undefined) return `maxOpenOrders ${l.maxOpenOrders} is set but no open-order counter is attached`;
      const open = this.openOrders();
      if (open >= l.maxOpenOrders) return `${open} orders are working, maxOpenOrders is ${l.maxOpenOrders}`;
    }
    if (l.maxOrderQuantity !== undefined && order.quantity > l.maxOrderQuantity) {
      return `order quantity ${order.quantity} exceeds maxOrderQuantity ${l.maxOrderQuantity}`;
    }
    const own = this.instrumentLimits.size > 0 ? this.instrumentLimits.get(order.instrument) : undefined;
    const maxQty = own?.maxPositionQuantity ?? l.maxPositionQuantity;
    if (maxQty !== undefined && Math.abs(after) > maxQty) {
      return `position would be ${after}, beyond maxPositionQuantity ${maxQty}${own?.maxPositionQuantity !== undefined ? ` of ${order.instrument}` : ''}`;
    }
    if (l.allowShort === false && after < 0) return `position would be ${after}: shorting is not allowed`;
    if (Number.isFinite(referencePrice)) {
      const notional = order.quantity * referencePrice * multiplier;
      if (l.maxOrderNotional !== undefined && notional > l.maxOrderNotional) {
        return `order notional ${notional.toFixed(2)} exceeds maxOrderNotional ${l.maxOrderNotional}`;
      }
      const maxNotional = own?.maxPositionNotional ?? l.maxPositionNotional;
      if (maxNotional !== undefined) {
        const positionNotional = Math.abs(after * referencePrice * multiplier);
        if (positionNotional > maxNotional) {
          return `position notional would be ${positionNotional.toFixed(2)}, beyond maxPositionNotional ${maxNotional}${own?.maxPositionNotional !== undefined ? ` of ${order.instrument}` : ''}`;
        }
      }
      if (l.maxGrossLeverage !== undefined || l.maxNetLeverage !== undefined) {
        const equity = this.portfolio.equity();
        // leverage stays on the held position (the portfolio's exposures know no working orders)
        const before = held * referencePrice * multiplier;
        const next = (held + sideSign(order.side) * order.quantity) * referencePrice * multiplier;
        if (l.maxGrossLeverage !== undefined) {
          const gross = this.portfolio.grossExposure() - Math.abs(before) + Math.abs(next);
          if (equity <= 0 || gross / equity > l.maxGrossLeverage) {
            return `gross leverage would be ${(gross / Math.max(equity, 1e-9)).toFixed(2)}, beyond maxGrossLeverage ${l.maxGrossLeverage}`;
          }
        }
        if (l.maxNetLeverage !== undefined) {
          const net = this.portfolio.netExposure() - before + next;
          if (equity <= 0 || Math.abs(net) / equity > l.maxNetLeverage) {
            return `net leverage would be ${(Math.abs(net) / Math.max(equity, 1e-9)).toFixed(2)}, beyond maxNetLeverage ${l.maxNetLeverage}`;
          }
        }
      }
    }
    return undefined;
  }
}
