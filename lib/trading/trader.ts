/**
 * A Trader turns one instrument's signals into orders under its TradingParams (signal-math.ts for
 * the sizing and pricing rules). It keeps at most one order of its own working: a signal in that
 * order's direction re-prices it at the current touch (limit orders), a signal against it cancels
 * it, and the next signal after the cancel acts. So a resting `mid` order never stacks up with
 * new ones and a cancel that races a fill can never double the position.
 *
 * Prices come from the last quote (`spread`); without a usable quote (a backtest on bars, no L1
 * yet) the order is a market order, filled like any market order (the backtest's fill rule: the
 * next bar's open by default; live: at IB).
 *
 * Sizing starts from the position the instrument will have once every working order fills (the
 * port's `position`), and a signal in the direction of a closing order already working (an exit,
 * the supervisor's flatten) holds: two closes of one position never both go out.
 *
 * Risk-increasing orders are not sent while the instrument or the book is halted (session guard,
 * loss limits, stale data): the signal is dropped and reported instead of becoming a rejection
 * per bar. Reducing orders always go, as the RiskEngine lets them.
 */
import { isTerminal } from '../model/order-state.js';
import type { Order, OrderChanges, OrderRequest } from '../model/orders.js';
import { signalDirection, spreadPrice, targetPosition, tickDecimals } from './signal-math.js';
import type { TradingParams } from './trading-params.js';

/** What a Trader needs from its host (the TradingDesk on a kernel; a fake in tests) */
export interface TraderPort {
  /**
   * Signed position of the instrument as it will be once the working orders of every strategy
   * (exits, the supervisor's closes) fill: held + signed remaining quantities
   */
  position(index: number): number;
  /** +1/-1: a working order (any strategy's) buys/sells to close the held position; 0: none */
  closing(index: number): number;
  /** Latest bid/ask, undefined without a quote */
  quote(key: string, index: number): { bid: number; ask: number } | undefined;
  /** Why risk-increasing orders of the instrument would be rejected now (a halt), else undefined */
  haltReason(index: number): string | undefined;
  submit(request: OrderRequest): Readonly<Order>;
  modify(order: Readonly<Order>, changes: OrderChanges): void;
  cancel(order: Readonly<Order>): void;
}

export type TraderDecision =
  /** |signal| below the threshold, zero or not a number */
  | 'no-view'
  /** the signal asks for the position already held (at maxPosition, or a sell signal without shorting while flat) */
  | 'hold'
  /** an increase was asked for while halted: nothing sent */
  | 'halted'
  | 'submitted'
  /** the order was rejected at once (risk) */
  | 'rejected'
  /** the working order points the same way: re-priced (or left, price unchanged) */
  | 'repriced'
  /** the working order pointed the other way: cancelled */
  | 'cancelled';

export const SIGNAL_TAG = 'signal';

export class Trader {
  private working: Readonly<Order> | undefined;
  private readonly decimals: number;
  /** The last decision, the order it made (tests, logs) */
  lastOrder: Readonly<Order> | undefined;

  constructor(
    readonly key: string,
    readonly index: number,
    readonly params: Readonly<TradingParams>,
    readonly tickSize: number,
    private readonly allowShort = true,
  ) {
    this.decimals = tickDecimals(tickSize);
  }

  /** The Trader's order still working, if any */
  workingOrder(): Readonly<Order> | undefined {
    if (this.working !== undefined && isTerminal(this.working.status)) this.working = undefined;
    return this.working;
  }

  /** Acts on one signal value (see the file comment) */
  signal(value: number, port: TraderPort): TraderDecision {
    const p = this.params;
    const direction = signalDirection(value, p);
    if (direction === 0) return 'no-view';
    const w = this.workingOrder();
    if (w !== undefined) {
      if ((w.side === 'BUY' ? 1 : -1) !== direction) {
        if (w.status !== 'PENDING_CANCEL') port.cancel(w);
        return 'cancelled';
      }
      if (w.type === 'LIMIT' && w.status !== 'PENDING_CANCEL') {
        const price = this.price(w.side, port);
        if (Number.isFinite(price) && price !== w.limitPrice) port.modify(w, { limitPrice: price });
      }
      return 'repriced';
    }
    // a close already on its way (a stop-loss exit, the supervisor's flatten) is what a signal the
    // same way asks for: sizing on top of it would overshoot flat into the other side
    if (port.closing(this.index) === direction) return 'hold';
    const current = port.position(this.index);
    const target = targetPosition(direction, current, p, this.allowShort);
    const delta = target - current;
    if (delta === 0) return 'hold';
    if (Math.abs(target) > Math.abs(current) && port.haltReason(this.index) !== undefined) return 'halted';
    const side = delta > 0 ? 'BUY' : 'SELL';
    const quantity = Math.abs(delta);
    const price = this.price(side, port);
    const request: OrderRequest = Number.isFinite(price)
      ? { instrument: this.key, side, quantity, type: 'LIMIT', limitPrice: price, tag: SIGNAL_TAG }
      : { instrument: this.key, side, quantity, type: 'MARKET', tag: SIGNAL_TAG };
    const order = port.submit(request);
    this.lastOrder = order;
    if (order.status === 'REJECTED') return 'rejected';
    if (!isTerminal(order.status)) this.working = order;
    return 'submitted';
  }

  private price(side: 'BUY' | 'SELL', port: TraderPort): number {
    const q = port.quote(this.key, this.index);
    if (q === undefined) return NaN;
    return spreadPrice(side, q.bid, q.ask, this.params.spread, this.params.offsetTicks ?? 0, this.tickSize, this.decimals);
  }
}
