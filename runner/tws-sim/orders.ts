/**
 * The order and account feature of the TWS simulator: PLACE_ORDER, CANCEL_ORDER,
 * REQ_GLOBAL_CANCEL, REQ_OPEN_ORDERS, REQ_ALL_OPEN_ORDERS and REQ_EXECUTIONS against one
 * OrderBook, matched against the injected QuoteBook every `matchIntervalMs` (real time) at the sim
 * clock's time; the account requests (positions, account summary, account updates) are served by
 * account-requests.ts from the same book.
 *
 * Every state change is reported as TWS does (tws-protocol.md "Order event sequences"): openOrder
 * then orderStatus; on a fill execDetails (reqId -1), openOrder + orderStatus, commissionReport;
 * cancels add error 202, rejections 201, a reused id 103/104, an unknown cancel 10147. Order
 * messages go to the placing client and to client 0 (the master client), for each connection
 * that has talked to this feature.
 *
 * Requests are handled one at a time in arrival order (a bracket's child is never looked at before
 * its parent, even though resolving a contract reads the store).
 */
import type { CommissionModel } from '../../lib/backtest/commission.js';
import { listInstruments } from '../../lib/store/instruments.js';
import { AccountRequests } from './account-requests.js';
import type { FillModel } from './backtest-fills.js';
import { matchContracts, type SimContract } from './contract-match.js';
import { commissionReportFields, execDetailsEndFields, execDetailsFields } from './exec-messages.js';
import { matchesFilter, readExecFilter } from './exec-filter.js';
import { ambiguousContract, NO_SECURITY_DEFINITION } from './ib-errors.js';
import { OPEN_ORDER_END, openOrderFields, orderStatusFields } from './open-order-message.js';
import { OrderBook, type BookEvent, type BookOrder, type OrderBookOptions } from './order-book.js';
import { readCancelOrder, readGlobalCancel, readPlaceOrder, type SimOrderRequest } from './place-order.js';
import { OUT, type ClientConnection, type QuoteBook, type RequestHandler, type SimContext, type SimFeature } from './types.js';

export interface OrdersFeatureOptions {
  /** The replayed market orders fill against (shared with the market-data feature) */
  quotes: QuoteBook;
  /** Default 1,000,000 (USD) */
  startingCash?: number;
  /** How often working orders are matched, in real ms (default 100) */
  matchIntervalMs?: number;
  /** Default IBKR Pro Fixed (lib/backtest/commission.ts) */
  commission?: CommissionModel;
  /** 'quote' (default): fill at the replayed touch; 'backtest': on stored bars as the backtest does (backtest-fills.ts) */
  fillModel?: FillModel;
  /** 'backtest' model: slippage of market and stop fills, basis points (default 0) */
  slippageBps?: number;
  /** 'backtest' model: the stored bars (default: the quote book's when it is a replay book) */
  series?: OrderBookOptions['series'];
  /** Injected rejections (fault injection): a reason rejects the next order with 201 */
  faults?: { takeRejection(): string | undefined };
}

/** The feature plus a window onto its book (tests, diagnostics). */
export interface OrdersFeature extends SimFeature {
  /** The book, created on the first request (it needs the server's account id) */
  readonly book: OrderBook | undefined;
  /** Runs one matching pass now (instead of waiting for the timer) */
  tick(): Promise<void>;
  /** Resolves once every request received so far has been handled and answered */
  settled(): Promise<void>;
}

export function ordersFeature(options: OrdersFeatureOptions): OrdersFeature {
  return new OrdersService(options).feature();
}

class OrdersService {
  book: OrderBook | undefined;
  private ctx: SimContext | undefined;
  private readonly conns = new Set<ClientConnection>();
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private closed = false;
  private readonly account: AccountRequests;

  constructor(private readonly options: OrdersFeatureOptions) {
    this.account = new AccountRequests(() => this.requireBook(), () => this.requireCtx().clock.now());
  }

  feature(): OrdersFeature {
    const on = (fn: (conn: ClientConnection, fields: Parameters<RequestHandler>[1], ctx: SimContext) => void | Promise<void>): RequestHandler => {
      return (conn, fields, ctx) => {
        this.attach(conn, ctx);
        return fn(conn, fields, ctx);
      };
    };
    const handlers = new Map<number, RequestHandler>([
      [OUT.PLACE_ORDER, on((conn, f, ctx) => this.placeOrder(conn, readPlaceOrder(f, conn.serverVersion), ctx))],
      [
        OUT.CANCEL_ORDER,
        on((conn, f) => {
          const orderId = readCancelOrder(f, conn.serverVersion);
          return this.serial(() => this.dispatch(this.requireBook().cancel(conn.clientId, orderId)));
        }),
      ],
      [
        OUT.REQ_GLOBAL_CANCEL,
        on((conn, f) => {
          readGlobalCancel(f, conn.serverVersion);
          return this.serial(() => this.dispatch(this.requireBook().globalCancel()));
        }),
      ],
      [OUT.REQ_OPEN_ORDERS, on((conn, f) => (f.int(), this.serial(() => this.sendOpenOrders(conn, conn.clientId))))],
      [OUT.REQ_ALL_OPEN_ORDERS, on((conn, f) => (f.int(), this.serial(() => this.sendOpenOrders(conn, undefined))))],
      [OUT.REQ_EXECUTIONS, on((conn, f) => this.sendExecutions(conn, readExecFilter(f)))],
      ...this.account.handlers().map(([id, h]): [number, RequestHandler] => [id, on((conn, f) => this.serial(h(conn, f)))]),
    ]);
    const self = this;
    return {
      name: 'orders',
      handlers,
      get book() {
        return self.book;
      },
      tick: () => this.serial(() => this.tick()),
      settled: () => this.serial(() => undefined),
      close: () => this.close(),
    };
  }

  /** Remembers a client (for routing) and starts the matching loop on first contact. */
  private attach(conn: ClientConnection, ctx: SimContext): void {
    this.ctx ??= ctx;
    const o = this.options;
    this.book ??= new OrderBook({ account: ctx.account, quotes: o.quotes, startingCash: o.startingCash, commission: o.commission, fillModel: o.fillModel, slippageBps: o.slippageBps, series: o.series });
    if (!this.conns.has(conn)) {
      this.conns.add(conn);
      conn.onClose(() => {
        this.conns.delete(conn);
        this.account.forget(conn);
      });
    }
    if (!this.timer && !this.closed) {
      this.timer = setInterval(() => this.onTimer(), this.options.matchIntervalMs ?? 100);
      this.timer.unref();
    }
  }

  private requireBook(): OrderBook {
    if (!this.book) throw new Error('orders feature used before any request');
    return this.book;
  }

  private requireCtx(): SimContext {
    if (!this.ctx) throw new Error('orders feature used before any request');
    return this.ctx;
  }

  /** Runs `fn` after every earlier request; a failure answers its own request only. */
  private serial(fn: () => void | Promise<void>): Promise<void> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private placeOrder(conn: ClientConnection, req: SimOrderRequest, ctx: SimContext): Promise<void> {
    ctx.orderIds?.observe(req.orderId);
    return this.serial(async () => {
      const now = ctx.clock.now();
      const contract = this.options.faults?.takeRejection() ?? (await this.resolve(req, ctx, now));
      const book = this.requireBook();
      this.dispatch(book.place(conn.clientId, req, contract, now));
      // marketable orders fill at once, as at a live venue
      this.dispatch(await book.tick(now));
    });
  }

  /** The instrument an order's contract names, or why it cannot be traded. */
  private async resolve(req: SimOrderRequest, ctx: SimContext, now: number): Promise<SimContract | string> {
    const c = req.contract;
    if (c.secType === 'CONTFUT') return 'Continuous futures (CONTFUT) cannot be traded; order the front-month FUT by its conId';
    if (c.secType && c.secType !== 'STK' && c.secType !== 'FUT') return `Security type ${c.secType} is not supported by the simulator`;
    const matches = matchContracts(await listInstruments(ctx.store), { ...c, includeExpired: false }, now).filter((m) => m.secType !== 'CONTFUT');
    if (matches.length === 0) return NO_SECURITY_DEFINITION.text;
    if (matches.length > 1) return ambiguousContract(c.symbol || c.localSymbol || String(c.conId));
    return matches[0]!;
  }

  private onTimer(): void {
    if (this.ticking || !this.ctx || !this.book) return;
    this.ticking = true;
    this.serial(() => this.tick())
      .catch(() => undefined)
      .finally(() => (this.ticking = false));
  }

  private async tick(): Promise<void> {
    const book = this.book;
    const ctx = this.ctx;
    if (!book || !ctx) return;
    const now = ctx.clock.now();
    if (book.openOrders().length > 0) this.dispatch(await book.tick(now));
    await this.account.periodic(now);
  }

  private close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Connections that see an order's messages: its client's and the master client's (0). */
  private audience(clientId: number): ClientConnection[] {
    return [...this.conns].filter((c) => c.open && (c.clientId === clientId || c.clientId === 0));
  }

  /** Turns book events into TWS messages, then refreshes account subscribers after fills. */
  private dispatch(events: BookEvent[]): void {
    let filled = false;
    for (const e of events) {
      switch (e.kind) {
        case 'order':
          for (const c of this.audience(e.order.clientId)) {
            c.send(openOrderFields(e.order, c.serverVersion));
            c.send(orderStatusFields(e.order));
          }
          break;
        case 'execution':
          filled = true;
          for (const c of this.audience(e.execution.clientId)) c.send(execDetailsFields(-1, e.execution, c.serverVersion));
          break;
        case 'commission':
          for (const c of this.audience(e.execution.clientId)) c.send(commissionReportFields(e.execution));
          break;
        case 'position':
          this.account.positionChanged(e.position);
          break;
        case 'error':
          for (const c of this.conns) if (c.open && c.clientId === e.clientId) c.error(e.orderId, e.code, e.message);
          break;
      }
    }
    if (filled) this.account.accountChanged();
  }

  /** reqOpenOrders (own orders) / reqAllOpenOrders (every client's), then openOrderEnd. */
  private sendOpenOrders(conn: ClientConnection, clientId: number | undefined): void {
    for (const o of this.requireBook().openOrders(clientId)) sendOrder(conn, o);
    conn.send(OPEN_ORDER_END);
  }

  /**
   * reqExecutions: the matching executions, each with its commission report, then
   * execDetailsEnd. A client sees its own executions; the master client (0) sees all.
   */
  private sendExecutions(conn: ClientConnection, filter: ReturnType<typeof readExecFilter>): Promise<void> {
    return this.serial(() => {
      for (const e of this.requireBook().executions()) {
        if (conn.clientId !== 0 && e.clientId !== conn.clientId) continue;
        if (!matchesFilter(e, filter)) continue;
        conn.send(execDetailsFields(filter.reqId, e, conn.serverVersion));
        conn.send(commissionReportFields(e));
      }
      conn.send(execDetailsEndFields(filter.reqId));
    });
  }
}

function sendOrder(conn: ClientConnection, o: Readonly<BookOrder>): void {
  conn.send(openOrderFields(o, conn.serverVersion));
  conn.send(orderStatusFields(o));
}
