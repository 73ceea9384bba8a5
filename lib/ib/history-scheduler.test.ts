import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { HistoryScheduler, IB_HISTORY_LIMITS, type HistorySchedulerOptions, type PacedRequest } from './history-scheduler.js';

/** A fake clock the tests step by hand. */
class Clock {
  t = 1_000_000;
  now = () => this.t;
  advance(ms: number) {
    this.t += ms;
  }
}

let seq = 0;
const req = (o: Partial<PacedRequest> = {}): PacedRequest => {
  const id = o.id ?? `r${++seq}`;
  return { id, signature: o.signature ?? `sig-${id}`, key: o.key ?? `key-${id}`, weight: o.weight ?? 1, smallBars: o.smallBars };
};

function make(o: Partial<HistorySchedulerOptions> = {}) {
  const clock = new Clock();
  const s = new HistoryScheduler<PacedRequest>({ now: clock.now, marginMs: 0, ...o });
  /** Sends whatever may go now; returns the ids sent. */
  const drain = (answer = true): string[] => {
    const out: string[] = [];
    for (let slot = s.next(); slot && slot.at <= clock.t; slot = s.next()) {
      s.sent(slot.request);
      out.push(slot.request.id);
      if (answer) s.answered(slot.request);
    }
    return out;
  };
  /** Runs everything to completion, answering at once; returns send times relative to the start. */
  const runAll = (): { id: string; at: number }[] => {
    const t0 = clock.t;
    const log: { id: string; at: number }[] = [];
    for (let slot = s.next(); slot; slot = s.next()) {
      if (slot.at > clock.t) clock.t = slot.at;
      s.sent(slot.request);
      s.answered(slot.request);
      log.push({ id: slot.request.id, at: clock.t - t0 });
    }
    return log;
  };
  return { clock, s, drain, runAll };
}

describe('HistoryScheduler: IB pacing rules', () => {
  it('uses IB limits by default', () => {
    expect(IB_HISTORY_LIMITS).toEqual({ identicalMs: 15_000, burstMs: 2_000, burstCount: 6, windowMs: 600_000, windowCount: 60, maxInFlight: 50 });
    expect(make().s.limits).toEqual(IB_HISTORY_LIMITS);
  });

  it('holds an identical request back for 15 s', () => {
    const { s, clock, drain } = make();
    const a = req({ id: 'a', signature: 'same', key: 'k1' });
    const b = req({ id: 'b', signature: 'same', key: 'k2' });
    s.add([a, b]);
    expect(drain()).toEqual(['a']);
    expect(s.next()).toEqual({ request: b, at: clock.t + 15_000, reason: 'identical' });
    clock.advance(14_999);
    expect(drain()).toEqual([]);
    clock.advance(1);
    expect(drain()).toEqual(['b']);
  });

  it('sends fewer than 6 requests per contract/exchange/tick type within 2 s; other keys are free', () => {
    const { s, clock, drain } = make();
    const same = Array.from({ length: 7 }, (_, i) => req({ id: `spy${i}`, key: 'SPY@SMART:TRADES' }));
    s.add(same);
    expect(drain()).toEqual(['spy0', 'spy1', 'spy2', 'spy3', 'spy4']);
    expect(s.next()).toMatchObject({ request: same[5], at: clock.t + 2000, reason: 'burst' });
    // another contract, or another tick type of the same contract, goes at once
    s.add([req({ id: 'ibm', key: 'IBM@SMART:TRADES' }), req({ id: 'spyBid', key: 'SPY@SMART:BID' })]);
    expect(drain()).toEqual(['ibm', 'spyBid']);
    clock.advance(1000);
    expect(drain()).toEqual([]);
    clock.advance(1000);
    // at 2 s the first five leave the span together
    expect(drain()).toEqual(['spy5', 'spy6']);
  });

  it('sends at most 60 requests per 10 minutes', () => {
    const { s, clock, runAll } = make();
    // distinct keys so only the window rule applies
    s.add(Array.from({ length: 125 }, (_, i) => req({ id: `w${i}`, key: `k${i}` })));
    const log = runAll();
    expect(log.filter((e) => e.at === 0)).toHaveLength(60);
    expect(log.filter((e) => e.at === 600_000)).toHaveLength(60);
    expect(log.filter((e) => e.at === 1_200_000)).toHaveLength(5);
    expect(clock.t).toBe(1_000_000 + 1_200_000);
  });

  it('spreads one contract over the burst rule and the window at once', () => {
    const { s, runAll } = make();
    s.add(Array.from({ length: 12 }, (_, i) => req({ id: `x${i}`, key: 'ES@CME:TRADES' })));
    const log = runAll();
    expect(log.map((e) => e.at)).toEqual([0, 0, 0, 0, 0, 2000, 2000, 2000, 2000, 2000, 4000, 4000]);
  });

  it('counts BID_ASK twice for the burst and window rules', () => {
    const { s, clock, drain, runAll } = make();
    s.add(Array.from({ length: 4 }, (_, i) => req({ id: `ba${i}`, key: 'SPY@SMART:BID_ASK', weight: 2 })));
    // 2 + 2 = 4 fits under 6; a third would make 6
    expect(drain()).toEqual(['ba0', 'ba1']);
    expect(s.next()).toMatchObject({ at: clock.t + 2000, reason: 'burst' });
    clock.advance(2000);
    expect(drain()).toEqual(['ba2', 'ba3']);

    const w = make();
    w.s.add(Array.from({ length: 31 }, (_, i) => req({ id: `q${i}`, key: `k${i}`, weight: 2 })));
    const log = w.runAll();
    // 30 x 2 = 60 fill the window
    expect(log.filter((e) => e.at === 0)).toHaveLength(30);
    expect(log.at(-1)!.at).toBe(600_000);
    expect(runAll()).toEqual([]);
  });

  it('keeps at most 50 requests in flight', () => {
    const { s, drain } = make({ limits: { burstCount: 1000, windowCount: 1000 } });
    const many = Array.from({ length: 52 }, (_, i) => req({ id: `f${i}` }));
    s.add(many);
    expect(drain(false)).toHaveLength(50);
    expect(s.inFlight).toBe(50);
    expect(s.next()).toBeUndefined();
    s.answered(many[0]!);
    expect(drain(false)).toEqual(['f50']);
    s.empty(many[1]!);
    expect(drain(false)).toEqual(['f51']);
    expect(s.pending).toBe(0);
  });

  it('paces only bars of 30 s or less with scope small-bars (IB lifted the limits above)', () => {
    const { s, drain } = make({ scope: 'small-bars' });
    s.add(Array.from({ length: 8 }, (_, i) => req({ id: `m${i}`, key: 'SPY', signature: 'x', smallBars: false })));
    expect(drain()).toHaveLength(8);
    s.add(Array.from({ length: 8 }, (_, i) => req({ id: `s${i}`, key: 'SPY', smallBars: true })));
    expect(drain()).toHaveLength(5);
  });

  it('keeps a safety margin on every span', () => {
    const { s, clock } = make({ marginMs: 250 });
    const a = req({ signature: 'same' });
    s.add([a, req({ signature: 'same' })]);
    s.sent(s.next()!.request);
    s.answered(a);
    expect(s.next()!.at).toBe(clock.t + 15_250);
  });

  it('rejects limits no request could meet', () => {
    expect(() => make({ limits: { burstCount: 1 } })).toThrow(ConfigError);
    expect(() => make({ limits: { maxInFlight: 0 } })).toThrow(/maxInFlight/);
    expect(() => make({ backoff: { baseMs: 10, maxMs: 5 } })).toThrow(/backoff/);
  });
});

describe('HistoryScheduler: answers', () => {
  it('backs off after a 162 pacing violation, doubling per consecutive violation, and retries the request first', () => {
    const { s, clock, drain } = make({ limits: { identicalMs: 0 } });
    const [a, b, c] = [req({ id: 'a' }), req({ id: 'b' }), req({ id: 'c' })];
    s.add([a, b, c]);
    s.sent(s.next()!.request);
    expect(s.pacingViolation(a)).toEqual({ retry: true, attempts: 1, resumeAt: clock.t + 15_000 });
    // nothing goes during the backoff, and the violated request is first in line
    expect(s.next()).toEqual({ request: a, at: clock.t + 15_000, reason: 'backoff' });
    clock.advance(15_000);
    s.sent(s.next()!.request);
    expect(s.pacingViolation(a)).toMatchObject({ retry: true, attempts: 2, resumeAt: clock.t + 30_000 });
    clock.advance(30_000);
    s.sent(s.next()!.request);
    expect(s.pacingViolation(a).resumeAt).toBe(clock.t + 60_000);
    clock.advance(60_000);
    expect(drain()).toEqual(['a', 'b', 'c']);
    // an answer resets the doubling
    s.add([req({ id: 'd' })]);
    const d = s.next()!.request;
    s.sent(d);
    expect(s.pacingViolation(d).resumeAt).toBe(clock.t + 15_000);
    expect(s.stats).toMatchObject({ violations: 4, retries: 3, answered: 3 });
  });

  it('caps the backoff at the 10-minute window and gives a request up after maxAttempts', () => {
    const { s, clock } = make({ maxAttempts: 8, limits: { identicalMs: 0 } });
    const a = req({ id: 'a' });
    s.add([a]);
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const slot = s.next()!;
      clock.t = Math.max(clock.t, slot.at);
      s.sent(slot.request);
      const d = s.pacingViolation(a);
      delays.push(d.resumeAt - clock.t);
      if (i < 7) expect(d.retry).toBe(true);
      else expect(d).toMatchObject({ retry: false, attempts: 8 });
    }
    expect(delays).toEqual([15_000, 30_000, 60_000, 120_000, 240_000, 480_000, 600_000, 600_000]);
    expect(s.idle).toBe(true);
    expect(s.stats.failed).toBe(1);
  });

  it('never retries a "no data" answer', () => {
    const { s, drain } = make();
    const a = req({ id: 'a' });
    s.add([a]);
    expect(drain(false)).toEqual(['a']);
    s.empty(a);
    expect(s.idle).toBe(true);
    expect(s.next()).toBeUndefined();
    expect(s.stats).toMatchObject({ sent: 1, empty: 1, retries: 0 });
  });

  it('retries retryable failures (timeouts, lost connections) within maxAttempts, not others', () => {
    const { s, clock } = make({ maxAttempts: 2 });
    const [a, b] = [req({ id: 'a', signature: 'A' }), req({ id: 'b' })];
    s.add([a, b]);
    s.sent(s.next()!.request);
    expect(s.failed(a, true)).toMatchObject({ retry: true, attempts: 1 });
    // the retry is identical to the first send: the 15 s rule still applies, b goes first
    expect(s.next()).toMatchObject({ request: b, at: clock.t });
    s.sent(b);
    expect(s.failed(b, false)).toMatchObject({ retry: false });
    expect(s.next()).toMatchObject({ request: a, at: clock.t + 15_000, reason: 'identical' });
    clock.advance(15_000);
    s.sent(s.next()!.request);
    expect(s.failed(a, true)).toMatchObject({ retry: false, attempts: 2 });
    expect(s.idle).toBe(true);
    expect(s.stats).toMatchObject({ failed: 2, retries: 1 });
  });

  it('clears the queue on abort', () => {
    const { s } = make();
    s.add([req(), req()]);
    expect(s.clear()).toHaveLength(2);
    expect(s.idle).toBe(true);
  });
});
