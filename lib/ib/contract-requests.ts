/**
 * The contract resolver's requests to TWS (tws-protocol.md §2 contractDetails, §5 error 200):
 * each reqContractDetails goes through `IbSession.request()` (the message budget) with a request
 * id from the resolver's own range, below the session's order ids, and every contractDetails of
 * a request is collected until contractDetailsEnd. One request ends with exactly one Outcome: its
 * contracts, not found (error 200, or an end without any contract), another IB error, a timeout,
 * or a lost connection.
 *
 * Timers are injected (`scheduler`); nothing here reads the wall clock.
 */
import { EventName, type Contract, type ContractDetails, type IBApi, type SecType } from '@stoqey/ib';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { toResolvedContract, type ContractQuery, type ResolvedContract } from './contract-types.js';
import type { IbSession, SessionScheduler } from './ib-session.js';
import type { SessionTransition } from './session-state.js';

/** The part of IbSession the resolver uses (a test fake implements just this). */
export type ContractSession = Pick<IbSession, 'request' | 'on'>;

const NO_SECURITY_DEFINITION = 200;

/** What one attempt ended with. */
export type Outcome =
  | { kind: 'contracts'; contracts: ResolvedContract[] }
  | { kind: 'not-found'; code: number | undefined; reason: string }
  | { kind: 'ib-error'; code: number; reason: string }
  | { kind: 'timeout' }
  | { kind: 'disconnected'; reason: string };

interface InFlight {
  reqId: number;
  key: string;
  details: ResolvedContract[];
  timer: unknown;
  settle: (outcome: Outcome) => void;
}

type ApiListeners = {
  details: (reqId: number, d: ContractDetails) => void;
  end: (reqId: number) => void;
  error: (error: Error, code: number, reqId: number) => void;
};

export interface ContractRequestsOptions {
  session: ContractSession;
  /** Per attempt, from handing the request to the session to contractDetailsEnd */
  requestTimeoutMs: number;
  /** Request ids used, inclusive */
  reqIdRange: { from: number; to: number };
  scheduler: SessionScheduler;
  logger: Logger;
  /** Called for every request handed to the session */
  onRequest: () => void;
}

/** Sends contract requests and routes the answers of every connection to them. */
export class ContractRequests {
  private readonly session: ContractSession;
  private readonly requestTimeoutMs: number;
  private readonly reqIdFrom: number;
  private readonly reqIdTo: number;
  private readonly scheduler: SessionScheduler;
  private readonly log: Logger;
  private readonly onRequest: () => void;
  private readonly inFlight = new Map<number, InFlight>();
  private readonly apis = new Map<IBApi, ApiListeners>();
  private readonly unsubscribe: () => void;
  private nextReqId: number;
  private closed = false;

  constructor(options: ContractRequestsOptions) {
    this.session = options.session;
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.reqIdFrom = options.reqIdRange.from;
    this.reqIdTo = options.reqIdRange.to;
    this.nextReqId = options.reqIdRange.from;
    this.scheduler = options.scheduler;
    this.log = options.logger;
    this.onRequest = options.onRequest;
    this.unsubscribe = this.session.on('transition', (t) => this.onTransition(t));
  }

  /** Requests sent and not yet answered. */
  get size(): number {
    return this.inFlight.size;
  }

  /**
   * Stops listening to the session and its connections; requests in flight end as
   * disconnected ('resolver closed').
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    for (const [api, l] of this.apis) {
      api.off(EventName.contractDetails, l.details);
      api.off(EventName.contractDetailsEnd, l.end);
      api.off(EventName.error, l.error);
    }
    this.apis.clear();
    for (const f of [...this.inFlight.values()]) f.settle({ kind: 'disconnected', reason: 'resolver closed' });
  }

  /** One request: resolves with its outcome, never rejects. */
  send(query: ContractQuery, key: string): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const reqId = this.allocateReqId();
      let done = false;
      const entry: InFlight = {
        reqId,
        key,
        details: [],
        timer: undefined,
        settle: (outcome) => {
          if (done) return;
          done = true;
          this.scheduler.clearTimeout(entry.timer);
          this.inFlight.delete(reqId);
          resolve(outcome);
        },
      };
      this.inFlight.set(reqId, entry);
      entry.timer = this.scheduler.setTimeout(() => entry.settle({ kind: 'timeout' }), this.requestTimeoutMs);
      const contract = requestContract(query);
      this.onRequest();
      this.log.debug('reqContractDetails', { reqId, key });
      let accepted: boolean;
      try {
        accepted = this.session.request((api) => {
          if (done) return;
          this.attach(api);
          api.reqContractDetails(reqId, contract);
        }, `contract ${key}`);
      } catch (e) {
        accepted = false;
        this.log.error('session request threw', { key, error: e instanceof Error ? e.message : String(e) });
      }
      if (!accepted) entry.settle({ kind: 'disconnected', reason: 'session not connected' });
    });
  }

  /** Listens for answers on a connection's IBApi (once per IBApi). */
  private attach(api: IBApi): void {
    if (this.apis.has(api) || this.closed) return;
    const listeners: ApiListeners = {
      details: (reqId, d) => {
        const f = this.inFlight.get(reqId);
        if (!f) return;
        try {
          f.details.push(toResolvedContract(d));
        } catch (e) {
          this.log.error('bad contractDetails', { reqId, error: e instanceof Error ? e.message : String(e) });
        }
      },
      end: (reqId) => {
        const f = this.inFlight.get(reqId);
        if (!f) return;
        if (f.details.length === 0) f.settle({ kind: 'not-found', code: undefined, reason: 'contractDetailsEnd without any contract' });
        else f.settle({ kind: 'contracts', contracts: f.details });
      },
      error: (error, code, reqId) => {
        const f = this.inFlight.get(reqId);
        if (!f) return;
        const reason = error?.message ?? String(error);
        if (code === NO_SECURITY_DEFINITION) f.settle({ kind: 'not-found', code, reason });
        else f.settle({ kind: 'ib-error', code, reason });
      },
    };
    api.on(EventName.contractDetails, listeners.details);
    api.on(EventName.contractDetailsEnd, listeners.end);
    api.on(EventName.error, listeners.error);
    this.apis.set(api, listeners);
  }

  /** The connection is gone: its requests will never be answered. */
  private onTransition(t: SessionTransition): void {
    const usable = t.to === 'connected' || t.to === 'degraded';
    if (usable) return;
    for (const f of [...this.inFlight.values()]) f.settle({ kind: 'disconnected', reason: `connection lost (${t.to}: ${t.reason})` });
  }

  private allocateReqId(): number {
    const size = this.reqIdTo - this.reqIdFrom + 1;
    for (let i = 0; i < size; i++) {
      const id = this.nextReqId;
      this.nextReqId = id >= this.reqIdTo ? this.reqIdFrom : id + 1;
      if (!this.inFlight.has(id)) return id;
    }
    // cannot happen while maxConcurrent < range size; a range that small is a configuration bug
    throw new ConfigError('contract resolver', [`reqIdRange ${this.reqIdFrom}..${this.reqIdTo} has no free id`]);
  }

}

/** The stoqey contract sent with reqContractDetails. */
function requestContract(q: ContractQuery): Contract {
  const c: Contract = { symbol: q.symbol.trim().toUpperCase(), secType: q.secType as SecType };
  if (q.exchange) c.exchange = q.exchange.trim().toUpperCase();
  if (q.currency) c.currency = q.currency.trim().toUpperCase();
  if (q.lastTradeDateOrContractMonth) c.lastTradeDateOrContractMonth = q.lastTradeDateOrContractMonth.trim();
  if (q.localSymbol) c.localSymbol = q.localSymbol.trim().toUpperCase();
  if (q.conId && q.conId > 0) c.conId = q.conId;
  if (q.includeExpired) c.includeExpired = true;
  return c;
}
