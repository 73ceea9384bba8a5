/**
 * One resilient connection to TWS / IB Gateway over a real @stoqey/ib `IBApi` (a new IBApi per
 * connection attempt, host, port and clientId always passed explicitly; tws-protocol.md §1, §4).
 *
 * - The state machine (session-state.ts) decides what socket and TWS events mean; every change is
 *   emitted as a `transition` event.
 * - Drops, connect failures (502) and connect timeouts are retried after a backoff delay with full
 *   jitter (backoff.ts); 326 (client id in use) retries at once with the next fallback client id.
 * - 1100 makes the session `degraded` while it waits for 1101 / 1102; broken data farms too.
 *   1101 and every reconnect call the registered resubscribe callbacks; 1102 does not.
 * - Zombie detection: when nothing at all has arrived for `zombieTimeoutMs`, a reqCurrentTime
 *   probe is sent; if still nothing arrives within `probeTimeoutMs` the connection is dropped and
 *   reconnected.
 * - Requests sent through `request()` pass the message budget (message-budget.ts), keeping the
 *   client under IB's 50 messages per second.
 * - Order ids start at max(nextValidId, 1_000_000) so they never collide with request ids (§4).
 *
 * Clock, timers and randomness are injected so tests are deterministic.
 */
import { EventName, type IBApi, type IBApiCreationOptions } from '@stoqey/ib';
import { silentLogger, type Logger } from '../core/logger.js';
import { SeededRandom } from '../core/seeded-random.js';
import { Backoff } from './backoff.js';
import { IbSessionError, resolveSessionOptions, type IbSessionEvents, type IbSessionOptions, type ResubscribeNotice, type SessionScheduler } from './ib-session-options.js';
import { MessageBudget } from './message-budget.js';
import { eventForCode, SessionStateMachine, type SessionEvent, type SessionIssues, type SessionState } from './session-state.js';
import { TypedEmitter } from './typed-emitter.js';

export { IbSessionError, realScheduler } from './ib-session-options.js';
export type { IbConnection, IbSessionErrorCode, IbSessionEvents, IbSessionOptions, ResubscribeNotice, RetryNotice, SessionScheduler } from './ib-session-options.js';
export { TypedEmitter } from './typed-emitter.js';

interface QueuedRequest {
  label: string;
  send: (api: IBApi) => void;
}

/** One connection attempt; events from an attempt that is no longer current are ignored. */
interface Attempt {
  readonly api: IBApi;
  readonly clientId: number;
  ready: boolean;
  /** Messages received on this connection */
  received: number;
}

type TimerName = 'retry' | 'connect' | 'zombie' | 'probe' | 'budget';

/** stoqey's client-side code for a socket error or refused connection. */
const CONNECT_FAIL = 502;
const DUPLICATE_CLIENT_ID = 326;

export class IbSession {
  private readonly host: string;
  private readonly port: number;
  private readonly clientIds: readonly number[];
  private readonly maxAttempts: number;
  private readonly connectTimeoutMs: number;
  private readonly zombieTimeoutMs: number;
  private readonly probeTimeoutMs: number;
  private readonly clientMaxReqPerSec: number;
  private readonly minOrderId: number;
  private readonly scheduler: SessionScheduler;
  private readonly log: Logger;
  private readonly createApi: (options: IBApiCreationOptions) => IBApi;
  private readonly machine: SessionStateMachine;
  private readonly emitter: TypedEmitter<IbSessionEvents>;
  private readonly budget: MessageBudget<QueuedRequest>;
  private readonly backoff: Backoff;
  private readonly resubscribers = new Map<number, { name: string; fn: () => void }>();
  private readonly timers = new Map<TimerName, unknown>();
  private readonly waiters = new Set<{ resolve: () => void; reject: (e: Error) => void; timer?: unknown }>();
  private nextResubscriberId = 1;
  private clientIdIndex = 0;
  private attempt: Attempt | undefined;
  private consecutiveFailures = 0;
  private retries = 0;
  private everConnected = false;
  private orderIdNext: number | undefined;
  private lastReceivedAt = 0;
  private probing = false;
  private pumping = false;

  constructor(options: IbSessionOptions) {
    const o = resolveSessionOptions(options);
    this.host = o.host;
    this.port = o.port;
    this.clientIds = o.clientIds;
    this.maxAttempts = o.maxAttempts;
    this.connectTimeoutMs = o.connectTimeoutMs;
    this.zombieTimeoutMs = o.zombieTimeoutMs;
    this.probeTimeoutMs = o.probeTimeoutMs;
    this.clientMaxReqPerSec = o.clientMaxReqPerSec;
    this.minOrderId = o.minOrderId;
    this.scheduler = o.scheduler;
    this.log = (options.logger ?? silentLogger).child({ component: 'ib-session', port: this.port });
    this.createApi = o.createApi;
    const now = () => this.scheduler.now();
    this.machine = new SessionStateMachine(now);
    this.emitter = new TypedEmitter<IbSessionEvents>((event, e) =>
      this.log.error('session listener failed', { event: String(event), error: e instanceof Error ? e.message : String(e) }),
    );
    this.budget = new MessageBudget<QueuedRequest>(
      { ratePerSecond: options.messagesPerSecond, burst: options.messageBurst, maxQueue: options.maxQueuedRequests },
      now,
    );
    this.backoff = new Backoff(options.backoff ?? {}, options.random ?? new SeededRandom(options.clientId));
  }

  get state(): SessionState {
    return this.machine.state;
  }

  /** Open connectivity issues (1100 without restore, broken farms) of the current connection. */
  get issues(): SessionIssues {
    return this.machine.issues;
  }

  /** The client id of the current (or last) attempt. */
  get clientId(): number {
    return this.attempt?.clientId ?? this.clientIds[this.clientIdIndex]!;
  }

  /**
   * The IBApi of the usable connection, undefined while not connected. It is replaced on every
   * reconnect: attach listeners in a `connection` handler. Requests should go through `request()`.
   */
  get api(): IBApi | undefined {
    return this.machine.usable && this.attempt?.ready ? this.attempt.api : undefined;
  }

  /** Requests waiting for the message budget. */
  get queuedRequests(): number {
    return this.budget.size;
  }

  on<K extends keyof IbSessionEvents>(event: K, listener: (payload: IbSessionEvents[K]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  off<K extends keyof IbSessionEvents>(event: K, listener: (payload: IbSessionEvents[K]) => void): void {
    this.emitter.off(event, listener);
  }

  /** Connects (from disconnected or halted); a no-op while already running. */
  start(): void {
    const state = this.machine.state;
    if (state !== 'disconnected' && state !== 'halted') return;
    this.consecutiveFailures = 0;
    this.retries = 0;
    this.backoff.reset();
    this.apply({ type: 'connect-requested' });
    if (this.stateIs('connecting')) this.openConnection();
  }

  /** Disconnects, cancels every timer and halts; pending ready() calls reject. */
  stop(): void {
    this.teardown();
    this.clearTimer('retry');
    if (this.machine.state !== 'halted') this.apply({ type: 'halt-requested' });
    this.settleWaiters(new IbSessionError('IB_SESSION_HALTED', 'ib session stopped'));
  }

  /** Resolves once the session is usable (connected or degraded); rejects when it halts first. */
  ready(timeoutMs?: number): Promise<void> {
    if (this.machine.usable) return Promise.resolve();
    if (this.machine.state === 'halted') return Promise.reject(new IbSessionError('IB_SESSION_HALTED', 'ib session is halted'));
    return new Promise<void>((resolve, reject) => {
      const waiter: { resolve: () => void; reject: (e: Error) => void; timer?: unknown } = { resolve, reject };
      if (timeoutMs !== undefined) {
        waiter.timer = this.scheduler.setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new IbSessionError('IB_READY_TIMEOUT', `ib session not ready within ${timeoutMs} ms (state ${this.machine.state})`));
        }, timeoutMs);
      }
      this.waiters.add(waiter);
    });
  }

  /**
   * The next order id: max(nextValidId, minOrderId) at first, then increasing across reconnects.
   * Throws IB_NOT_CONNECTED before the first nextValidId.
   */
  nextOrderId(): number {
    if (this.orderIdNext === undefined) throw new IbSessionError('IB_NOT_CONNECTED', 'no nextValidId received yet');
    return this.orderIdNext++;
  }

  /**
   * Sends a request through the message budget: `send` runs with the current IBApi as soon as a
   * token is free. False (nothing queued) while the session is not usable or the queue is full;
   * queued requests are dropped when the connection ends (resubscribe callbacks restore streams).
   */
  request(send: (api: IBApi) => void, label = 'request'): boolean {
    if (!this.machine.usable || !this.attempt?.ready) {
      this.log.warn('request dropped: not connected', { label, state: this.machine.state });
      return false;
    }
    return this.enqueue({ label, send });
  }

  /**
   * Registers a callback run after every reconnect and after 1101 (restored, data lost), so
   * market data streams are requested again. Returns the unregister function.
   */
  registerResubscribe(name: string, resubscribe: () => void): () => void {
    const id = this.nextResubscriberId++;
    this.resubscribers.set(id, { name, fn: resubscribe });
    return () => {
      this.resubscribers.delete(id);
    };
  }

  // ---- connection attempts ----

  private openConnection(): void {
    const clientId = this.clientIds[this.clientIdIndex]!;
    const api = this.createApi({ host: this.host, port: this.port, clientId, maxReqPerSec: this.clientMaxReqPerSec });
    const attempt: Attempt = { api, clientId, ready: false, received: 0 };
    this.attempt = attempt;
    const live = () => this.attempt === attempt;
    api.on(EventName.received, () => {
      if (live()) this.onReceived(attempt);
    });
    api.on(EventName.nextValidId, (id: number) => {
      if (live()) this.onNextValidId(attempt, id);
    });
    api.on(EventName.info, (message: string, code: number) => {
      if (live()) this.onCode(attempt, code, message);
    });
    api.on(EventName.error, (error: Error, code: number, reqId: number) => {
      if (live()) this.onError(attempt, error, code, reqId);
    });
    api.on(EventName.disconnected, () => {
      if (live()) this.fail(attempt, { type: 'socket-closed', message: 'socket closed' });
    });
    this.setTimer('connect', this.connectTimeoutMs, () => {
      if (live() && !attempt.ready) this.fail(attempt, { type: 'connect-timeout' }, `no nextValidId within ${this.connectTimeoutMs} ms`);
    });
    this.log.debug('connecting', { host: this.host, clientId });
    try {
      api.connect(clientId);
    } catch (e) {
      this.fail(attempt, { type: 'socket-closed', message: e instanceof Error ? e.message : String(e) });
    }
  }

  private onReceived(attempt: Attempt): void {
    attempt.received++;
    this.lastReceivedAt = this.scheduler.now();
    if (this.probing) {
      this.probing = false;
      this.clearTimer('probe');
      if (attempt.ready) this.armZombie(attempt, this.zombieTimeoutMs);
    }
  }

  private onNextValidId(attempt: Attempt, id: number): void {
    this.orderIdNext = Math.max(this.orderIdNext ?? 0, id, this.minOrderId);
    if (attempt.ready) return;
    attempt.ready = true;
    this.clearTimer('connect');
    this.consecutiveFailures = 0;
    const at = this.scheduler.now();
    this.backoff.connected(at);
    const reconnect = this.everConnected;
    this.everConnected = true;
    this.apply({ type: 'api-ready', nextValidId: id }, `nextValidId ${id} as client id ${attempt.clientId}`);
    if (this.attempt !== attempt) return;
    this.lastReceivedAt = at;
    this.armZombie(attempt, this.zombieTimeoutMs);
    this.emitter.emit('connection', { api: attempt.api, clientId: attempt.clientId, nextValidId: id, reconnect, at });
    if (this.attempt !== attempt) return;
    if (reconnect) this.runResubscribe('reconnect');
    if (this.attempt !== attempt) return;
    this.settleWaiters();
    this.pumpBudget();
  }

  /** Messages with id -1 (stoqey's `info`) and connection-level errors. */
  private onCode(attempt: Attempt, code: number, message: string): void {
    if (code === DUPLICATE_CLIENT_ID) {
      if (!attempt.ready) this.onDuplicateClientId(attempt);
      else this.log.warn('326 on a started connection ignored', { message });
      return;
    }
    const event = eventForCode(code, message);
    if (!event) {
      // 2110: TWS <-> server link broken, "restored automatically"; the session waits for it
      if (code === 2110) this.log.warn('tws message', { code, message });
      else this.log.debug('tws message', { code, message });
      return;
    }
    this.log.info('tws connectivity message', { code, message });
    this.apply(event, `${code} ${message}`);
    if (event.type === 'connectivity-restored-data-lost' && this.attempt === attempt && this.machine.usable) this.runResubscribe('data-lost');
  }

  private onError(attempt: Attempt, error: Error, code: number, reqId: number): void {
    if (code === CONNECT_FAIL) {
      this.fail(attempt, { type: 'socket-closed', code, message: error.message });
      return;
    }
    if (reqId === -1) this.log.warn('tws error', { code, message: error.message });
    else this.log.debug('request error', { code, reqId, message: error.message });
  }

  private onDuplicateClientId(attempt: Attempt): void {
    const from = attempt.clientId;
    this.clientIdIndex = (this.clientIdIndex + 1) % this.clientIds.length;
    const next = this.clientIds[this.clientIdIndex]!;
    // the whole list in use: wait a backoff delay before starting over
    const wrapped = this.clientIdIndex === 0;
    this.log.warn('client id in use', { clientId: from, next });
    this.fail(attempt, { type: 'duplicate-client-id', clientId: from, nextClientId: next }, undefined, !wrapped);
  }

  /** Ends the attempt (socket gone, timeout, zombie, 326) and schedules the next one. */
  private fail(attempt: Attempt, event: SessionEvent, detail?: string, immediate = false): void {
    if (this.attempt !== attempt) return;
    const wasReady = attempt.ready;
    this.teardown();
    if (wasReady) this.backoff.disconnected(this.scheduler.now());
    else this.consecutiveFailures++;
    this.apply(event, detail);
    this.scheduleRetry(immediate);
  }

  private scheduleRetry(immediate: boolean): void {
    if (this.machine.state !== 'reconnecting') return;
    if (this.consecutiveFailures >= this.maxAttempts) {
      this.apply({ type: 'attempts-exhausted', attempts: this.consecutiveFailures });
      this.settleWaiters(new IbSessionError('IB_SESSION_HALTED', `ib session halted after ${this.consecutiveFailures} failed attempts`));
      return;
    }
    const delayMs = immediate ? 0 : this.backoff.next();
    const retry = ++this.retries;
    const clientId = this.clientIds[this.clientIdIndex]!;
    this.log.info('reconnect scheduled', { retry, delayMs, clientId });
    this.emitter.emit('retry', { retry, delayMs, clientId, at: this.scheduler.now() });
    if (this.machine.state !== 'reconnecting') return;
    this.setTimer('retry', delayMs, () => {
      this.timers.delete('retry');
      if (this.machine.state !== 'reconnecting') return;
      this.apply({ type: 'retry-due', clientId, attempt: retry });
      // a transition listener may have stopped the session meanwhile
      if (this.stateIs('connecting')) this.openConnection();
    });
  }

  /** Forgets the current attempt: its listeners, socket, timers and queued requests. */
  private teardown(): void {
    const attempt = this.attempt;
    this.attempt = undefined;
    for (const name of ['connect', 'zombie', 'probe', 'budget'] as const) this.clearTimer(name);
    this.probing = false;
    const dropped = this.budget.clear();
    if (dropped.length > 0) this.log.warn('queued requests dropped with the connection', { count: dropped.length });
    if (!attempt) return;
    attempt.api.removeAllListeners();
    try {
      attempt.api.disconnect();
    } catch (e) {
      this.log.debug('disconnect failed', { error: e instanceof Error ? e.message : String(e) });
    }
  }

  // ---- zombie detection ----

  private armZombie(attempt: Attempt, ms: number): void {
    this.setTimer('zombie', ms, () => {
      this.timers.delete('zombie');
      if (this.attempt !== attempt) return;
      const quiet = this.scheduler.now() - this.lastReceivedAt;
      if (quiet < this.zombieTimeoutMs) this.armZombie(attempt, this.zombieTimeoutMs - quiet);
      else this.probe(attempt, quiet);
    });
  }

  private probe(attempt: Attempt, quiet: number): void {
    this.log.info('quiet connection, probing with reqCurrentTime', { quietMs: quiet });
    this.probing = true;
    const queued = this.enqueue({
      label: 'zombie-probe',
      send: (api) => {
        // an answer to anything since the probe was queued already proved the socket alive
        if (this.attempt !== attempt || !this.probing) return;
        api.reqCurrentTime();
        this.setTimer('probe', this.probeTimeoutMs, () => {
          this.timers.delete('probe');
          if (this.attempt !== attempt || !this.probing) return;
          this.fail(
            attempt,
            { type: 'zombie-detected' },
            `nothing received for ${this.scheduler.now() - this.lastReceivedAt} ms, reqCurrentTime unanswered for ${this.probeTimeoutMs} ms`,
          );
        });
      },
    });
    if (!queued) {
      this.probing = false;
      this.armZombie(attempt, this.zombieTimeoutMs);
    }
  }

  // ---- message budget ----

  private enqueue(request: QueuedRequest): boolean {
    if (!this.budget.enqueue(request)) {
      this.log.warn('request dropped: queue full', { label: request.label, queued: this.budget.size });
      return false;
    }
    this.pumpBudget();
    return true;
  }

  /** Sends what the budget allows now and schedules the rest. */
  private pumpBudget(): void {
    if (this.pumping) return;
    const attempt = this.attempt;
    if (!attempt?.ready || !this.machine.usable) return;
    this.clearTimer('budget');
    this.pumping = true;
    try {
      for (let batch = this.budget.take(); batch.length > 0 && this.attempt === attempt; batch = this.budget.take()) {
        for (const request of batch) {
          if (this.attempt !== attempt) break;
          try {
            request.send(attempt.api);
          } catch (e) {
            this.log.error('request failed', { label: request.label, error: e instanceof Error ? e.message : String(e) });
          }
        }
      }
    } finally {
      this.pumping = false;
    }
    const wait = this.attempt === attempt ? this.budget.msUntilNext() : undefined;
    if (wait !== undefined) {
      this.setTimer('budget', Math.max(1, wait), () => {
        this.timers.delete('budget');
        this.pumpBudget();
      });
    }
  }

  // ---- helpers ----

  private runResubscribe(cause: ResubscribeNotice['cause']): void {
    const attempt = this.attempt;
    let callbacks = 0;
    for (const { name, fn } of [...this.resubscribers.values()]) {
      if (this.attempt !== attempt || !this.machine.usable) break;
      try {
        fn();
        callbacks++;
      } catch (e) {
        this.log.error('resubscribe failed', { name, error: e instanceof Error ? e.message : String(e) });
      }
    }
    this.log.info('resubscribed', { cause, callbacks });
    this.emitter.emit('resubscribe', { cause, at: this.scheduler.now(), callbacks });
  }

  private apply(event: SessionEvent, detail?: string): void {
    const transition = this.machine.dispatch(event, detail);
    if (!transition) return;
    const fields = { from: transition.from, to: transition.to, reason: transition.reason, detail: transition.detail };
    if (transition.to === 'connected' || transition.to === 'connecting') this.log.info('session transition', fields);
    else this.log.warn('session transition', fields);
    this.emitter.emit('transition', transition);
  }

  /** Resolves the ready() waiters, or rejects them with `error`. */
  private settleWaiters(error?: Error): void {
    for (const waiter of [...this.waiters]) {
      this.waiters.delete(waiter);
      if (waiter.timer !== undefined) this.scheduler.clearTimeout(waiter.timer);
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  }

  /** Reads the state afresh (listeners run inside apply() may change it). */
  private stateIs(state: SessionState): boolean {
    return this.machine.state === state;
  }

  private setTimer(name: TimerName, ms: number, fn: () => void): void {
    this.clearTimer(name);
    this.timers.set(name, this.scheduler.setTimeout(fn, ms));
  }

  private clearTimer(name: TimerName): void {
    const handle = this.timers.get(name);
    if (handle === undefined) return;
    this.timers.delete(name);
    this.scheduler.clearTimeout(handle);
  }
}
