/**
 * A runner journal as tables and chart inputs, for reviewing a run (paper, live or replay) in a
 * notebook: one row per order (intent, final status, fills), the fills, the equity of the
 * snapshots and round trips built from the fills by the backtest's own `RoundTripBuilder`.
 * Pure: records in, plain data out.
 */
import { RoundTripBuilder } from '../backtest/round-trips.js';
import type { FillRecord, TradeRecord } from '../backtest/result-types.js';
import { numberOr, stringOr } from '../core/unknown-values.js';
import type { JournalRecord, JournalSnapshot } from '../journal/journal.js';

/** One order of the run, as its journal records tell it. */
export interface JournalOrderRow {
  clientOrderId: string;
  instrument: string | null;
  side: string | null;
  type: string | null;
  quantity: number | null;
  /** Engine time of the durable intent (ms), null for orders without one (rejected by risk before) */
  intentTs: number | null;
  status: string | null;
  filledQuantity: number;
  avgFillPrice: number | null;
  /** Why it was rejected or cancelled, if it was */
  reason: string | null;
  events: number;
}

export interface JournalReview {
  orders: JournalOrderRow[];
  fills: FillRecord[];
  /** Equity at every snapshot (engine time) */
  equity: { ts: Float64Array; equity: Float64Array };
  /** Round trips closed during the run */
  trades: TradeRecord[];
  /** Records per kind */
  counts: Record<string, number>;
}

type Payload = Record<string, unknown>;

/**
 * Reviews the records of one run (`readJournal(store, runId)`). `multipliers` gives the contract
 * multiplier per instrument for round-trip P&L (default 1, stocks).
 */
export function reviewJournal(records: readonly JournalRecord[], multipliers: Readonly<Record<string, number>> = {}): JournalReview {
  const orders = new Map<string, JournalOrderRow>();
  const fills: FillRecord[] = [];
  const equityTs: number[] = [];
  const equity: number[] = [];
  const counts: Record<string, number> = {};
  const trips = new RoundTripBuilder();
  const order = (id: string, instrument: string | null): JournalOrderRow => {
    let row = orders.get(id);
    if (row === undefined) {
      row = { clientOrderId: id, instrument, side: null, type: null, quantity: null, intentTs: null, status: null, filledQuantity: 0, avgFillPrice: null, reason: null, events: 0 };
      orders.set(id, row);
    }
    return row;
  };

  for (const r of records) {
    counts[r.kind] = (counts[r.kind] ?? 0) + 1;
    const p = (r.payload ?? {}) as Payload;
    if (r.kind === 'order_intent' && r.clientOrderId !== null) {
      const row = order(r.clientOrderId, r.instrument);
      row.intentTs = r.ts;
      row.side = stringOr(p['side'], row.side);
      row.type = stringOr(p['type'], row.type);
      row.quantity = numberOr(p['quantity'], row.quantity);
    } else if (r.kind === 'order_event' && r.clientOrderId !== null) {
      const row = order(r.clientOrderId, r.instrument);
      const o = (p['order'] ?? {}) as Payload;
      row.events += 1;
      row.status = stringOr(p['status'], row.status);
      row.side ??= stringOr(o['side'], null);
      row.type ??= stringOr(o['type'], null);
      row.quantity ??= numberOr(o['quantity'], null);
      row.filledQuantity = numberOr(o['filledQuantity'], row.filledQuantity);
      row.avgFillPrice = numberOr(o['avgFillPrice'], row.avgFillPrice);
      row.reason = stringOr(p['reason'], row.reason);
    } else if (r.kind === 'fill') {
      const instrument = stringOr(p['instrument'], r.instrument ?? '');
      const side = p['side'] === 'SELL' ? 'SELL' : 'BUY';
      const quantity = numberOr(p['quantity'], 0);
      const price = numberOr(p['price'], NaN);
      const commission = numberOr(p['commission'], 0);
      const ts = numberOr(p['ts'], r.ts ?? NaN);
      fills.push({
        orderId: numberOr(p['orderId'], 0),
        clientOrderId: r.clientOrderId ?? '',
        instrument,
        side,
        quantity,
        price,
        commission,
        ts,
        liquidity: p['liquidity'] === 'maker' ? 'maker' : 'taker',
      });
      if (quantity > 0 && Number.isFinite(price)) trips.onFill(instrument, multipliers[instrument] ?? 1, side === 'BUY' ? quantity : -quantity, price, commission, ts);
    } else if (r.kind === 'snapshot' && r.ts !== null) {
      const e = numberOr((p as JournalSnapshot).equity, null);
      if (e !== null) {
        equityTs.push(r.ts);
        equity.push(e);
      }
    }
  }
  return { orders: [...orders.values()], fills, equity: { ts: Float64Array.from(equityTs), equity: Float64Array.from(equity) }, trades: trips.trades, counts };
}
