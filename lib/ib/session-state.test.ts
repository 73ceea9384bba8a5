import { describe, expect, it } from 'vitest';
import { InvariantError } from '../core/errors.js';
import {
  eventForCode,
  nextState,
  SESSION_EVENT_TYPES,
  SESSION_STATES,
  SESSION_TRANSITIONS,
  SessionStateMachine,
  type SessionEvent,
  type SessionEventType,
  type SessionState,
  type SessionTransition,
} from './session-state.js';

/** One representative event per type. */
const SAMPLE: Record<SessionEventType, SessionEvent> = {
  'connect-requested': { type: 'connect-requested' },
  'api-ready': { type: 'api-ready', nextValidId: 1 },
  'socket-closed': { type: 'socket-closed', code: 502, message: 'connect ECONNREFUSED 127.0.0.1:4002' },
  'connect-timeout': { type: 'connect-timeout' },
  'connectivity-lost': { type: 'connectivity-lost' },
  'connectivity-restored-data-lost': { type: 'connectivity-restored-data-lost' },
  'connectivity-restored-data-kept': { type: 'connectivity-restored-data-kept' },
  'farm-broken': { type: 'farm-broken', code: 2103, farm: 'market:usfarm' },
  'farm-ok': { type: 'farm-ok', code: 2104, farm: 'market:usfarm' },
  'duplicate-client-id': { type: 'duplicate-client-id', clientId: 7, nextClientId: 8 },
  'zombie-detected': { type: 'zombie-detected' },
  'retry-due': { type: 'retry-due', clientId: 7, attempt: 1 },
  'halt-requested': { type: 'halt-requested' },
  'attempts-exhausted': { type: 'attempts-exhausted', attempts: 5 },
};

/** Drives a fresh machine into `state` through legal events. */
function machineIn(state: SessionState, clock = { t: 0 }): SessionStateMachine {
  const m = new SessionStateMachine(() => clock.t);
  const paths: Record<SessionState, SessionEventType[]> = {
    disconnected: [],
    connecting: ['connect-requested'],
    connected: ['connect-requested', 'api-ready'],
    degraded: ['connect-requested', 'api-ready', 'connectivity-lost'],
    reconnecting: ['connect-requested', 'socket-closed'],
    halted: ['halt-requested'],
  };
  for (const type of paths[state]) m.dispatch(SAMPLE[type]);
  expect(m.state).toBe(state);
  return m;
}

describe('session state machine', () => {
  it('the table names only known states and events', () => {
    for (const state of SESSION_STATES) {
      for (const [type, target] of Object.entries(SESSION_TRANSITIONS[state])) {
        expect(SESSION_EVENT_TYPES).toContain(type);
        expect([...SESSION_STATES, 'healthy', 'stay']).toContain(target);
      }
    }
  });

  it('every (state, event) pair is either in the table or an InvariantError', () => {
    let legal = 0;
    let illegal = 0;
    for (const state of SESSION_STATES) {
      for (const type of SESSION_EVENT_TYPES) {
        const m = machineIn(state);
        const target = SESSION_TRANSITIONS[state][type];
        if (target === undefined) {
          expect(() => m.dispatch(SAMPLE[type])).toThrow(InvariantError);
          expect(m.state).toBe(state);
          expect(() => nextState(state, type)).toThrow(/illegal in state/);
          illegal++;
        } else {
          m.dispatch(SAMPLE[type]);
          // the degraded machine here has 1100 open: only 1101 / 1102 heal it
          expect(m.state).toBe(nextState(state, type, state === 'degraded' && !type.startsWith('connectivity-restored')));
          legal++;
        }
      }
    }
    expect(legal + illegal).toBe(SESSION_STATES.length * SESSION_EVENT_TYPES.length);
    expect(legal).toBe(34);
  });

  it('the InvariantError carries the code and names state and event', () => {
    const m = machineIn('disconnected');
    try {
      m.dispatch({ type: 'api-ready', nextValidId: 1 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvariantError);
      expect((e as InvariantError).code).toBe('INVARIANT');
      expect((e as Error).message).toBe("ib session: event 'api-ready' is illegal in state 'disconnected'");
    }
  });

  it('runs a whole life: connect, drop, retry, reconnect, stop; each change is one typed transition', () => {
    const clock = { t: 1000 };
    const m = new SessionStateMachine(() => clock.t);
    const log: SessionTransition[] = [];
    const step = (e: SessionEvent, detail?: string) => {
      clock.t += 10;
      const tr = m.dispatch(e, detail);
      if (tr) log.push(tr);
    };
    step({ type: 'connect-requested' });
    step({ type: 'api-ready', nextValidId: 17 });
    step({ type: 'farm-ok', code: 2104, farm: 'market:usfarm' }); // no change: no transition
    step({ type: 'socket-closed', message: 'socket closed' });
    step({ type: 'socket-closed' }); // late duplicate: legal, no transition
    step({ type: 'retry-due', clientId: 7, attempt: 1 });
    step({ type: 'socket-closed', code: 502, message: 'connect ECONNREFUSED' });
    step({ type: 'retry-due', clientId: 7, attempt: 2 });
    step({ type: 'api-ready', nextValidId: 20 }, 'custom detail');
    step({ type: 'halt-requested' });
    expect(log).toEqual([
      { from: 'disconnected', to: 'connecting', reason: 'connect-requested', at: 1010 },
      { from: 'connecting', to: 'connected', reason: 'api-ready', at: 1020, detail: 'nextValidId 17' },
      { from: 'connected', to: 'reconnecting', reason: 'socket-closed', at: 1040, detail: 'socket closed' },
      { from: 'reconnecting', to: 'connecting', reason: 'retry-due', at: 1060, detail: 'attempt 1 as client id 7' },
      { from: 'connecting', to: 'reconnecting', reason: 'socket-closed', at: 1070, detail: '502 connect ECONNREFUSED' },
      { from: 'reconnecting', to: 'connecting', reason: 'retry-due', at: 1080, detail: 'attempt 2 as client id 7' },
      { from: 'connecting', to: 'connected', reason: 'api-ready', at: 1090, detail: 'custom detail' },
      { from: 'connected', to: 'halted', reason: 'halt-requested', at: 1100 },
    ]);
    // start() after stop() begins again
    step({ type: 'connect-requested' });
    expect(m.state).toBe('connecting');
  });

  it('1100 degrades until 1101 or 1102; a broken farm keeps it degraded until the farm is fine', () => {
    const m = machineIn('connected');
    expect(m.dispatch({ type: 'connectivity-lost' })).toMatchObject({ from: 'connected', to: 'degraded', reason: 'connectivity-lost' });
    expect(m.dispatch({ type: 'farm-broken', code: 2103, farm: 'market:usfarm' })).toBeUndefined();
    expect(m.issues).toEqual({ linkLost: true, brokenFarms: ['market:usfarm'] });
    // the link is back, the farm not yet
    expect(m.dispatch({ type: 'connectivity-restored-data-kept' })).toBeUndefined();
    expect(m.state).toBe('degraded');
    // OK from another farm does not heal usfarm
    expect(m.dispatch({ type: 'farm-ok', code: 2104, farm: 'market:eufarm' })).toBeUndefined();
    expect(m.dispatch({ type: 'farm-ok', code: 2104, farm: 'market:usfarm' })).toMatchObject({ from: 'degraded', to: 'connected', reason: 'farm-ok' });
    expect(m.issues).toEqual({ linkLost: false, brokenFarms: [] });

    expect(m.dispatch({ type: 'connectivity-lost' })?.to).toBe('degraded');
    expect(m.dispatch({ type: 'connectivity-restored-data-lost' })).toMatchObject({ from: 'degraded', to: 'connected', reason: 'connectivity-restored-data-lost' });
    // a spurious 1101 / 1102 while connected changes nothing
    expect(m.dispatch({ type: 'connectivity-restored-data-lost' })).toBeUndefined();
    expect(m.dispatch({ type: 'connectivity-restored-data-kept' })).toBeUndefined();
    expect(m.state).toBe('connected');
  });

  it('remembers issues reported before nextValidId and forgets them with the connection', () => {
    const m = machineIn('connecting');
    expect(m.dispatch({ type: 'farm-broken', code: 2105, farm: 'hmds:ushmds' })).toBeUndefined();
    expect(m.state).toBe('connecting');
    expect(m.dispatch({ type: 'api-ready', nextValidId: 1 })?.to).toBe('degraded');
    expect(m.dispatch({ type: 'zombie-detected' })).toMatchObject({ from: 'degraded', to: 'reconnecting' });
    expect(m.issues).toEqual({ linkLost: false, brokenFarms: [] });
    m.dispatch({ type: 'retry-due', clientId: 1, attempt: 1 });
    expect(m.dispatch({ type: 'api-ready', nextValidId: 2 })?.to).toBe('connected');
  });

  it('326, connect timeouts and exhausted attempts', () => {
    const m = machineIn('connecting');
    expect(m.dispatch(SAMPLE['duplicate-client-id'])).toMatchObject({
      from: 'connecting',
      to: 'reconnecting',
      reason: 'duplicate-client-id',
      detail: 'client id 7 in use, next 8',
    });
    m.dispatch({ type: 'retry-due', clientId: 8, attempt: 1 });
    expect(m.dispatch({ type: 'connect-timeout' }, 'no nextValidId within 50 ms')).toMatchObject({ to: 'reconnecting', detail: 'no nextValidId within 50 ms' });
    expect(m.dispatch({ type: 'attempts-exhausted', attempts: 2 })).toMatchObject({
      from: 'reconnecting',
      to: 'halted',
      detail: '2 consecutive failed attempts',
    });
    expect(m.usable).toBe(false);
    expect(m.accepts('retry-due')).toBe(false);
    expect(() => m.dispatch({ type: 'retry-due', clientId: 8, attempt: 2 })).toThrow(InvariantError);
  });

  it('usable only while connected or degraded', () => {
    expect(SESSION_STATES.filter((s) => machineIn(s).usable)).toEqual(['connected', 'degraded']);
  });
});

describe('eventForCode', () => {
  it('maps the connectivity codes', () => {
    expect(eventForCode(1100, 'Connectivity between IB and Trader Workstation has been lost.')).toEqual({ type: 'connectivity-lost' });
    expect(eventForCode(1101, 'x')).toEqual({ type: 'connectivity-restored-data-lost' });
    expect(eventForCode(1102, 'x')).toEqual({ type: 'connectivity-restored-data-kept' });
  });

  it('maps farm codes, naming the farm from the message', () => {
    expect(eventForCode(2103, 'Market data farm connection is broken:usfarm')).toEqual({ type: 'farm-broken', code: 2103, farm: 'market:usfarm' });
    expect(eventForCode(2104, 'Market data farm connection is OK:usfarm')).toEqual({ type: 'farm-ok', code: 2104, farm: 'market:usfarm' });
    expect(eventForCode(2105, 'HMDS data farm connection is broken:ushmds')).toEqual({ type: 'farm-broken', code: 2105, farm: 'hmds:ushmds' });
    expect(eventForCode(2106, 'HMDS data farm connection is OK:ushmds')).toEqual({ type: 'farm-ok', code: 2106, farm: 'hmds:ushmds' });
    expect(eventForCode(2157, 'Sec-def data farm connection is broken:secdefnj')).toEqual({ type: 'farm-broken', code: 2157, farm: 'secdef:secdefnj' });
    expect(eventForCode(2158, 'Sec-def data farm connection is OK:secdefnj')).toEqual({ type: 'farm-ok', code: 2158, farm: 'secdef:secdefnj' });
    expect(eventForCode(2108, 'Market data farm connection is inactive but should be available upon demand.usfarm')).toEqual({
      type: 'farm-ok',
      code: 2108,
      farm: 'market:usfarm',
    });
    expect(eventForCode(2107, 'HMDS data farm connection is inactive.')).toEqual({ type: 'farm-ok', code: 2107, farm: 'hmds' });
  });

  it('ignores everything else', () => {
    for (const code of [326, 502, 504, 2110, 2119, 200, 10167]) expect(eventForCode(code, 'x')).toBeUndefined();
  });
});
