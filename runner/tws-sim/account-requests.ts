/**
 * The account side of the orders feature: REQ_POSITIONS / CANCEL_POSITIONS, REQ_ACCOUNT_SUMMARY /
 * CANCEL_ACCOUNT_SUMMARY and REQ_ACCOUNT_DATA (reqAccountUpdates), answered from the OrderBook's
 * ledger. Subscribers get the snapshot at once and then updates: positions on every fill,
 * account values and portfolio lines after fills and every 3 simulated minutes (TWS's cadence).
 *
 * Each handler reads its request fields at once and returns the work to run in the feature's
 * request order.
 */
import {
  accountDownloadEndFields,
  accountSummaryEndFields,
  accountSummaryFields,
  accountTimeFields,
  accountValueFields,
  accountValueRows,
  portfolioFields,
  POSITION_END,
  positionFields,
  requestedTags,
  summaryValue,
} from './exec-messages.js';
import type { PositionState } from './ledger.js';
import type { OrderBook } from './order-book.js';
import { OUT, type ClientConnection, type FieldReader } from './types.js';

/** Work to run once earlier requests are done. */
export type Deferred = () => void | Promise<void>;
export type AccountHandler = (conn: ClientConnection, fields: FieldReader) => Deferred;

/** TWS refreshes account values and summaries every 3 minutes. */
const REFRESH_MS = 180_000;

interface SummarySub {
  conn: ClientConnection;
  reqId: number;
  tags: string[];
}

export class AccountRequests {
  private readonly positionSubs = new Set<ClientConnection>();
  private readonly summarySubs = new Map<string, SummarySub>();
  private readonly accountSubs = new Set<ClientConnection>();
  private lastRefresh: number | undefined;

  constructor(
    private readonly book: () => OrderBook,
    private readonly now: () => number,
  ) {}

  handlers(): [number, AccountHandler][] {
    return [
      [OUT.REQ_POSITIONS, (conn, f) => (f.int(), () => this.subscribePositions(conn))],
      [OUT.CANCEL_POSITIONS, (conn, f) => (f.int(), () => void this.positionSubs.delete(conn))],
      [
        OUT.REQ_ACCOUNT_SUMMARY,
        (conn, f) => {
          f.int(); // version
          const reqId = f.int();
          f.string(); // group: one account, "All" and any group name mean it
          const tags = requestedTags(f.string());
          return () => this.subscribeSummary({ conn, reqId, tags });
        },
      ],
      [
        OUT.CANCEL_ACCOUNT_SUMMARY,
        (conn, f) => {
          f.int();
          const reqId = f.int();
          return () => void this.summarySubs.delete(`${conn.id}:${reqId}`);
        },
      ],
      [
        OUT.REQ_ACCOUNT_DATA,
        (conn, f) => {
          f.int(); // version 2
          const subscribe = f.bool();
          f.string(); // acctCode: the one simulated account
          return () => (subscribe ? this.subscribeAccount(conn) : void this.accountSubs.delete(conn));
        },
      ],
    ];
  }

  /** Drops a closed connection's subscriptions. */
  forget(conn: ClientConnection): void {
    this.positionSubs.delete(conn);
    this.accountSubs.delete(conn);
    for (const [k, s] of this.summarySubs) if (s.conn === conn) this.summarySubs.delete(k);
  }

  /** A fill changed a position: position subscribers and the account window hear of it. */
  positionChanged(p: PositionState): void {
    for (const c of this.positionSubs) if (c.open) c.send(positionFields(p));
    const line = this.book()
      .portfolio()
      .find((l) => l.position.contract.instrument.key === p.contract.instrument.key);
    if (line) for (const c of this.accountSubs) if (c.open) c.send(portfolioFields(this.book().account, line));
  }

  /** After fills: fresh account values and summaries. */
  accountChanged(): void {
    for (const c of this.accountSubs) this.sendValues(c);
    for (const s of this.summarySubs.values()) this.sendSummaryRows(s);
  }

  /** Every 3 simulated minutes: re-mark and refresh account subscribers, as TWS does. */
  async periodic(now: number): Promise<void> {
    if (this.accountSubs.size === 0 && this.summarySubs.size === 0) return;
    if (this.lastRefresh !== undefined && now - this.lastRefresh < REFRESH_MS) return;
    this.lastRefresh = now;
    await this.book().mark(now);
    for (const c of this.accountSubs) {
      this.sendValues(c);
      this.sendPortfolio(c);
    }
    for (const s of this.summarySubs.values()) this.sendSummaryRows(s);
  }

  private subscribePositions(conn: ClientConnection): void {
    this.positionSubs.add(conn);
    for (const p of this.book().positions()) conn.send(positionFields(p));
    conn.send(POSITION_END);
  }

  private async subscribeSummary(s: SummarySub): Promise<void> {
    await this.book().mark(this.now());
    this.summarySubs.set(`${s.conn.id}:${s.reqId}`, s);
    this.sendSummaryRows(s);
    s.conn.send(accountSummaryEndFields(s.reqId));
  }

  private async subscribeAccount(conn: ClientConnection): Promise<void> {
    await this.book().mark(this.now());
    this.accountSubs.add(conn);
    this.sendValues(conn);
    this.sendPortfolio(conn);
    conn.send(accountDownloadEndFields(this.book().account));
  }

  private sendSummaryRows(s: SummarySub): void {
    if (!s.conn.open) return;
    const book = this.book();
    const values = book.accountValues();
    for (const tag of s.tags) {
      const v = summaryValue(tag, values);
      if (v) s.conn.send(accountSummaryFields(s.reqId, book.account, tag, v.value, v.currency));
    }
  }

  private sendValues(conn: ClientConnection): void {
    if (!conn.open) return;
    const book = this.book();
    for (const row of accountValueRows(book.account, book.accountValues())) conn.send(accountValueFields(book.account, row));
    conn.send(accountTimeFields(this.now()));
  }

  private sendPortfolio(conn: ClientConnection): void {
    if (!conn.open) return;
    const book = this.book();
    for (const line of book.portfolio()) conn.send(portfolioFields(book.account, line));
  }
}
