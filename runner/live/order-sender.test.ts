import type { Contract, IBApi, Order as IbOrder } from '@stoqey/ib';
import { describe, expect, it } from 'vitest';
import type { InstrumentSpec } from '../../lib/data/instrument.js';
import type { ResolvedContract } from '../../lib/ib/contract-resolver.js';
import { realScheduler } from '../../lib/ib/ib-session.js';
import type { Order } from '../../lib/model/orders.js';
import { BrokerOrders } from './broker-orders.js';
import { OrderSender } from './order-sender.js';
import { OrderTracker } from './order-tracker.js';

/**
 * The order queue's durable intents: an order's intent starts at the end of the turn it was
 * submitted in, together with the other orders of that turn, without waiting for the orders ahead
 * of it to be sent; each order is sent only once its own intent is durable, in submission order.
 */

const SPEC: InstrumentSpec = { key: 'SPY', symbol: 'SPY', secType: 'STK', currency: 'USD', exchange: 'ARCA', tickSize: 0.01, multiplier: 1, conId: 756733 };
const RESOLVED = { conId: 756733, symbol: 'SPY', secType: 'STK', exchange: 'SMART', primaryExch: 'ARCA', currency: 'USD', localSymbol: 'SPY' } as ResolvedContract;

function order(id: number): Order {
  return {
    id,
    clientOrderId: `s-${id}`,
    strategyId: 's',
    instrument: 'SPY',
    instrumentIndex: 0,
    side: 'BUY',
    type: 'MARKET',
    quantity: 10,
    limitPrice: NaN,
    stopPrice: NaN,
    trailingAmount: NaN,
    trailingPercent: NaN,
    tif: 'DAY',
    status: 'SUBMITTED',
    filledQuantity: 0,
    avgFillPrice: NaN,
    commission: 0,
    parentId: 0,
    ocaGroup: '',
    tag: '',
    createdAt: 0,
    updatedAt: 0,
    triggered: false,
    reason: '',
  };
}

function setup() {
  const log: string[] = [];
  const intents = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  let nextId = 1_000_000;
  const api = { placeOrder: (id: number, _c: Contract, o: IbOrder) => log.push(`place ${o.orderRef} ${id}`) } as unknown as IBApi;
  const tracker = new OrderTracker({ emit: () => undefined, now: () => 0, scheduler: realScheduler, alert: () => undefined });
  const sender = new OrderSender({
    session: { request: (send: (a: IBApi) => void) => (send(api), true), clientId: 7, nextOrderId: () => nextId++ },
    tracker,
    broker: new BrokerOrders(),
    contracts: { resolveOne: async () => RESOLVED },
    account: 'DU1',
    outsideRth: undefined,
    gate: async () => undefined,
    beforeSend: (orderRef) => {
      log.push(`intent ${orderRef}`);
      return new Promise<void>((resolve, reject) => intents.set(orderRef, { resolve, reject }));
    },
    alert: () => undefined,
    log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => undefined as never },
  });
  const submit = (id: number) => {
    const o = order(id);
    const t = tracker.add(o, `ref-${id}`);
    sender.enqueue(t, o, SPEC);
    return t;
  };
  return { log, intents, submit, tracker };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('OrderSender durable intents', () => {
  it("starts a later turn's intents while earlier orders still wait for theirs; sends each once its intent is durable, in order", async () => {
    const { log, intents, submit } = setup();
    submit(1);
    submit(2);
    await turn();
    expect(log).toEqual(['intent ref-1', 'intent ref-2']);
    // a later turn: its intent does not wait for orders 1 and 2 to be sent
    submit(3);
    await turn();
    expect(log).toEqual(['intent ref-1', 'intent ref-2', 'intent ref-3']);
    // order 3 durable first: still sent after 1 and 2
    intents.get('ref-3')!.resolve();
    intents.get('ref-2')!.resolve();
    await turn();
    expect(log.filter((l) => l.startsWith('place'))).toEqual([]);
    intents.get('ref-1')!.resolve();
    await turn();
    expect(log.filter((l) => l.startsWith('place'))).toEqual(['place ref-1 1000000', 'place ref-2 1000001', 'place ref-3 1000002']);
  });

  it('a failed intent rejects its order unsent; the orders behind it go on', async () => {
    const { log, intents, submit } = setup();
    const a = submit(1);
    const b = submit(2);
    await turn();
    intents.get('ref-1')!.reject(new Error('disk full'));
    intents.get('ref-2')!.resolve();
    await turn();
    expect(log.filter((l) => l.startsWith('place'))).toEqual(['place ref-2 1000000']);
    expect(a.done).toBe(true);
    expect(b.sent).toBe(true);
  });
});
