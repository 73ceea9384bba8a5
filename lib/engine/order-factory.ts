import type { BracketRequest, OrderRequest, OrderSide, TimeInForce } from '../model/orders.js';

export interface OrderOptions {
  tif?: TimeInForce;
  tag?: string;
}

/** Builds order requests; pure, so strategies can build and inspect orders before submitting. */
export class OrderFactory {
  market(instrument: string, side: OrderSide, quantity: number, options: OrderOptions = {}): OrderRequest {
    return { instrument, side, quantity, type: 'MARKET', ...options };
  }

  limit(instrument: string, side: OrderSide, quantity: number, limitPrice: number, options: OrderOptions = {}): OrderRequest {
    return { instrument, side, quantity, type: 'LIMIT', limitPrice, ...options };
  }

  stop(instrument: string, side: OrderSide, quantity: number, stopPrice: number, options: OrderOptions = {}): OrderRequest {
    return { instrument, side, quantity, type: 'STOP', stopPrice, ...options };
  }

  stopLimit(instrument: string, side: OrderSide, quantity: number, stopPrice: number, limitPrice: number, options: OrderOptions = {}): OrderRequest {
    return { instrument, side, quantity, type: 'STOP_LIMIT', stopPrice, limitPrice, ...options };
  }

  /** Trailing stop by price distance (`{ amount }`) or fraction of price (`{ percent: 0.02 }`) */
  trailingStop(instrument: string, side: OrderSide, quantity: number, trail: { amount: number } | { percent: number }, options: OrderOptions = {}): OrderRequest {
    return 'amount' in trail
      ? { instrument, side, quantity, type: 'TRAILING_STOP', trailingAmount: trail.amount, ...options }
      : { instrument, side, quantity, type: 'TRAILING_STOP', trailingPercent: trail.percent, ...options };
  }

  bracket(entry: OrderRequest, takeProfitPrice: number, stopLossPrice: number, options: { exitTif?: TimeInForce; tag?: string } = {}): BracketRequest {
    return { entry, takeProfitPrice, stopLossPrice, ...options };
  }
}
