/**
 * Fault injection for the TWS simulator: what IB really does to an API client, on demand, so tests
 * and operators can rehearse it (tws-protocol.md §5). A `FaultInjector` is attached to a running
 * TwsSimulator; control-http.ts and `monger gateway-sim fault` drive the same methods.
 *
 * - dropAll: every socket closed at once (a TWS crash or restart).
 * - refuseConnections(s): the listener closes, so connects fail with ECONNREFUSED (stoqey: 502), then
 *   it listens again on the same port.
 * - connectivityLost / connectivityRestored: 1100, then 1101 (data lost: the market-data, depth and
 *   real-time bar subscriptions of every client are dropped server-side) or 1102 (data maintained).
 *   While the link is down no instrument's quote changes (when a FreezableQuoteBook is attached).
 * - farmFlap: 2103/2105/2157 broken, 2104/2106/2158 ok, 2108/2107 inactive (usfarm/ushmds).
 * - freezeSymbol: one instrument's market data stops changing (FreezableQuoteBook).
 * - nightlyReset: 1100, then everything dropped and connections refused for the down time.
 * - rejectNextOrders: the next n orders are rejected with a reason, through `OrderFaults`.
 * - slowResponses: every outgoing message is held back (TwsSimulator.outgoingDelayMs).
 *
 * Wiring: the quote book and the market-data feature must be wrapped before the simulator is built
 * (`new FreezableQuoteBook(book)`, `resettableFeature(feature)` or `faultableFeatures(features)`).
 */
import { WorkbenchError } from '../../lib/core/errors.js';
import { silentLogger, type Logger } from '../../lib/core/logger.js';
import type { ReplayQuoteBook, ReplaySeries, SessionStats } from './replay-quotes.js';
import type { TwsSimulator } from './server.js';
import type { ClientConnection, RequestHandler, SimFeature, SimQuote, WireField } from './types.js';

/** IB <-> TWS link messages (id -1), as TWS words them. */
export const CONNECTIVITY_LOST = { code: 1100, text: 'Connectivity between IB and Trader Workstation has been lost.' } as const;
export const RESTORED_DATA_LOST = { code: 1101, text: 'Connectivity between IB and Trader Workstation has been restored - data lost.' } as const;
export const RESTORED_DATA_MAINTAINED = { code: 1102, text: 'Connectivity between IB and Trader Workstation has been restored - data maintained.' } as const;

export const FARMS = ['usfarm', 'ushmds', 'secdefnj'] as const;
export type Farm = (typeof FARMS)[number];
export const FARM_STATES = ['broken', 'ok', 'inactive'] as const;
export type FarmState = (typeof FARM_STATES)[number];

/**
 * Farm status messages (id -1). The codes are in tws-protocol.md §5; the texts are those real TWS
 * sends (2107/2108 end "upon demand.<farm>", without a colon). Sec-def farms have no inactive code.
 */
export const FARM_MESSAGES: Readonly<Record<Farm, Partial<Record<FarmState, { code: number; text: string }>>>> = {
  usfarm: {
    broken: { code: 2103, text: 'Market data farm connection is broken:usfarm' },
    ok: { code: 2104, text: 'Market data farm connection is OK:usfarm' },
    inactive: { code: 2108, text: 'Market data farm connection is inactive but should be available upon demand.usfarm' },
  },
  ushmds: {
    broken: { code: 2105, text: 'HMDS data farm connection is broken:ushmds' },
    ok: { code: 2106, text: 'HMDS data farm connection is OK:ushmds' },
    inactive: { code: 2107, text: 'HMDS data farm connection is inactive but should be available upon demand.ushmds' },
  },
  secdefnj: {
    broken: { code: 2157, text: 'Sec-def data farm connection is broken:secdefnj' },
    ok: { code: 2158, text: 'Sec-def data farm connection is OK:secdefnj' },
  },
};

/** A fault the simulator was not wired for (e.g. freezing without a FreezableQuoteBook). */
export class FaultUnavailableError extends WorkbenchError {
  readonly code = 'FAULT_UNAVAILABLE';
}

/**
 * What the orders feature consults before accepting an order: a reason string means "reject this
 * order" (TWS answers 201 "Order rejected - reason:<reason>" with the order's id, then orderStatus
 * Cancelled), undefined means "carry on". Each call with a pending rejection uses one up.
 * The FaultInjector implements it; pass it as e.g. `ordersFeature({ quotes, faults })` once the
 * orders feature takes the option (it does not yet).
 */
export interface OrderFaults {
  takeRejection(): string | undefined;
}

/**
 * A quote book whose instruments can be frozen: while frozen, `quote` and `session` keep returning
 * the last answer given for that instrument (real-time bars read the series and are not frozen).
 */
export class FreezableQuoteBook implements ReplayQuoteBook {
  private readonly frozen = new Set<string>();
  private everything = false;
  private readonly lastQuote = new Map<string, SimQuote | undefined>();
  private readonly lastSession = new Map<string, SessionStats | undefined>();

  constructor(readonly inner: ReplayQuoteBook) {}

  /** Freezes (on) or thaws (off) one instrument key ('SPY', '6E-202403'). */
  freeze(instrumentKey: string, on = true): void {
    if (on) this.frozen.add(instrumentKey);
    else this.frozen.delete(instrumentKey);
  }

  /** Freezes every instrument (the IB link is down), on top of the per-instrument freezes. */
  freezeAll(on: boolean): void {
    this.everything = on;
  }

  isFrozen(instrumentKey: string): boolean {
    return this.everything || this.frozen.has(instrumentKey);
  }

  /** The instruments frozen one by one, sorted. */
  get frozenKeys(): string[] {
    return [...this.frozen].sort();
  }

  async quote(instrumentKey: string, now: number): Promise<SimQuote | undefined> {
    if (this.isFrozen(instrumentKey) && this.lastQuote.has(instrumentKey)) return this.lastQuote.get(instrumentKey);
    const q = await this.inner.quote(instrumentKey, now);
    this.lastQuote.set(instrumentKey, q);
    return q;
  }

  async session(instrumentKey: string, now: number): Promise<SessionStats | undefined> {
    if (this.isFrozen(instrumentKey) && this.lastSession.has(instrumentKey)) return this.lastSession.get(instrumentKey);
    const s = await this.inner.session(instrumentKey, now);
    this.lastSession.set(instrumentKey, s);
    return s;
  }

  series(instrumentKey: string): Promise<ReplaySeries | undefined> {
    return this.inner.series(instrumentKey);
  }
}

/** A feature whose per-connection state can be dropped as if each client had disconnected. */
export interface ResettableFeature extends SimFeature {
  /** Drops the subscriptions of every client; returns how many connections had any */
  dropSubscriptions(): number;
}

/**
 * Wraps a feature so its subscriptions can be dropped server-side (1101) without touching the
 * feature: its handlers see a per-connection view, and dropping ends the view (the feature's
 * onClose listeners run, its later sends are discarded); the next request gets a fresh view.
 */
export function resettableFeature(feature: SimFeature): ResettableFeature {
  const views = new Map<ClientConnection, ConnectionView>();
  const viewOf = (conn: ClientConnection): ConnectionView => {
    let v = views.get(conn);
    if (!v) {
      const created = new ConnectionView(conn);
      views.set(conn, created);
      conn.onClose(() => {
        if (views.get(conn) === created) views.delete(conn);
        created.cutOff();
      });
      v = created;
    }
    return v;
  };
  const handlers = new Map<number, RequestHandler>();
  for (const [id, handler] of feature.handlers) handlers.set(id, (conn, fields, ctx) => handler(viewOf(conn), fields, ctx));
  return {
    name: feature.name,
    handlers,
    close: feature.close?.bind(feature),
    dropSubscriptions() {
      const dropped = [...views.values()];
      views.clear();
      for (const v of dropped) v.cutOff();
      return dropped.length;
    },
  };
}

/** The market-data feature's view of one client; cut off, it looks closed to the feature. */
class ConnectionView implements ClientConnection {
  private cut = false;
  private readonly listeners: (() => void)[] = [];

  constructor(private readonly real: ClientConnection) {}

  get id(): number {
    return this.real.id;
  }
  get clientId(): number {
    return this.real.clientId;
  }
  get serverVersion(): number {
    return this.real.serverVersion;
  }
  get marketDataType(): number | undefined {
    return this.real.marketDataType;
  }
  get open(): boolean {
    return !this.cut && this.real.open;
  }

  send(fields: readonly WireField[]): void {
    if (!this.cut) this.real.send(fields);
  }

  error(reqId: number, code: number, message: string): void {
    if (!this.cut) this.real.error(reqId, code, message);
  }

  onClose(listener: () => void): void {
    if (this.cut) queueMicrotask(listener);
    else this.listeners.push(listener);
  }

  cutOff(): void {
    if (this.cut) return;
    this.cut = true;
    for (const l of this.listeners.splice(0)) {
      try {
        l();
      } catch {
        // the feature's own cleanup failing must not stop the others
      }
    }
  }
}

/** Wraps the market-data feature of a feature list (by name) so 1101 can drop its subscriptions. */
export function faultableFeatures(features: readonly SimFeature[], names: readonly string[] = ['market-data']): { features: SimFeature[]; resettable: ResettableFeature[] } {
  const resettable: ResettableFeature[] = [];
  const wrapped = features.map((f) => {
    if (!names.includes(f.name)) return f;
    const r = resettableFeature(f);
    resettable.push(r);
    return r;
  });
  return { features: wrapped, resettable };
}

export interface FaultInjectorOptions {
  /** The shared quote book, wrapped: needed by freezeSymbol (and to still quotes while the link is down) */
  quotes?: FreezableQuoteBook;
  /** Features whose subscriptions 1101 drops */
  resettable?: readonly ResettableFeature[];
  /** Real ms between nightlyReset's 1100 and the drop (so the 1100 arrives); default 100 */
  resetWarningMs?: number;
  logger?: Logger;
}

/** What the control API reports. */
export interface FaultStatus {
  listening: boolean;
  /** ISO time at which refused connections are accepted again, null when not refusing */
  refusingUntil: string | null;
  connections: { id: number; clientId: number }[];
  linkLost: boolean;
  farms: Record<Farm, FarmState>;
  frozen: string[];
  pendingRejections: { count: number; reason: string | null };
  outgoingDelayMs: number;
}

const RESUME_RETRY_MS = 250;

export class FaultInjector implements OrderFaults {
  private readonly log: Logger;
  private readonly quotes: FreezableQuoteBook | undefined;
  private readonly resettable: readonly ResettableFeature[];
  private readonly resetWarningMs: number;
  private refuseTimer: NodeJS.Timeout | undefined;
  private refusingUntil: number | undefined;
  private linkLost = false;
  private readonly farms: Record<Farm, FarmState> = { usfarm: 'ok', ushmds: 'ok', secdefnj: 'ok' };
  private rejections = { count: 0, reason: '' };
  private closed = false;

  constructor(
    private readonly sim: TwsSimulator,
    options: FaultInjectorOptions = {},
  ) {
    this.quotes = options.quotes;
    this.resettable = options.resettable ?? [];
    this.resetWarningMs = options.resetWarningMs ?? 100;
    this.log = (options.logger ?? silentLogger).child({ component: 'tws-sim-faults' });
  }

  /** Drops every client at once; returns how many had started a session. */
  dropAll(): { dropped: number } {
    const dropped = this.sim.connections().length;
    this.log.warn('fault: dropping all clients', { dropped });
    this.sim.dropAll();
    return { dropped };
  }

  /** Refuses new connections for `seconds` from now (0 accepts again at once); connected clients stay. */
  refuseConnections(seconds: number): { refusingUntil: string | null } {
    clearTimeout(this.refuseTimer);
    this.refuseTimer = undefined;
    if (seconds <= 0) {
      this.refusingUntil = undefined;
      this.resume();
      return { refusingUntil: null };
    }
    this.refusingUntil = Date.now() + seconds * 1000;
    this.log.warn('fault: refusing connections', { seconds });
    this.sim.suspendListening();
    this.refuseTimer = setTimeout(() => {
      this.refuseTimer = undefined;
      this.refusingUntil = undefined;
      this.resume();
    }, seconds * 1000);
    return { refusingUntil: new Date(this.refusingUntil).toISOString() };
  }

  /** 1100 to every client; quotes stand still until connectivityRestored. */
  connectivityLost(): { clients: number } {
    this.linkLost = true;
    this.quotes?.freezeAll(true);
    return { clients: this.broadcast(CONNECTIVITY_LOST.code, CONNECTIVITY_LOST.text) };
  }

  /** 1101 (dataLost: subscriptions dropped first, as TWS lost them) or 1102 to every client. */
  connectivityRestored(options: { dataLost: boolean }): { clients: number; droppedSubscriptions: number } {
    this.linkLost = false;
    this.quotes?.freezeAll(false);
    let droppedSubscriptions = 0;
    if (options.dataLost) for (const f of this.resettable) droppedSubscriptions += f.dropSubscriptions();
    const m = options.dataLost ? RESTORED_DATA_LOST : RESTORED_DATA_MAINTAINED;
    return { clients: this.broadcast(m.code, m.text), droppedSubscriptions };
  }

  /** A farm status message to every client. */
  farmFlap(farm: Farm, state: FarmState): { clients: number; code: number } {
    const m = FARM_MESSAGES[farm]?.[state];
    if (!m) throw new FaultUnavailableError(`farm ${farm} has no '${state}' message (sec-def farms have no inactive state)`);
    this.farms[farm] = state;
    return { clients: this.broadcast(m.code, m.text), code: m.code };
  }

  /** Stops (on) or restarts (off) the market data of one instrument key. */
  freezeSymbol(instrumentKey: string, on: boolean): { frozen: string[] } {
    if (!this.quotes) throw new FaultUnavailableError('freezing needs the simulator built over a FreezableQuoteBook');
    this.quotes.freeze(instrumentKey, on);
    this.log.warn('fault: freeze', { instrumentKey, on });
    return { frozen: this.quotes.frozenKeys };
  }

  /** IB's nightly reset: 1100, then every client dropped and connections refused for `downSeconds`. */
  async nightlyReset(options: { downSeconds: number }): Promise<{ dropped: number; refusingUntil: string | null }> {
    this.connectivityLost();
    await new Promise<void>((resolve) => setTimeout(resolve, this.resetWarningMs));
    if (this.closed) return { dropped: 0, refusingUntil: null };
    const { refusingUntil } = this.refuseConnections(options.downSeconds);
    const { dropped } = this.dropAll();
    // new connections start afresh: TWS reports every farm OK to them
    this.linkLost = false;
    this.quotes?.freezeAll(false);
    for (const f of FARMS) this.farms[f] = 'ok';
    return { dropped, refusingUntil };
  }

  /** The next `count` orders are rejected with `reason` (0 clears). */
  rejectNextOrders(count: number, reason = 'Simulated rejection'): { count: number; reason: string | null } {
    this.rejections = { count: Math.max(0, Math.floor(count)), reason };
    return this.pendingRejections();
  }

  takeRejection(): string | undefined {
    if (this.rejections.count <= 0) return undefined;
    this.rejections.count--;
    return this.rejections.reason;
  }

  /** Holds every outgoing message back by `ms` real milliseconds (0 turns it off). */
  slowResponses(ms: number): { outgoingDelayMs: number } {
    this.sim.outgoingDelayMs = Math.max(0, ms);
    return { outgoingDelayMs: this.sim.outgoingDelayMs };
  }

  status(): FaultStatus {
    return {
      listening: this.sim.listening,
      refusingUntil: this.refusingUntil === undefined ? null : new Date(this.refusingUntil).toISOString(),
      connections: this.sim.connections().map((c) => ({ id: c.id, clientId: c.clientId })),
      linkLost: this.linkLost,
      farms: { ...this.farms },
      frozen: this.quotes?.frozenKeys ?? [],
      pendingRejections: this.pendingRejections(),
      outgoingDelayMs: this.sim.outgoingDelayMs,
    };
  }

  /** Cancels the timers. A suspended listener stays suspended: stop the simulator next. */
  close(): void {
    this.closed = true;
    clearTimeout(this.refuseTimer);
    this.refuseTimer = undefined;
  }

  private pendingRejections(): { count: number; reason: string | null } {
    return this.rejections.count > 0 ? { ...this.rejections } : { count: 0, reason: null };
  }

  private broadcast(code: number, text: string): number {
    const conns = this.sim.connections();
    this.log.warn('fault: message to all clients', { code, text, clients: conns.length });
    for (const c of conns) c.error(-1, code, text);
    return conns.length;
  }

  /** Listens again; retries while the port is taken by someone else. */
  private resume(): void {
    if (this.closed) return;
    this.sim.resumeListening().then(
      () => this.log.info('accepting connections again'),
      (e: Error) => {
        this.log.error('cannot listen again, retrying', { error: e.message });
        if (this.closed || this.refuseTimer) return;
        this.refuseTimer = setTimeout(() => {
          this.refuseTimer = undefined;
          this.resume();
        }, RESUME_RETRY_MS);
      },
    );
  }
}
