/** Estimating a remote simulator's accelerated clock from whole-second reqCurrentTime answers. */
import { describe, expect, it } from 'vitest';
import { estimateReplayClock, type TimeSample } from './replay-clock-sync.js';

/** A simulator whose clock reads `simAt0` at real time 0 and runs `speed` x: what it answers at real `t` */
const answer = (simAt0: number, speed: number, t: number) => Math.floor((simAt0 + t * speed) / 1000);

describe('estimateReplayClock', () => {
  it('brackets the true clock within the round trips and the one-second grain', () => {
    const speed = 600;
    const simAt0 = 1_381_237_200_123; // 2013-10-08T13:00:00.123Z
    // round trips of 2 ms each, answered at their middle, 7 ms apart
    const samples: TimeSample[] = [0, 7, 14, 21, 28].map((t) => ({ sentAt: 1000 + t, receivedAt: 1000 + t + 2, seconds: answer(simAt0, speed, 1000 + t + 1) }));
    const est = estimateReplayClock(samples, speed);
    expect(est.consistent).toBe(true);
    expect(est.realAt).toBe(1000);
    const truth = simAt0 + 1000 * speed;
    // each answer bounds the clock to within 2 ms x 600 + 1 s; the true value lies inside the interval
    expect(Math.abs(est.simAt - truth)).toBeLessThanOrEqual(est.uncertaintyMs);
    expect(est.uncertaintyMs).toBeLessThanOrEqual((2 * speed + 1000) / 2);
  });

  it('at speed 1 the estimate is within half a second; contradicting samples fall back to the median', () => {
    const samples: TimeSample[] = [0, 400, 800].map((t) => ({ sentAt: t, receivedAt: t + 1, seconds: answer(5_000_250, 1, t) }));
    const est = estimateReplayClock(samples, 1);
    expect(est.consistent).toBe(true);
    expect(Math.abs(est.simAt - 5_000_250)).toBeLessThanOrEqual(500);
    // a clock that jumped an hour between answers cannot be one clock at this speed
    const bad = estimateReplayClock([{ sentAt: 0, receivedAt: 1, seconds: 100 }, { sentAt: 10, receivedAt: 11, seconds: 3700 }, { sentAt: 20, receivedAt: 21, seconds: 101 }], 1);
    expect(bad.consistent).toBe(false);
    expect(Number.isNaN(bad.uncertaintyMs)).toBe(true);
    // the median of the three midpoints: answer 101 at [20, 21] real ms refers back to 101_000 + 500 - 20.5
    expect(bad.simAt).toBeCloseTo(101_479.5, 6);
  });
});
