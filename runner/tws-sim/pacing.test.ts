import { describe, expect, it } from 'vitest';
import { PACING_VIOLATION } from './ib-errors.js';
import { PacingGuard, type PacedRequest } from './pacing.js';

/** A guard on a hand-stepped clock. */
function setup(options: { allBarSizes?: boolean } = {}) {
  let now = 1_000_000;
  const guard = new PacingGuard({ now: () => now, ...options });
  let n = 0;
  const req = (over: Partial<PacedRequest> = {}): PacedRequest => {
    n++;
    return { id: `c:${n}`, key: 'SPY@SMART:TRADES', signature: `sig${n}`, smallBars: true, ...over };
  };
  return { guard, req, advance: (ms: number) => (now += ms) };
}

describe('PacingGuard', () => {
  it('refuses an identical request within 15 s and accepts it after', () => {
    const { guard, req, advance } = setup();
    expect(guard.admit(req({ signature: 'same' }))).toEqual({ ok: true });
    advance(14_999);
    expect(guard.admit(req({ signature: 'same' }))).toEqual({ ok: false, rule: 'identical', message: PACING_VIOLATION });
    advance(1);
    expect(guard.admit(req({ signature: 'same' })).ok).toBe(true);
  });

  it('refuses the 6th request for one contract/exchange/tick type within 2 s', () => {
    const { guard, req, advance } = setup();
    for (let i = 0; i < 5; i++) {
      expect(guard.admit(req()).ok).toBe(true);
      advance(100);
    }
    expect(guard.admit(req())).toMatchObject({ ok: false, rule: 'burst' });
    // another contract is not affected
    expect(guard.admit(req({ key: 'QQQ@SMART:TRADES' })).ok).toBe(true);
    // 2 s after the first request it has left the burst window
    advance(2_000 - 500);
    expect(guard.admit(req()).ok).toBe(true);
  });

  it('counts BID_ASK twice', () => {
    const { guard, req } = setup();
    expect(guard.admit(req({ weight: 2 })).ok).toBe(true);
    expect(guard.admit(req({ weight: 2 })).ok).toBe(true);
    // 4 + 2 = 6 requests' worth within 2 s
    expect(guard.admit(req({ weight: 2 }))).toMatchObject({ ok: false, rule: 'burst' });
    expect(guard.admit(req({ weight: 1 })).ok).toBe(true);
  });

  it('refuses more than 60 requests in 10 minutes', () => {
    const { guard, req, advance } = setup();
    for (let i = 0; i < 60; i++) {
      expect(guard.admit(req({ key: `K${i}` })).ok).toBe(true);
      guard.release(`c:${i + 1}`);
      advance(1_000);
    }
    expect(guard.admit(req({ key: 'other' }))).toMatchObject({ ok: false, rule: 'window' });
    // the first request was at t0; at t0 + 600 s it no longer counts
    advance(600_000 - 60_000);
    expect(guard.admit(req({ key: 'other' })).ok).toBe(true);
  });

  it('counts a BID_ASK request twice towards the 10-minute window', () => {
    const { guard, req } = setup();
    for (let i = 0; i < 59; i++) {
      expect(guard.admit(req({ key: `K${i}` })).ok).toBe(true);
      guard.release(`c:${i + 1}`);
    }
    expect(guard.admit(req({ key: 'x', weight: 2 }))).toMatchObject({ ok: false, rule: 'window' });
    expect(guard.admit(req({ key: 'x' })).ok).toBe(true);
  });

  it('refuses a 51st simultaneously open request of any bar size until one is released', () => {
    const { guard, req } = setup();
    for (let i = 0; i < 50; i++) expect(guard.admit(req({ key: `K${i}`, smallBars: false })).ok).toBe(true);
    expect(guard.openCount).toBe(50);
    expect(guard.admit(req({ smallBars: false }))).toMatchObject({ ok: false, rule: 'simultaneous', message: PACING_VIOLATION });
    guard.release('c:7');
    expect(guard.admit(req({ smallBars: false })).ok).toBe(true);
  });

  it('exempts bars of 1 min and above from the identical/burst/window rules unless told otherwise', () => {
    const big = setup();
    for (let i = 0; i < 10; i++) expect(big.guard.admit(big.req({ signature: 'same', smallBars: false })).ok).toBe(true);
    const strict = setup({ allBarSizes: true });
    expect(strict.guard.admit(strict.req({ signature: 'same', smallBars: false })).ok).toBe(true);
    expect(strict.guard.admit(strict.req({ signature: 'same', smallBars: false }))).toMatchObject({ ok: false, rule: 'identical' });
  });

  it('does not count refused requests', () => {
    const { guard, req, advance } = setup();
    for (let i = 0; i < 5; i++) guard.admit(req());
    for (let i = 0; i < 5; i++) expect(guard.admit(req()).ok).toBe(false);
    advance(2_000);
    // only the 5 admitted ones existed; they are now outside the 2 s window
    for (let i = 0; i < 5; i++) expect(guard.admit(req()).ok).toBe(true);
  });
});
