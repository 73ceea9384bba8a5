import type { Kernel, RunObserver } from '../engine/kernel.js';
import type { Fill } from '../model/order-events.js';
import type { AllocationSeries, DailySeries, FillRecord, OrderRecord } from './result-types.js';
import { GrowableColumn } from './growable.js';
import { RoundTripBuilder } from './round-trips.js';

/**
 * Listens to a kernel and keeps what a run's results need: fills, round trips, traded notional,
 * equity at every event time, and daily equity, exposure and per-instrument allocation.
 */
export class ResultsRecorder implements RunObserver {
  readonly fills: FillRecord[] = [];
  readonly roundTrips = new RoundTripBuilder();
  tradedNotional = 0;
  private readonly curveTs = new GrowableColumn();
  private readonly curveEquity = new GrowableColumn();
  private readonly dayTs = new GrowableColumn();
  private readonly dayEquity = new GrowableColumn();
  private readonly dayGross = new GrowableColumn();
  private readonly dayNet = new GrowableColumn();
  private readonly allocation: GrowableColumn[] = [];

  constructor(private readonly kernel: Kernel) {
    kernel.addObserver(this);
    kernel.bus.subscribe('order.fill', (f) => this.onFill(f));
  }

  private onFill(f: Fill): void {
    const spec = this.kernel.instruments.spec(f.instrumentIndex);
    const signed = f.side === 'BUY' ? f.quantity : -f.quantity;
    this.fills.push({
      orderId: f.orderId,
      clientOrderId: f.clientOrderId,
      instrument: f.instrument,
      side: f.side,
      quantity: f.quantity,
      price: f.price,
      commission: f.commission,
      ts: f.ts,
      liquidity: f.liquidity,
    });
    this.tradedNotional += Math.abs(f.quantity * f.price * spec.multiplier);
    this.roundTrips.onFill(f.instrument, spec.multiplier, signed, f.price, f.commission, f.ts);
  }

  onEquity(ts: number, equity: number): void {
    if (this.curveTs.last() === ts) this.curveEquity.setLast(equity);
    else {
      this.curveTs.push(ts);
      this.curveEquity.push(equity);
    }
  }

  onDayEnd(day: number): void {
    const p = this.kernel.portfolio;
    if (this.dayTs.last() === day) return;
    this.dayTs.push(day);
    this.dayEquity.push(p.equity());
    this.dayGross.push(p.grossExposure());
    this.dayNet.push(p.netExposure());
    const n = this.kernel.instruments.size;
    while (this.allocation.length < n) {
      // instruments added mid-run held nothing on the days before
      const col = new GrowableColumn();
      for (let i = 0; i < this.dayTs.length - 1; i++) col.push(0);
      this.allocation.push(col);
    }
    for (let i = 0; i < n; i++) this.allocation[i]!.push(p.notional(i));
  }

  daily(): DailySeries {
    return { ts: this.dayTs.toArray(), equity: this.dayEquity.toArray(), grossExposure: this.dayGross.toArray(), netExposure: this.dayNet.toArray() };
  }

  equityCurve(): { ts: Float64Array; equity: Float64Array } {
    return { ts: this.curveTs.toArray(), equity: this.curveEquity.toArray() };
  }

  allocationSeries(): AllocationSeries {
    return { ts: this.dayTs.toArray(), instruments: this.kernel.instruments.keys(), values: this.allocation.map((c) => c.toArray()) };
  }

  orders(): OrderRecord[] {
    const out: OrderRecord[] = [];
    for (const o of this.kernel.orders.all()) {
      out.push({
        id: o.id,
        clientOrderId: o.clientOrderId,
        instrument: o.instrument,
        side: o.side,
        type: o.type,
        tif: o.tif,
        quantity: o.quantity,
        limitPrice: Number.isNaN(o.limitPrice) ? null : o.limitPrice,
        stopPrice: Number.isNaN(o.stopPrice) ? null : o.stopPrice,
        status: o.status,
        filledQuantity: o.filledQuantity,
        avgFillPrice: Number.isNaN(o.avgFillPrice) ? null : o.avgFillPrice,
        commission: o.commission,
        parentId: o.parentId,
        ocaGroup: o.ocaGroup,
        tag: o.tag,
        createdAt: o.createdAt,
        updatedAt: o.updatedAt,
        reason: o.reason,
      });
    }
    return out.sort((a, b) => a.id - b.id);
  }
}
