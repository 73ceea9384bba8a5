/**
 * The IB session state machine, pure: states, the events that move between them, and one
 * transition table. The session (ib-session.ts) turns socket and TWS messages into these events;
 * this module decides what they mean. Illegal transitions are bugs and throw InvariantError.
 *
 * Besides the state the machine keeps the open connectivity issues of the current connection
 * (data farms reported broken, IB <-> TWS link lost with 1100), so "connected" means "no issue
 * open" and "degraded" means "socket usable, at least one issue open". Issues are forgotten when a
 * connection ends: a new connection gets fresh farm reports from TWS.
 */
import { InvariantError } from '../core/errors.js';

export type SessionState = 'disconnected' | 'connecting' | 'connected' | 'degraded' | 'reconnecting' | 'halted';

export const SESSION_STATES: readonly SessionState[] = ['disconnected', 'connecting', 'connected', 'degraded', 'reconnecting', 'halted'];

export type SessionEvent =
  /** start(): open a connection */
  | { type: 'connect-requested' }
  /** socket connected, handshake done and the first nextValidId received: the API is usable */
  | { type: 'api-ready'; nextValidId: number }
  /** the socket closed, or stoqey reported 502 (connect failure / socket error) */
  | { type: 'socket-closed'; code?: number; message?: string }
  /** no nextValidId within the connect timeout */
  | { type: 'connect-timeout' }
  /** 1100: connectivity between IB and TWS lost (the socket to TWS is still up) */
  | { type: 'connectivity-lost' }
  /** 1101: connectivity restored, market data subscriptions lost (resubscribe) */
  | { type: 'connectivity-restored-data-lost' }
  /** 1102: connectivity restored, subscriptions kept */
  | { type: 'connectivity-restored-data-kept' }
  /** 2103 / 2105 / 2157: a data farm connection is broken */
  | { type: 'farm-broken'; code: number; farm: string }
  /** 2104 / 2106 / 2158 (and 2107 / 2108, inactive but available on demand): a farm is fine */
  | { type: 'farm-ok'; code: number; farm: string }
  /** 326: the client id is in use; the session retries with a fallback id */
  | { type: 'duplicate-client-id'; clientId: number; nextClientId: number }
  /** nothing received for a while and the reqCurrentTime probe went unanswered */
  | { type: 'zombie-detected' }
  /** the backoff delay is over: try the next connection */
  | { type: 'retry-due'; clientId: number; attempt: number }
  /** stop() */
  | { type: 'halt-requested' }
  /** too many consecutive failed attempts */
  | { type: 'attempts-exhausted'; attempts: number };

export type SessionEventType = SessionEvent['type'];

export const SESSION_EVENT_TYPES: readonly SessionEventType[] = [
  'connect-requested',
  'api-ready',
  'socket-closed',
  'connect-timeout',
  'connectivity-lost',
  'connectivity-restored-data-lost',
  'connectivity-restored-data-kept',
  'farm-broken',
  'farm-ok',
  'duplicate-client-id',
  'zombie-detected',
  'retry-due',
  'halt-requested',
  'attempts-exhausted',
];

/** One state change; `reason` is the event that caused it. */
export interface SessionTransition {
  from: SessionState;
  to: SessionState;
  reason: SessionEventType;
  /** Epoch ms from the injected clock */
  at: number;
  /** Human-readable particulars (error text, farm, client ids) */
  detail?: string;
}

/**
 * What an event does in a state:
 * - a state: go there;
 * - 'healthy': 'connected' when no connectivity issue is open, else 'degraded';
 * - 'stay': legal, no state change (the issue bookkeeping may still change).
 * A missing entry is illegal.
 */
export type TransitionTarget = SessionState | 'healthy' | 'stay';

export const SESSION_TRANSITIONS: Readonly<Record<SessionState, Readonly<Partial<Record<SessionEventType, TransitionTarget>>>>> = {
  disconnected: {
    'connect-requested': 'connecting',
    'halt-requested': 'halted',
  },
  connecting: {
    'api-ready': 'healthy',
    'socket-closed': 'reconnecting',
    'connect-timeout': 'reconnecting',
    'duplicate-client-id': 'reconnecting',
    // TWS may report its link or farm state before nextValidId: remembered for 'api-ready'
    'connectivity-lost': 'stay',
    'connectivity-restored-data-lost': 'stay',
    'connectivity-restored-data-kept': 'stay',
    'farm-broken': 'stay',
    'farm-ok': 'stay',
    'halt-requested': 'halted',
  },
  connected: {
    'socket-closed': 'reconnecting',
    'zombie-detected': 'reconnecting',
    'connectivity-lost': 'degraded',
    'connectivity-restored-data-lost': 'healthy',
    'connectivity-restored-data-kept': 'healthy',
    'farm-broken': 'degraded',
    'farm-ok': 'healthy',
    'halt-requested': 'halted',
  },
  degraded: {
    'socket-closed': 'reconnecting',
    'zombie-detected': 'reconnecting',
    'connectivity-lost': 'degraded',
    'connectivity-restored-data-lost': 'healthy',
    'connectivity-restored-data-kept': 'healthy',
    'farm-broken': 'degraded',
    'farm-ok': 'healthy',
    'halt-requested': 'halted',
  },
  reconnecting: {
    'retry-due': 'connecting',
    // a late close notification of the connection already given up
    'socket-closed': 'stay',
    'attempts-exhausted': 'halted',
    'halt-requested': 'halted',
  },
  halted: {
    // start() after stop() begins a new run
    'connect-requested': 'connecting',
    'halt-requested': 'stay',
  },
};

/** Connectivity issues open on the current connection. */
export interface SessionIssues {
  /** 1100 seen and not yet restored by 1101/1102 */
  linkLost: boolean;
  /** Farms reported broken (e.g. "market:usfarm"), sorted */
  brokenFarms: string[];
}

/** Events after which the current connection is gone (its issues with it). */
const CONNECTION_ENDS: ReadonlySet<SessionEventType> = new Set<SessionEventType>([
  'connect-requested',
  'socket-closed',
  'connect-timeout',
  'duplicate-client-id',
  'zombie-detected',
  'retry-due',
  'halt-requested',
  'attempts-exhausted',
]);

export class SessionStateMachine {
  private current: SessionState = 'disconnected';
  private linkLost = false;
  private readonly brokenFarms = new Set<string>();

  constructor(private readonly now: () => number) {}

  get state(): SessionState {
    return this.current;
  }

  /** True when requests can be sent (connected or degraded). */
  get usable(): boolean {
    return this.current === 'connected' || this.current === 'degraded';
  }

  get issues(): SessionIssues {
    return { linkLost: this.linkLost, brokenFarms: [...this.brokenFarms].sort() };
  }

  /** True when `type` is legal in the current state. */
  accepts(type: SessionEventType): boolean {
    return SESSION_TRANSITIONS[this.current][type] !== undefined;
  }

  /**
   * Applies one event. Returns the transition, or undefined when the state stays the same.
   * Throws InvariantError when the event is illegal in the current state.
   */
  dispatch(event: SessionEvent, detail?: string): SessionTransition | undefined {
    const from = this.current;
    const target = SESSION_TRANSITIONS[from][event.type];
    if (target === undefined) {
      throw new InvariantError(`ib session: event '${event.type}' is illegal in state '${from}'`);
    }
    this.track(event);
    const to = target === 'stay' ? from : target === 'healthy' ? this.healthyState() : target;
    if (to === from) return undefined;
    this.current = to;
    const transition: SessionTransition = { from, to, reason: event.type, at: this.now() };
    const text = detail ?? describeEvent(event);
    if (text !== undefined) transition.detail = text;
    return transition;
  }

  private healthyState(): SessionState {
    return this.linkLost || this.brokenFarms.size > 0 ? 'degraded' : 'connected';
  }

  private track(event: SessionEvent): void {
    if (CONNECTION_ENDS.has(event.type)) {
      this.linkLost = false;
      this.brokenFarms.clear();
      return;
    }
    switch (event.type) {
      case 'connectivity-lost':
        this.linkLost = true;
        break;
      case 'connectivity-restored-data-lost':
      case 'connectivity-restored-data-kept':
        this.linkLost = false;
        break;
      case 'farm-broken':
        this.brokenFarms.add(event.farm);
        break;
      case 'farm-ok':
        this.brokenFarms.delete(event.farm);
        break;
      default:
        break;
    }
  }
}

/** The pure transition function over the table, for one event without issue bookkeeping. */
export function nextState(from: SessionState, type: SessionEventType, issuesOpen = false): SessionState {
  const target = SESSION_TRANSITIONS[from][type];
  if (target === undefined) throw new InvariantError(`ib session: event '${type}' is illegal in state '${from}'`);
  if (target === 'stay') return from;
  if (target === 'healthy') return issuesOpen ? 'degraded' : 'connected';
  return target;
}

function describeEvent(event: SessionEvent): string | undefined {
  switch (event.type) {
    case 'api-ready':
      return `nextValidId ${event.nextValidId}`;
    case 'socket-closed':
      if (event.code === undefined && event.message === undefined) return undefined;
      return [event.code === undefined ? undefined : String(event.code), event.message].filter((x) => x !== undefined).join(' ');
    case 'farm-broken':
    case 'farm-ok':
      return `${event.code} ${event.farm}`;
    case 'duplicate-client-id':
      return `client id ${event.clientId} in use, next ${event.nextClientId}`;
    case 'retry-due':
      return `attempt ${event.attempt} as client id ${event.clientId}`;
    case 'attempts-exhausted':
      return `${event.attempts} consecutive failed attempts`;
    default:
      return undefined;
  }
}

/** Farm status codes (tws-protocol.md §5) -> the farm family they are about. */
const FARM_BROKEN: ReadonlyMap<number, string> = new Map([
  [2103, 'market'],
  [2105, 'hmds'],
  [2157, 'secdef'],
]);
const FARM_OK: ReadonlyMap<number, string> = new Map([
  [2104, 'market'],
  [2106, 'hmds'],
  [2158, 'secdef'],
  // "inactive but should be available upon demand": the farm is not broken
  [2107, 'hmds'],
  [2108, 'market'],
]);

/**
 * The session event a TWS message code with id -1 stands for, or undefined when the code does not
 * affect the session. The farm name comes from the end of the text ("...is OK:usfarm"), so
 * several market data farms are tracked separately.
 */
export function eventForCode(
  code: number,
  message: string,
): Extract<SessionEvent, { type: 'connectivity-lost' | 'connectivity-restored-data-lost' | 'connectivity-restored-data-kept' | 'farm-broken' | 'farm-ok' }> | undefined {
  if (code === 1100) return { type: 'connectivity-lost' };
  if (code === 1101) return { type: 'connectivity-restored-data-lost' };
  if (code === 1102) return { type: 'connectivity-restored-data-kept' };
  const broken = FARM_BROKEN.get(code);
  if (broken !== undefined) return { type: 'farm-broken', code, farm: farmKey(broken, message) };
  const ok = FARM_OK.get(code);
  if (ok !== undefined) return { type: 'farm-ok', code, farm: farmKey(ok, message) };
  return undefined;
}

/** "market:usfarm" from "...connection is OK:usfarm" or "...available upon demand.usfarm" (2107/2108). */
function farmKey(family: string, message: string): string {
  const colon = message.lastIndexOf(':');
  let name = colon >= 0 ? message.slice(colon + 1).trim() : '';
  if (!name) name = /upon demand\.(.+)$/i.exec(message)?.[1]?.trim() ?? '';
  return name ? `${family}:${name}` : family;
}
