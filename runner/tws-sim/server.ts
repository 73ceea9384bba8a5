/**
 * The TWS simulator's server core: a TCP listener speaking the TWS socket protocol
 * (tws-protocol.md §1) so that the unmodified @stoqey/ib client connects to it. It does the
 * handshake and START_API session start, enforces IB's client-id and message-rate rules (§5),
 * answers the session-level requests itself and hands every other request to a feature handler.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { ConfigError } from '../../lib/core/errors.js';
import { silentLogger, type Logger } from '../../lib/core/logger.js';
import type { Store } from '../../lib/store/store.js';
import { SimConnection } from './connection.js';
import { MessageRateLimiter } from './rate-limit.js';
import { wallClock } from './sim-clock.js';
import { IN, OUT, SimRequestError } from './types.js';
import type { ClientConnection, OrderIdSource, RequestHandler, SimClock, SimContext, SimFeature } from './types.js';
import { FrameReader, Fields, parseVersionRange, WireProtocolError, type WireMessage } from './wire.js';

export interface TwsSimulatorOptions {
  store: Store;
  /** 0 (the default) binds an ephemeral port */
  port?: number;
  host?: string;
  /** The highest version this "TWS" speaks: 193 (current TWS/Gateway) or 176 (TWS 10.19) */
  serverVersion?: 193 | 176;
  account?: string;
  clock?: SimClock;
  features?: readonly SimFeature[];
  /** IB's limit on client messages per second (error 100 above it) */
  maxMessagesPerSecond?: number;
  /** Real ms every outgoing message is held back, as from a slow TWS (default 0; see `outgoingDelayMs`) */
  outgoingDelayMs?: number;
  logger?: Logger;
}

/** Lowest handshake version this server accepts (V100+ framing only). */
const MIN_CLIENT_VERSION = 100;
/** Where real TWS reports its connection time from. */
const TWS_TIME_ZONE = 'America/New_York';

/** Informational farm messages real TWS sends after START_API (id -1). */
const FARM_STATUS: readonly [number, string][] = [
  [2104, 'Market data farm connection is OK:usfarm'],
  [2106, 'HMDS data farm connection is OK:ushmds'],
  [2158, 'Sec-def data farm connection is OK:secdefnj'],
];

export class TwsSimulator {
  private readonly options: Required<Omit<TwsSimulatorOptions, 'features' | 'port' | 'logger' | 'outgoingDelayMs'>>;
  private readonly logger: Logger;
  private readonly features: readonly SimFeature[];
  private readonly handlers: Map<number, RequestHandler>;
  private readonly live = new Set<SimConnection>();
  private readonly context: SimContext;
  private server: Server | undefined;
  private boundPort: number;
  private nextConnectionId = 1;
  private nextOrderId = 1;
  /** Real ms every outgoing message is held back (order kept); applies at once to connected clients too */
  outgoingDelayMs: number;

  constructor(options: TwsSimulatorOptions) {
    this.options = {
      store: options.store,
      host: options.host ?? '127.0.0.1',
      serverVersion: options.serverVersion ?? 193,
      account: options.account ?? 'DU1234567',
      clock: options.clock ?? wallClock(),
      maxMessagesPerSecond: options.maxMessagesPerSecond ?? 50,
    };
    this.boundPort = options.port ?? 0;
    this.outgoingDelayMs = options.outgoingDelayMs ?? 0;
    this.logger = options.logger ?? silentLogger;
    this.features = options.features ?? [];
    this.handlers = this.buildHandlers();
    const orderIds: OrderIdSource = {
      next: () => this.nextOrderId++,
      peek: () => this.nextOrderId,
      observe: (id) => {
        if (id >= this.nextOrderId) this.nextOrderId = id + 1;
      },
    };
    this.context = { store: options.store, clock: this.options.clock, account: this.options.account, orderIds };
  }

  /** The bound port once started (the requested one before). */
  get port(): number {
    return this.boundPort;
  }

  async start(): Promise<{ port: number }> {
    if (this.server) throw new ConfigError('tws-sim', ['start() called twice']);
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.logger.error('listener error', { error: e.message }));
    this.boundPort = (server.address() as AddressInfo).port;
    this.logger.info('listening', { host: this.options.host, port: this.boundPort, serverVersion: this.options.serverVersion });
    return { port: this.boundPort };
  }

  /** Closes the listener and every client, then lets features stop their timers. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.dropAll();
    await closed;
    for (const f of this.features) {
      try {
        f.close?.();
      } catch (e) {
        this.logger.error('feature close failed', { feature: f.name, error: (e as Error).message });
      }
    }
  }

  /** Clients that completed START_API and are still connected. */
  connections(): ClientConnection[] {
    return [...this.live].filter((c) => c.started && c.open);
  }

  /** Drops every client socket at once, as a TWS restart does; the listener keeps accepting. */
  dropAll(): void {
    for (const c of this.live) c.destroy();
  }

  /** True while the listener accepts connections (started and not suspended). */
  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  /** Closes the listener so new connections are refused (ECONNREFUSED); connected clients stay. */
  suspendListening(): void {
    if (this.server?.listening) this.server.close();
  }

  /** Listens again on the same port after `suspendListening()`; rejects when the port was taken meanwhile. */
  async resumeListening(): Promise<void> {
    const server = this.server;
    if (!server || server.listening) return;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, this.options.host, () => {
        server.off('error', reject);
        // stop() ran while listen() was resolving the host: close again
        if (this.server !== server) server.close();
        resolve();
      });
    });
  }

  private buildHandlers(): Map<number, RequestHandler> {
    const handlers = new Map<number, RequestHandler>(this.builtInHandlers());
    const owner = new Map<number, string>();
    const problems: string[] = [];
    for (const f of this.features) {
      for (const [id, handler] of f.handlers) {
        if (id === OUT.START_API) problems.push(`${f.name}: START_API (71) belongs to the server`);
        else if (owner.has(id)) problems.push(`message id ${id} claimed by both ${owner.get(id)} and ${f.name}`);
        owner.set(id, f.name);
        // a feature may take over a built-in (e.g. its own REQ_IDS bookkeeping)
        handlers.set(id, handler);
      }
    }
    if (problems.length) throw new ConfigError('tws-sim features', problems);
    return handlers;
  }

  /** Session-level requests every TWS answers, whatever the features. */
  private builtInHandlers(): [number, RequestHandler][] {
    return [
      // TWS ignores numIds and reports one id; each call takes a fresh one so ids only grow
      [OUT.REQ_IDS, (conn) => conn.send([IN.NEXT_VALID_ID, 1, this.nextOrderId++])],
      [OUT.REQ_CURRENT_TIME, (conn, _f, ctx) => conn.send([IN.CURRENT_TIME, 1, Math.floor(ctx.clock.now() / 1000)])],
      [OUT.REQ_MANAGED_ACCTS, (conn, _f, ctx) => conn.send([IN.MANAGED_ACCTS, 1, ctx.account])],
      [
        OUT.REQ_MARKET_DATA_TYPE,
        (conn, fields) => {
          fields.int(); // version
          const type = fields.int();
          if (conn instanceof SimConnection) conn.marketDataType = type;
        },
      ],
    ];
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    const conn = new SimConnection(this.nextConnectionId++, socket, this.logger, () => this.outgoingDelayMs);
    const log = this.logger.child({ connection: conn.id });
    const reader = new FrameReader({ handshake: true });
    const limiter = new MessageRateLimiter(this.options.maxMessagesPerSecond);
    this.live.add(conn);
    conn.onClose(() => {
      this.live.delete(conn);
      log.debug('closed', { clientId: conn.clientId });
    });
    // ECONNRESET and friends end the connection; they must never reach the process
    socket.on('error', (e) => log.debug('socket error', { error: e.message }));
    socket.on('data', (chunk: Buffer) => {
      let messages: WireMessage[];
      try {
        messages = reader.push(chunk);
      } catch (e) {
        log.warn('not TWS protocol, closing', { error: (e as Error).message });
        conn.destroy();
        return;
      }
      for (const m of messages) {
        if (!conn.open) return;
        if (m.kind === 'handshake') this.onHandshake(conn, m.text, log);
        else if (this.admit(conn, limiter, log)) this.onRequest(conn, m.fields, log);
      }
    });
  }

  /** Answers `v<min>..<max>` with the negotiated version and the connection time. */
  private onHandshake(conn: SimConnection, text: string, log: Logger): void {
    let range: { min: number; max: number };
    try {
      range = parseVersionRange(text);
    } catch {
      log.warn('bad handshake, closing', { text });
      conn.destroy();
      return;
    }
    const version = Math.min(this.options.serverVersion, range.max);
    if (range.max < MIN_CLIENT_VERSION || version < range.min) {
      log.warn('unsupported client versions, closing', { text });
      conn.destroy();
      return;
    }
    conn.serverVersion = version;
    conn.send([version, twsConnectionTime(this.options.clock.now())]);
  }

  /** Applies the message-rate rule; false when the message must not be served. */
  private admit(conn: SimConnection, limiter: MessageRateLimiter, log: Logger): boolean {
    const verdict = limiter.check();
    if (verdict === 'ok') return true;
    if (verdict === 'reject') conn.error(-1, 100, 'Max rate of messages per second has been exceeded.');
    if (verdict === 'disconnect') {
      log.warn('sustained message-rate violation, disconnecting', { clientId: conn.clientId });
      conn.end();
    }
    return false;
  }

  private onRequest(conn: SimConnection, raw: string[], log: Logger): void {
    const msgId = Number(raw[0]);
    const fields = new Fields(raw.slice(1));
    if (msgId === OUT.START_API) {
      if (conn.started) log.warn('second START_API ignored');
      else this.onStartApi(conn, fields, log);
      return;
    }
    // TWS serves nothing before START_API
    if (!conn.started) return;
    const handler = this.handlers.get(msgId);
    if (!handler) {
      log.warn('unknown message id ignored', { msgId, fields: raw.length - 1 });
      return;
    }
    const fail = (e: unknown) => this.onHandlerError(conn, msgId, e, log);
    try {
      const result = handler(conn, fields, this.context);
      if (result instanceof Promise) result.catch(fail);
    } catch (e) {
      fail(e);
    }
  }

  /** START_API: version, clientId, optionalCapabilities. */
  private onStartApi(conn: SimConnection, fields: Fields, log: Logger): void {
    let clientId: number;
    try {
      fields.int(); // version
      clientId = fields.int();
    } catch (e) {
      log.warn('bad START_API, closing', { error: (e as Error).message });
      conn.destroy();
      return;
    }
    if ([...this.live].some((c) => c !== conn && c.started && c.open && c.clientId === clientId)) {
      log.info('duplicate client id refused', { clientId });
      conn.error(-1, 326, 'Unable to connect as the client id is already in use. Retry with a unique client id.');
      conn.end();
      return;
    }
    conn.clientId = clientId;
    conn.started = true;
    log.info('client started', { clientId, serverVersion: conn.serverVersion });
    conn.send([IN.MANAGED_ACCTS, 1, this.options.account]);
    // the client's request queue stays paused until this nextValidId arrives
    conn.send([IN.NEXT_VALID_ID, 1, this.nextOrderId]);
    for (const [code, message] of FARM_STATUS) conn.error(-1, code, message);
  }

  /** A handler failure answers the client and is logged; it never takes the server down. */
  private onHandlerError(conn: SimConnection, msgId: number, e: unknown, log: Logger): void {
    if (e instanceof SimRequestError) {
      conn.error(e.reqId, e.errorCode, e.message);
      return;
    }
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof WireProtocolError) {
      log.warn('malformed request', { msgId, error: message });
      conn.error(-1, 321, `Error validating request:-'${msgId}' : cause - ${message}`);
      return;
    }
    log.error('handler failed', { msgId, error: message, stack: e instanceof Error ? e.stack : undefined });
    conn.error(-1, 322, `Error processing request:-'${msgId}' : cause - ${message}`);
  }
}

const timeFormat = new Intl.DateTimeFormat('en-US', {
  timeZone: TWS_TIME_ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  timeZoneName: 'short',
});

/** `20260102 09:30:00 EST`: the connection time as TWS reports it (New York time). */
export function twsConnectionTime(epochMs: number): string {
  const parts = timeFormat.formatToParts(new Date(epochMs));
  const p = (type: Intl.DateTimeFormatPartTypes): string => parts.find((x) => x.type === type)?.value ?? '';
  return `${p('year')}${p('month')}${p('day')} ${p('hour')}:${p('minute')}:${p('second')} ${p('timeZoneName')}`;
}
